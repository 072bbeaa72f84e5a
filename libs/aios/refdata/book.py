"""Finding a document's vendor, purchase order and insurance policy among reference rows.

`ReferenceBook` holds rows in memory (what `aios policy test` reads from CSV files); the decide
service asks PostgreSQL the same questions (`aios.refdata.store`). Both match on the keys of
`aios.policy.reference`: a vendor by tax id or any of its names, a PO or policy by its number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aios.policy.reference import (
    InsurancePolicy,
    PurchaseOrder,
    ReferenceMatch,
    Row,
    Vendor,
    identifier_key,
    vendor_match_keys,
)


@dataclass(frozen=True)
class DocumentKeys:
    """What a document is looked up by, from its normalised fields."""

    vendor: tuple[str, ...]
    purchase_order: str | None
    insurance_policy: str | None

    @classmethod
    def of(cls, fields: Mapping[str, str]) -> DocumentKeys:
        po, policy = fields.get("po_number"), fields.get("policy_number")
        return cls(
            vendor=vendor_match_keys(fields.get("vendor_name"), fields.get("vendor_tax_id")),
            purchase_order=identifier_key(po) if po else None,
            insurance_policy=identifier_key(policy) if policy else None,
        )


def best_vendor(keys: tuple[str, ...], candidates: Iterable[Vendor]) -> Vendor | None:
    """The vendor matched by the earliest key (a tax id beats a name), ties broken by name."""
    ranked = [
        (min(keys.index(k) for k in vendor.match_keys if k in keys), vendor.name, vendor)
        for vendor in candidates
        if set(vendor.match_keys) & set(keys)
    ]
    return min(ranked, key=lambda item: item[:2])[2] if ranked else None


@dataclass
class ReferenceBook:
    """One tenant's reference rows in memory, at `revision`."""

    revision: int = 0
    vendors: list[Vendor] = field(default_factory=list)
    purchase_orders: dict[str, PurchaseOrder] = field(default_factory=dict)
    insurance_policies: dict[str, InsurancePolicy] = field(default_factory=dict)

    def add(self, rows: Iterable[Row]) -> None:
        """Rows of one import: a new revision; a row replaces the one with its key."""
        self.revision += 1
        for row in rows:
            if isinstance(row, Vendor):
                self.vendors = [v for v in self.vendors if v.key != row.key] + [row]
            elif isinstance(row, PurchaseOrder):
                self.purchase_orders[row.key] = row
            else:
                self.insurance_policies[row.key] = row

    def match(self, fields: Mapping[str, str]) -> ReferenceMatch:
        keys = DocumentKeys.of(fields)
        return ReferenceMatch(
            revision=self.revision,
            vendor=best_vendor(keys.vendor, self.vendors),
            purchase_order=self.purchase_orders.get(keys.purchase_order or ""),
            insurance_policy=self.insurance_policies.get(keys.insurance_policy or ""),
        )
