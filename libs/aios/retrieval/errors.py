"""Errors of the knowledge base: unreadable documents, unknown documents, malformed evaluation data."""

from aios.errors import AiosError


class RetrievalError(AiosError):
    """The knowledge base could not be read or written as asked."""


class DocumentError(RetrievalError):
    """A file cannot become a document: unsupported type, unreadable, or without text."""


class EvaluationDataError(RetrievalError):
    """A line of an evaluation file is not `{"query": ..., "relevant": [...]}`."""
