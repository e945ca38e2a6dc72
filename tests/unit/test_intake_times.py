"""Delivery times: the forms DMS exports, spreadsheets and API clients use, all to aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from followup.intake import parse_delivered_at

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-19T08:35:00+08:00", utc(2026, 11, 19, 0, 35)),
        ("2026-11-19T02:21:00Z", utc(2026, 11, 19, 2, 21)),
        ("2026-11-19T02:21:00z", utc(2026, 11, 19, 2, 21)),
        ("2026-11-19T13:00:00+0800", utc(2026, 11, 19, 5, 0)),
        ("2026-11-19T13:00+08", utc(2026, 11, 19, 5, 0)),
        ("2026-11-19T08:35:00.250+08:00", datetime(2026, 11, 19, 0, 35, 0, 250000, tzinfo=UTC)),
        ("2026-11-19 09:28", utc(2026, 11, 19, 1, 28)),
        ("2026-11-19 11:14:00", utc(2026, 11, 19, 3, 14)),
        ("2026-11-19 9:05", utc(2026, 11, 19, 1, 5)),
        ("2026/11/20 16:30", utc(2026, 11, 20, 8, 30)),
        ("2026/11/19 12:07", utc(2026, 11, 19, 4, 7)),
        ("2026/11/19 12:07:30", utc(2026, 11, 19, 4, 7, 30)),
        ("2026.11.19 12:07", utc(2026, 11, 19, 4, 7)),
        ("２０２６/１１/２０ １６：３０", utc(2026, 11, 20, 8, 30)),  # full-width digits and colon
        ("2026年11月20日 16:30", utc(2026, 11, 20, 8, 30)),
        ("  2026-11-19 09:28  ", utc(2026, 11, 19, 1, 28)),
        (datetime(2026, 11, 19, 8, 35), utc(2026, 11, 19, 0, 35)),  # openpyxl: naive = store local
        (datetime(2026, 11, 19, 8, 35, tzinfo=timezone(timedelta(hours=9))), utc(2026, 11, 18, 23, 35)),
        (46345.5, utc(2026, 11, 19, 4, 0)),  # Excel serial 2026-11-19 12:00 local
        ("46345.5", utc(2026, 11, 19, 4, 0)),
        (46345, utc(2026, 11, 18, 16, 0)),
        (Decimal("46345.25"), utc(2026, 11, 18, 22, 0)),  # 06:00 local
        (46345.35625, utc(2026, 11, 19, 0, 33)),  # 08:33 local, float noise rounded to the second
    ],
)
def test_accepted_forms(raw: object, expected: datetime) -> None:
    parsed = parse_delivered_at(raw, SHANGHAI)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_local_forms_use_the_given_zone() -> None:
    assert parse_delivered_at("2026-11-19 09:28", ZoneInfo("Europe/Berlin")) == utc(2026, 11, 19, 8, 28)
    assert parse_delivered_at("2026-11-19T09:28+08:00", ZoneInfo("Europe/Berlin")) == utc(2026, 11, 19, 1, 28)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("11/19 10:00", "no year"),
        ("11-19 10:00", "no year"),
        ("11月19日 10:00", "no year"),
        (time(10, 0), "no year"),
        ("2026-11-19", "no time of day"),
        (date(2026, 11, 19), "no time of day"),
        ("2026年11月19日", "no time of day"),
        (None, "missing"),
        ("", "missing"),
        ("   ", "missing"),
        ("2026-02-30 10:00", "invalid date or time"),
        ("2026-11-19 25:00", "invalid date or time"),
        ("2026-11-19T10:00+25:00", "invalid UTC offset"),
        ("yesterday", "not a date and time"),
        ("2026-11/19 10:00", "not a date and time"),
        ("=NOW()", "not a date and time"),
        ("2026", "not a plausible Excel date number"),
        (12.5, "not a plausible Excel date number"),
        (float("nan"), "not a plausible Excel date number"),
        (True, "not a date and time"),
        (["2026-11-19 10:00"], "not a date and time"),
    ],
)
def test_refused_forms(raw: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_delivered_at(raw, SHANGHAI)
