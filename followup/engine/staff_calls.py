"""Calls made by information staff (``calls_by = staff``, RULES R2, R3, R8): what the engine does
differently for them.

A due call of a staff store is the same planned ``contact_attempts`` row as an IVR call, planned by
the same policy (inside staff hours ∩ calling windows, see
:func:`followup.rules.calendar.call_windows`). Two things differ, both here:

* the dispatcher never claims it (:func:`left_to_staff` is the claim's filter): it waits on the
  worklist (:mod:`followup.cases.worklist`) until a person claims it and records its outcome; a
  call not made when the staff hours close simply stays due (it costs no attempt);
* when the case's deadline passes with such a call still not made (and nobody holding it), the
  call is cancelled for lack of staff time (reason ``staff_capacity``) and the case is planned at
  once: the policy starts the fallback (R4) and the three-day rule counts ``breached`` with reason
  ``staff_capacity`` (R8) — :func:`cancel_unmade_staff_calls`, run by every dispatch pass.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, exists, or_, select, update
from sqlalchemy.orm import Session

from followup import audit
from followup.id_sets import among
from followup.models import ContactAttempt, FollowupCase, Store
from followup.rules.three_day_rule import STAFF_CAPACITY
from followup.settings import Settings


def staff_call_stores(settings: Settings) -> tuple[str, ...]:
    """The codes of the stores whose calls are made by staff (``calls_by = staff``)."""
    return tuple(sorted(code for code, store in settings.stores.items() if store.calls_by == "staff"))


def staff_case(store_codes: Collection[str]) -> ColumnElement[bool]:
    """The contact row's case belongs to one of ``store_codes`` (a correlated EXISTS per row)."""
    stores = select(Store.id).where(Store.code.in_(sorted(store_codes)))
    return exists().where(FollowupCase.id == ContactAttempt.case_id, FollowupCase.store_id.in_(stores))


def left_to_staff(store_codes: Collection[str]) -> ColumnElement[bool]:
    """For the dispatcher's claim: the rows it may take are every row but the calls of a staff store."""
    return or_(ContactAttempt.channel != "call", ~staff_case(store_codes))


def cancel_unmade_staff_calls(session: Session, settings: Settings, now: datetime, *, limit: int = 1000) -> int:
    """Cancel the worklist calls nobody made before their case's deadline; returns how many.

    Only a survey call (not a complaint's re-survey) due before the deadline of a case not already
    met (a callback the customer asked for stays, even after the deadline: R3), and never one a
    person holds right now (its claim
    lapses first). Each case is looked at again at once (``next_check_at = now``) so the same
    tick plans its fallback; the caller commits.
    """
    codes = staff_call_stores(settings)
    if not codes:
        return 0
    rows = session.execute(
        select(ContactAttempt.id, FollowupCase.id, FollowupCase.store_id, ContactAttempt.number)
        .join(FollowupCase, FollowupCase.id == ContactAttempt.case_id)
        .join(Store, Store.id == FollowupCase.store_id)
        .where(ContactAttempt.status == "planned", ContactAttempt.channel == "call", ContactAttempt.kind == "survey",
               Store.code.in_(codes), FollowupCase.deadline_at <= now,
               ContactAttempt.due_at < FollowupCase.deadline_at,
               FollowupCase.three_day_rule != "met", FollowupCase.state != "closed",
               or_(ContactAttempt.held_until.is_(None), ContactAttempt.held_until <= now))
        .order_by(FollowupCase.deadline_at, ContactAttempt.id)
        .limit(limit)
    ).all()
    if not rows:
        return 0
    # Re-checked in the UPDATE: a person may have claimed one since it was read.
    cancelled = set(session.scalars(
        update(ContactAttempt)
        .where(among(session, ContactAttempt.id, [r[0] for r in rows]), ContactAttempt.status == "planned",
               or_(ContactAttempt.held_until.is_(None), ContactAttempt.held_until <= now))
        .values(status="cancelled", reason=STAFF_CAPACITY, held_by=None, held_until=None)
        .returning(ContactAttempt.id)
        .execution_options(synchronize_session=False)
    ))
    done = [r for r in rows if r[0] in cancelled]
    if done:
        session.execute(update(FollowupCase).where(among(session, FollowupCase.id, {r[1] for r in done}))
                        .values(next_check_at=now).execution_options(synchronize_session=False))
    for attempt_id, case_id, store_id, number in done:
        audit.record(session, "system", "call.not_made", at=now, store_id=store_id, case_id=case_id,
                     attempt=attempt_id, number=number, reason=STAFF_CAPACITY)
    session.expire_all()  # the rows changed under the session: the planner must read them anew
    return len(done)
