"""Mainland China phone numbers: normalising what people and spreadsheets write.

Only numbers of the People's Republic of China (``+86``) are accepted: the service calls and texts
customers of mainland dealerships. Parsing uses Google's ``phonenumbers`` metadata, region ``CN``.
Masking a number for display is :func:`followup.privacy.mask_phone`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

MOBILE = "mobile"
LANDLINE = "landline"

_ALLOWED = re.compile(r"^\+?[\d\s\-().·/]*$")
_MAX_LENGTH = 40
_LANDLINE_TYPES = {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
#: The usual way a mobile is written (``13812345678``, ``+86 138 1234 5678``, ``0086-138…``),
#: spaces and dashes removed: an optional +86/0086/86 and 11 digits in one of the mainland mobile
#: ranges of libphonenumber's metadata. Such a number is recognised without a full parse (most of
#: a DMS export's cost); a test checks both ways agree on every prefix of those ranges.
_PLAIN_MOBILE = re.compile(r"(?:\+86|0086|86)?(1(?:[38][0-9]|4[57]|[59][0-35-9]|6[25-7]|7[0-35-8])[0-9]{8})")


def _as_text(raw: object) -> str | None:
    """The number as text; ``None`` for a value that cannot be a phone number.

    Spreadsheets give long digit strings as ``int`` or ``float`` (``13800138002.0``).
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw) if raw > 0 else None
    if isinstance(raw, float | Decimal):
        if isinstance(raw, float) and not math.isfinite(raw):
            return None
        if raw <= 0 or raw != int(raw):
            return None
        return str(int(raw))
    if not isinstance(raw, str):
        return None
    text = unicodedata.normalize("NFKC", raw).replace("\x00", "").strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]  # a number that went through a float on its way to text
    return text


def normalise_phone(raw: object) -> tuple[str | None, str | None]:
    """Return ``(e164, kind)`` for a mainland number, kind ``"mobile"`` or ``"landline"``.

    Accepts full-width digits, spaces, dashes, dots and brackets, ``+86``/``86``/``0086``
    prefixes, landlines with their area code (``0755-26605049``) and numbers that came from Excel
    as ``int`` or ``float``. Anything else, including numbers of other countries, service numbers
    (400/800/95xxx) and letters, gives ``(None, None)``. Never raises.
    """
    try:
        text = _as_text(raw)
    except (ValueError, OverflowError, ArithmeticError):
        return None, None
    if not text or len(text) > _MAX_LENGTH or not _ALLOWED.match(text):
        return None, None
    if plain := _PLAIN_MOBILE.fullmatch(text.replace(" ", "").replace("-", "")):
        return "+86" + plain[1], MOBILE
    return parse_mainland(text)


def parse_mainland(text: str) -> tuple[str | None, str | None]:
    """:func:`normalise_phone` of text (already NFKC) by a full libphonenumber parse, no shortcut."""
    if not text or len(text) > _MAX_LENGTH or not _ALLOWED.match(text):
        return None, None
    if not any(ch.isdigit() for ch in text) or any(not ch.isascii() for ch in text if ch.isdigit()):
        return None, None
    try:
        number = phonenumbers.parse(text, "CN")
    except NumberParseException:
        return None, None
    if number.country_code != 86 or number.extension or not phonenumbers.is_valid_number(number):
        return None, None
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.MOBILE:
        label = MOBILE
    elif kind in _LANDLINE_TYPES:
        label = LANDLINE
    else:
        return None, None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164), label

