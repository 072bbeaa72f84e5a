"""`Prefer: wait=N` as RFC 7240 words it: among other preferences, any case, quoted; anything else ignored."""

from __future__ import annotations

import pytest

from aios.ingest.waiting import wait_preference


@pytest.mark.parametrize(
    ("prefer", "wait"),
    [
        ("wait=5", 5),
        ("respond-async, wait=10", 10),
        ("WAIT = 3", 3),
        ('wait="7"', 7),
        ("handling=lenient, wait=0", 0),
        ("wait=2, wait=9", 2),
        (None, None),
        ("", None),
        ("respond-async", None),
        ("wait=soon", None),
        ("wait=-1", None),
        ("wait=1.5", None),
        ("waiting=4", None),
    ],
)
def test_wait_preference(prefer: str | None, wait: int | None) -> None:
    assert wait_preference(prefer) == wait
