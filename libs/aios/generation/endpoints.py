"""The generators made for tenants' own OpenAI-compatible servers (`aios.retrieval.endpoint`).

Retrieve-generate keeps one budgeted generator per endpoint in use, so a slow tenant server fills
its own queue, not another tenant's.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from aios.generation.budget import BudgetedGenerator
from aios.generation.openai_chat import OpenAIGenerator
from aios.retrieval.endpoint import GeneratorEndpoint

OPENAI = OpenAIGenerator.name
"""The generator a tenant's own server serves: its name comes from the generator itself."""


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
