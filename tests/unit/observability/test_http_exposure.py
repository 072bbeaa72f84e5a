import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from aios.ingest.app import create_api
from aios.observability.http import add_metrics_route


def test_metrics_answer_only_the_configured_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOS_HTTP_METRICS_NETWORKS", '["10.0.0.0/8", "fd00::/8"]')
    app = Starlette()
    add_metrics_route(app)
    for client, status in ((("10.1.2.3", 1), 200), (("fd00::7", 1), 200), (("192.0.2.1", 1), 404)):
        assert TestClient(app, client=client).get("/metrics").status_code == status, client


def test_metrics_answer_anyone_by_default() -> None:
    app = Starlette()
    add_metrics_route(app)
    assert TestClient(app, client=("192.0.2.1", 1)).get("/metrics").status_code == 200


@pytest.mark.parametrize(("docs", "status"), [("true", 200), ("false", 404)])
def test_the_api_docs_are_served_only_when_the_setting_says(
    monkeypatch: pytest.MonkeyPatch, docs: str, status: int
) -> None:
    monkeypatch.setenv("AIOS_HTTP_DOCS", docs)
    client = TestClient(create_api())  # not entered: the routes answer without the lifespan's connections
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == status, path
