"""The dashboard's activity list: which events the panel's receiver stored a user may see.

Scoped as the pages are (:class:`followup.cases.case_list.Viewer`): a user sees the events of
their stores; a service advisor only those about their own customers' cases (the visit's case is
theirs), nothing else of the store. Each ask looks at no more than the last ``SCAN`` events, so a
client asking "everything after 0" gets the recent ones it may see, never the whole history.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from followup.cases.case_list import Viewer
from followup.models import Advisor, FollowupCase, ReceivedEvent, Store, Visit
from followup.webhooks.inbox import received_after

#: the most events one ask looks at (the newest ones when more arrived)
SCAN = 200
#: the most events a first ask (no ``last_id``) returns: the list's backlog
BACKLOG = 20


@dataclass(frozen=True)
class ActivityPage:
    """What one ask returns: the events to show (oldest first) and the id to ask after next."""

    events: list[ReceivedEvent]
    last_id: int


def _key(row: ReceivedEvent) -> tuple[str | None, str | None]:
    data = row.data or {}
    code, ro = data.get("store_code"), data.get("ro_number")
    return (code if isinstance(code, str) else None, ro if isinstance(ro, str) else None)


def _own_visits(session: Session, advisor_user_id: int, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of ``keys`` (store code, RO number) are visits whose case belongs to this advisor login."""
    if not keys:
        return set()
    rows = session.execute(
        select(Store.code, Visit.ro_number)
        .join(Visit, Visit.store_id == Store.id)
        .join(FollowupCase, FollowupCase.visit_id == Visit.id)
        .join(Advisor, Advisor.id == FollowupCase.advisor_id)
        .where(Advisor.user_id == advisor_user_id, tuple_(Store.code, Visit.ro_number).in_(sorted(keys)))
    ).all()
    return {(code, ro) for code, ro in rows}


def visible(session: Session, viewer: Viewer, rows: list[ReceivedEvent]) -> list[ReceivedEvent]:
    """The rows ``viewer`` may see: of their stores (and events about no store, except for an
    advisor); for an advisor only events about a visit of their own customers."""
    stores = set(viewer.store_codes)
    if viewer.advisor_user_id is None:
        return [r for r in rows if _key(r)[0] is None or _key(r)[0] in stores]
    keys = {(code, ro) for code, ro in map(_key, rows) if code in stores and ro is not None}
    own = _own_visits(session, viewer.advisor_user_id, keys)
    return [r for r in rows if _key(r) in own]


def activity_after(session: Session, viewer: Viewer, last_id: int | None) -> ActivityPage:
    """The events after ``last_id`` that ``viewer`` may see, among the last ``SCAN`` at most.

    No ``last_id`` (a new page), or one beyond the newest event (a database started afresh): the
    last ``BACKLOG`` visible events. The page's ``last_id`` is the newest event looked at, so that
    the next ask does not look at the same ones again.
    """
    top = session.scalar(select(func.max(ReceivedEvent.id))) or 0
    fresh = last_id is None or last_id > top
    start = max(0, top - SCAN) if last_id is None or fresh else max(last_id, top - SCAN)
    rows = received_after(session, start, limit=SCAN)
    shown = visible(session, viewer, rows)
    if fresh:
        shown = shown[-BACKLOG:]
    return ActivityPage(shown, rows[-1].id if rows else start)
