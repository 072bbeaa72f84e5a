"""Reading documents in a child process the worker can kill: a document costs at most its time and memory budget.

A scan that takes forever, a decompression bomb that would take all memory, or a crash inside a
native library (pdfium, the OCR) ends the child, never the worker: the document goes to review
with the reason, the next child starts fresh, and the consumer loop never restarts on the same
record (no crash loop).
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from aios.documents.extraction import DocumentExtraction, DocumentRejected, extract_document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unread:
    """Why a document could not be read; it goes to a person with this reason."""

    reason: str


def _serve(connection: Connection, memory_limit_bytes: int) -> None:
    """The child: read each document it is sent, answer with the extraction or why not."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
    while True:
        try:
            data, media_type, declared_type = connection.recv()
        except EOFError:
            return
        answer: Any
        try:
            answer = extract_document(data, media_type=media_type, declared_type=declared_type)
        except DocumentRejected as exc:
            answer = Unread(exc.reason)
        except MemoryError:
            answer = Unread("reading it needs more memory than a document is allowed (a decompression bomb?)")
        except Exception as exc:  # a bug or a native error on this document: report it, keep serving
            answer = Unread(f"the extractor failed on it: {exc!r}")
        connection.send(answer)


class BudgetedReader:
    """One child process at a time; `read` blocks for at most `time_budget_s`."""

    def __init__(self, time_budget_s: float, memory_limit_mb: int) -> None:
        self.time_budget_s = time_budget_s
        self.memory_limit_bytes = memory_limit_mb * 1024 * 1024
        self._context = multiprocessing.get_context("spawn")  # the worker has threads: never fork it
        self._child: BaseProcess | None = None
        self._connection: Connection | None = None

    def read(self, data: bytes, media_type: str, declared_type: str) -> DocumentExtraction | Unread:
        connection = self._ready()
        try:
            connection.send((data, media_type, declared_type))
            if connection.poll(self.time_budget_s):
                answer: DocumentExtraction | Unread = connection.recv()
                return answer
        except (EOFError, OSError, BrokenPipeError):
            self._discard()
            return Unread("the extractor crashed on it (killed by the system, or a fault in a native library)")
        self._discard()
        return Unread(f"reading it took longer than the {self.time_budget_s:g} s budget")

    def _ready(self) -> Connection:
        if self._child is None or not self._child.is_alive() or self._connection is None:
            self._discard()
            parent, child = self._context.Pipe()
            process = self._context.Process(
                target=_serve, args=(child, self.memory_limit_bytes), name="extract-reader", daemon=True
            )
            process.start()
            child.close()
            self._child, self._connection = process, parent
        return self._connection

    def _discard(self) -> None:
        if self._child is not None and self._child.is_alive():
            self._child.kill()
        if self._child is not None:
            self._child.join(5)
        if self._connection is not None:
            self._connection.close()
        self._child = self._connection = None

    def close(self) -> None:
        self._discard()
