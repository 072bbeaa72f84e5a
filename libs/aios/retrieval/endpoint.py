"""A tenant's own OpenAI-compatible server for its generative drafts (`aios kb endpoint`).

A tenant that runs its own vLLM, TGI, Ollama or hosted model points the `openai` generator at it;
tenants without one use the service's configured server. It is one of the tenant's draft settings,
stored sealed in `kb_tenants.openai_endpoint` (the API key never in clear) and read with the tenant's
KB row each batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pydantic import AnyHttpUrl, TypeAdapter, ValidationError

from aios.retrieval.errors import RetrievalError

_URL: TypeAdapter[AnyHttpUrl] = TypeAdapter(AnyHttpUrl)


@dataclass(frozen=True)
class GeneratorEndpoint:
    """Where the `openai` generator sends a tenant's drafts."""

    base_url: str
    """Up to `/v1`, e.g. `https://llm.example.com/v1`."""
    model: str
    api_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        try:
            _URL.validate_python(self.base_url)
        except ValidationError:
            raise RetrievalError(f"{self.base_url!r} is not an http(s) URL") from None
        if not self.model.strip():
            raise RetrievalError("the endpoint needs a model name")

    def to_json(self) -> str:
        return json.dumps({"base_url": self.base_url, "model": self.model, "api_key": self.api_key})

    @classmethod
    def from_json(cls, text: str) -> GeneratorEndpoint:
        value = json.loads(text)
        return cls(value["base_url"], value["model"], value.get("api_key"))


def endpoint_aad(tenant_id: str) -> str:
    """What a sealed endpoint is bound to: moved to another tenant's row, it does not open."""
    return f"kb_tenants.openai_endpoint:{tenant_id}"
