"""RULES R12, the first part: when a vehicle's next maintenance falls due, when it is reminded, and
when its customer counts as lapsed or lost. Pure: the vehicle's visits in, dates out.

The next maintenance is the earlier of the last maintenance visit + ``interval_months`` and the day
the mileage is expected to reach that visit's reading + ``interval_km``. The daily mileage comes
from the vehicle's own readings (the last two valid ones; ``default_daily_km`` with fewer). A
reading lower than an earlier one (an odometer swap, a typo) is ignored and reported, never turned
into a negative rate. Without a maintenance visit, a new car's first service (首保) counts from its
purchase date with ``first_service_months`` / ``first_service_km``.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class MaintenancePolicy:
    """R12's defaults."""

    interval_months: int = 6
    interval_km: int = 5_000
    first_service_months: int = 3
    first_service_km: int = 5_000
    #: the daily mileage assumed with fewer than two readings
    default_daily_km: float = 40.0
    #: the first reminder, this long before the due date; the second, ``second_reminder_before``
    remind_before: timedelta = timedelta(days=14)
    second_reminder_before: timedelta = timedelta(days=3)
    #: no visit for this many months: lapsed; for ``lost_months``: lost (流失)
    lapsed_months: int = 12
    lost_months: int = 24


@dataclass(frozen=True)
class Reading:
    """One visit of the vehicle: its day, its odometer reading (km, when the DMS had one) and
    whether it was a maintenance visit (保养)."""

    day: date
    km: float | None
    maintenance: bool = False


@dataclass(frozen=True)
class NextMaintenance:
    """When the next maintenance falls due, what decided it (``months``, ``km``,
    ``first_service_months``, ``first_service_km``), the daily mileage used, and the readings left
    out because they went backwards."""

    due: date
    by: str
    daily_km: float
    ignored: tuple[Reading, ...] = ()

    def reminders(self, policy: MaintenancePolicy) -> tuple[date, date]:
        """The days of the first and the second reminder."""
        return self.due - policy.remind_before, self.due - policy.second_reminder_before


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months (the 31st becomes the month's last day)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def valid_readings(readings: Iterable[Reading]) -> tuple[list[Reading], list[Reading]]:
    """The readings with a mileage in day order, each at least the highest before it, and those
    left out (lower than an earlier reading, or negative)."""
    kept: list[Reading] = []
    ignored: list[Reading] = []
    for r in sorted((r for r in readings if r.km is not None), key=lambda r: r.day):
        assert r.km is not None
        if r.km < 0 or (kept and r.km < (kept[-1].km or 0)):
            ignored.append(r)
        else:
            kept.append(r)
    return kept, ignored


def daily_km(valid: list[Reading], policy: MaintenancePolicy) -> float:
    """From the last two valid readings on different days; the default with fewer (never negative)."""
    dated = [r for r in valid if r.km is not None]
    for newer_index in range(len(dated) - 1, 0, -1):
        newer, older = dated[newer_index], dated[newer_index - 1]
        days = (newer.day - older.day).days
        if days > 0:
            return max(0.0, ((newer.km or 0) - (older.km or 0)) / days) or policy.default_daily_km
    return policy.default_daily_km


#: the farthest a mileage-based due date is looked for: a car barely driven is due by months long
#: before (and a rate near zero must not overflow the calendar)
KM_HORIZON_DAYS = 3_660


def _km_day(start_day: date, start_km: float, target_km: float, rate: float) -> date:
    """The day the odometer is expected to reach ``target_km``, reading ``start_km`` on ``start_day``
    (at most ``KM_HORIZON_DAYS`` ahead)."""
    days = min(float(KM_HORIZON_DAYS), (target_km - start_km) / rate)  # a rate near zero: infinity
    return start_day + timedelta(days=max(0, math.ceil(days)))


def next_maintenance(readings: Iterable[Reading], policy: MaintenancePolicy,
                     purchase_date: date | None = None) -> NextMaintenance | None:
    """The vehicle's next maintenance, or None when nothing tells (no maintenance visit, no purchase
    date)."""
    readings = list(readings)
    valid, ignored = valid_readings(readings)
    rate = daily_km(valid, policy)
    latest = valid[-1] if valid else None
    last_service = max((r for r in readings if r.maintenance), key=lambda r: r.day, default=None)
    if last_service is not None:
        options = [(add_months(last_service.day, policy.interval_months), "months")]
        # a service whose reading went backwards still happened: only its mileage is not trusted
        if last_service.km is not None and last_service not in ignored and latest is not None \
                and latest.km is not None:
            target = last_service.km + policy.interval_km
            options.append((_km_day(latest.day, latest.km, target, rate), "km"))
    elif purchase_date is not None:
        options = [(add_months(purchase_date, policy.first_service_months), "first_service_months")]
        start_day, start_km = (latest.day, latest.km or 0.0) if latest is not None else (purchase_date, 0.0)
        options.append((_km_day(start_day, start_km, policy.first_service_km, rate), "first_service_km"))
    else:
        return None
    due, by = min(options)
    return NextMaintenance(due, by, rate, tuple(ignored))


def standing(last_visit: date, today: date, policy: MaintenancePolicy) -> str:
    """``active``, ``lapsed`` (no visit for ``lapsed_months``) or ``lost`` (``lost_months``)."""
    if last_visit <= add_months(today, -policy.lost_months):
        return "lost"
    if last_visit <= add_months(today, -policy.lapsed_months):
        return "lapsed"
    return "active"
