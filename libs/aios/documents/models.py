"""What the extractor returns: fields with value, confidence, page and box; line items; checks; timings."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

DocumentType = Literal["invoice", "claim", "other"]
DeclaredType = Literal["invoice", "claim", "auto"]
BBox = tuple[float, float, float, float]
"""(x0, y0, x1, y1) in PDF points (1/72 inch), origin at the page's top-left corner."""

INVOICE_FIELDS: tuple[str, ...] = (
    "invoice_number",
    "invoice_date",
    "due_date",
    "vendor_name",
    "vendor_tax_id",
    "customer_name",
    "currency",
    "subtotal",
    "tax_amount",
    "total",
    "iban",
    "po_number",
)
CLAIM_FIELDS: tuple[str, ...] = (
    "claim_number",
    "policy_number",
    "claimant_name",
    "date_of_loss",
    "loss_type",
    "claimed_amount",
    "currency",
    "iban",
)
LOSS_TYPES: tuple[str, ...] = ("water_damage", "theft", "collision", "fire", "storm", "medical", "other")


def known_type(document_type: str) -> DocumentType:
    """`document_type` if it is one the extractor gives, else `other` (an event's type is the caller's word)."""
    return next((known for known in get_args(DocumentType) if known == document_type), "other")


def fields_of(document_type: str) -> tuple[str, ...]:
    """The scalar fields a document of this type has (none for `other`)."""
    return {"invoice": INVOICE_FIELDS, "claim": CLAIM_FIELDS}.get(document_type, ())


class ExtractedField(BaseModel):
    """One field's normalised value and where it was read."""

    value: str = Field(description="Normalised: dates YYYY-MM-DD, amounts '1234.50', ISO 4217, IBAN without spaces.")
    confidence: float = Field(ge=0.0, le=1.0)
    page: int = Field(ge=1, description="1-based page number.")
    bbox: BBox
    text: str = Field("", description="The text as printed, before normalisation.")


class LineItem(BaseModel):
    description: str
    quantity: str | None = None
    unit_price: str | None = None
    amount: str | None = None
    page: int = 1
    bbox: BBox = (0.0, 0.0, 0.0, 0.0)


class CheckResult(BaseModel):
    """One consistency check within the document; only checks whose inputs the document has are recorded."""

    name: str
    passed: bool
    detail: str = ""


class DocumentExtraction(BaseModel):
    document_type: DocumentType
    type_confidence: float
    page_count: int
    text: str
    fields: dict[str, ExtractedField | None]
    line_items: list[LineItem] = Field(default_factory=list)
    checks: list[CheckResult] = Field(default_factory=list)
    ocr_engine: str | None = Field(None, description="The OCR engine that read at least one page; None: text layer.")
    ocr_pages: list[int] = Field(default_factory=list, description="1-based pages read by OCR.")
    extractor_version: str
    timings_ms: dict[str, float] = Field(default_factory=dict)
    content_fingerprint: str = Field(
        description="Equal for a scan and its born-digital original: a hash of the normalised key fields."
    )

    @property
    def confidence(self) -> float:
        """The weakest link: the type's confidence or the least confident field that was found."""
        found = [f.confidence for f in self.fields.values() if f is not None]
        return round(min([self.type_confidence, *found]), 4)

    def field_values(self) -> dict[str, str | None]:
        return {name: (f.value if f is not None else None) for name, f in self.fields.items()}
