"""Cleaning single cells: text, codes, service types, languages and mileage.

Every cleaner takes a raw cell (``str`` from CSV and JSON, or what openpyxl gives) and returns the
clean value, or raises :class:`ValueError` with a short English reason. Text is never evaluated:
a cell starting with ``=``, ``+``, ``-`` or ``@`` is kept as the text it is.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, time
from decimal import Decimal

#: The longest value accepted per field, in characters.
MAX_LENGTHS: dict[str, int] = {
    "store_code": 32,
    "ro_number": 64,
    "advisor_code": 64,
    "plate": 32,
    "vin": 32,
    "vehicle_model": 100,
    "customer_name": 200,
    "advisor_name": 200,
    "address": 300,
}
DEFAULT_MAX_LENGTH = 200

SERVICE_TYPES: tuple[str, ...] = ("maintenance", "repair", "warranty", "insurance", "quick", "internal")
_SERVICE_ALIASES: dict[str, str] = {
    **{name: name for name in SERVICE_TYPES},
    "保养": "maintenance",
    "定期保养": "maintenance",
    "首保": "maintenance",
    "维修": "repair",
    "一般维修": "repair",
    "保修": "warranty",
    "索赔": "warranty",
    "事故": "insurance",
    "保险": "insurance",
    "事故/保险": "insurance",
    "事故保险": "insurance",
    "快修": "quick",
    "快保": "quick",
    "内部": "internal",
    "内部维修": "internal",
}
_LANGUAGES: dict[str, str] = {
    "zh": "zh",
    "zh-cn": "zh",
    "zh_cn": "zh",
    "zh-hans": "zh",
    "中文": "zh",
    "chinese": "zh",
    "en": "en",
    "en-us": "en",
    "en-gb": "en",
    "english": "en",
    "英文": "en",
    "英语": "en",
}
_MILEAGE_UNIT = re.compile(r"\s*(?:km|公里|千米)$", re.IGNORECASE)
_MAX_MILEAGE = 3_000_000


def cell_text(raw: object, field: str, *, nfkc: bool = False) -> str | None:
    """A cell as stripped text, ``None`` when empty; NUL characters are dropped.

    ``nfkc`` folds full-width letters and digits (for codes and numbers). Numbers from a
    spreadsheet become their digits (``26110001.0`` → ``"26110001"``). Raises :class:`ValueError`
    when the text is longer than the field allows.
    """
    if raw is None:
        return None
    if type(raw) is str and raw.isascii():
        # the usual CSV cell: NFKC changes no ASCII text, so only NULs and spaces are removed
        text = raw.replace("\x00", "").strip() if "\x00" in raw else raw.strip()
        return _checked(text, field)
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    elif isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        text = str(int(raw))
    elif isinstance(raw, datetime | date | time):
        text = raw.isoformat(sep=" ") if isinstance(raw, datetime) else raw.isoformat()
    else:
        text = str(raw)
    text = text.replace("\x00", "")
    if nfkc:
        text = unicodedata.normalize("NFKC", text)
    return _checked(text.strip(), field)


def _checked(text: str, field: str) -> str | None:
    """Stripped ``text`` as the cell's value: ``None`` when empty, :class:`ValueError` when too long."""
    if not text:
        return None
    limit = MAX_LENGTHS.get(field, DEFAULT_MAX_LENGTH)
    if len(text) > limit:
        raise ValueError(f"too long ({len(text)} characters, at most {limit})")
    return text


def service_type(text: str) -> str:
    """The canonical service type for English or Chinese text (``保养`` → ``maintenance``)."""
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()
    found = _SERVICE_ALIASES.get(key)
    if found is None:
        raise ValueError(f"unknown service type: {text}")
    return found


def language(text: str | None) -> str:
    """``"zh"`` (also the default for an empty cell) or ``"en"``."""
    if text is None:
        return "zh"
    found = _LANGUAGES.get(unicodedata.normalize("NFKC", text).strip().casefold())
    if found is None:
        raise ValueError(f"unknown language: {text} (expected zh or en)")
    return found


def mileage(raw: object) -> int | None:
    """Kilometres as an ``int``: accepts ``59455``, ``59455.0``, ``"59455"``, ``"59,455"``, ``"59455 km"``."""
    if raw is None or isinstance(raw, bool):
        if raw is None:
            return None
        raise ValueError("not a number of km")
    if isinstance(raw, int | float | Decimal):
        if isinstance(raw, float) and not math.isfinite(raw):
            raise ValueError("not a number of km")
        value = raw
    else:
        text = unicodedata.normalize("NFKC", str(raw)).replace("\x00", "").strip()
        if not text:
            return None
        text = _MILEAGE_UNIT.sub("", text).replace(",", "").replace(" ", "")
        try:
            value = Decimal(text)
        except ArithmeticError:
            raise ValueError(f"not a number of km: {raw}") from None
        if not value.is_finite():
            raise ValueError(f"not a number of km: {raw}")
    if not 0 <= value <= _MAX_MILEAGE:
        raise ValueError(f"implausible mileage: {raw}")
    if value != int(value):
        raise ValueError(f"not a whole number of km: {raw}")
    return int(value)
