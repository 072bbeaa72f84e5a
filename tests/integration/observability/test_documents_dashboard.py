"""The Documents dashboard against a Prometheus of the real binary: every panel's PromQL is valid and has data
once documents are read, decided (touchless and sent to review), corrected by a reviewer and paid.

The series come from the services' own recording code run in this process, whose /metrics Prometheus
scrapes: decide's `Decider` on document events (approved after review too), the review route's
corrections counter, act's payout accounting and extract's page count. That the services emit them
when they run is shown by the document rules test (decide) and the payment sagas test (act).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import start_http_server

from aios.act.executor import _count_payout
from aios.documents.models import DocumentExtraction
from aios.extract.handler import _count_pages
from aios.inference.triton_process import free_ports
from aios.observability import metrics
from aios.stack.prometheus import PrometheusServer
from aios.stack.settings import StackSettings
from tests.support.dashboards import DOCUMENTS, empty_panels, panel_queries
from tests.support.decide import enriched_value
from tests.unit.act.test_payouts import CLAIM, INVOICE, cancelling, claimed
from tests.unit.decide.test_document_decisions import Documents, complete, decide, decider, document

pytestmark = pytest.mark.slow


def wave() -> None:
    """One of each fact the Documents dashboard shows."""
    decide(decider(Documents(document(0.99))), enriched_value("t", event_type="document.invoice", draft=None))
    reviewing = decider(Documents(document(0.5)), {})
    request = decide(reviewing, enriched_value("t", event_type="document.invoice", draft=None))
    complete(reviewing, request.value, "APPROVE")
    metrics.REVIEW_FIELD_CORRECTIONS.labels("review", "t", "invoice", "total").inc()
    paid = claimed("payment.schedule", INVOICE)
    _count_payout("act", paid, "SUCCEEDED")
    _count_payout("act", cancelling(paid), "COMPENSATED")
    _count_payout("act", claimed("payment.payout", CLAIM), "SUCCEEDED")
    read = DocumentExtraction(
        document_type="claim",
        type_confidence=0.9,
        page_count=2,
        text="",
        fields={},
        ocr_engine="tesseract",
        ocr_pages=[2],
        extractor_version="test",
        content_fingerprint="f",
    )
    _count_pages("extract", read)


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("documents-dashboard")
    metrics_port, prometheus_port = free_ports(2)
    start_http_server(metrics_port, addr="127.0.0.1")
    prometheus = PrometheusServer(
        StackSettings(state_dir=root / "prometheus", prometheus_port=prometheus_port, start_timeout_s=60)
    )
    prometheus.start()
    try:
        prometheus.write_targets("services", {f"127.0.0.1:{metrics_port}": {"service": "documents"}})
        wave()
        names = {name for query in panel_queries((DOCUMENTS,)) for name in query.metrics()}

        def scraped() -> bool:
            answer = httpx.get(f"{prometheus.url}/api/v1/query", params={"query": "up"}, timeout=10).json()
            return bool(answer["data"]["result"]) and all(ask(prometheus.url, f"count({name})") for name in names)

        deadline = time.monotonic() + 60
        while not scraped():
            assert time.monotonic() < deadline, "the documents' series never scraped"
            time.sleep(1)
        time.sleep(6)  # one more scrape: a counter first seen at its final value has no rate; the second wave does
        wave()
        yield prometheus.url
    finally:
        prometheus.stop()


def ask(url: str, expr: str) -> list[object]:
    return list(httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10).json()["data"]["result"])


def test_every_documents_panel_returns_data(prometheus_url: str) -> None:
    def query(expr: str) -> dict[str, object]:
        return dict(httpx.get(f"{prometheus_url}/api/v1/query", params={"query": expr}, timeout=30).json())

    assert len(panel_queries((DOCUMENTS,))) >= 9
    report = empty_panels(query, timeout_s=60, dashboards=(DOCUMENTS,))
    assert not report, report
