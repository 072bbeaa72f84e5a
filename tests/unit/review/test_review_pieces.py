"""Pure pieces of the review service: password hashing, verdict checks, JSON of Avro values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aios.review.errors import InvalidVerdict, WeakPassword
from aios.review.passwords import hash_password, verify_password
from aios.review.store import Verdict, to_json


def test_passwords_are_argon2id_and_verified_in_constant_shape() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert hash_password("correct horse battery") != stored  # salted
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert not verify_password(None, "correct horse battery")  # unknown user: a dummy hash is still checked
    assert not verify_password("not a hash", "x")
    with pytest.raises(WeakPassword):
        hash_password("short")


@pytest.mark.parametrize(
    ("verdict", "problem"),
    [
        (Verdict("MAYBE"), "unknown verdict"),
        (Verdict("REJECT"), "say why"),
        (Verdict("REJECT", reason="  "), "say why"),
        (Verdict("RELABEL"), "right intent"),
        (Verdict("EDIT_APPROVE", edited_draft=" "), "empty"),
    ],
)
def test_incomplete_verdicts_are_refused(verdict: Verdict, problem: str) -> None:
    with pytest.raises(InvalidVerdict, match=problem):
        verdict.checked()


def test_complete_verdicts_pass() -> None:
    for verdict in (
        Verdict("APPROVE"),
        Verdict("EDIT_APPROVE", edited_draft="x"),
        Verdict("RELABEL", corrected_label="balance"),
        Verdict("REJECT", reason="spam"),
    ):
        assert verdict.checked() is verdict


def test_to_json_turns_timestamps_into_epoch_ms() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert to_json({"a": moment, "b": [moment, {"c": 1}], "d": None}) == {
        "a": 1767323045678,
        "b": [1767323045678, {"c": 1}],
        "d": None,
    }
