"""The SQL behind the advisor's monthly statement (R9) and DC-call rate (R11): a month's visits.

A visit counts in the month its delivery time falls in (store local time), unless its service
type is one the store excludes (``internal``). Each figure is one aggregate query per month; the
arithmetic is :mod:`followup.rules.advisor_statement`'s.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from followup.models import AdvisorCall, Store, Visit
from followup.settings import Settings

#: the excluded service types of a store the configuration no longer lists (R1's default)
DEFAULT_EXCLUDED = frozenset({"internal"})


def excluded_types(settings: Settings, store: Store) -> frozenset[str]:
    """The service types whose visits the store leaves out (R1), from its configuration."""
    configured = settings.stores.get(store.code)
    return configured.policy.exclude_service_types if configured is not None else DEFAULT_EXCLUDED


def month_visit(store_id: int, start: datetime, end: datetime, excluded: Collection[str]) -> ColumnElement[bool]:
    """The WHERE clause of the visits that count in [start, end)."""
    return and_(Visit.store_id == store_id, Visit.delivered_at >= start, Visit.delivered_at < end,
                Visit.service_type.not_in(sorted(excluded)))


def visits_per_advisor(session: Session, counted: ColumnElement[bool]) -> dict[int, int]:
    """接车台次: the month's visits per advisor id."""
    rows = session.execute(select(Visit.advisor_id, func.count(Visit.id)).where(counted).group_by(Visit.advisor_id))
    return {advisor_id: int(n) for advisor_id, n in rows}


def nth_visits(session: Session, counted: ColumnElement[bool], numbers: Sequence[int]) -> list[tuple[int, int, datetime]]:
    """``(advisor id, n, delivered at)`` of each advisor's n-th visit of the month, for n in ``numbers``.

    One window query: the visits numbered per advisor by delivery time; only the n-th rows come back.
    """
    if not numbers:
        return []
    n = func.row_number().over(partition_by=Visit.advisor_id, order_by=(Visit.delivered_at, Visit.id)).label("n")
    numbered = select(Visit.advisor_id, Visit.delivered_at, n).where(counted).subquery()
    rows = session.execute(select(numbered.c.advisor_id, numbered.c.n, numbered.c.delivered_at)
                           .where(numbered.c.n.in_(list(numbers))))
    return [(advisor_id, int(k), at) for advisor_id, k, at in rows]


def dc_calls_on_time(session: Session, counted: ColumnElement[bool]) -> dict[int, int]:
    """R11: per advisor id, the month's visits whose DC call was recorded by its due instant."""
    rows = session.execute(
        select(Visit.advisor_id, func.count(AdvisorCall.id))
        .join(Visit, Visit.id == AdvisorCall.visit_id)
        .where(counted, AdvisorCall.done_at.is_not(None), AdvisorCall.done_at <= AdvisorCall.due_at)
        .group_by(Visit.advisor_id)
    )
    return {advisor_id: int(n) for advisor_id, n in rows}
