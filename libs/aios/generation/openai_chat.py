"""The OpenAI generator: drafts from any server of the OpenAI chat completions API (`/v1/chat/completions`).

vLLM, TGI, llama.cpp's server, Ollama and OpenAI itself speak it, so a tenant points this generator
at whichever it runs (base URL, model, API key). One HTTP request per draft; at most `concurrency`
are in flight at once, whatever the number of calling threads (a model server queues the rest
badly), each bounded by `timeout_s`, and a connection failure, a 429 or a 5xx is retried `retries`
times with a short backoff. What is still failing then is a `GenerationError`: the caller falls
back to the extractive draft.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import httpx

from aios.generation.base import Draft, DraftRequest
from aios.generation.errors import GenerationError
from aios.generation.prompt import build_messages, parse_reply

_RETRIED_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class OpenAIGenerator:
    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 20.0,
        retries: int = 1,
        concurrency: int = 2,
        max_tokens: int = 160,
        temperature: float = 0.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.retries = retries
        self.max_tokens = max_tokens
        self.temperature = temperature
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout_s)
        self._slots = threading.BoundedSemaphore(concurrency)
        self.completion_tokens = 0
        """Tokens generated so far, as the server reports them (`usage`): the benchmark's tokens per second."""

    @property
    def version(self) -> str:
        return self.model

    def generate(self, requests: Sequence[DraftRequest]) -> list[Draft | None]:
        """One chat completion per request, in turn: callers wanting them in parallel call from several threads
        (`aios.generation.budget`); None where the reply cites nothing it could be held to."""
        drafts: list[Draft | None] = []
        for request in requests:
            text, citations = parse_reply(self._complete(build_messages(request)), request.passages)
            drafts.append(Draft(text, citations, self.name, self.version) if text and citations else None)
        return drafts

    def _complete(self, messages: list[dict[str, str]]) -> str:
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }
        failure = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(0.2 * 2**attempt)
            try:
                with self._slots:
                    response = self._client.post("/chat/completions", json=body)
            except httpx.HTTPError as exc:
                failure = f"{self.base_url} unreachable: {exc!r}"
                continue
            if response.status_code in _RETRIED_STATUS:
                failure = f"{self.base_url} answered {response.status_code}"
                continue
            if response.status_code != 200:
                raise GenerationError(
                    f"{self.base_url} refused the request: {response.status_code} {response.text[:200]}"
                )
            content, tokens = _content(response)
            self.completion_tokens += tokens
            return content
        raise GenerationError(f"{failure} (after {self.retries + 1} attempts)")


def _content(response: httpx.Response) -> tuple[str, int]:
    """The reply's text and the tokens generated for it (0 when the server does not say)."""
    try:
        body = response.json()
        content = body["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise GenerationError(f"not a chat completion: {response.text[:200]}") from exc
    if not isinstance(content, str):
        raise GenerationError(f"not a chat completion: {response.text[:200]}")
    tokens = (body.get("usage") or {}).get("completion_tokens", 0)
    return content, tokens if isinstance(tokens, int) else 0
