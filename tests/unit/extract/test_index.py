"""How duplicates compare vendors."""

from __future__ import annotations

from aios.extract.index import vendor_key


def test_a_tax_id_wins_over_the_name_and_ignores_spacing() -> None:
    assert vendor_key("de 123 456 789", "Acme") == vendor_key("DE123456789", "ACME Supplies GmbH") == "tax:DE123456789"


def test_names_compare_without_case_spaces_or_punctuation() -> None:
    assert vendor_key(None, "ACME Supplies, GmbH") == vendor_key(None, "acme supplies gmbh")
    assert vendor_key(None, None) is None
    assert vendor_key(None, " .,") is None
