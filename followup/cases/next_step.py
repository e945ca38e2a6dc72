"""RULES R3: "an open case always has a next step". Which open cases have none, and why.

An open case (any state but ``closed``) has a next step when one of these holds, each honoured by
a duty of the worker:

* a contact is planned (``planned`` with its ``due_at``: the dispatcher claims it then; a call of a
  ``calls_by = staff`` store is the same row, shown on the call worklist), or in flight
  (``dispatching``, whose lease brings it back if its worker died; ``in_progress``: a call whose
  status callback may still come — one started more than :data:`LOST_CALL` ago lost it, as nothing
  else looks at the row — or a letter, which the daily batch and the batch's mailing move on);
* the case waits with the instant it is looked at again: ``next_check_at`` (the planner looks at
  it then: an SMS survey awaiting its reply, a mailed letter awaiting its reply timeout, a new or
  re-imported case, a result just recorded);
* it is in ``complaint`` state and one of its complaints is not closed and has a way forward
  (:mod:`followup.complaints.health`, R7).

Everything else is a defect, listed with its store, RO number, state and why.

Set-based: one query finds the open cases with no in-flight contact and nothing to look at them
again (indexes ``ix_cases_store_state`` and ``ix_attempts_case``); only those few are classified.
Read-only: it changes nothing and commits nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from followup.id_sets import among
from followup.models import Complaint, ContactAttempt, FollowupCase, Store, Visit
from followup.models.case import CASE_STATES
from followup.settings import Settings

if TYPE_CHECKING:
    from followup.complaints.health import StuckComplaint

#: every case state but ``closed``
OPEN_STATES = tuple(s for s in CASE_STATES if s != "closed")
#: a call still ``in_progress`` this long after it started will get no status callback any more: Twilio
#: ends every call within its time limit (4 hours by default), and nothing else looks at the row
LOST_CALL = timedelta(hours=4)


@dataclass(frozen=True)
class NoNextStep:
    """An open case nothing moves on (RULES R3), and why."""

    case_id: int
    store_code: str
    ro_number: str
    state: str
    reason: str


@dataclass(frozen=True)
class Health:
    """What ``followup doctor`` found: the open cases and complaints, and those with no way on."""

    open_cases: int
    open_complaints: int
    cases: list[NoNextStep] = field(default_factory=list)
    #: complaints nothing moves on (R7)
    complaints: list[StuckComplaint] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.cases and not self.complaints


def _moving(now: datetime) -> ColumnElement[bool]:
    """A contact row that is the case's next step: planned with a due time; dispatching (its lease
    brings it back); in progress — a letter (the daily batch, then staff mailing it) or a call whose
    status callback may still come (started less than :data:`LOST_CALL` ago).

    Looked up case by case through ``ix_attempts_case`` (a few rows each). ``OFFSET 0`` keeps
    PostgreSQL from turning ``NOT EXISTS`` into an anti-join, which reads the whole attempts table
    (no index serves ``in_progress``): measured on 1M cases and 3M attempts, 1.4 s that way."""
    return (select(ContactAttempt.id).where(
        ContactAttempt.case_id == FollowupCase.id,
        or_(ContactAttempt.status == "dispatching",
            and_(ContactAttempt.status == "planned", ContactAttempt.due_at.is_not(None)),
            and_(ContactAttempt.status == "in_progress",
                 or_(ContactAttempt.channel != "call", ContactAttempt.started_at.is_(None),
                     ContactAttempt.started_at > now - LOST_CALL))),
    ).offset(0).exists())


def _store_ids(session: Session, store_codes: Sequence[str] | None) -> dict[int, str]:
    query = select(Store.id, Store.code)
    if store_codes is not None:
        query = query.where(Store.code.in_(list(store_codes)))
    return {sid: code for sid, code in session.execute(query).all()}


def _describe(a: ContactAttempt | None) -> str:
    if a is None:
        return "no contact was ever planned"
    at = a.ended_at or a.started_at or a.due_at
    when = f" at {at:%Y-%m-%d %H:%M} UTC" if at is not None else ""
    return f"last contact: {a.channel} #{a.number} ({a.kind}) {a.status}" + (
        f" {a.outcome}" if a.outcome else "") + (f" [{a.error_code}]" if a.error_code else "") + when


def cases_without_next_step(session: Session, settings: Settings, now: datetime, *,
                            store_codes: Sequence[str] | None = None,
                            stuck: Sequence[StuckComplaint] | None = None) -> list[NoNextStep]:
    """Every open case with no next step (oldest case first); empty when all is well.

    ``store_codes`` limits the look to those stores; ``stuck`` are the stuck complaints when the
    caller has them already (:func:`followup.complaints.health.stuck_complaints`)."""
    stores = _store_ids(session, store_codes)
    if not stores:
        return []
    found = session.execute(
        select(FollowupCase, Visit.ro_number)
        .join(Visit, Visit.id == FollowupCase.visit_id)
        .where(FollowupCase.store_id.in_(list(stores)), FollowupCase.state.in_(OPEN_STATES),
               FollowupCase.next_check_at.is_(None), ~_moving(now))
        .order_by(FollowupCase.id)
    ).all()
    out: list[NoNextStep] = []
    rows: list[tuple[FollowupCase, str]] = []
    for case, ro in found:
        if stores[case.store_id] in settings.stores:
            rows.append((case, ro))
        else:
            out.append(NoNextStep(case.id, stores[case.store_id], ro, case.state,
                                  "its store is not in the configuration: nothing plans it"))
    if not rows:
        return out
    ids = [case.id for case, _ro in rows]
    last: dict[int, ContactAttempt] = {}
    for a in session.scalars(select(ContactAttempt).where(among(session, ContactAttempt.case_id, ids))
                             .order_by(ContactAttempt.id)):
        last[a.case_id] = a
    complaint_of = _open_complaints(session, [case.id for case, _ro in rows if case.state == "complaint"])
    stuck_ids = {c.complaint_id: c for c in _stuck(session, settings, now, store_codes, stuck)}
    for case, ro in rows:
        code = stores[case.store_id]
        latest = last.get(case.id)
        if case.state == "complaint":
            open_ids = complaint_of.get(case.id, [])
            moving = [cid for cid in open_ids if cid not in stuck_ids]
            if moving:
                continue
            reason = ("in complaint state, but none of its complaints is open" if not open_ids else
                      "; ".join(f"its complaint #{cid} has no way forward: {stuck_ids[cid].problem}"
                                for cid in open_ids))
        elif latest is not None and latest.channel == "call" and latest.status == "in_progress":
            reason = (f"call #{latest.number} has waited for the provider's status callback since "
                      f"{latest.started_at:%Y-%m-%d %H:%M} UTC: none will come now, and nothing looks at it again")
        else:
            reason = f"nothing planned and nothing looks at it again ({_describe(latest)})"
        if case.flagged and case.flag_reason:
            reason += f"; flagged: {case.flag_reason}"
        out.append(NoNextStep(case.id, code, ro, case.state, reason))
    return sorted(out, key=lambda x: x.case_id)


def _open_complaints(session: Session, case_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    if not case_ids:
        return out
    for cid, case_id in session.execute(
        select(Complaint.id, Complaint.case_id)
        .where(among(session, Complaint.case_id, case_ids), Complaint.status != "closed")
        .order_by(Complaint.id)
    ).all():
        out.setdefault(case_id, []).append(cid)
    return out


def _stuck(session: Session, settings: Settings, now: datetime, store_codes: Sequence[str] | None,
           stuck: Sequence[StuckComplaint] | None) -> Sequence[StuckComplaint]:
    if stuck is not None:
        return stuck
    from followup.complaints.health import stuck_complaints  # R7's own check

    return stuck_complaints(session, settings, now, store_codes=list(store_codes) if store_codes else None)


def count_without_next_step(session: Session, cases: ColumnElement[bool], now: datetime) -> int:
    """How many of ``cases`` (a condition on :class:`FollowupCase`, e.g. the monitor's viewer) are open
    with no next step, in one COUNT. A case in ``complaint`` state counts when none of its complaints
    is open; whether an open complaint has a way forward is R7's check (``followup doctor``)."""
    open_complaint = exists().where(Complaint.case_id == FollowupCase.id, Complaint.status != "closed")
    n = session.scalar(select(func.count()).select_from(FollowupCase).where(
        cases, FollowupCase.state.in_(OPEN_STATES), FollowupCase.next_check_at.is_(None), ~_moving(now),
        or_(FollowupCase.state != "complaint", ~open_complaint)))
    return int(n or 0)


def count_open(session: Session, store_codes: Sequence[str] | None = None) -> tuple[int, int]:
    """How many cases and complaints are open (in those stores)."""
    stores = list(_store_ids(session, store_codes))
    if not stores:
        return 0, 0
    cases = session.scalar(select(func.count()).select_from(FollowupCase).where(
        FollowupCase.store_id.in_(stores), FollowupCase.state.in_(OPEN_STATES)))
    complaints = session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.store_id.in_(stores), Complaint.status != "closed"))
    return int(cases or 0), int(complaints or 0)


def check(session: Session, settings: Settings, now: datetime, *,
          store_codes: Sequence[str] | None = None) -> Health:
    """R3 and R7 at once: open cases without a next step, and complaints without a way forward."""
    from followup.complaints.health import stuck_complaints

    stuck = stuck_complaints(session, settings, now, store_codes=list(store_codes) if store_codes else None)
    cases = cases_without_next_step(session, settings, now, store_codes=store_codes, stuck=stuck)
    open_cases, open_complaints = count_open(session, store_codes)
    return Health(open_cases, open_complaints, cases, list(stuck))
