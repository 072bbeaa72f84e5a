"""Settings of the in-process model: where artifacts live, which device runs it, how inputs are batched."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.paths import project_root


class ModelSettings(BaseSettings):
    """Read from `AIOS_MODEL_*` environment variables; the defaults suit a developer laptop."""

    model_config = SettingsConfigDict(env_prefix="AIOS_MODEL_", extra="ignore", frozen=True)

    artifact_dir: Path = Field(
        default_factory=lambda: project_root() / ".aios" / "models",
        description="Root folder of the local artifact store (one sub-folder per model name and version).",
    )
    encoder_dir: Path | None = Field(
        default=None,
        description="Folder of a sentence encoder in Hugging Face layout; default: the bundled all-MiniLM-L6-v2.",
    )
    device: str = Field(
        default="auto",
        description="`cpu`, `cuda`, `cuda:N`, or `auto` (CUDA when available). CUDA runs the encoder in fp16.",
    )
    batch_size: int = Field(default=64, ge=1, description="Texts per forward pass when encoding.")
    max_length: int = Field(default=128, ge=8, description="Tokens kept per text; longer texts are truncated.")
    threads: int = Field(default=2, ge=1, description="torch CPU threads; the default matches a small shared machine.")
