"""Errors of the document extractor: a file it refuses to read, and extractor models it cannot load or train."""

from __future__ import annotations

from aios.errors import AiosError


class DocumentError(AiosError):
    """Root of the errors of `aios.documents`."""


class DocumentRejected(DocumentError):
    """A file the extractor will not read; `reason` says why in words a submitter understands.

    `kind` is one short machine word (`media_type`, `encrypted`, `corrupt`, `no_pages`, `too_many_pages`,
    `decompression_bomb`, `no_text`) so the service can count and route without parsing the reason.
    """

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


class ExtractorModelError(DocumentError):
    """A field-extractor artifact is missing, unreadable, or the labelled data to train one is unusable."""
