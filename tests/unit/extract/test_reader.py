"""The budgeted reader: a document that takes too long or kills its reader goes to review, and the next one is read."""

from __future__ import annotations

import os
import signal
import threading
import time

from aios.documents.models import DocumentExtraction
from aios.extract.reader import BudgetedReader, Unread
from tests.support.documents import blank_png, invoice_pdf, scan_of


def test_reads_a_document_and_says_why_it_cannot_read_another() -> None:
    reader = BudgetedReader(time_budget_s=60, memory_limit_mb=4096)
    try:
        read = reader.read(invoice_pdf(), "application/pdf", "auto")
        assert isinstance(read, DocumentExtraction)
        assert read.field_values()["invoice_number"] == "INV-1001"
        unread = reader.read(blank_png(), "image/png", "auto")
        assert isinstance(unread, Unread)
        assert "found no text" in unread.reason
    finally:
        reader.close()


def test_a_document_over_its_time_budget_is_given_up_and_the_next_is_read() -> None:
    reader = BudgetedReader(time_budget_s=0.5, memory_limit_mb=4096)
    try:
        started = time.monotonic()
        slow = reader.read(scan_of(invoice_pdf()), "image/png", "invoice")  # starting the child alone takes longer
        assert isinstance(slow, Unread)
        assert "longer than the 0.5 s budget" in slow.reason
        assert time.monotonic() - started < 5
        reader.time_budget_s = 60
        assert isinstance(reader.read(invoice_pdf(), "application/pdf", "invoice"), DocumentExtraction)
    finally:
        reader.close()


def test_a_reader_that_dies_on_a_document_costs_only_that_document() -> None:
    reader = BudgetedReader(time_budget_s=60, memory_limit_mb=4096)
    try:
        assert isinstance(reader.read(invoice_pdf(), "application/pdf", "invoice"), DocumentExtraction)
        child = reader._child
        assert child is not None and child.pid is not None
        threading.Timer(0.3, os.kill, (child.pid, signal.SIGKILL)).start()  # as a fault in native code would
        crashed = reader.read(scan_of(invoice_pdf()), "image/png", "invoice")
        assert isinstance(crashed, Unread)
        assert "crashed" in crashed.reason
        assert isinstance(reader.read(invoice_pdf(), "application/pdf", "invoice"), DocumentExtraction)
    finally:
        reader.close()
