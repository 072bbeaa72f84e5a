"""Retrieve-generate service settings, read from `AIOS_RETRIEVE_GENERATE_*` environment variables.

`generator` and `no_draft_labels` are defaults: a tenant's own choice (`aios kb configure`, kept in
PostgreSQL in `kb_tenants`) overrides them for its events.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from aios.kafka import topics
from aios.kafka.topics import topic_field
from aios.retrieval.settings import Mode
from aios.runtime.catalog import service
from aios.runtime.worker import OneToOneSettings
from aios.settings import LOCAL_LLM_PORT
from aios.stack.llm import MODEL_NAME

LOCAL_STANDIN_URL = "http://127.0.0.1:28110"
LOCAL_LLM_URL = f"http://127.0.0.1:{LOCAL_LLM_PORT}/v1"


class RetrieveGenerateSettings(OneToOneSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_RETRIEVE_GENERATE_", extra="ignore", frozen=True)

    group_id: str = Field(default="retrieve-generate", description="Consumer group; instances share the partitions.")
    input_topic: str = topic_field(topics.EVENTS_CLASSIFIED, "Topic of classified events.")
    output_topic: str = topic_field(topics.EVENTS_ENRICHED, "Topic enriched events are written to.")
    passages: int = Field(default=5, ge=1, le=50, description="Chunks retrieved and attached to each event.")
    mode: Mode = Field(
        default="hybrid", description="Retrieval: hybrid (both, fused as AIOS_KB_FUSION says), lexical or dense."
    )
    generator: Literal["extractive", "triton", "openai"] = Field(
        default="extractive", description="Generator of tenants that chose none (`aios kb configure --generator`)."
    )
    no_draft_labels: list[str] = Field(
        default=["oos"],
        description="Labels whose events get no draft and no retrieval, for tenants without their own list.",
    )
    triton_url: str = Field(default=LOCAL_STANDIN_URL, description="Triton HTTP endpoint of the `triton` generator.")
    triton_model: str = Field(default="drafter-standin", description="Generative model served by that Triton.")
    openai_url: str = Field(
        default=LOCAL_LLM_URL,
        description="Base URL (up to /v1) of the `openai` generator's OpenAI-compatible server; the stack's model.",
    )
    openai_model: str = Field(default=MODEL_NAME, description="Model name sent in each chat completion request.")
    openai_api_key: SecretStr | None = Field(default=None, description="Bearer token for that server, if it wants one.")
    openai_timeout_s: float = Field(default=20.0, gt=0, description="Time one chat completion request may take.")
    openai_retries: int = Field(
        default=1, ge=0, description="Retries of a request that failed to connect or got 429/5xx."
    )
    openai_concurrency: int = Field(default=2, ge=1, description="Chat completion requests in flight at most.")
    draft_budget_s: float = Field(
        default=5.0,
        gt=0,
        description="How long a batch waits for its generative drafts; those not back by then are extractive.",
    )
    draft_queue_size: int = Field(
        default=32,
        ge=1,
        description="Generative drafts in flight at most (late ones too); beyond it, drafts are extractive at once.",
    )
    guard_min_similarity: float = Field(
        default=0.6,
        ge=-1,
        le=1,
        description="Cosine similarity a generated sentence needs to a cited passage sentence.",
    )
    guard_min_word_coverage: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Share of a generated sentence's content words its cited passages must hold.",
    )
    guard_min_kept: int = Field(
        default=1, ge=1, description="Sentences that must survive the guard, else the extractive draft is used."
    )
    max_sentences: int = Field(default=3, ge=1, description="KB sentences in an extractive draft at most.")
    min_similarity: float = Field(
        default=0.2, ge=-1, le=1, description="Cosine similarity to the event text a sentence needs to be drafted."
    )
    min_relative_similarity: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Share of the best sentence's similarity that another sentence of the draft needs as well.",
    )
    snippet_chars: int = Field(default=240, ge=40, description="Length of a passage's snippet in the record.")
    metrics_port: int = Field(
        default=service("retrieve-generate").port, ge=0, description="Serves /metrics; 0 turns it off."
    )
