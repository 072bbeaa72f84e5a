"""What rules can see of a document: its fields with confidences, its checks, what it matched in
the tenant's reference data, and signals across the tenant's earlier documents.

The derived facts (vendor known, IBAN on file, PO within a margin, policy active on the date of
loss, ...) are pure functions of `DocumentFacts`, so `aios policy test` and the decide service
compute them the same way; only how the matches and signals are found differs (rows in memory
for a test, PostgreSQL in the service).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from aios.policy.reference import InsurancePolicy, PurchaseOrder, ReferenceMatch, Vendor, name_key


@dataclass(frozen=True)
class FieldRead:
    """One extracted field: its normalised value (None when the document lacks it) and the extractor's confidence."""

    value: str | None
    confidence: float


@dataclass(frozen=True)
class DocumentSignals:
    """Patterns across the tenant's earlier documents (earlier by receipt)."""

    iban_other_claimants: int = 0
    """Distinct other claimants whose earlier claims carried this claim's IBAN."""
    vendor_iban_changed: bool = False
    """The IBAN is not on file for the vendor, and the vendor has IBANs on file or used another one before."""
    claims_on_policy: int = 0
    """Claims on this claim's insurance policy within the policy's burst window, this one included."""


@dataclass(frozen=True)
class DocumentFacts:
    document_type: str
    fields: Mapping[str, FieldRead] = field(default_factory=dict)
    checks: Mapping[str, bool | None] = field(default_factory=dict)
    """Check name -> passed (None: could not be checked)."""
    duplicate_of: str | None = None
    reference: ReferenceMatch = field(default_factory=lambda: ReferenceMatch(0))
    signals: DocumentSignals = field(default_factory=DocumentSignals)

    @classmethod
    def from_extraction(cls, value: Mapping[str, Any]) -> DocumentFacts:
        """Facts of what extract recorded for a document (`DocumentExtracted`'s fields, checks and duplicate)."""
        fields = {
            str(name): FieldRead(
                None if read.get("normalized") is None else str(read["normalized"]), float(read.get("confidence", 0.0))
            )
            for name, read in (value.get("fields") or {}).items()
        }
        checks = {str(check["name"]): check.get("passed") for check in value.get("checks") or ()}
        return cls(
            document_type=str(value.get("document_type", "other")),
            fields=fields,
            checks=checks,
            duplicate_of=value.get("duplicate_of"),
        )

    def corrected(self, values: Mapping[str, str | None]) -> DocumentFacts:
        """These facts with a reviewer's values in place of what was read: a person's value is sure (confidence 1)."""
        return replace(self, fields={**self.fields, **{name: FieldRead(value, 1.0) for name, value in values.items()}})

    def value(self, name: str) -> str | None:
        read = self.fields.get(name)
        return None if read is None else read.value

    def values(self) -> dict[str, str]:
        return {name: read.value for name, read in self.fields.items() if read.value is not None}

    def min_confidence(self, names: list[str]) -> float:
        """The lowest confidence among `names`; a field the document lacks counts as 0."""
        return min((self._confidence(name) for name in names), default=0.0)

    def _confidence(self, name: str) -> float:
        read = self.fields.get(name)
        return 0.0 if read is None or read.value is None else read.confidence

    # Reference data.

    @property
    def vendor_known(self) -> bool:
        return self.reference.vendor is not None

    @property
    def iban_on_file(self) -> bool:
        vendor, iban = self.reference.vendor, self.value("iban")
        return vendor is not None and iban is not None and iban in vendor.ibans

    @property
    def po_found(self) -> bool:
        return self.reference.purchase_order is not None

    @property
    def po_vendor_matches(self) -> bool:
        order, vendor = self.reference.purchase_order, self.reference.vendor
        return order is not None and vendor is not None and _same_vendor(order, vendor)

    @property
    def po_currency_matches(self) -> bool:
        order = self.reference.purchase_order
        return order is not None and order.currency == self.value("currency")

    @property
    def po_deviation_pct(self) -> float | None:
        """How far the invoice total is from what remains open on its PO, in percent of the remainder."""
        order, total = self.reference.purchase_order, _decimal(self.value("total"))
        if order is None or total is None or order.remaining <= 0:
            return None
        return float(abs(total - order.remaining) / order.remaining * 100)

    @property
    def policy_found(self) -> bool:
        return self.reference.insurance_policy is not None

    @property
    def active_on_loss_date(self) -> bool:
        policy, loss = self.reference.insurance_policy, _date(self.value("date_of_loss"))
        return policy is not None and loss is not None and policy.active_from <= loss <= policy.active_to

    @property
    def loss_type_covered(self) -> bool:
        policy = self.reference.insurance_policy
        return policy is not None and self.value("loss_type") in policy.loss_types

    @property
    def holder_matches(self) -> bool:
        policy, claimant = self.reference.insurance_policy, self.value("claimant_name")
        return policy is not None and claimant is not None and name_key(claimant) == name_key(policy.holder)

    @property
    def payable(self) -> float | None:
        """The claimed amount minus the policy's deductible (never below 0)."""
        policy, claimed = self.reference.insurance_policy, _decimal(self.value("claimed_amount"))
        if policy is None or claimed is None:
            return None
        return float(max(claimed - policy.deductible, Decimal(0)))

    @property
    def payable_within_limit(self) -> bool:
        policy, payable = self.reference.insurance_policy, self.payable
        return policy is not None and payable is not None and payable <= policy.limit

    # Kept with a pending review, so a reviewer's relabel decides on the same facts.

    def to_json(self) -> dict[str, Any]:
        match = self.reference
        return {
            "document_type": self.document_type,
            "fields": {name: [read.value, read.confidence] for name, read in self.fields.items()},
            "checks": dict(self.checks),
            "duplicate_of": self.duplicate_of,
            "reference": {
                "revision": match.revision,
                "vendor": None if match.vendor is None else _row_json(match.vendor),
                "purchase_order": None if match.purchase_order is None else _row_json(match.purchase_order),
                "insurance_policy": None if match.insurance_policy is None else _row_json(match.insurance_policy),
            },
            "signals": {
                "iban_other_claimants": self.signals.iban_other_claimants,
                "vendor_iban_changed": self.signals.vendor_iban_changed,
                "claims_on_policy": self.signals.claims_on_policy,
            },
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> DocumentFacts:
        reference = value["reference"]
        vendor, order, policy = reference["vendor"], reference["purchase_order"], reference["insurance_policy"]
        return cls(
            document_type=value["document_type"],
            fields={name: FieldRead(read[0], read[1]) for name, read in value["fields"].items()},
            checks=dict(value["checks"]),
            duplicate_of=value["duplicate_of"],
            reference=ReferenceMatch(
                revision=reference["revision"],
                vendor=None
                if vendor is None
                else Vendor(vendor["name"], tuple(vendor["aliases"]), vendor["tax_id"], tuple(vendor["ibans"])),
                purchase_order=None
                if order is None
                else PurchaseOrder(
                    order["number"],
                    order["vendor"],
                    Decimal(order["amount"]),
                    order["currency"],
                    Decimal(order["remaining"]),
                ),
                insurance_policy=None
                if policy is None
                else InsurancePolicy(
                    policy["number"],
                    policy["holder"],
                    date.fromisoformat(policy["active_from"]),
                    date.fromisoformat(policy["active_to"]),
                    tuple(policy["loss_types"]),
                    Decimal(policy["limit"]),
                    Decimal(policy["deductible"]),
                ),
            ),
            signals=DocumentSignals(**value["signals"]),
        )


def _row_json(row: Vendor | PurchaseOrder | InsurancePolicy) -> dict[str, Any]:
    return {
        name: list(item) if isinstance(item, tuple) else str(item) if isinstance(item, Decimal | date) else item
        for name, item in vars(row).items()
    }


def _same_vendor(order: PurchaseOrder, vendor: Vendor) -> bool:
    return name_key(order.vendor) in {name_key(each) for each in (vendor.name, *vendor.aliases)}


def _decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _date(text: str | None) -> date | None:
    try:
        return None if text is None else date.fromisoformat(text)
    except ValueError:
        return None
