"""The demo's invoices and claims: seeded synthetic documents, some scanned, some with a planted error.

Every document comes from the project's synthetic generator on a layout that is not held out for
evaluation. The reference rows (vendors, purchase orders, insurance policies) are written from the
documents themselves, so a clean document passes every check of policies/payables.yaml or
policies/claims.yaml, and each planted error trips exactly the check it was planted for:

- `total_off`: the printed total is not subtotal + tax;
- `unknown_vendor`: the vendor has no reference row;
- `iban_changed`: the vendor's IBAN on file differs from the one on the invoice;
- `outside_cover`: the claim's loss type is not among its policy's covered loss types;
- `duplicate`: the same file sent a second time under another idempotency key.

Scans are one page each and a minority (OCR runs at well under a page per second on a small CPU).
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import pypdfium2 as pdfium

from aios.documents.synthetic import HELD_OUT_LAYOUTS, LAYOUTS, LOSS_OPTIONS, Generated, generate, iban, scan

PLANTED_ERRORS = ("total_off", "unknown_vendor", "iban_changed", "outside_cover", "duplicate")
"""The errors the demo plants, named as `DemoDocument.planted` names them."""

DEMO_LAYOUTS = tuple(n for n in range(LAYOUTS) if n not in HELD_OUT_LAYOUTS)
"""Layouts the demo draws from: every layout except those held out for evaluation."""

TENANT_OF = {"invoice": "payables", "claim": "claims"}
"""The tenant each document type is sent to (the tenants of policies/payables.yaml and policies/claims.yaml)."""

_ERROR_EVERY = {"invoice": {3: "total_off", 5: "unknown_vendor", 7: "iban_changed"}, "claim": {4: "outside_cover"}}
"""Position in each run of ten documents of a type → the error planted there."""


@dataclass(frozen=True)
class DemoDocument:
    name: str
    """Unique per sent file and run (the seed is in it): the idempotency key and source reference."""
    kind: str
    planted: str | None
    document: Generated

    @property
    def tenant(self) -> str:
        return TENANT_OF[self.kind]


@dataclass(frozen=True)
class DemoDocuments:
    documents: list[DemoDocument]
    seed: int
    refdata: dict[str, dict[str, str]]
    """Tenant → reference kind (`vendors`, `purchase-orders`, `policies`) → CSV text, as `aios refdata import` reads."""


def demo_documents(
    invoices: int = 110, claims: int = 55, *, scanned_share: float = 0.25, duplicate_share: float = 0.05, seed: int = 0
) -> DemoDocuments:
    """`invoices` + `claims` originals with planted errors, then a share of them sent again as duplicates."""
    rng = random.Random(f"demo-documents-{seed}")
    layouts = {kind: [n for n in DEMO_LAYOUTS if (n % 2 == 0) == (kind == "invoice")] for kind in TENANT_OF}
    originals: list[DemoDocument] = []
    for kind, count in (("invoice", invoices), ("claim", claims)):
        for n in range(count):
            planted = _ERROR_EVERY[kind].get(n % 10)
            layout_seed = rng.choice(layouts[kind])
            total_off = Decimal(rng.choice([-90, -15, 10, 250])) if planted == "total_off" else Decimal(0)
            generated = generate(seed * 100000 + n, layout_seed, total_off=total_off)
            if rng.random() < scanned_share and _pages(generated.data) == 1:
                generated.data, generated.media_type = scan(generated.data, rng)
                generated.scanned = True
            originals.append(DemoDocument(f"demo-{seed}-{kind}-{n:04d}", kind, planted, generated))
    clean = [d for d in originals if d.planted is None]
    again = rng.sample(clean, max(1, round(len(originals) * duplicate_share)))
    duplicates = [DemoDocument(f"{d.name}-again", d.kind, "duplicate", d.document) for d in again]
    return DemoDocuments(originals + duplicates, seed, _refdata(originals))


def _pages(pdf: bytes) -> int:
    document = pdfium.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


def _refdata(documents: list[DemoDocument]) -> dict[str, dict[str, str]]:
    """Reference rows that make a clean document pass and a planted error fail its check."""
    vendors: dict[str, list[str]] = {}
    orders: dict[str, list[str]] = {}
    policies: dict[str, list[str]] = {}
    for each in documents:
        f = each.document.fields
        if each.kind == "invoice" and each.planted != "unknown_vendor":
            on_file = _other_iban(f["iban"]) if each.planted == "iban_changed" else f["iban"]
            vendors[str(f["vendor_name"])] = [str(f["vendor_name"]), "", f["vendor_tax_id"] or "", on_file or ""]
            if f["po_number"]:
                orders[f["po_number"]] = [f["po_number"], str(f["vendor_name"]), str(f["total"]), str(f["currency"])]
                orders[f["po_number"]].append(str(f["total"]))
        elif each.kind == "claim":
            loss = str(f["loss_type"])
            covered = [t for t in LOSS_OPTIONS if t != loss] if each.planted == "outside_cover" else [loss]
            limit = Decimal(str(f["claimed_amount"])) * 2
            policies[str(f["policy_number"])] = [
                str(f["policy_number"]), str(f["claimant_name"]), "2020-01-01", "2030-12-31",
                ";".join(covered), f"{limit:.2f}", "0.00",
            ]  # fmt: skip
    return {
        "payables": {
            "vendors": _csv(["name", "aliases", "tax_id", "ibans"], vendors.values()),
            "purchase-orders": _csv(["number", "vendor", "amount", "currency", "remaining"], orders.values()),
        },
        "claims": {
            "policies": _csv(
                ["number", "holder", "active_from", "active_to", "loss_types", "limit", "deductible"],
                policies.values(),
            )
        },
    }


def _other_iban(printed: str | None) -> str | None:
    """Another valid IBAN of the same country: the account the vendor gave before."""
    return iban(random.Random(f"other-{printed}"), printed[:2]) if printed else None


def _csv(header: list[str], rows: Iterable[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
