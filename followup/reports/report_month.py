"""A report month is a calendar month of the store's local time; the database stores UTC.

The bounds are computed from the store's zone, so that a survey completed at 23:30 on the last
day of the month in Shanghai (15:30 UTC) counts in that month, never in the next.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"(\d{4})-(\d{2})")


class ReportError(ValueError):
    """A report cannot be made as asked (bad month, unknown store); the message says why."""


def parse_month(text: str | None) -> date:
    """``YYYY-MM`` -> the month's first day; :class:`ReportError` otherwise."""
    found = _MONTH.fullmatch((text or "").strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
        raise ReportError(f"month: use YYYY-MM, e.g. 2026-11 (got {text!r})")
    return date(int(found.group(1)), int(found.group(2)), 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_bounds(month: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the local calendar month, as aware UTC instants."""
    start = datetime(month.year, month.month, 1, tzinfo=tz)
    nxt = add_months(month, 1)
    end = datetime(nxt.year, nxt.month, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"


def recent_months(month: date, count: int = 12) -> list[date]:
    """``count`` months ending with ``month``, oldest first."""
    return [add_months(month, i - count + 1) for i in range(count)]


def current_month(now: datetime, tz: ZoneInfo) -> date:
    local = now.astimezone(tz)
    return date(local.year, local.month, 1)
