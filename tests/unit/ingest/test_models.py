from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from aios.ingest.models import EventIn


def occurred(value: str) -> EventIn:
    return EventIn.model_validate({"type": "support.ticket", "text": "hi", "occurred_at": value})


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC: no stage could decode it
        "9999-12-31T23:00:00-05:00",  # after year 9999 in UTC
        "1969-12-31T23:59:59Z",
        timedelta(days=1, minutes=5),  # ahead of the moment the test runs, not of when it was collected
    ],
)
def test_an_occurred_at_outside_1970_to_a_day_ahead_is_a_field_problem(value: str | timedelta) -> None:
    with pytest.raises(ValidationError) as refused:
        occurred(value if isinstance(value, str) else (datetime.now(UTC) + value).isoformat())
    [problem] = refused.value.errors()
    assert problem["loc"] == ("occurred_at",)
    assert "1970-01-01" in problem["msg"]


@pytest.mark.parametrize(
    "value",
    ["1970-01-01T00:00:00Z", "2001-02-03T04:05:06+14:00", (datetime.now(UTC) + timedelta(hours=23)).isoformat()],
)
def test_an_occurred_at_inside_the_window_is_kept(value: str) -> None:
    assert occurred(value).occurred_at == datetime.fromisoformat(value)
