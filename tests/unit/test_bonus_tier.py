"""R9's bonus tiers, the report month's bounds and the spreadsheet neutraliser: pure rules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from followup.reports.advisors import mean_score
from followup.reports.export import neutralise
from followup.reports.report_month import ReportError, month_bounds, parse_month, recent_months
from followup.rules.bonus_tiers import bonus_tier

TIERS = ((85.0, 300), (90.0, 600), (95.0, 900))


@pytest.mark.parametrize(("score", "cny"), [
    (84.9, 0), (85.0, 300), (89.99, 300), (90.0, 600), (94.99, 600), (95.0, 900), (100.0, 900),
    (0.0, 0), (None, 0),
])
def test_bonus_tier_boundaries(score: float | None, cny: int) -> None:
    assert bonus_tier(score, TIERS) == cny


def test_tiers_come_from_config() -> None:
    assert bonus_tier(80.0, ((80.0, 100),)) == 100
    assert bonus_tier(99.0, ()) == 0


@pytest.mark.parametrize(("total", "count", "mean"), [
    (449.5, 5, 89.9), (270.0, 3, 90.0), (89.9 + 90.0 + 90.0, 3, 89.97),
    (0.1 + 0.2, 3, 0.1),  # float noise in the sum is rounded away
    (179.99, 2, 90.0),  # half up at the second decimal
])
def test_mean_score_to_two_decimals(total: float, count: int, mean: float) -> None:
    assert mean_score(total, count) == mean


def test_month_bounds_follow_the_store_zone() -> None:
    start, end = month_bounds(date(2026, 11, 1), ZoneInfo("Asia/Shanghai"))
    assert start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    last_evening = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)  # 23:30 on 30 Nov in Shanghai
    assert start <= last_evening < end


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-11", "", "2026-11-01", "abcd-ef", None, "1999-12"])
def test_a_bad_month_is_refused_with_the_expected_form(text: str | None) -> None:
    with pytest.raises(ReportError, match="YYYY-MM"):
        parse_month(text)


def test_twelve_months_end_with_the_month_asked() -> None:
    months = recent_months(date(2026, 3, 1), 12)
    assert months[0] == date(2025, 4, 1) and months[-1] == date(2026, 3, 1) and len(months) == 12


@pytest.mark.parametrize(("value", "safe"), [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"), ("+1+1", "'+1+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("王强", "王强"), (91.5, 91.5), (-3, -3), (None, None),
])
def test_formula_starts_are_neutralised(value: object, safe: object) -> None:
    assert neutralise(value) == safe
