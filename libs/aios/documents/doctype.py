"""Which kind of document this is, from words that invoices and claim forms print and the other does not."""

from __future__ import annotations

import re

INVOICE_WORDS: dict[str, float] = {
    "invoice": 3.0, "bill": 1.0, "subtotal": 2.0, "vat": 1.0, "tax": 1.0, "due": 1.0, "qty": 1.5, "quantity": 1.5,
    "unit": 1.0, "price": 1.0, "payment": 0.5, "rechnung": 3.0, "facture": 3.0, "factura": 3.0, "total": 0.5,
}  # fmt: skip
CLAIM_WORDS: dict[str, float] = {
    "claim": 3.0, "policy": 2.0, "loss": 2.0, "claimant": 3.0, "insured": 2.0, "incident": 1.5, "insurance": 1.5,
    "policyholder": 2.0, "damage": 1.0, "accident": 1.0, "schaden": 3.0, "sinistre": 3.0, "theft": 0.5,
}  # fmt: skip
MIN_EVIDENCE = 4.0
"""Below this much weight of either vocabulary the document is `other` (sent to review)."""


def document_type(text: str) -> tuple[str, float]:
    """(invoice | claim | other, confidence)."""
    words = re.findall(r"[a-zäöüé]+", text.lower()[:20000])
    invoice = sum(INVOICE_WORDS.get(w, 0.0) for w in words)
    claim = sum(CLAIM_WORDS.get(w, 0.0) for w in words)
    if max(invoice, claim) < MIN_EVIDENCE:
        return "other", round(1 - max(invoice, claim) / MIN_EVIDENCE, 4)
    winner = "invoice" if invoice >= claim else "claim"
    return winner, round(max(invoice, claim) / (invoice + claim), 4)
