"""Reading printed values into one form: amounts, dates, currencies, IBANs, tax ids, loss types.

Pure functions; None means "this text is not such a value", never a guess.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

_ISO_4217_CODES = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF "
    "CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD "
    "HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD "
    "MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN "
    "PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY "
    "TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL"
)
ISO_4217: frozenset[str] = frozenset(_ISO_4217_CODES.split())
CURRENCY_SYMBOLS: dict[str, str] = {
    "€": "EUR",
    "£": "GBP",
    "$": "USD",
    "US$": "USD",
    "¥": "JPY",
    "₹": "INR",
    "zł": "PLN",
    "Kč": "CZK",
    "Fr.": "CHF",
    "SFr.": "CHF",
    "₩": "KRW",
    "₺": "TRY",
}

KRONA: dict[str, str] = {"SE": "SEK", "NO": "NOK", "DK": "DKK", "IS": "ISK"}
"""The currency 'kr' means in each country that prints it."""

IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

TAX_ID_FORMATS: dict[str, re.Pattern[str]] = {
    country: re.compile(pattern)
    for country, pattern in {
        "AT": r"ATU\d{8}",
        "BE": r"BE[01]\d{9}",
        "CH": r"CHE\d{9}(MWST|TVA|IVA)?",
        "DE": r"DE\d{9}",
        "DK": r"DK\d{8}",
        "ES": r"ES[A-Z0-9]\d{7}[A-Z0-9]",
        "FI": r"FI\d{8}",
        "FR": r"FR[A-HJ-NP-Z0-9]{2}\d{9}",
        "GB": r"GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})",
        "IE": r"IE\d{7}[A-W][A-I]?|IE\d[A-Z+*]\d{5}[A-W]",
        "IT": r"IT\d{11}",
        "LU": r"LU\d{8}",
        "NL": r"NL\d{9}B\d{2}",
        "PL": r"PL\d{10}",
        "PT": r"PT\d{9}",
        "SE": r"SE\d{10}01",
        "US": r"\d{2}-\d{7}",
    }.items()
}

MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january", "januar", "janvier", "enero"),
            ("feb", "february", "februar", "février", "fevrier", "febrero"),
            ("mar", "march", "märz", "maerz", "mars", "marzo", "mär"),
            ("apr", "april", "avril", "abril"),
            ("may", "mai", "mayo"),
            ("jun", "june", "juni", "juin", "junio"),
            ("jul", "july", "juli", "juillet", "julio"),
            ("aug", "august", "août", "aout", "agosto"),
            ("sep", "sept", "september", "septembre", "septiembre"),
            ("oct", "october", "oktober", "okt", "octobre", "octubre"),
            ("nov", "november", "novembre", "noviembre"),
            ("dec", "december", "dezember", "dez", "décembre", "decembre", "diciembre"),
        ),
        start=1,
    )
    for name in names
}

LOSS_TYPE_WORDS: dict[str, str] = {
    "water": "water_damage",
    "flood": "water_damage",
    "leak": "water_damage",
    "theft": "theft",
    "burglary": "theft",
    "stolen": "theft",
    "collision": "collision",
    "accident": "collision",
    "crash": "collision",
    "fire": "fire",
    "smoke": "fire",
    "storm": "storm",
    "hail": "storm",
    "wind": "storm",
    "medical": "medical",
    "injury": "medical",
    "illness": "medical",
    "other": "other",
}

_AMOUNT = re.compile(r"^\(?-?\d{1,3}(?:[ .,'\u00a0\u202f]?\d{3})*(?:[.,]\d{1,2})?\)?-?$|^\(?-?\d+(?:[.,]\d{1,2})?\)?$")
_NUMERIC = re.compile(r"^-?\d+(?:[.,]\d+)?$")


def strip_currency(text: str) -> tuple[str, str | None]:
    """The text without a leading or trailing currency code or symbol, and that currency (ISO 4217)."""
    text = text.strip()
    found: str | None = None
    for symbol in sorted(CURRENCY_SYMBOLS, key=len, reverse=True):
        if text.startswith(symbol) or text.endswith(symbol):
            found = CURRENCY_SYMBOLS[symbol]
            text = text.removeprefix(symbol).removesuffix(symbol).strip()
            break
    match = re.match(r"^([A-Z]{3})\s*(.*)$", text) or re.match(r"^(.*?)\s*([A-Z]{3})$", text)
    if match:
        code_first = match.group(1).isalpha()
        code, rest = (match.group(1), match.group(2)) if code_first else (match.group(2), match.group(1))
        if code in ISO_4217:
            return rest.strip(), code
    return text, found


def parse_amount(text: str) -> Decimal | None:
    """'1,234.56', '1.234,56', '1 234,56', "1'234.56", '€ 12,50', '(12.00)' -> Decimal; None if not an amount."""
    body, _ = strip_currency(text.replace("\u2212", "-"))
    body = body.strip()
    if not body or not _AMOUNT.match(body):
        return None
    negative = body.startswith(("(", "-")) or body.endswith("-")
    digits = body.strip("()-")
    separators = [(i, c) for i, c in enumerate(digits) if not c.isdigit()]
    decimal_part = ""
    if separators:
        index, char = separators[-1]
        tail = digits[index + 1 :]
        only_kind = all(c == char for _, c in separators)
        # One separator followed by exactly three digits is a thousands separator ("1,234"); two decimals are usual.
        if char in ".," and len(tail) <= 2 and not (only_kind and len(separators) > 1):
            decimal_part = tail
            digits = digits[:index]
    whole = re.sub(r"\D", "", digits)
    try:
        value = Decimal(f"{whole or '0'}.{decimal_part or '0'}")
    except InvalidOperation:
        return None
    return -value if negative else value


def format_amount(value: Decimal) -> str:
    """Two decimals, no thousands separator: '1234.50'."""
    return f"{value.quantize(Decimal('0.01')):.2f}"


def normalise_amount(text: str) -> str | None:
    value = parse_amount(text)
    return None if value is None else format_amount(value)


def is_plain_number(text: str) -> bool:
    return bool(_NUMERIC.match(text.strip()))


DateOrder = str  # "DMY" or "MDY": the order a numeric date like 03/04/2024 is read in


def date_parts(text: str) -> tuple[int, int, int, bool] | None:
    """(year, first, second, numeric) for numeric dates in printed order, or (year, month, day, False) for named ones.

    For `numeric` dates with the year last, `first`/`second` are in printed order and the caller picks the order;
    a leading year (ISO-like) is always year-month-day.
    """
    t = text.strip().strip(",.;:").lower()
    iso = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", t)
    if iso:
        return int(iso.group(1)), int(iso.group(2)), int(iso.group(3)), False
    numeric = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})", t)
    if numeric:
        year = int(numeric.group(3))
        year = year + 2000 if year < 100 else year
        return year, int(numeric.group(1)), int(numeric.group(2)), True
    named = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?[\s.\-/]+([a-zäéû]+)\.?[\s.\-/,]+(\d{4})", t)
    if named and named.group(2) in MONTHS:
        return int(named.group(3)), MONTHS[named.group(2)], int(named.group(1)), False
    named = re.fullmatch(r"([a-zäéû]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", t)
    if named and named.group(1) in MONTHS:
        return int(named.group(3)), MONTHS[named.group(1)], int(named.group(2)), False
    return None


def parse_date(text: str, order: DateOrder = "DMY") -> date | None:
    """A printed date; numeric day/month dates are read in `order` unless only the other order is a valid date."""
    parts = date_parts(text)
    if parts is None:
        return None
    year, a, b, numeric = parts
    if numeric:
        month, day = (b, a) if order == "DMY" else (a, b)
        if month > 12 >= day:
            month, day = day, month
    else:
        month, day = a, b
    try:
        return date(year, month, day)
    except ValueError:
        return None


def numeric_date_order_hint(text: str) -> DateOrder | None:
    """'DMY' or 'MDY' when a numeric date can only be read one way (a part above 12), else None."""
    parts = date_parts(text)
    if parts is None or not parts[3]:
        return None
    _, a, b, _ = parts
    if a > 12 >= b:
        return "DMY"
    if b > 12 >= a:
        return "MDY"
    return None


def normalise_currency(text: str) -> str | None:
    """An ISO 4217 code from a code or a symbol ('€' -> 'EUR'); None if unknown."""
    t = text.strip().strip(":").strip()
    if t.upper() in ISO_4217 and (t.isupper() or len(t) == 3):
        return t.upper()
    return CURRENCY_SYMBOLS.get(t)


def normalise_iban(text: str) -> str | None:
    """Upper case without spaces, if it looks like an IBAN (two letters, two digits, 11-30 alphanumerics)."""
    compact = re.sub(r"[\s\-]", "", text).upper()
    return compact if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact) else None


def iban_valid(iban: str) -> tuple[bool, str]:
    """ISO 13616: the length of its country and the mod-97 checksum."""
    country = iban[:2]
    expected = IBAN_LENGTHS.get(country)
    if expected is None:
        return False, f"unknown IBAN country {country}"
    if len(iban) != expected:
        return False, f"{country} IBANs have {expected} characters, this one {len(iban)}"
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        return False, "checksum (mod 97) fails"
    return True, f"{country}, {expected} characters, checksum ok"


def normalise_tax_id(text: str) -> str | None:
    """Upper case without spaces, dots or dashes (a US EIN keeps its dash); None unless it fits some country's form."""
    t = text.strip().upper()
    if re.fullmatch(r"\d{2}-\d{7}", t):
        return t
    compact = re.sub(r"[\s.\-]", "", t)
    return compact if tax_id_country(compact) is not None else None


def tax_id_country(tax_id: str) -> str | None:
    for country, pattern in TAX_ID_FORMATS.items():
        if pattern.fullmatch(tax_id):
            return country
    return None


def normalise_loss_type(text: str) -> str | None:
    """One of the loss types from words like 'Water damage', 'Burglary', 'Storm / hail'."""
    words = re.findall(r"[a-z]+", text.lower())
    for word in words:
        if word in LOSS_TYPE_WORDS:
            return LOSS_TYPE_WORDS[word]
    return None


def normalise_identifier(text: str) -> str | None:
    """A document number as printed, without surrounding punctuation; needs a digit."""
    t = text.strip().strip(":#.,;").strip()
    t = re.sub(r"^(no|nr|number|#)\.?\s*[:#]?\s*", "", t, flags=re.IGNORECASE)
    if not t or len(t) > 40 or not any(c.isdigit() for c in t) or " " in t.strip():
        return None
    return t
