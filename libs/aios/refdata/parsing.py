"""Reading a reference-data CSV file: each row validated, the bad ones rejected with the reason.

Pure: text in, rows and rejections out, so the import command, `aios policy test` and unit tests
read files the same way. A file whose header lacks a required column is refused as a whole; a
row with a bad value is rejected alone, naming its line, column and what is wrong, and the
others are imported. Lists inside a cell (aliases, IBANs, loss types) are separated by `;` or `|`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from aios.documents.models import LOSS_TYPES
from aios.documents.normalise import ISO_4217, iban_valid
from aios.policy.reference import InsurancePolicy, Kind, PurchaseOrder, Row, Vendor
from aios.refdata.errors import RefdataFileInvalid

COLUMNS: dict[Kind, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "vendors": (("name",), ("aliases", "tax_id", "ibans")),
    "purchase-orders": (("number", "vendor", "amount", "currency"), ("remaining",)),
    "policies": (
        ("number", "holder", "active_from", "active_to", "loss_types", "limit"),
        ("deductible",),
    ),
}
"""Per kind: (required columns, optional columns). Other columns are an error: a typo must not pass silently."""

_LIST_SEPARATOR = re.compile(r"\s*[;|]\s*")


class RowInvalid(ValueError):
    """One value of a row is wrong; the message names the column."""


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass(frozen=True)
class ParsedFile:
    kind: Kind
    rows: list[Row]
    rejected: list[Rejected]


def parse_file(kind: Kind, text: str) -> ParsedFile:
    """Every row of a CSV file of `kind`; RefdataFileInvalid when its header does not fit the kind."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), skipinitialspace=True)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    _check_header(kind, header)
    reader.fieldnames = header
    parse = _PARSERS[kind]
    rows: list[Row] = []
    rejected: list[Rejected] = []
    first_line: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if not any((value or "").strip() for value in record.values() if isinstance(value, str)):
            continue
        try:
            if None in record:
                raise RowInvalid(f"{len(header) + len(record[None])} values for {len(header)} columns")
            row = parse(record)
        except RowInvalid as exc:
            rejected.append(Rejected(line, str(exc)))
            continue
        earlier = first_line.setdefault(row.key, line)
        if earlier != line:
            rejected.append(Rejected(line, f"the same {_KEY_NAMES[kind]} as line {earlier}"))
            continue
        rows.append(row)
    return ParsedFile(kind, rows, rejected)


def _check_header(kind: Kind, header: list[str]) -> None:
    required, optional = COLUMNS[kind]
    if not header:
        raise RefdataFileInvalid("the file is empty: a CSV file starts with a header line")
    missing = [name for name in required if name not in header]
    unknown = [name for name in header if name not in required + optional]
    repeated = sorted({name for name in header if header.count(name) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if repeated:
        problems.append(f"column(s) given twice: {', '.join(repeated)}")
    if problems:
        raise RefdataFileInvalid(
            f"{kind}: {'; '.join(problems)} (columns: {', '.join(required)}, optional {', '.join(optional)})"
        )


def _cell(record: Mapping[str, str | None], column: str, *, required: bool = True) -> str:
    value = (record.get(column) or "").strip()
    if required and not value:
        raise RowInvalid(f"{column}: missing")
    return value


def _list(record: Mapping[str, str | None], column: str) -> tuple[str, ...]:
    value = _cell(record, column, required=False)
    return tuple(item for item in _LIST_SEPARATOR.split(value) if item) if value else ()


def parse_amount(column: str, text: str) -> Decimal:
    """A plain decimal with at most two decimals, not negative ("1234.50"); no thousands separators."""
    if not re.fullmatch(r"\d+(\.\d{1,2})?", text):
        raise RowInvalid(f"{column}: {text!r} is not an amount such as 1234.50")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise RowInvalid(f"{column}: {text!r} is not an amount such as 1234.50") from None


def parse_iso_date(column: str, text: str) -> date:
    """YYYY-MM-DD only: reference data is exported, and 03/04/2025 could be either of two days."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise RowInvalid(f"{column}: {text!r} is not a date YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RowInvalid(f"{column}: {text!r} is not a calendar date") from None


def parse_currency(column: str, text: str) -> str:
    code = text.upper()
    if code not in ISO_4217:
        raise RowInvalid(f"{column}: {text!r} is not an ISO 4217 currency")
    return code


def parse_iban(column: str, text: str) -> str:
    compact = re.sub(r"\s+", "", text).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        raise RowInvalid(f"{column}: {text!r} is not an IBAN")
    valid, why = iban_valid(compact)
    if not valid:
        raise RowInvalid(f"{column}: IBAN {compact}: {why}")
    return compact


def _vendor(record: Mapping[str, str | None]) -> Vendor:
    ibans = tuple(dict.fromkeys(parse_iban("ibans", each) for each in _list(record, "ibans")))
    tax_id = _cell(record, "tax_id", required=False)
    if tax_id and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 .\-/]{3,30}", tax_id):
        raise RowInvalid(f"tax_id: {tax_id!r} is not a tax id")
    return Vendor(
        name=_cell(record, "name"),
        aliases=_list(record, "aliases"),
        tax_id=re.sub(r"[\s.]", "", tax_id).upper() or None,
        ibans=ibans,
    )


def _purchase_order(record: Mapping[str, str | None]) -> PurchaseOrder:
    amount = parse_amount("amount", _cell(record, "amount"))
    remaining_text = _cell(record, "remaining", required=False)
    remaining = parse_amount("remaining", remaining_text) if remaining_text else amount
    if remaining > amount:
        raise RowInvalid(f"remaining: {remaining} is more than the order's amount {amount}")
    return PurchaseOrder(
        number=_cell(record, "number"),
        vendor=_cell(record, "vendor"),
        amount=amount,
        currency=parse_currency("currency", _cell(record, "currency")),
        remaining=remaining,
    )


def _insurance_policy(record: Mapping[str, str | None]) -> InsurancePolicy:
    active_from = parse_iso_date("active_from", _cell(record, "active_from"))
    active_to = parse_iso_date("active_to", _cell(record, "active_to"))
    if active_to < active_from:
        raise RowInvalid(f"active_to: {active_to} is before active_from {active_from}")
    loss_types = tuple(dict.fromkeys(each.lower() for each in _list(record, "loss_types")))
    unknown = [each for each in loss_types if each not in LOSS_TYPES]
    if not loss_types or unknown:
        raise RowInvalid(f"loss_types: {', '.join(unknown) or 'none given'}; use {', '.join(LOSS_TYPES)}")
    deductible_text = _cell(record, "deductible", required=False)
    return InsurancePolicy(
        number=_cell(record, "number"),
        holder=_cell(record, "holder"),
        active_from=active_from,
        active_to=active_to,
        loss_types=loss_types,
        limit=parse_amount("limit", _cell(record, "limit")),
        deductible=parse_amount("deductible", deductible_text) if deductible_text else Decimal("0"),
    )


_PARSERS: dict[Kind, Callable[[Mapping[str, str | None]], Row]] = {
    "vendors": _vendor,
    "purchase-orders": _purchase_order,
    "policies": _insurance_policy,
}
_KEY_NAMES: dict[Kind, str] = {"vendors": "vendor name", "purchase-orders": "PO number", "policies": "policy number"}
