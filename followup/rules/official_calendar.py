"""The official holiday calendar (国家法定节假日放假安排) as a plain value (RULES R2).

Each year the State Council publishes its holiday blocks (放假, weekend days inside a block
included) and its make-up workdays (调休上班). The service ships them in
``config/holidays_cn.toml``; :mod:`followup.settings` reads that file and builds a
:class:`HolidayCalendar`, and the rules only read it. A year the file does not cover falls back to
the statutory days the ``holidays`` package knows (without the weekend days of a block), so a
service left running past its calendar still never calls on 元旦 or 春节.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays as holidays_package

#: the ``holidays`` package's country for the years the file does not cover
FALLBACK_COUNTRY = "CN"


@dataclass(frozen=True)
class HolidayBlock:
    """One holiday block: ``first`` to ``last``, both included, e.g. 国庆节 2026-10-01..2026-10-07."""

    name: str
    name_en: str
    first: date
    last: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    @property
    def days(self) -> int:
        """How many calendar days the block has (its weekend days included)."""
        return (self.last - self.first).days + 1

    def dates(self) -> list[date]:
        return [self.first + timedelta(n) for n in range(self.days)]

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name


@dataclass(frozen=True)
class CalendarYear:
    """One year of the calendar as the State Council's notice gives it."""

    year: int
    blocks: tuple[HolidayBlock, ...]
    workdays: tuple[date, ...] = ()
    source: str = ""
    #: True while the year's notice is not entered yet (e.g. only the package's statutory days)
    provisional: bool = False


@lru_cache(maxsize=64)
def statutory_days(year: int, country: str = FALLBACK_COUNTRY, lang: str = "zh") -> dict[date, str]:
    """The ``holidays`` package's public holidays of ``year`` (names in ``lang``), for uncovered years."""
    return dict(holidays_package.country_holidays(country, years=year, language="en_US" if lang == "en" else "zh_CN"))


@dataclass(frozen=True)
class HolidayCalendar:
    """The holiday blocks and make-up workdays of the years the calendar file covers.

    ``HolidayCalendar()`` (no years) is the ``holidays`` package's statutory days for every year.
    """

    years: tuple[CalendarYear, ...] = ()
    country: str = FALLBACK_COUNTRY
    _closed: frozenset[date] = field(init=False, repr=False, compare=False)
    _covered: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # frozen: the lookup sets are built once, here
        object.__setattr__(self, "_closed", frozenset(d for y in self.years for b in y.blocks for d in b.dates()))
        object.__setattr__(self, "_covered", frozenset(y.year for y in self.years))

    def covers(self, year: int) -> bool:
        """Whether the calendar file has this year (otherwise the package's statutory days hold)."""
        return year in self._covered

    def year(self, year: int) -> CalendarYear | None:
        return next((y for y in self.years if y.year == year), None)

    def is_holiday(self, day: date) -> bool:
        """True when ``day`` lies in a holiday block (or, for a year not covered, is a statutory day)."""
        if day in self._closed:
            return True
        return not self.covers(day.year) and day in statutory_days(day.year, self.country)

    def block_of(self, day: date) -> HolidayBlock | None:
        """The block ``day`` lies in, if the calendar file has one."""
        return next((b for y in self.years for b in y.blocks if day in b), None)

    def make_up_workdays(self) -> frozenset[date]:
        """Every make-up workday (调休上班) the file lists: ordinary days."""
        return frozenset(d for y in self.years for d in y.workdays)
