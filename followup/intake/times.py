"""Delivery times (交车时间) as DMS exports, spreadsheets and API clients write them."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

_EXCEL_EPOCH = datetime(1899, 12, 30)  # 1900 date system, with Excel's phantom 1900-02-29 skipped
# A delivery is never before 2000-01-01 (serial 36526): smaller numbers are years or typos, not dates.
_MIN_SERIAL, _MAX_SERIAL = 36526.0, 2958466.0  # 2000-01-01 .. 9999-12-31
_DATE_TIME = re.compile(
    r"^(?P<y>\d{4})(?P<sep>[-/.])(?P<mo>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"(?:[T\s]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_CHINESE = re.compile(
    r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]\s*(?:(\d{1,2})[时:点](\d{1,2})分?(?:(\d{1,2})秒?)?)?$"
)
_NO_YEAR = re.compile(r"^\d{1,2}[-/.月]\d{1,2}[日号]?(?:\s|$|T)")
_SERIAL = re.compile(r"^\d+(?:\.\d+)?$")


def _offset(text: str) -> timezone:
    if text.upper() == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"invalid UTC offset: {text}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _from_serial(serial: float) -> datetime:
    """A naive datetime from an Excel serial number (days since 1899-12-30), to the second."""
    if not math.isfinite(serial) or not _MIN_SERIAL <= serial < _MAX_SERIAL:
        raise ValueError(f"not a plausible Excel date number: {serial:g}")
    return _EXCEL_EPOCH + timedelta(seconds=round(serial * 86400))


def _from_text(text: str) -> datetime:
    """A datetime, naive (store local) or aware, from one of the accepted text forms."""
    if _SERIAL.match(text):
        return _from_serial(float(text))
    if match := _DATE_TIME.match(text):
        if match["h"] is None:
            raise ValueError(f"no time of day: {text}")
        fraction = (match["f"] or "0")[:6].ljust(6, "0")
        fields = (match["y"], match["mo"], match["d"], match["h"], match["mi"], match["s"] or "0", fraction)
        y, mo, d, h, mi, s, us = (int(p) for p in fields)
        try:
            value = datetime(y, mo, d, h, mi, s, us)
        except ValueError as exc:
            raise ValueError(f"invalid date or time: {text}") from exc
        return value.replace(tzinfo=_offset(match["tz"])) if match["tz"] else value
    if match := _CHINESE.match(text):
        if match[4] is None:
            raise ValueError(f"no time of day: {text}")
        y, mo, d, h, mi, s = (int(p or 0) for p in match.groups())
        try:
            return datetime(y, mo, d, h, mi, s)
        except ValueError as exc:
            raise ValueError(f"invalid date or time: {text}") from exc
    if _NO_YEAR.match(text):
        raise ValueError("no year")
    raise ValueError(f"not a date and time: {text}")


def parse_delivered_at(raw: object, tz: ZoneInfo) -> datetime:
    """Parse a delivery time and return it as an aware UTC datetime.

    Accepts ISO 8601 with an offset or ``Z``; ``YYYY-MM-DD HH:MM[:SS]``, ``YYYY/MM/DD HH:MM[:SS]``
    and ``YYYY年MM月DD日 HH:MM`` in the store's local time ``tz``; ``datetime`` objects from
    openpyxl (naive means store local); Excel date serials (``46345.5`` or ``"46345.5"``, 1900 date
    system) as store local. Raises :class:`ValueError` with a short reason (``"missing"``,
    ``"no year"``, ``"no time of day: …"``, ``"not a date and time: …"``).
    """
    value: datetime
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValueError("missing")
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        raise ValueError(f"no time of day: {raw.isoformat()}")
    elif isinstance(raw, time):
        raise ValueError("no year")
    elif isinstance(raw, bool):
        raise ValueError("not a date and time")
    elif isinstance(raw, int | float | Decimal):
        value = _from_serial(float(raw))
    elif isinstance(raw, str):
        text = unicodedata.normalize("NFKC", raw).replace("\x00", "").strip()
        value = _from_text(text)
    else:
        raise ValueError(f"not a date and time: {type(raw).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        value = value.replace(tzinfo=tz)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"out of range: {raw!r}") from None
