import re

import pytest
import typer

from aios.cli.submit import LINES_SHOWN, LineInvalid, Tally, parse_attributes, parse_line


def test_a_line_becomes_submit_arguments() -> None:
    line = '{"type": "support.ticket", "text": "hi", "attributes": {"c": "1"}, "idempotency_key": "k-1"}'
    assert parse_line(line) == {
        "type": "support.ticket",
        "text": "hi",
        "attributes": {"c": "1"},
        "idempotency_key": "k-1",
    }


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"type": "t", "text": ', "invalid JSON (Expecting value)"),
        ('["t", "x"]', "not a JSON object"),
        ('{"type": "t", "text": "x", "colour": "red", "size": 1}', "unknown fields: colour, size"),
        ('{"text": "x"}', "missing fields: type"),
        ('{"type": "t", "text": "x", "attributes": ["a"]}', "attributes is not a JSON object"),
    ],
)
def test_lines_that_are_not_events_are_refused_with_a_reason(line: str, reason: str) -> None:
    with pytest.raises(LineInvalid, match=re.escape(reason)):
        parse_line(line)


def test_values_are_left_for_the_server_to_judge() -> None:
    assert parse_line('{"type": 7, "text": ""}') == {"type": 7, "text": ""}


def test_attributes_are_key_value_pairs_split_at_the_first_equals_sign() -> None:
    assert parse_attributes(["customer=C-1", "query=a=b", "empty="]) == {"customer": "C-1", "query": "a=b", "empty": ""}
    for bad in ("novalue", "=x"):
        with pytest.raises(typer.BadParameter):
            parse_attributes([bad])


def test_the_summary_groups_reasons_with_their_line_numbers() -> None:
    tally = Tally(accepted=3)
    tally.rejected["invalid JSON (Expecting value)"] += [7, 2]
    tally.rejected["HTTP 400: type: bad"].append(4)
    tally.failed["gave up"] += list(range(100, 100 + LINES_SHOWN + 5))
    lines = tally.lines()
    assert lines[:5] == [
        "accepted: 3",
        "rejected: 3",
        "  invalid JSON (Expecting value): lines 2, 7",
        "  HTTP 400: type: bad: line 4",
        f"failed: {LINES_SHOWN + 5}",
    ]
    assert lines[5].endswith(f", {100 + LINES_SHOWN - 1} and 5 more")
    assert not tally.ok and Tally(accepted=1).ok
