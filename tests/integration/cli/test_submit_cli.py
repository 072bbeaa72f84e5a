"""`aios submit` against a real HTTP server: one event, and a JSON Lines file with good and bad lines."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from aios.cli.main import app
from tests.support.scripted_ingest import Answer, Arrival, accept, scripted_ingest

runner = CliRunner()


def refuse_upper_case_types(arrival: Arrival, seen: int) -> Answer:
    if arrival.body["type"] != arrival.body["type"].lower():
        return 400, {"detail": [{"loc": ["body", "type"], "msg": "String should match pattern", "type": "x"}]}, {}
    return accept(arrival, seen)


def submit(*args: str, url: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["submit", *args, "--url", url], env={"AIOS_API_KEY": "k-test"})
    return result.exit_code, result.stdout, result.stderr


def test_one_event_prints_its_id() -> None:
    with scripted_ingest() as server:
        code, out, err = submit(
            "--type", "support.ticket", "--text", "hi", "--attribute", "customer=C-1", url=server.url
        )
        assert code == 0, err
        (arrival,) = server.arrivals
        assert out.strip() == f"ev-{arrival.idempotency_key}"
        assert arrival.body == {"type": "support.ticket", "text": "hi", "attributes": {"customer": "C-1"}}
        assert arrival.authorization == "Bearer k-test"


def test_a_rejected_event_prints_the_reasons_and_exits_1() -> None:
    with scripted_ingest(refuse_upper_case_types) as server:
        code, out, err = submit("--type", "Support", "--text", "hi", url=server.url)
    assert code == 1
    assert out == ""
    assert "HTTP 400: type: String should match pattern" in err


def test_a_file_is_summarised_with_reasons_grouped_by_line(tmp_path: Path) -> None:
    lines = [
        json.dumps({"type": "support.ticket", "text": "one", "attributes": {"batch": "mine"}}),
        '{"type": "support.ticket", "text": ',
        json.dumps({"type": "Support", "text": "three"}),
        "",
        json.dumps({"type": "support.ticket", "text": "five", "idempotency_key": "row-5"}),
        json.dumps({"type": "Support", "text": "six"}),
        "[1, 2]",
    ]
    file = tmp_path / "events.jsonl"
    file.write_text("\n".join(lines) + "\n")
    with scripted_ingest(refuse_upper_case_types) as server:
        code, out, _ = submit("--file", str(file), "--attribute", "batch=b-1", "--attribute", "bot=7", url=server.url)
    assert code == 1
    assert out.splitlines() == [
        "accepted: 2",
        "rejected: 4",
        "  invalid JSON (Expecting value): line 2",
        "  HTTP 400: type: String should match pattern: lines 3, 6",
        "  not a JSON object: line 7",
        "failed: 0",
    ]
    by_text = {arrival.body["text"]: arrival for arrival in server.arrivals}
    assert by_text["one"].body["attributes"] == {"batch": "mine", "bot": "7"}
    assert by_text["five"].body["attributes"] == {"batch": "b-1", "bot": "7"}
    assert by_text["five"].idempotency_key == "row-5"


def test_a_file_is_sent_with_bounded_concurrency(tmp_path: Path) -> None:
    file = tmp_path / "events.jsonl"
    file.write_text("".join(json.dumps({"type": "support.ticket", "text": f"t{n}"}) + "\n" for n in range(40)))
    with scripted_ingest(answer_after_s=0.05) as server:
        code, out, err = submit("--file", str(file), "--concurrency", "4", url=server.url)
    assert code == 0, err
    assert out.splitlines() == ["accepted: 40", "rejected: 0", "failed: 0"]
    assert len(set(server.keys())) == 40
    assert server.max_in_flight == 4


def test_without_an_api_key_nothing_is_sent() -> None:
    result = runner.invoke(app, ["submit", "--type", "t", "--text", "x"], env={"AIOS_API_KEY": None})
    assert result.exit_code == 2
    assert "--api-key" in result.stderr


def test_file_and_single_event_options_do_not_mix(tmp_path: Path) -> None:
    file = tmp_path / "events.jsonl"
    file.write_text("")
    result = runner.invoke(app, ["submit", "--file", str(file), "--text", "x", "--api-key", "k"])
    assert result.exit_code == 2
    assert "not both" in result.stderr
