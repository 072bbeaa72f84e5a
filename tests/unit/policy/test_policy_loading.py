"""Policy files: what is valid, and that every invalid one says which line and field is wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from aios.paths import project_root
from aios.policy.errors import PolicyInvalid
from aios.policy.loading import load_policy, load_policy_file, policy_version

MINIMAL = """\
tenant: acme
default:
  review: {reason: nobody decided}
"""


def problems_of(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PolicyInvalid) as caught:
        load_policy(textwrap.dedent(text), "acme.yaml")
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def test_minimal_policy_has_defaults_and_a_version() -> None:
    loaded = load_policy(MINIMAL)
    assert loaded.tenant == "acme"
    assert loaded.policy.rules == []
    assert loaded.policy.default.kind == "review"
    assert loaded.policy.default.review is not None and loaded.policy.default.review.sla == 4 * 3600
    assert loaded.version == policy_version(MINIMAL) and len(loaded.version) == 16


def test_version_is_the_content_hash() -> None:
    assert load_policy(MINIMAL).version == load_policy(MINIMAL).version
    assert load_policy(MINIMAL + "# a comment\n").version != load_policy(MINIMAL).version


def test_demo_policy_is_valid() -> None:
    loaded = load_policy_file(project_root() / "policies" / "demo.yaml")
    assert loaded.tenant == "demo"
    names = [rule.name for rule in loaded.policy.rules]
    assert {"circuit-breaker", "fraud-report", "out-of-scope", "low-confidence", "routine-answer"} <= set(names)


def test_default_rule_is_required() -> None:
    assert problems_of("tenant: acme\nrules: []\n") == [(1, "default", "required field is missing")]


def test_unknown_field_names_its_line() -> None:
    found = problems_of(
        """\
        tenant: acme
        rules:
          - name: big
            when:
              amount: {gt: 10}
            auto: {}
        default:
          reject: {reason: never}
        """
    )
    assert found == [(5, "rules[0].when.amount", "unknown field")]


def test_bad_comparison_value_names_the_bound() -> None:
    found = problems_of(
        """\
        tenant: acme
        rules:
          - name: big
            when:
              attributes:
                amount: {gt: lots}
            review: {reason: big}
        default:
          reject: {reason: never}
        """
    )
    assert len(found) == 1
    line, field, message = found[0]
    assert (line, field) == (6, "rules[0].when.attributes.amount.gt")
    assert "number" in message


def test_two_outcomes_in_one_rule_are_refused() -> None:
    found = problems_of(
        """\
        tenant: acme
        rules:
          - name: both
            auto: {}
            reject: {reason: never}
        default:
          reject: {reason: never}
        """
    )
    assert found == [(3, "rules[0]", "give exactly one outcome: auto, review or reject (found auto, reject)")]


def test_rule_without_outcome_is_refused() -> None:
    found = problems_of(
        """\
        tenant: acme
        rules:
          - name: nothing
            when: {oos: true}
        default:
          reject: {reason: never}
        """
    )
    assert found == [(3, "rules[0]", "give exactly one outcome: auto, review or reject (found none)")]


@pytest.mark.parametrize(
    ("snippet", "line", "field", "fragment"),
    [
        ("review: {reason: r, sla: soon}", 4, "rules[0].review.sla", "not a duration"),
        ("review: {reason: r, priority: 9}", 4, "rules[0].review.priority", "less than or equal to 5"),
        ("review: {reason: ''}", 4, "rules[0].review.reason", "at least 1 character"),
        ("auto: {actions: [{type: ftp.upload}]}", 4, "rules[0].auto.actions[0].type", "should match pattern"),
        (
            "auto: {actions: [{type: log.record, params: {m: '{customer}'}}]}",
            4,
            "rules[0].auto.actions[0].params",
            "{customer}",
        ),
    ],
)
def test_outcome_field_errors(snippet: str, line: int, field: str, fragment: str) -> None:
    found = problems_of(f"tenant: acme\nrules:\n  - name: r\n    {snippet}\ndefault:\n  reject: {{reason: never}}\n")
    assert len(found) == 1, found
    assert found[0][:2] == (line, field)
    assert fragment in found[0][2]


def test_bad_regular_expression() -> None:
    found = problems_of(
        """\
        tenant: acme
        rules:
          - name: rx
            when:
              text: {matches: '(unclosed'}
            reject: {reason: never}
        default:
          reject: {reason: never}
        """
    )
    assert found[0][:2] == (5, "rules[0].when.text.matches")
    assert "not a regular expression" in found[0][2]


def test_duplicate_rule_names() -> None:
    found = problems_of(
        """\
        tenant: acme
        rules:
          - name: same
            reject: {reason: a}
          - name: same
            reject: {reason: b}
        default:
          reject: {reason: never}
        """
    )
    assert found == [(5, "rules[1].name", "rule name 'same' is already used")]


def test_duplicate_keys_are_refused() -> None:
    found = problems_of(
        """\
        tenant: acme
        rules:
          - name: r
            when: {oos: true, oos: false}
            reject: {reason: a}
        default:
          reject: {reason: never}
        """
    )
    assert found == [(4, "rules[0].when.oos", "key given twice")]


def test_yaml_syntax_error_has_its_line() -> None:
    found = problems_of("tenant: acme\nrules:\n  - name: [unclosed\ndefault: {}\n")
    assert found[0][0] == 4
    assert found[0][2].startswith("not valid YAML")


def test_not_a_mapping() -> None:
    assert problems_of("- just\n- a list\n") == [(1, "", "a policy is a mapping with tenant, rules and default")]


def test_error_message_lists_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(
        "tenant: acme\nrules:\n  - name: Bad Name\n    reject: {reason: x}\ndefault:\n  reject: {reason: never}\n"
    )
    with pytest.raises(PolicyInvalid) as caught:
        load_policy_file(path)
    assert f"{path}:line 3: rules[0].name: String should match pattern" in str(caught.value)
