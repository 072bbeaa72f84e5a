"""A seeded generator of invoices and claim forms: many layouts, fonts, labels, number and date formats, scans.

There is no public labelled invoice corpus here, so accuracy is measured on these — on layouts held out of
everything that is tuned or trained (`HELD_OUT_LAYOUTS`). A layout is drawn from its own seed: where the
vendor block sits, how key fields are printed (label: value, label above value, a boxed grid), which label
words, fonts, number format, date format, currency style, table columns and totals block it uses. Documents of
one layout differ in content. Scanned variants are rasterised, turned slightly, noised and JPEG-compressed.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageFilter
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from aios.documents.normalise import IBAN_LENGTHS

LAYOUTS = 48
"""Layout seeds 0..47: invoices on even seeds, claim forms on odd ones."""
HELD_OUT_LAYOUTS: frozenset[int] = frozenset(range(36, 48))
"""Never trained or tuned on; the evaluation reports on these only."""

_BUILTIN_FONTS = [("Helvetica", "Helvetica-Bold"), ("Times-Roman", "Times-Bold"), ("Courier", "Courier-Bold")]
_TTF = {
    "DejaVuSans": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "DejaVuSans-Bold": "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "DejaVuSerif": "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "DejaVuSerif-Bold": "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "DejaVuSansCondensed": "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
    "DejaVuSansCondensed-Bold": "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
}

LABELS: dict[str, list[str]] = {
    "invoice_number": ["Invoice No.", "Invoice #", "Invoice Number", "Bill #", "Document number", "Invoice ID",
                       "Rechnungsnummer", "Inv. No.", "Invoice Ref.", "No."],
    "invoice_date": ["Invoice Date", "Date", "Date of issue", "Issue date", "Issued", "Billing date", "Datum",
                     "Document date", "Invoice dated"],
    "due_date": ["Due Date", "Payment due", "Due", "Pay by", "Due by", "Zahlbar bis", "Payable by"],
    "vendor_tax_id": ["VAT No.", "VAT ID", "Tax ID", "VAT Reg. No.", "USt-IdNr.", "Tax number", "VAT number"],
    "customer_name": ["Bill to", "Billed to", "Customer", "Invoice to", "Sold to", "Client", "Recipient"],
    "po_number": ["PO Number", "P.O. #", "Purchase Order", "Your order", "Order No.", "PO"],
    "subtotal": ["Subtotal", "Net amount", "Sub-total", "Net total", "Total excl. VAT", "Zwischensumme"],
    "tax_amount": ["VAT {rate}%", "Tax ({rate}%)", "Sales tax", "VAT", "MwSt. {rate}%", "GST"],
    "total": ["Total", "Grand total", "Amount due", "Total due", "Balance due", "Total amount", "Gesamtbetrag",
              "Amount payable"],
    "iban": ["IBAN", "IBAN:", "Bank account (IBAN)"],
    "claim_number": ["Claim No.", "Claim number", "Claim #", "Claim reference", "Claim ID"],
    "policy_number": ["Policy No.", "Policy number", "Policy #", "Policy", "Certificate No."],
    "claimant_name": ["Claimant", "Name of insured", "Policyholder", "Insured name", "Full name", "Claimant name"],
    "date_of_loss": ["Date of loss", "Date of incident", "Loss date", "Date of accident", "Incident date"],
    "loss_type": ["Type of loss", "Cause of loss", "Nature of loss", "Loss type"],
    "claimed_amount": ["Amount claimed", "Claimed amount", "Estimated loss", "Total claimed", "Claim amount"],
}  # fmt: skip
TITLES = {
    "invoice": ["INVOICE", "Invoice", "Tax Invoice", "RECHNUNG", "Bill", "Commercial Invoice"],
    "claim": ["Insurance Claim Form", "CLAIM FORM", "First Notice of Loss", "Property Claim", "Claim Notification"],
}
ITEM_HEADERS = {
    "description": ["Description", "Item", "Service", "Article", "Details", "Product"],
    "quantity": ["Qty", "Quantity", "Units", "Hours", "Qty."],
    "unit_price": ["Unit price", "Price", "Rate", "Unit cost", "Price/unit"],
    "amount": ["Amount", "Total", "Line total", "Net", "Sum"],
}
LOSS_OPTIONS = {
    "water_damage": ["Water damage", "Water / flood"],
    "theft": ["Theft", "Theft / burglary"],
    "collision": ["Collision", "Vehicle collision"],
    "fire": ["Fire", "Fire / smoke"],
    "storm": ["Storm", "Storm / hail"],
    "medical": ["Medical", "Injury / medical"],
    "other": ["Other"],
}
_WORDS = [
    "Nord",
    "Sun",
    "Blue",
    "Alpine",
    "Delta",
    "Orbit",
    "Cedar",
    "Vector",
    "Lumen",
    "Apex",
    "Harbor",
    "Kestrel",
    "Summit",
    "Pioneer",
    "Zenith",
    "Nova",
    "Granite",
    "Willow",
    "Falcon",
    "Quantum",
    "Atlas",
    "Meridian",
    "Silver",
    "Crescent",
    "Beacon",
    "Prairie",
    "Coral",
    "Evergreen",
]
_SUFFIXES = ["GmbH", "Ltd", "Inc.", "S.A.", "B.V.", "AG", "LLC", "SARL", "Oy", "AB"]
_TRADES = ["Logistics", "Consulting", "Systems", "Supplies", "Engineering", "Foods", "Print", "Software", "Energy"]
_FIRST = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Lena",
    "Marco",
    "Nina",
    "Oskar",
    "Paula",
    "Rafael",
    "Sofia",
    "Tom",
]
_LAST = [
    "Meyer",
    "Schmidt",
    "Dubois",
    "Rossi",
    "Garcia",
    "Novak",
    "Jensen",
    "Smith",
    "Keller",
    "Moreau",
    "Silva",
    "Berg",
    "Hansen",
    "Weber",
    "Costa",
]
_ITEMS = [
    "Consulting hours",
    "Annual licence",
    "Server rack",
    "Cable set",
    "Maintenance visit",
    "Office chairs",
    "Printer toner",
    "Cloud storage plan",
    "Design work",
    "Travel expenses",
    "Training session",
    "Spare parts kit",
    "Delivery fee",
    "Software support",
    "Network switch",
    "Desk lamp",
    "Paper A4 box",
    "Installation",
    "Audit services",
    "Monitor 27 inch",
]
_STREETS = ["Main Street", "Hauptstrasse", "Rue de la Paix", "Kings Road", "Market Square", "Station Road"]
_CITIES = ["10115 Berlin", "75002 Paris", "London EC1A 1BB", "1011 Amsterdam", "8001 Zurich", "Vienna 1010"]
CURRENCY_SYMBOL = {"EUR": "€", "GBP": "£", "USD": "$", "CHF": "CHF", "SEK": "kr", "PLN": "zł"}
COUNTRY_OF = {"EUR": "DE", "GBP": "GB", "USD": "US", "CHF": "CH", "SEK": "SE", "PLN": "PL"}
EU_IBAN = ["DE", "FR", "NL", "AT", "BE", "IT", "ES"]


@dataclass(frozen=True)
class Layout:
    seed: int
    kind: str
    page: tuple[float, float]
    font: str
    bold: str
    size: float
    header: str  # vendor block: left | right | centre
    meta: str  # label_value | label_above | grid
    meta_side: str  # left | right
    labels: dict[str, str]
    number_format: str  # en | de | fr | ch
    date_format: str
    currency_style: str  # code_after | code_before | symbol_before | symbol_after | label
    columns: tuple[str, ...]
    headers: dict[str, str]
    repeat_header: bool
    tickboxes: bool
    title: str
    optional: frozenset[str]


def _fonts() -> list[tuple[str, str]]:
    fonts = list(_BUILTIN_FONTS)
    if all(Path(p).exists() for p in _TTF.values()):
        for name, path in _TTF.items():
            if name not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont(name, path))
        fonts += [("DejaVuSans", "DejaVuSans-Bold"), ("DejaVuSerif", "DejaVuSerif-Bold")]
        fonts += [("DejaVuSansCondensed", "DejaVuSansCondensed-Bold")]
    return fonts


def layout(seed: int) -> Layout:
    """The layout of seed `seed` (invoices on even seeds, claims on odd)."""
    rng = random.Random(f"layout-{seed}")
    kind = "invoice" if seed % 2 == 0 else "claim"
    font, bold = rng.choice(_fonts())
    columns = ["description", "quantity", "unit_price", "amount"]
    if rng.random() < 0.3:
        columns = ["quantity", "description", "unit_price", "amount"]
    optional = {n for n in ("due_date", "po_number", "iban", "vendor_tax_id") if rng.random() < 0.8}
    return Layout(
        seed=seed,
        kind=kind,
        page=rng.choice([A4, LETTER]),
        font=font,
        bold=bold,
        size=rng.choice([8.5, 9, 9.5, 10, 11]),
        header=rng.choice(["left", "right", "centre"]),
        meta=rng.choice(["label_value", "label_value", "label_above", "grid"]),
        meta_side=rng.choice(["left", "right"]),
        labels={n: rng.choice(options) for n, options in LABELS.items()},
        number_format=rng.choice(["en", "de", "fr", "ch"]),
        date_format=rng.choice(["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%d %B %Y", "%B %d, %Y", "%d-%b-%Y"]),
        currency_style=rng.choice(["code_after", "code_before", "symbol_before", "symbol_after", "label"]),
        columns=tuple(columns),
        headers={c: rng.choice(ITEM_HEADERS[c]) for c in columns},
        repeat_header=rng.random() < 0.6,
        tickboxes=rng.random() < 0.7,
        title=rng.choice(TITLES[kind]),
        optional=frozenset(optional),
    )


@dataclass
class Generated:
    """One synthetic document and its truth."""

    layout: int
    kind: str
    data: bytes
    media_type: str
    fields: dict[str, str | None]
    line_items: list[dict[str, str]] = field(default_factory=list)
    scanned: bool = False


def money(value: Decimal, fmt: str) -> str:
    text = f"{value:,.2f}"
    swaps = {"en": text, "de": text.replace(",", "_").replace(".", ",").replace("_", "."),
             "fr": text.replace(",", " ").replace(".", ","), "ch": text.replace(",", "'")}  # fmt: skip
    return swaps[fmt]


def _with_currency(amount: str, currency: str, style: str, font: str) -> str:
    symbol = CURRENCY_SYMBOL.get(currency, currency)
    if not font.startswith("DejaVu") and symbol not in ("€", "£") and not symbol.isascii():
        symbol = currency  # the PDF base fonts (WinAnsi) cannot print the Polish zloty sign
    return {
        "code_after": f"{amount} {currency}",
        "code_before": f"{currency} {amount}",
        "symbol_before": f"{symbol}{amount}" if len(symbol) == 1 else f"{symbol} {amount}",
        "symbol_after": f"{amount} {symbol}",
        "label": amount,
    }[style]


def iban(rng: random.Random, country: str) -> str:
    length = IBAN_LENGTHS[country]
    bban = "".join(rng.choice("0123456789") for _ in range(length - 4))
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def tax_id(rng: random.Random, country: str) -> str:
    digits = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    return {
        "DE": f"DE{digits(9)}", "GB": f"GB{digits(9)}", "US": f"{digits(2)}-{digits(7)}", "CH": f"CHE{digits(9)}",
        "SE": f"SE{digits(10)}01", "PL": f"PL{digits(10)}", "FR": f"FR{digits(2)}{digits(9)}",
        "NL": f"NL{digits(9)}B{digits(2)}",
    }[country]  # fmt: skip


def _company(rng: random.Random) -> str:
    return f"{rng.choice(_WORDS)} {rng.choice(_TRADES)} {rng.choice(_SUFFIXES)}"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _date_text(value: date, fmt: str) -> str:
    return value.strftime(fmt)


def generate(
    seed: int, layout_seed: int, *, scanned: bool = False, spec: Layout | None = None, total_off: Decimal = Decimal(0)
) -> Generated:
    """Document `seed` of layout `layout_seed` (or of `spec`, a layout changed by hand); `scanned` rasterises it.

    `total_off` is added to an invoice's printed total, so that its totals no longer add up (the demo's error)."""
    spec = spec or layout(layout_seed)
    rng = random.Random(f"doc-{layout_seed}-{seed}")
    document = _invoice(spec, rng, total_off) if spec.kind == "invoice" else _claim(spec, rng)
    if scanned:
        document.data, document.media_type = scan(document.data, rng)
        document.scanned = True
    return document


def _currency(spec: Layout, rng: random.Random, choices: list[str]) -> str:
    """Numeric month-first dates are American: such layouts bill in dollars, and dollar bills print them so."""
    if spec.date_format.startswith("%m"):
        return "USD"
    currency = rng.choice(choices)
    return "EUR" if currency == "USD" and spec.date_format in ("%d/%m/%Y", "%d.%m.%Y") else currency


def _invoice(spec: Layout, rng: random.Random, total_off: Decimal = Decimal(0)) -> Generated:
    currency = _currency(spec, rng, ["EUR", "EUR", "GBP", "USD", "CHF", "SEK", "PLN"])
    country = COUNTRY_OF[currency]
    issued = date(2023, 1, 1) + timedelta(days=rng.randrange(900))
    items = []
    for _ in range(rng.choice([1, 2, 3, 4, 5, 6, 8, 12, 18, 30, 45])):
        quantity = Decimal(rng.choice([1, 1, 2, 3, 4, 5, 10, 12, 20])) if rng.random() < 0.85 else Decimal("2.5")
        price = Decimal(rng.randrange(150, 250000)) / 100
        amount = (quantity * price).quantize(Decimal("0.01"), ROUND_HALF_UP)
        items.append((rng.choice(_ITEMS), quantity, price, amount))
    subtotal = sum((i[3] for i in items), Decimal(0))
    rate = rng.choice([Decimal(20), Decimal(19), Decimal("7.7"), Decimal(25), Decimal(23), Decimal(10)])
    tax = (subtotal * rate / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    fields: dict[str, str | None] = {
        "invoice_number": rng.choice(["INV-", "", "R", "2024/", "F-"]) + str(rng.randrange(1000, 999999)),
        "invoice_date": issued.isoformat(),
        "due_date": (issued + timedelta(days=rng.choice([14, 30, 45]))).isoformat(),
        "vendor_name": _company(rng),
        "vendor_tax_id": tax_id(rng, country),
        "customer_name": _company(rng) if rng.random() < 0.7 else _person(rng),
        "currency": currency,
        "subtotal": f"{subtotal:.2f}",
        "tax_amount": f"{tax:.2f}",
        "total": f"{subtotal + tax + total_off:.2f}",
        "iban": iban(rng, country if country in IBAN_LENGTHS else rng.choice(EU_IBAN)),
        "po_number": f"PO-{rng.randrange(10000, 99999)}",
    }
    for name in ("due_date", "po_number", "iban", "vendor_tax_id"):
        if name not in spec.optional:
            fields[name] = None
    fmt = spec.number_format
    line_items = [
        {"description": d, "quantity": _plain(q), "unit_price": f"{p:.2f}", "amount": f"{a:.2f}"}
        for d, q, p, a in items
    ]
    pdf = _InvoicePdf(spec, rng, fields, items, rate, fmt).draw()
    return Generated(spec.seed, "invoice", pdf, "application/pdf", fields, line_items)


def _plain(quantity: Decimal) -> str:
    normal = quantity.normalize()
    return f"{normal:f}" if normal != normal.to_integral() else str(int(normal))


class _Pdf:
    """Drawing helpers shared by both document kinds."""

    def __init__(self, spec: Layout, rng: random.Random) -> None:
        self.spec = spec
        self.rng = rng
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=spec.page, invariant=True)
        self.width, self.height = spec.page
        self.margin = rng.choice([40, 50, 60])
        self.y = self.height - self.margin

    def text(self, x: float, y: float, text: str, *, bold: bool = False, size: float | None = None) -> None:
        self.canvas.setFont(self.spec.bold if bold else self.spec.font, size or self.spec.size)
        self.canvas.drawString(x, y, text)

    def right(self, x: float, y: float, text: str, *, bold: bool = False) -> None:
        self.canvas.setFont(self.spec.bold if bold else self.spec.font, self.spec.size)
        self.canvas.drawRightString(x, y, text)

    def date(self, value: str | None) -> str:
        return "" if value is None else _date_text(date.fromisoformat(value), self.spec.date_format)

    def header(self, name: str, lines: list[str]) -> None:
        """The sender's block: name large, address small, on the layout's side."""
        size = self.spec.size * self.rng.choice([1.5, 1.8, 2.2])
        x = {"left": self.margin, "right": self.width / 2 + 20, "centre": self.width / 2 - 120}[self.spec.header]
        self.text(x, self.y, name, bold=True, size=size)
        y = self.y - size - 2
        for line in lines:
            self.text(x, y, line)
            y -= self.spec.size + 3
        self.y = y - 10

    def key_values(self, pairs: list[tuple[str, str]], x: float, y: float) -> float:
        """Key fields as the layout prints them; returns the y below them."""
        step = self.spec.size + 5
        if self.spec.meta == "label_value":
            for label, value in pairs:
                self.text(x, y, f"{label}:" if self.rng.random() < 0.7 else label, bold=self.spec.seed % 3 == 0)
                self.text(x + 110, y, value)
                y -= step
            return y
        if self.spec.meta == "label_above":
            for label, value in pairs:
                self.text(x, y, label, size=self.spec.size * 0.85, bold=True)
                self.text(x, y - step + 2, value)
                y -= 2 * step
            return y
        cell = (self.width - 2 * self.margin) / min(len(pairs), 4)
        for row in range(0, len(pairs), 4):
            for col, (label, value) in enumerate(pairs[row : row + 4]):
                cx = self.margin + col * cell
                self.canvas.rect(cx, y - 2 * step + 6, cell - 4, 2 * step - 2)
                self.text(cx + 3, y - 4, label, size=self.spec.size * 0.8)
                self.text(cx + 3, y - step - 2, value)
            y -= 2 * step + 4
        return y

    def finish(self) -> bytes:
        self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()


class _InvoicePdf(_Pdf):
    def __init__(
        self,
        spec: Layout,
        rng: random.Random,
        fields: dict[str, str | None],
        items: list[tuple[str, Decimal, Decimal, Decimal]],
        rate: Decimal,
        fmt: str,
    ) -> None:
        super().__init__(spec, rng)
        self.fields, self.items, self.rate, self.fmt = fields, items, rate, fmt

    def amount(self, value: str | Decimal) -> str:
        text = money(Decimal(value), self.fmt)
        return _with_currency(text, str(self.fields["currency"]), self.spec.currency_style, self.spec.font)

    def draw(self) -> bytes:
        f, s = self.fields, self.spec
        street = f"{self.rng.randrange(1, 200)} {self.rng.choice(_STREETS)}"
        vendor_lines = [street, self.rng.choice(_CITIES)]
        if f["vendor_tax_id"] and self.rng.random() < 0.5:
            vendor_lines.append(f"{s.labels['vendor_tax_id']} {f['vendor_tax_id']}")
            printed_tax_id = True
        else:
            printed_tax_id = False
        self.header(str(f["vendor_name"]), vendor_lines)
        self.text(self.width - self.margin - 160, self.y, s.title, bold=True, size=s.size * 1.6)
        self.y -= 30
        customer_x = self.margin if s.meta_side == "right" or s.meta == "grid" else self.width / 2 + 20
        meta_x = self.width / 2 + 20 if s.meta_side == "right" else self.margin
        pairs = [
            (s.labels["invoice_number"], str(f["invoice_number"])),
            (s.labels["invoice_date"], self.date(f["invoice_date"])),
        ]
        if f["due_date"]:
            pairs.append((s.labels["due_date"], self.date(f["due_date"])))
        if f["po_number"]:
            pairs.append((s.labels["po_number"], str(f["po_number"])))
        if f["vendor_tax_id"] and not printed_tax_id:
            pairs.append((s.labels["vendor_tax_id"], str(f["vendor_tax_id"])))
        if s.currency_style == "label":
            pairs.append(("Currency", str(f["currency"])))
        top = self.y
        if s.meta == "grid":
            below_meta = self.key_values(pairs, self.margin, top)
            top = below_meta - 10
            meta_bottom = top
        else:
            meta_bottom = self.key_values(pairs, meta_x, top)
        self.text(customer_x, top, s.labels["customer_name"] + (":" if self.rng.random() < 0.5 else ""), bold=True)
        self.text(customer_x, top - s.size - 4, str(f["customer_name"]))
        self.text(customer_x, top - 2 * (s.size + 4), f"{self.rng.randrange(1, 90)} {self.rng.choice(_STREETS)}")
        self.text(customer_x, top - 3 * (s.size + 4), self.rng.choice(_CITIES))
        self.y = min(meta_bottom, top - 4 * (s.size + 4)) - 20
        self.table()
        self.totals()
        return self.finish()

    def _columns(self) -> dict[str, tuple[float, str]]:
        """x and alignment of each column."""
        left, right = self.margin, self.width - self.margin
        xs = {"description": (left + (40 if self.spec.columns[0] == "quantity" else 0), "l"),
              "quantity": (right - 190 if self.spec.columns[0] != "quantity" else left + 25, "r"),
              "unit_price": (right - 95, "r"), "amount": (right, "r")}  # fmt: skip
        return xs

    def _table_header(self) -> None:
        for column, (x, align) in self._columns().items():
            label = self.spec.headers[column]
            if align == "r":
                self.right(x, self.y, label, bold=True)
            else:
                self.text(x, self.y, label, bold=True)
        self.canvas.line(self.margin, self.y - 4, self.width - self.margin, self.y - 4)
        self.y -= self.spec.size + 8

    def table(self) -> None:
        self._table_header()
        quantity_format = "en" if self.fmt == "en" else self.fmt
        for description, quantity, price, amount in self.items:
            if self.y < self.margin + 60:
                self.canvas.showPage()
                self.y = self.height - self.margin
                if self.spec.repeat_header:
                    self._table_header()
            q = _plain(quantity) if quantity == quantity.to_integral() else money(quantity, quantity_format)
            cells = {"description": description, "quantity": q, "unit_price": money(price, self.fmt),
                     "amount": money(amount, self.fmt)}  # fmt: skip
            for column, (x, align) in self._columns().items():
                if align == "r":
                    self.right(x, self.y, cells[column])
                else:
                    self.text(x, self.y, cells[column])
            self.y -= self.spec.size + 5

    def totals(self) -> None:
        f, s = self.fields, self.spec
        if self.y < self.margin + 120:
            self.canvas.showPage()
            self.y = self.height - self.margin
        self.canvas.line(self.width / 2, self.y, self.width - self.margin, self.y)
        self.y -= s.size + 6
        tax_label = s.labels["tax_amount"].format(rate=f"{self.rate:f}".rstrip("0").rstrip("."))
        for label, value, bold in ((s.labels["subtotal"], f["subtotal"], False), (tax_label, f["tax_amount"], False),
                                   (s.labels["total"], f["total"], True)):  # fmt: skip
            self.text(self.width / 2 + 10, self.y, label, bold=bold)
            self.right(self.width - self.margin, self.y, self.amount(str(value)), bold=bold)
            self.y -= s.size + 6
        self.y -= 20
        if f["iban"]:
            spaced = " ".join(str(f["iban"])[i : i + 4] for i in range(0, len(str(f["iban"])), 4))
            self.text(self.margin, self.y, f"{s.labels['iban'].rstrip(':')}: {spaced}")
            self.y -= s.size + 4
        self.text(self.margin, self.y, "Thank you for your business.", size=s.size * 0.9)


def _claim(spec: Layout, rng: random.Random) -> Generated:
    currency = _currency(spec, rng, ["EUR", "EUR", "GBP", "USD", "CHF"])
    country = COUNTRY_OF[currency]
    loss = rng.choice(list(LOSS_OPTIONS))
    amount = Decimal(rng.randrange(10000, 5000000)) / 100
    fields: dict[str, str | None] = {
        "claim_number": rng.choice(["CLM-", "C", "SCH-", ""]) + str(rng.randrange(100000, 9999999)),
        "policy_number": rng.choice(["POL-", "P", "HV-"]) + str(rng.randrange(1000000, 99999999)),
        "claimant_name": _person(rng),
        "date_of_loss": (date(2023, 1, 1) + timedelta(days=rng.randrange(900))).isoformat(),
        "loss_type": loss,
        "claimed_amount": f"{amount:.2f}",
        "currency": currency,
        "iban": iban(rng, country if country in IBAN_LENGTHS else rng.choice(EU_IBAN))
        if "iban" in spec.optional
        else None,
    }
    pdf = _ClaimPdf(spec, rng, fields).draw()
    return Generated(spec.seed, "claim", pdf, "application/pdf", fields)


class _ClaimPdf(_Pdf):
    def __init__(self, spec: Layout, rng: random.Random, fields: dict[str, str | None]) -> None:
        super().__init__(spec, rng)
        self.fields = fields

    def draw(self) -> bytes:
        f, s = self.fields, self.spec
        insurer = f"{self.rng.choice(_WORDS)} {self.rng.choice(['Insurance', 'Assurance', 'Mutual', 'Versicherung'])}"
        self.header(insurer, [self.rng.choice(_CITIES)])
        self.text(self.margin, self.y, s.title, bold=True, size=s.size * 1.6)
        self.y -= 34
        amount = money(Decimal(str(f["claimed_amount"])), s.number_format)
        amount = _with_currency(amount, str(f["currency"]), s.currency_style, s.font)
        pairs = [
            (s.labels["claim_number"], str(f["claim_number"])),
            (s.labels["policy_number"], str(f["policy_number"])),
            (s.labels["claimant_name"], str(f["claimant_name"])),
            (s.labels["date_of_loss"], self.date(f["date_of_loss"])),
            (s.labels["claimed_amount"], amount),
        ]
        if s.currency_style == "label":
            pairs.append(("Currency", str(f["currency"])))
        if not s.tickboxes:
            pairs.append((s.labels["loss_type"], self.rng.choice(LOSS_OPTIONS[str(f["loss_type"])])))
        self.rng.shuffle(pairs)
        x = self.margin if s.meta_side == "left" else self.width / 2 - 60
        self.y = self.key_values(pairs, x, self.y) - 16
        if s.tickboxes:
            self.tickboxes(str(f["loss_type"]))
        self.text(self.margin, self.y, "Description of what happened:", bold=True)
        self.y -= s.size + 4
        for _ in range(self.rng.randrange(2, 5)):
            self.text(self.margin, self.y, self.rng.choice(_NARRATIVE))
            self.y -= s.size + 3
        self.y -= 16
        if f["iban"]:
            self.text(self.margin, self.y, f"{s.labels['iban'].rstrip(':')}: {f['iban']}")
            self.y -= s.size + 16
        self.text(self.margin, self.y, "Signature: ______________________    Date: ____________", size=s.size * 0.9)
        return self.finish()

    def tickboxes(self, ticked: str) -> None:
        s = self.spec
        self.text(self.margin, self.y, s.labels["loss_type"] + ":", bold=True)
        self.y -= s.size + 8
        per_row = self.rng.choice([2, 3, 4])
        column = (self.width - 2 * self.margin) / per_row
        box = s.size + 1
        mark = self.rng.choice(["cross", "fill", "check"])
        for index, (option, words) in enumerate(LOSS_OPTIONS.items()):
            x = self.margin + (index % per_row) * column
            y = self.y - (index // per_row) * (box + 8)
            self.canvas.rect(x, y - 2, box, box)
            if option == ticked:
                if mark == "cross":
                    self.canvas.line(x + 1, y - 1, x + box - 1, y + box - 3)
                    self.canvas.line(x + 1, y + box - 3, x + box - 1, y - 1)
                elif mark == "fill":
                    self.canvas.rect(x + 2, y, box - 4, box - 4, fill=1)
                else:
                    self.canvas.setLineWidth(1.6)
                    self.canvas.lines([(x + 2, y + 3, x + box / 2.5, y), (x + box / 2.5, y, x + box - 1, y + box - 2)])
                    self.canvas.setLineWidth(1)
            self.text(x + box + 4, y, words[self.spec.seed % len(words)])
        self.y -= (len(LOSS_OPTIONS) // per_row + 1) * (box + 8) + 10


_NARRATIVE = [
    "A pipe burst in the kitchen overnight and the floor was damaged.",
    "The vehicle was hit at a junction while waiting at the lights.",
    "Items were taken from the premises while nobody was at home.",
    "Heavy weather damaged the roof and two windows.",
    "The insured person was treated at the local hospital.",
    "The loss was reported to the police and the reference is attached.",
    "Photos of the damage and receipts are enclosed with this form.",
]


def scan(pdf: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Rasterise like a desk scanner: 150-300 dpi grey, turned up to 2°, noise, blur, JPEG; PNG/JPEG/TIFF/PDF."""
    document = pdfium.PdfDocument(pdf)
    dpi = rng.choice([150, 200, 200, 300])
    pages: list[Image.Image] = []
    for page in document:
        image = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        image = image.rotate(rng.uniform(-2.0, 2.0), resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)
        pixels = np.asarray(image, dtype=np.float32)
        pixels += np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(4, 14), pixels.shape)
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        if rng.random() < 0.5:
            image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8)))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=rng.randrange(45, 85))
        pages.append(Image.open(io.BytesIO(buffer.getvalue())))
    document.close()
    out = io.BytesIO()
    if len(pages) == 1 and rng.random() < 0.6:
        media_type = rng.choice(["image/png", "image/jpeg"])
        pages[0].save(out, format="PNG" if media_type == "image/png" else "JPEG", dpi=(dpi, dpi), quality=80)
        return out.getvalue(), media_type
    if rng.random() < 0.5:
        pages[0].save(
            out, format="TIFF", save_all=True, append_images=pages[1:], dpi=(dpi, dpi), compression="tiff_lzw"
        )
        return out.getvalue(), "image/tiff"
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=float(dpi))
    return out.getvalue(), "application/pdf"


def dataset(layouts: list[int], per_layout: int, *, scanned_share: float = 0.0, seed: int = 0) -> list[Generated]:
    """`per_layout` documents of each layout; a share of them scanned (deterministic for a seed)."""
    rng = random.Random(f"dataset-{seed}")
    return [
        generate(seed * 100000 + n, layout_seed, scanned=rng.random() < scanned_share)
        for layout_seed in layouts
        for n in range(per_layout)
    ]


def truth_record(document: Generated, file: str) -> dict[str, Any]:
    """One line of a labelled JSONL file: the file, its type and its true fields."""
    return {
        "file": file,
        "media_type": document.media_type,
        "type": document.kind,
        "layout": document.layout,
        "scanned": document.scanned,
        "fields": document.fields,
        "line_items": document.line_items,
    }
