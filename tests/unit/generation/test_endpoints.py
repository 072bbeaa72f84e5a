"""Tenants' own OpenAI-compatible servers: checked when set, one budgeted generator each, the oldest closed."""

from __future__ import annotations

import pytest

from aios.generation.budget import BudgetedGenerator
from aios.generation.endpoints import EndpointGenerators
from aios.generation.openai_chat import OpenAIGenerator
from aios.retrieval.endpoint import GeneratorEndpoint
from aios.retrieval.errors import RetrievalError


def test_an_endpoint_needs_an_http_url_and_a_model_and_never_shows_its_key() -> None:
    with pytest.raises(RetrievalError, match="not an http"):
        GeneratorEndpoint("file:///etc/passwd", "m")
    with pytest.raises(RetrievalError, match="model"):
        GeneratorEndpoint("https://llm.example.com/v1", " ")
    endpoint = GeneratorEndpoint("https://llm.example.com/v1", "qwen", "sk-secret")
    assert "sk-secret" not in repr(endpoint)
    assert GeneratorEndpoint.from_json(endpoint.to_json()) == endpoint


def test_one_generator_per_endpoint_the_least_recently_used_closed_beyond_capacity() -> None:
    made: list[BudgetedGenerator] = []

    def make(endpoint: GeneratorEndpoint) -> BudgetedGenerator:
        made.append(BudgetedGenerator(OpenAIGenerator(endpoint.base_url, endpoint.model), queue_size=1, budget_s=1))
        return made[-1]

    generators = EndpointGenerators(make, capacity=2)
    a, b, c = (GeneratorEndpoint(f"http://{name}.test/v1", "m") for name in "abc")
    assert generators.get(a) is generators.get(GeneratorEndpoint("http://a.test/v1", "m"))
    generators.get(b)
    generators.get(a)  # b is now the least recently used
    generators.get(c)
    assert len(generators) == 2 and len(made) == 3
    assert made[1]._pool._shutdown and not made[0]._pool._shutdown  # b's threads are gone, a's are not
    assert generators.get(b) is not made[1]
    generators.close()
    assert len(generators) == 0 and all(g._pool._shutdown for g in made)
