"""What policy sees of a tenant's reference data: the three kinds of rows, the keys documents are matched on,
and what one document matched. Importing, storing and looking rows up is `aios.refdata`'s.

Values are in the form the extractor normalises document fields to (ISO dates, `Decimal` amounts,
ISO 4217 currencies, IBANs upper case without spaces), so a lookup compares like with like.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, Protocol

Kind = Literal["vendors", "purchase-orders", "policies"]
KINDS: tuple[Kind, ...] = ("vendors", "purchase-orders", "policies")


def name_key(name: str) -> str:
    """A name as matching compares it: without case, spaces or punctuation ("ACME GmbH." = "Acme gmbh")."""
    return re.sub(r"[\W_]+", "", name.casefold())


def tax_id_key(tax_id: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", tax_id).upper()


def vendor_match_keys(name: str | None, tax_id: str | None, aliases: tuple[str, ...] = ()) -> tuple[str, ...]:
    """What a vendor (or a document's vendor) is matched on: `tax:<id>` and `name:<folded>` for each name."""
    keys = [f"tax:{tax_id_key(tax_id)}"] if tax_id and tax_id_key(tax_id) else []
    for each in (name, *aliases):
        folded = name_key(each) if each else ""
        if folded:
            keys.append(f"name:{folded}")
    return tuple(dict.fromkeys(keys))


def identifier_key(number: str) -> str:
    """A PO or policy number as matching compares it: upper case, no spaces."""
    return re.sub(r"\s+", "", number).upper()


def digest(value: str) -> str:
    """SHA-256 hex of a normalised value: what cross-document facts keep of IBANs and names."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Vendor:
    name: str
    aliases: tuple[str, ...]
    tax_id: str | None
    ibans: tuple[str, ...]

    @property
    def key(self) -> str:
        return name_key(self.name)

    @property
    def match_keys(self) -> tuple[str, ...]:
        return vendor_match_keys(self.name, self.tax_id, self.aliases)


@dataclass(frozen=True)
class PurchaseOrder:
    number: str
    vendor: str
    amount: Decimal
    currency: str
    remaining: Decimal

    @property
    def key(self) -> str:
        return identifier_key(self.number)


@dataclass(frozen=True)
class InsurancePolicy:
    number: str
    holder: str
    active_from: date
    active_to: date
    loss_types: tuple[str, ...]
    limit: Decimal
    deductible: Decimal

    @property
    def key(self) -> str:
        return identifier_key(self.number)


Row = Vendor | PurchaseOrder | InsurancePolicy


@dataclass(frozen=True)
class ReferenceMatch:
    """What a document found in its tenant's reference data, at one revision (0: the tenant has none)."""

    revision: int
    vendor: Vendor | None = None
    purchase_order: PurchaseOrder | None = None
    insurance_policy: InsurancePolicy | None = None


class ReferenceLookup(Protocol):
    def match(self, fields: Mapping[str, str]) -> ReferenceMatch:
        """What a document with these normalised field values matches, at the current revision."""
