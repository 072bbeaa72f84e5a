"""What the outcome channel carries: anything else is a ValueError, which the waiter logs and skips."""

from __future__ import annotations

import pytest

from aios.outcomes.store import StoredOutcome


@pytest.mark.parametrize("raw", ["{}", "[]", '"x"', '{"event_id": "e", "tenant_id": "t"}', "not json"])
def test_anything_but_a_stored_outcome_is_a_value_error(raw: str) -> None:
    with pytest.raises(ValueError):
        StoredOutcome.from_json(raw)
