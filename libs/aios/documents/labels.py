"""Label synonyms: what invoices and claim forms print before or above a value, in English and a few others.

This is general knowledge of business documents (it is what a new clerk is told), not a vendor's template;
the learnt scorer adds words it meets in reviewers' corrections through hashed label-word features.
"""

from __future__ import annotations

import re

SYNONYMS: dict[str, tuple[str, ...]] = {
    "invoice_number": (
        "invoice no", "invoice number", "invoice", "invoice nr", "invoice id", "invoice ref", "bill no", "bill number",
        "bill", "document number", "document no", "doc no", "inv no", "inv", "rechnungsnummer", "rechnung nr",
        "numéro de facture", "facture no", "factura no", "invoice reference", "reference number", "number", "no",
    ),
    "invoice_date": (
        "invoice date", "date", "date of issue", "issue date", "issued", "issued on", "billing date", "document date",
        "dated", "rechnungsdatum", "datum", "date de facture", "fecha", "tax point", "invoice dated",
    ),
    "due_date": (
        "due date", "payment due", "due", "pay by", "due by", "payable by", "payment due date", "fällig", "faellig",
        "fällig am", "zahlbar bis", "date d'échéance", "échéance", "vencimiento", "payment deadline", "terms due",
    ),
    "vendor_name": ("from", "seller", "supplier", "vendor", "issued by", "sold by", "payee", "lieferant"),
    "vendor_tax_id": (
        "vat", "vat no", "vat id", "vat number", "vat reg no", "vat registration", "vat registration no", "tax id",
        "tax no", "tax number", "tin", "ein", "ust-idnr", "ust-id", "ust idnr", "ustid", "steuernummer", "tva",
        "n° tva", "nif", "cif", "gst no", "abn", "vat reg", "company vat",
    ),
    "customer_name": (
        "bill to", "billed to", "customer", "client", "sold to", "invoice to", "to", "recipient", "buyer",
        "customer name", "kunde", "rechnungsempfänger", "destinataire", "cliente", "ship to", "invoiced to",
    ),
    "currency": ("currency", "währung", "devise", "moneda", "ccy"),
    "subtotal": (
        "subtotal", "sub total", "sub-total", "net amount", "net total", "total net", "total excl vat", "net",
        "total excl tax", "amount before tax", "zwischensumme", "nettobetrag", "netto", "total ht", "base imponible",
        "total before tax", "net value", "goods total",
    ),
    "tax_amount": (
        "vat", "tax", "sales tax", "gst", "vat amount", "tax amount", "mwst", "ust", "umsatzsteuer", "tva", "iva",
        "total vat", "total tax", "hst", "vat total",
    ),
    "total": (
        "total", "grand total", "amount due", "total due", "balance due", "total amount", "total incl vat",
        "amount payable", "invoice total", "total payable", "gesamtbetrag", "gesamt", "total ttc", "total a pagar",
        "total to pay", "please pay", "total incl tax", "balance", "total amount due",
    ),
    "iban": ("iban", "bank account", "account", "iban no", "bank details", "pay to", "bankverbindung"),
    "po_number": (
        "po", "po number", "po no", "p.o.", "p.o. number", "purchase order", "purchase order no", "order no",
        "order number", "your order", "your ref", "bestellnummer", "bestellung", "bon de commande", "pedido",
        "customer po", "order ref",
    ),
    "claim_number": (
        "claim no", "claim number", "claim #", "claim reference", "claim ref", "claim id", "claim", "schadennummer",
        "file number", "reference",
    ),
    "policy_number": (
        "policy no", "policy number", "policy #", "policy", "policy ref", "certificate no", "versicherungsnummer",
        "contract no", "contract number", "insurance policy",
    ),
    "claimant_name": (
        "claimant", "name of insured", "insured", "policyholder", "policy holder", "name", "insured name",
        "claimant name", "insured person", "full name", "versicherungsnehmer", "name of claimant", "assuré",
    ),
    "date_of_loss": (
        "date of loss", "loss date", "date of incident", "incident date", "date of accident", "date of event",
        "date of damage", "schadendatum", "when did it happen", "date loss occurred", "occurred on", "event date",
    ),
    "loss_type": (
        "type of loss", "cause of loss", "nature of loss", "loss type", "incident type", "type of claim",
        "claim type", "schadenart", "type of damage", "cause",
    ),
    "claimed_amount": (
        "amount claimed", "claimed amount", "claim amount", "total claimed", "estimated loss", "amount",
        "estimated amount", "sum claimed", "schadenhöhe", "total claim", "loss amount", "amount of claim",
    ),
}  # fmt: skip
"""Field -> printed labels, lower case without punctuation at the ends."""

LABEL_FIELDS: tuple[str, ...] = tuple(SYNONYMS)


def clean_label(text: str) -> str:
    """Lower case, no trailing ':' '#' '.', single spaces: 'Invoice No.:' -> 'invoice no'."""
    text = text.lower().replace("\u00a0", " ").replace(".", "")
    text = re.sub(r"[:#*()\[\]]+", " ", text)
    text = re.sub(r"\S*\d\S*|%", " ", text)  # 'VAT 20 %' and 'Tax (7.5%)' are the tax label
    text = re.sub(r"\s+", " ", text).strip(" .:-/")
    return text


_BY_LABEL: dict[str, list[str]] = {}
for _field, _labels in SYNONYMS.items():
    for _label in _labels:
        _BY_LABEL.setdefault(clean_label(_label), []).append(_field)


def label_match(text: str) -> dict[str, float]:
    """How strongly `text` reads as each field's label: 1 exact, 0.6 when a synonym ends it, 0.4 starts it."""
    cleaned = clean_label(text)
    if not cleaned or len(cleaned) > 40:
        return {}
    scores: dict[str, float] = {}
    for field in _BY_LABEL.get(cleaned, []):
        scores[field] = 1.0
    words = cleaned.split(" ")
    for n in range(1, len(words)):
        for field in _BY_LABEL.get(" ".join(words[-n:]), []):
            scores[field] = max(scores.get(field, 0.0), 0.6)
        for field in _BY_LABEL.get(" ".join(words[:n]), []):
            scores[field] = max(scores.get(field, 0.0), 0.4)
    return scores


def is_label(text: str) -> bool:
    """True when the text reads as any field's label (names are never taken from labels)."""
    return any(score >= 0.6 for score in label_match(text).values())
