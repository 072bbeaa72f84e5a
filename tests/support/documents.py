"""Small documents made on the spot for the document tests: an invoice and a claim as born-digital PDFs, a scan of
either, and the bad files the edge and the extract service must refuse or send to review."""

from __future__ import annotations

import io

import pypdfium2
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def invoice_pdf(
    number: str = "INV-1001", vendor: str = "Acme Supplies GmbH", total: str = "119.00", *, text_in_clear: bool = False
) -> bytes:
    """A one-page invoice whose amounts add up (subtotal 100.00 + tax 19.00 unless `total` says otherwise);
    `text_in_clear`: its page is not compressed, so its text is in its bytes."""
    return _pdf(
        [
            ("INVOICE", 20),
            (f"{vendor}", 12),
            ("VAT ID: DE123456789", 10),
            (f"Invoice No.: {number}", 11),
            ("Invoice date: 2026-11-02", 11),
            ("Due date: 2026-12-02", 11),
            ("Bill to: Northwind Traders Ltd", 11),
            ("Description            Qty     Unit price     Amount", 10),
            ("Office chairs            2          50.00     100.00", 10),
            ("Subtotal: 100.00 EUR", 11),
            ("VAT 19%: 19.00 EUR", 11),
            (f"Total: {total} EUR", 12),
            ("IBAN: DE89 3704 0044 0532 0130 00", 10),
        ],
        compressed=not text_in_clear,
    )


def claim_pdf(number: str = "CLM-2026-0042", claimed: str = "2,450.00") -> bytes:
    return _pdf(
        [
            ("INSURANCE CLAIM FORM", 18),
            (f"Claim number: {number}", 11),
            ("Policy number: POL-778812", 11),
            ("Claimant: Maria Jensen", 11),
            ("Date of loss: 2026-10-14", 11),
            ("Type of loss: water damage", 11),
            (f"Claimed amount: {claimed} EUR", 11),
            ("IBAN: DE89 3704 0044 0532 0130 00", 10),
        ]
    )


def pages_pdf(pages: int) -> bytes:
    """`pages` pages of a few words each."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for page in range(pages):
        pdf.drawString(72, 770, f"Page {page + 1}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def encrypted_pdf() -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, encrypt="secret")
    pdf.drawString(72, 770, "INVOICE")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def zero_page_pdf() -> bytes:
    """A well-formed PDF whose page tree is empty (written by hand: writers refuse to make one)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def scan_of(pdf: bytes, scale: float = 200 / 72, image_format: str = "PNG") -> bytes:
    """The first page rendered to an image without a text layer, as a scanner would give it."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=scale).to_pil().convert("L")
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, format=image_format)
    return out.getvalue()


def blank_png(width: int = 1200, height: int = 1600) -> bytes:
    """A page where OCR finds nothing."""
    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, format="PNG")
    return out.getvalue()


def _pdf(lines: list[tuple[str, int]], compressed: bool = True) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=int(compressed))
    y = 780.0
    for text, size in lines:
        pdf.setFont("Helvetica-Bold" if size >= 18 else "Helvetica", size)
        pdf.drawString(60, y, text)
        y -= size * 2.2
    pdf.showPage()
    pdf.save()
    return out.getvalue()
