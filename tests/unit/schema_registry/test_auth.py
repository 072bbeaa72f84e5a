"""Which registry requests are writes, and how a basic-auth header is read: no server needed."""

from __future__ import annotations

import base64

import pytest

from aios.schema_registry.auth import credentials, is_write


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/subjects"),
        ("GET", "/schemas/ids/1"),
        ("POST", "/subjects/aios.decisions-value"),  # lookup
        ("POST", "/compatibility/subjects/aios.decisions-value/versions/latest"),
        ("GET", "/config"),
    ],
)
def test_reads_are_not_writes(method: str, path: str) -> None:
    assert not is_write(method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/subjects/aios.decisions-value/versions"),
        ("DELETE", "/subjects/aios.decisions-value"),
        ("DELETE", "/subjects/aios.decisions-value/versions/1"),
        ("PUT", "/config"),
        ("PUT", "/config/aios.decisions-value"),
        ("DELETE", "/config/aios.decisions-value"),
    ],
)
def test_registering_configuring_and_deleting_are_writes(method: str, path: str) -> None:
    assert is_write(method, path)


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_credentials_of_a_basic_header_keep_colons_in_the_password() -> None:
    assert credentials(basic("team:pa:ss")) == ("team", "pa:ss")


@pytest.mark.parametrize("header", [None, "", "Bearer abc", "Basic !!!", basic("no-colon")])
def test_missing_or_malformed_headers_give_no_credentials(header: str | None) -> None:
    assert credentials(header) is None
