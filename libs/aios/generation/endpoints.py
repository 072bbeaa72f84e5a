"""A tenant's own OpenAI-compatible server for its generative drafts, and the generators made for such servers.

A tenant that runs its own vLLM, TGI, Ollama or hosted model points the `openai` generator at it
(`aios kb endpoint`); tenants without one use the service's configured server. The endpoint is
stored sealed (`kb_tenants.openai_endpoint`, the API key never in clear) and read with the tenant's
KB row each batch; retrieve-generate keeps one budgeted generator per endpoint in use, so a slow
tenant server fills its own queue, not another tenant's.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import AnyHttpUrl, TypeAdapter, ValidationError

from aios.generation.budget import BudgetedGenerator
from aios.generation.errors import GenerationError

OPENAI = "openai"
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
            raise GenerationError(f"{self.base_url!r} is not an http(s) URL") from None
        if not self.model.strip():
            raise GenerationError("the endpoint needs a model name")

    def to_json(self) -> str:
        return json.dumps({"base_url": self.base_url, "model": self.model, "api_key": self.api_key})

    @classmethod
    def from_json(cls, text: str) -> GeneratorEndpoint:
        value = json.loads(text)
        return cls(value["base_url"], value["model"], value.get("api_key"))


def endpoint_aad(tenant_id: str) -> str:
    """What a sealed endpoint is bound to: moved to another tenant's row, it does not open."""
    return f"kb_tenants.openai_endpoint:{tenant_id}"


class EndpointGenerators:
    """One budgeted generator per endpoint in use, the least recently used closed beyond `capacity`."""

    def __init__(self, make: Callable[[GeneratorEndpoint], BudgetedGenerator], capacity: int = 32) -> None:
        self._make = make
        self.capacity = capacity
        self._generators: OrderedDict[GeneratorEndpoint, BudgetedGenerator] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, endpoint: GeneratorEndpoint) -> BudgetedGenerator:
        with self._lock:
            generator = self._generators.get(endpoint)
            if generator is None:
                generator = self._generators[endpoint] = self._make(endpoint)
                while len(self._generators) > self.capacity:
                    self._generators.popitem(last=False)[1].close()
            self._generators.move_to_end(endpoint)
            return generator

    def __len__(self) -> int:
        return len(self._generators)

    def close(self) -> None:
        with self._lock:
            for generator in self._generators.values():
                generator.close()
            self._generators.clear()
