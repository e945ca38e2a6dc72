"""R12's due date (#20, first part): months or kilometres, whichever first; the daily mileage from
the vehicle's own readings; first service from the purchase date; readings that go backwards."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.rules.maintenance_due import (
    MaintenancePolicy,
    Reading,
    add_months,
    daily_km,
    next_maintenance,
    standing,
    valid_readings,
)

POLICY = MaintenancePolicy()


def test_a_car_doing_20_km_a_day_is_due_by_months() -> None:
    # 5,000 km at 20 km/day is 250 days: six months (181 days) come first
    visits = [Reading(date(2026, 1, 10), 10_000, True), Reading(date(2026, 3, 11), 11_200)]
    due = next_maintenance(visits, POLICY)
    assert due is not None and (due.due, due.by, due.daily_km) == (date(2026, 7, 10), "months", 20.0)
    assert due.reminders(POLICY) == (date(2026, 6, 26), date(2026, 7, 7))


def test_a_car_doing_150_km_a_day_is_due_by_kilometres() -> None:
    visits = [Reading(date(2026, 1, 10), 10_000, True), Reading(date(2026, 1, 20), 11_500)]
    due = next_maintenance(visits, POLICY)
    # 3,500 km left from 11,500 at 150 km/day: 24 days (rounded up) after the 20th
    assert due is not None and (due.due, due.by, due.daily_km) == (date(2026, 2, 13), "km", 150.0)


def test_a_car_with_one_visit_assumes_40_km_a_day() -> None:
    due = next_maintenance([Reading(date(2026, 5, 1), 30_000, True)], POLICY)
    # 5,000 km at 40 km/day: 125 days, before six months
    assert due is not None and (due.due, due.by, due.daily_km) == (date(2026, 9, 3), "km", 40.0)


def test_a_new_car_counts_its_first_service_from_the_purchase_date() -> None:
    due = next_maintenance([], POLICY, purchase_date=date(2026, 4, 30))
    assert due is not None and (due.due, due.by) == (date(2026, 7, 30), "first_service_months")
    # driven hard: 2,000 km in its first 10 days, 200 km/day -> 5,000 km 15 days after that visit
    fast = [Reading(date(2026, 4, 30), 0), Reading(date(2026, 5, 10), 2_000)]
    due = next_maintenance(fast, POLICY, purchase_date=date(2026, 4, 30))
    assert due is not None and (due.due, due.by) == (date(2026, 5, 25), "first_service_km")


def test_nothing_tells_without_a_maintenance_visit_or_a_purchase_date() -> None:
    assert next_maintenance([Reading(date(2026, 5, 1), 30_000)], POLICY) is None


def test_a_reading_that_goes_backwards_is_ignored_and_reported() -> None:
    swapped = Reading(date(2026, 3, 1), 120)  # a new odometer, or a typo
    visits = [Reading(date(2026, 1, 1), 20_000, True), Reading(date(2026, 2, 1), 21_240), swapped]
    due = next_maintenance(visits, POLICY)
    assert due is not None and due.ignored == (swapped,) and due.daily_km == 40.0
    assert due.due == date(2026, 1, 1) + timedelta(days=31) + timedelta(days=94)  # 3,760 km at 40 km/day


def test_a_car_barely_driven_is_due_by_months_and_never_overflows_the_calendar() -> None:
    # found by the property test: 1 km in two years is a rate near zero
    visits = [Reading(date(2020, 1, 1), 0.0, True), Reading(date(2022, 1, 1), 1.0)]
    due = next_maintenance(visits, POLICY)
    assert due is not None and (due.due, due.by) == (date(2020, 7, 1), "months")


def test_months_add_like_a_calendar() -> None:
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 1, 15), -13) == date(2024, 12, 15)


@pytest.mark.parametrize(("last", "expected"), [(date(2026, 1, 1), "active"), (date(2025, 11, 20), "lapsed"),
                                                (date(2024, 11, 20), "lost")])
def test_lapsed_after_12_months_lost_after_24(last: date, expected: str) -> None:
    assert standing(last, date(2026, 11, 20), POLICY) == expected


readings = st.lists(st.builds(Reading, st.dates(date(2020, 1, 1), date(2030, 1, 1)),
                              st.one_of(st.none(), st.floats(-1_000, 400_000)), st.booleans()), max_size=8)


@settings(max_examples=300, deadline=None)
@given(readings, st.one_of(st.none(), st.dates(date(2019, 1, 1), date(2029, 1, 1))))
def test_never_a_negative_rate_never_a_crash(visits: list[Reading], purchase: date | None) -> None:
    valid, ignored = valid_readings(visits)
    assert daily_km(valid, POLICY) > 0
    assert all(later.km >= earlier.km for earlier, later in zip(valid, valid[1:], strict=False))  # type: ignore[operator]
    due = next_maintenance(visits, POLICY, purchase)
    services = [v.day for v in visits if v.maintenance]
    if services:
        assert due is not None and due.due <= add_months(max(services), POLICY.interval_months)
    elif purchase is None:
        assert due is None
