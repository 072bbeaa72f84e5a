"""The demo's reviewer closes the loop: it signs in to a running review service over HTTP as a browser
would (a session cookie, each form's CSRF token read from its page), completes items with each verdict,
and decide resumes every one of those events.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aios.demo.reviewer import CHOICES, ReviewPage, ReviewPageError, review_share
from aios.inference.training import TrainResult
from aios.settings import ConnectionSettings
from tests.support.pipeline import REVIEWER_PASSWORD, Pipeline, Tenant, private_pipeline, wait_for
from tests.support.tiny_models import ClincSubset

pytestmark = pytest.mark.slow

EVERYTHING_REVIEWED = """
tenant: {tenant}
default:
  review:
    reason: a person checks every event
    sla: 1h
    actions:
      - type: log.record
        params: {message: "answered {label}"}
"""


@pytest.fixture(scope="module")
def reviewed(
    connection: ConnectionSettings,
    tiny_versions: list[TrainResult],
    clinc_small: ClincSubset,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Pipeline, Tenant, set[str]]]:
    root = tmp_path_factory.mktemp("demo-reviewer")
    running = private_pipeline(connection, root, tiny_versions[0], partitions=1, webhook_secret="demo-reviewer-secret")
    with running as (pipeline, target):
        tenant = pipeline.add_tenant(f"demo-{pipeline.run}", EVERYTHING_REVIEWED, target)
        pipeline.start()
        sent = {pipeline.submit(tenant, example.text) for example in clinc_small.train[:8]}
        wait_for(
            lambda: sent <= {r["event_id"] for r in pipeline.tail.values("review_requested")},
            180,
            "every review request",
            pipeline.logs,
        )
        page = ReviewPage(pipeline.url("review"))
        try:
            page.sign_in(tenant.name, "reviewer", REVIEWER_PASSWORD)
            wait_for(lambda: len(page.open_items()) == len(sent), 60, "every item on the queue page")
        finally:
            page.close()
        yield pipeline, tenant, sent


def test_the_demo_reviewer_completes_its_share_and_decide_resumes_each_event(
    reviewed: tuple[Pipeline, Tenant, set[str]],
) -> None:
    pipeline, tenant, sent = reviewed
    requests = {r["review_id"]: r for r in pipeline.tail.values("review_requested")}
    page = ReviewPage(pipeline.url("review"))
    try:
        page.sign_in(tenant.name, "reviewer", REVIEWER_PASSWORD)
        completed = review_share(page, 0.5, among=requests)
        assert [c.verdict for c in completed] == list(CHOICES)  # half of eight: each verdict once
        assert len(page.open_items()) == len(sent) - len(completed)
    finally:
        page.close()

    events = {requests[c.review_id]["event_id"]: c.verdict for c in completed}
    wait_for(
        lambda: set(events) <= {d["event_id"] for d in pipeline.tail.values("decisions")},
        120,
        "a decision for every reviewed event",
        pipeline.logs,
    )
    decided = {d["event_id"]: d["outcome"] for d in pipeline.tail.values("decisions") if d["event_id"] in events}
    assert decided == {e: "REJECTED" if v == "REJECT" else "APPROVED" for e, v in events.items()}
    verdicts = {r["event_id"]: r for r in pipeline.tail.values("review_completed")}
    by_verdict = {verdicts[e]["verdict"]: verdicts[e] for e in events}
    assert set(by_verdict) == set(CHOICES)
    assert by_verdict["RELABEL"]["corrected_label"]
    assert "(checked by the demo reviewer)" in by_verdict["EDIT_APPROVE"]["edited_draft"]
    assert by_verdict["REJECT"]["reason"] == "the demo reviewer checked it"


def test_a_wrong_password_is_refused_as_the_page_refuses_it(reviewed: tuple[Pipeline, Tenant, set[str]]) -> None:
    pipeline, tenant, _ = reviewed
    page = ReviewPage(pipeline.url("review"))
    try:
        with pytest.raises(ReviewPageError, match="sign-in refused: HTTP 401"):
            page.sign_in(tenant.name, "reviewer", "not-the-password")
    finally:
        page.close()
