"""Connector configuration, action types and the http connector's body templates."""

from __future__ import annotations

import httpx
import pytest

from aios.connectors.base import ActionRequest
from aios.connectors.builtin import connector_for, default_connectors
from aios.connectors.email import build_message, message_id
from aios.connectors.errors import ConnectorConfigError, InvalidActionError, UnknownConnectorError
from aios.connectors.http import render
from aios.policy.actions import CONNECTORS as POLICY_CONNECTORS

CONNECTORS = default_connectors(httpx.AsyncClient())


def request(action_type: str = "email.send", **params: str) -> ActionRequest:
    return ActionRequest("a" * 32, action_type, "tenant-1", "event-1", "decision-1", params)


@pytest.mark.parametrize("action_type", ["webhook.post", "http.create_ticket", "email.send", "log.record"])
def test_action_types_name_their_connector(action_type: str) -> None:
    assert connector_for(CONNECTORS, action_type).name == action_type.split(".")[0]


@pytest.mark.parametrize("action_type", ["crm.create_ticket", "webhook", "webhook.", ""])
def test_an_action_type_without_a_known_connector_is_refused(action_type: str) -> None:
    with pytest.raises(UnknownConnectorError, match="webhook"):
        connector_for(CONNECTORS, action_type)


def test_a_missing_configuration_says_how_to_set_one() -> None:
    with pytest.raises(ConnectorConfigError, match="aios connectors set --connector webhook"):
        CONNECTORS["webhook"].check_config({})


def test_an_invalid_configuration_names_the_field() -> None:
    with pytest.raises(ConnectorConfigError, match=r"url: .*URL"):
        CONNECTORS["webhook"].check_config({"url": "not a url"})
    with pytest.raises(ConnectorConfigError, match=r"retry\.attempts"):
        CONNECTORS["webhook"].check_config({"url": "http://x.test/", "retry": {"attempts": 0}})
    with pytest.raises(ConnectorConfigError, match="surprise"):
        CONNECTORS["email"].check_config({"host": "mail", "sender": "a@b.test", "surprise": 1})


def test_secrets_are_stored_but_masked_when_shown() -> None:
    config = {"url": "http://hooks.test/in", "secret": "whsec_abc", "headers": {"Authorization": "Bearer t"}}
    assert CONNECTORS["webhook"].check_config(config) == config
    shown = CONNECTORS["webhook"].describe_config(config)
    assert "whsec_abc" not in str(shown) and "Bearer t" not in str(shown)
    assert shown["url"] == "http://hooks.test/in"


def test_policy_takes_the_tenants_overrides() -> None:
    policy = CONNECTORS["webhook"].policy({"url": "http://x.test/", "retry": {"attempts": 2, "base_delay_s": 0.1}})
    assert (policy.attempts, policy.base_delay_s) == (2, 0.1)
    assert CONNECTORS["log"].policy({}).attempts == 1


def test_templates_fill_every_string_of_the_body() -> None:
    template = {"subject": "Refund for {customer}", "tags": ["aios", "{label}"], "amount": 12, "ref": "{event_id}"}
    values = {"customer": "C-1182", "label": "refund", "event_id": "e-1"}
    assert render(template, values) == {
        "subject": "Refund for C-1182",
        "tags": ["aios", "refund"],
        "amount": 12,
        "ref": "e-1",
    }


def test_an_unknown_template_field_is_an_invalid_action() -> None:
    with pytest.raises(InvalidActionError, match=r"\{missing\}"):
        render({"a": "{missing}"}, {})


def test_emails_carry_the_action_id_as_message_id() -> None:
    message = build_message(request(to="jane@example.com", subject="Your refund", body="Done."), "aios@bank.test")
    assert message["Message-ID"] == message_id("a" * 32) == f"<{'a' * 32}@aios.act>"
    assert (message["To"], message["Subject"], message["From"]) == ("jane@example.com", "Your refund", "aios@bank.test")


def test_an_email_without_recipient_is_an_invalid_action() -> None:
    with pytest.raises(InvalidActionError, match="`to`"):
        build_message(request(subject="x"), "aios@bank.test")


def test_policies_may_name_exactly_the_connectors_act_runs() -> None:
    assert set(CONNECTORS) == set(POLICY_CONNECTORS)
