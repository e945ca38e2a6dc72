"""The information staff's call worklist (RULES R2, R3, R8; CONTRACT §9): the one service behind
the panel's ``/worklist`` page and the API's ``/api/v1/worklist``.

In a store whose calls are made by staff (``calls_by = staff``) a due call is a planned
``contact_attempts`` row (channel ``call``) that the dispatcher never takes
(:mod:`followup.engine.staff_calls`). It shows here while it is due and the store's staff hours ∩
calling windows are open; a person claims it for 15 minutes (``held_by``/``held_until``, on the
service clock), sees the full number (the reveal is audited), calls, and records the outcome,
which goes through the IVR's own path (:func:`followup.cases.staff_actions.record_manual_call` ->
:func:`followup.engine.recording.finish_call`): survey (channel ``staff``, ``made_by =
user:<name>``), complaints, ``call.completed``, the audit; then ``worklist.call_recorded``, and
the case is planned at once. A claim that runs out without an outcome lapses by itself.

Interface (the page and the API call only these; every ``now`` is the service clock's)::

    worklist_stores(session, settings, user) -> list[str]
    store_of_call(session, attempt_id) -> str | None
    store_code(session, store_id) -> str | None
    due_calls(session, settings, user, store_code, now) -> WorklistPage
    next_call(session, settings, user, store_code, now) -> WorklistCall | None
    claim(session, settings, user, attempt_id, now) -> Claim
    claim_next(session, settings, user, store_code, now) -> tuple[WorklistCall, Claim] | None
    release(session, settings, user, attempt_id, now) -> None
    held_call(session, settings, user, attempt_id, now) -> tuple[WorklistCall, Claim]
    record_outcome(session, settings, user, attempt_id, outcome, answers, callback_at, note, now) -> Recorded
    callback_slots(settings, store_code, now, *, days=3) -> list[datetime]

Errors (:class:`WorklistError`): :class:`NotFound` (404: no such call on this worklist, or no
such store), :class:`Forbidden` (403: an advisor, a store not the user's, an advisor's own
customer), :class:`Conflict` (409: held by someone else, the customer is on another call, not
holding the claim, already recorded), :class:`FieldErrors` (422: ``errors`` is a list of
``{"field", "message"}``). The caller commits after a success and rolls back after an error.

Who: ``info_staff`` and ``manager`` users of the store, and admins. Advisors get
:class:`Forbidden`, and nobody sees the calls of the customers of a service advisor linked to
their own login (R3 independence).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, not_, or_, select, update
from sqlalchemy.orm import Session, aliased

from followup import audit
from followup.accounts import user_store_codes
from followup.cases.api_record import iso
from followup.cases.staff_actions import OWN_CALL_REFUSED, actor_of, add_note, record_manual_call
from followup.id_sets import among
from followup.models import Advisor, ContactAttempt, Customer, FollowupCase, Store, User, Vehicle, Visit
from followup.privacy import mask_phone
from followup.rules.calendar import worklist_opening
from followup.rules.values import Question
from followup.rules.worklist import CLAIM_LENGTH, at_risk, callback_times, check_outcome
from followup.settings import Settings, StoreSettings
from followup.surveys.questions import questions_for_case
from followup.webhooks.outbox import emit

#: the roles that work the worklist (admins too); an advisor never does (R3)
WORKLIST_ROLES = ("info_staff", "manager", "admin")
#: the most calls one page lists
PAGE_LIMIT = 500


class WorklistError(Exception):
    """Something the worklist refuses; ``str(exc)`` is an English message."""


class NotFound(WorklistError):
    """No such call on this worklist (not due, not a staff store's, already recorded), or no such store."""


class Forbidden(WorklistError):
    """Not for this user: an advisor, a store not theirs, or their own customer (R3)."""


class Conflict(WorklistError):
    """Someone else holds the call or is calling the customer; or the caller does not hold it, or
    it is already recorded."""


class FieldErrors(WorklistError):
    """What was sent cannot be recorded; ``errors`` names each field."""

    def __init__(self, errors: Sequence[Mapping[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = [dict(e) for e in errors]


@dataclass(frozen=True)
class PreviousCall:
    """An earlier call of the same case."""

    number: int
    outcome: str | None
    ended_at: datetime | None


@dataclass(frozen=True)
class WorklistCall:
    """One call on the worklist, with what the caller's script needs."""

    attempt_id: int
    case_id: int
    store_code: str
    store_name: str
    ro_number: str
    #: 1-3: which of the three calls this is (R3)
    number: int
    #: survey, or resurvey (a complaint's re-survey, R7)
    kind: str
    customer_name: str
    #: zh or en: the script's language
    language: str
    #: the number to call, masked (the full one comes with the claim)
    phone: str | None
    vehicle_model: str | None
    plate: str | None
    service_type: str
    delivered_at: datetime
    due_at: datetime
    deadline_at: datetime
    #: the deadline is within 12 hours
    at_risk: bool
    #: the username holding the call, or None (a lapsed claim is no claim)
    claimed_by: str | None
    claimed_until: datetime | None
    previous: tuple[PreviousCall, ...]
    #: the survey questions for this visit (R5), in order
    questions: tuple[Question, ...]

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The call as ``GET /api/v1/worklist`` lists it (CONTRACT §9), times in the store's zone."""
        return {
            "attempt_id": self.attempt_id, "store_code": self.store_code, "ro_number": self.ro_number,
            "number": self.number, "customer_name": self.customer_name, "phone": self.phone,
            "due_at": iso(self.due_at, tz), "deadline_at": iso(self.deadline_at, tz),
            "claimed_by": self.claimed_by, "claimed_until": iso(self.claimed_until, tz), "at_risk": self.at_risk,
            "previous": [{"number": p.number, "outcome": p.outcome, "ended_at": iso(p.ended_at, tz)}
                         for p in self.previous],
            "questions": [{"id": q.id, "text": q.ask(self.language)} for q in self.questions],
        }


@dataclass(frozen=True)
class WorklistPage:
    """The calls due now, soonest deadline first; ``next_opening`` when the staff hours are closed."""

    store_code: str
    calls_by: str
    calls: list[WorklistCall]
    next_opening: datetime | None

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """``{"calls": [...], "next_opening": ISO 8601 | null}`` (CONTRACT §9)."""
        return {"calls": [c.as_json(tz) for c in self.calls], "next_opening": iso(self.next_opening, tz)}


@dataclass(frozen=True)
class Claim:
    """A claim: the full number to call (its reveal is audited) and until when the call is held."""

    attempt_id: int
    phone: str
    claimed_until: datetime
    store_code: str

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        return {"attempt_id": self.attempt_id, "phone": self.phone, "claimed_until": iso(self.claimed_until, tz)}


@dataclass(frozen=True)
class Recorded:
    """A recorded outcome: the visit it was about (the API answers with its record)."""

    attempt_id: int
    case_id: int
    store_code: str
    ro_number: str
    outcome: str


# --- who may ------------------------------------------------------------------------------------


def worklist_stores(session: Session, settings: Settings, user: User) -> list[str]:
    """The stores whose worklist ``user`` may work: their stores that call by staff."""
    if user.role not in WORKLIST_ROLES:
        return []
    return [code for code in user_store_codes(session, user)
            if code in settings.stores and settings.stores[code].calls_by == "staff"]


def _store(session: Session, settings: Settings, user: User, store_code: str) -> tuple[Store, StoreSettings]:
    if user.role not in WORKLIST_ROLES:
        raise Forbidden("The call worklist is the information staff's: a service advisor does not work it.")
    if store_code not in settings.stores:
        raise NotFound(f"no store {store_code}")
    if store_code not in user_store_codes(session, user):
        raise Forbidden(f"store {store_code} is not one of yours")
    row = session.scalar(select(Store).where(Store.code == store_code))
    if row is None:
        raise NotFound(f"no store {store_code}")
    return row, settings.stores[store_code]


def store_of_call(session: Session, attempt_id: int) -> str | None:
    """The code of the store a call belongs to (None: no such call); for a token bound to one store."""
    return session.scalar(select(Store.code).join(FollowupCase, FollowupCase.store_id == Store.id)
                          .join(ContactAttempt, ContactAttempt.case_id == FollowupCase.id)
                          .where(ContactAttempt.id == attempt_id))


def store_code(session: Session, store_id: int | None) -> str | None:
    """A store's code from its id (a token made ``--store`` keeps the id); None for None."""
    return session.scalar(select(Store.code).where(Store.id == store_id)) if store_id is not None else None


def _own_advisors(user: User) -> Any:
    return select(Advisor.id).where(Advisor.user_id == user.id)


# --- the list -----------------------------------------------------------------------------------


def _due_rows(session: Session, store: Store, user: User, now: datetime, *, attempt_id: int | None = None,
              limit: int = PAGE_LIMIT) -> list[Any]:
    """Planned calls of the store due by ``now``, soonest deadline first, with their case, visit,
    customer and vehicle; never the user's own customers (R3)."""
    vehicle = aliased(Vehicle)
    q = (
        select(ContactAttempt, FollowupCase, Visit, Customer, vehicle)
        .join(FollowupCase, FollowupCase.id == ContactAttempt.case_id)
        .join(Visit, Visit.id == FollowupCase.visit_id)
        .join(Customer, Customer.id == Visit.customer_id)
        .outerjoin(vehicle, vehicle.id == Visit.vehicle_id)
        .where(ContactAttempt.status == "planned", ContactAttempt.channel == "call", ContactAttempt.due_at <= now,
               FollowupCase.store_id == store.id, FollowupCase.state != "closed",
               FollowupCase.advisor_id.not_in(_own_advisors(user)),
               # past its deadline and not met: about to be cancelled for lack of staff time (R8)
               not_(and_(ContactAttempt.kind == "survey", FollowupCase.deadline_at <= now,
                         FollowupCase.three_day_rule != "met")))
        .order_by(FollowupCase.deadline_at, ContactAttempt.due_at, ContactAttempt.id)
        .limit(limit)
    )
    if attempt_id is not None:
        q = q.where(ContactAttempt.id == attempt_id)
    return list(session.execute(q).all())


def _previous(session: Session, case_ids: Sequence[int]) -> dict[int, list[PreviousCall]]:
    out: dict[int, list[PreviousCall]] = {cid: [] for cid in case_ids}
    if not case_ids:
        return out
    for a in session.scalars(select(ContactAttempt).where(
            among(session, ContactAttempt.case_id, case_ids), ContactAttempt.channel == "call",
            ContactAttempt.status == "done")
            .order_by(ContactAttempt.id)):
        out[a.case_id].append(PreviousCall(a.number, a.outcome, a.ended_at))
    return out


def _calls(session: Session, settings: Settings, store: StoreSettings, rows: Sequence[Any],
           now: datetime) -> list[WorklistCall]:
    previous = _previous(session, [r[1].id for r in rows])
    out = []
    for a, case, visit, customer, vehicle in rows:
        held = a.held_by is not None and a.held_until is not None and a.held_until > now
        out.append(WorklistCall(
            attempt_id=a.id, case_id=case.id, store_code=store.code, store_name=store.name,
            ro_number=visit.ro_number, number=a.number, kind=a.kind, customer_name=customer.name,
            language=customer.language, phone=mask_phone(a.destination),
            vehicle_model=vehicle.model if vehicle else None, plate=vehicle.plate if vehicle else None,
            service_type=visit.service_type, delivered_at=visit.delivered_at, due_at=a.due_at or now,
            deadline_at=case.deadline_at, at_risk=at_risk(case.deadline_at, now),
            claimed_by=a.held_by if held else None, claimed_until=a.held_until if held else None,
            # the rule of questions_for_case (R5), from the visit already loaded: no query per call
            previous=tuple(previous[case.id]), questions=settings.survey.questions_for(visit.service_type),
        ))
    return out


def due_calls(session: Session, settings: Settings, user: User, store_code: str, now: datetime) -> WorklistPage:
    """The calls due now inside the store's staff hours ∩ calling windows, soonest deadline first
    (CONTRACT §9); outside those hours none, and ``next_opening`` says when they open."""
    row, store = _store(session, settings, user, store_code)
    if store.calls_by != "staff":
        return WorklistPage(store_code, store.calls_by, [], None)
    opening = worklist_opening(now, store.policy, store.timezone)
    if opening is not None:
        return WorklistPage(store_code, store.calls_by, [], opening)
    return WorklistPage(store_code, store.calls_by, _calls(session, settings, store, _due_rows(session, row, user, now),
                                                           now), None)


def next_call(session: Session, settings: Settings, user: User, store_code: str, now: datetime) -> WorklistCall | None:
    """The call to make next: the one this user holds, else the first nobody holds (after saving
    an outcome the page goes straight to it)."""
    calls = due_calls(session, settings, user, store_code, now).calls
    mine = [c for c in calls if c.claimed_by == user.username]
    free = [c for c in calls if c.claimed_by is None]
    first = mine or free
    return first[0] if first else None


# --- claims -------------------------------------------------------------------------------------


def _call_of(session: Session, settings: Settings, user: User, attempt_id: int,
             ) -> tuple[ContactAttempt, FollowupCase, Store, StoreSettings]:
    """A call of a staff store's worklist that this user may touch, whatever its state: NotFound for
    no such call (or another store's: not theirs to know of), Forbidden for an advisor or the
    user's own customer (R3)."""
    found = session.execute(
        select(ContactAttempt, FollowupCase, Store)
        .join(FollowupCase, FollowupCase.id == ContactAttempt.case_id)
        .join(Store, Store.id == FollowupCase.store_id)
        .where(ContactAttempt.id == attempt_id, ContactAttempt.channel == "call")
    ).first()
    store = settings.stores.get(found[2].code) if found is not None else None
    if found is None or store is None or store.calls_by != "staff":
        raise NotFound(f"no call {attempt_id} on the worklist")
    a, case, store_row = found
    try:
        _store(session, settings, user, store_row.code)
    except Forbidden:
        if user.role not in WORKLIST_ROLES:
            raise
        raise NotFound(f"no call {attempt_id} on the worklist") from None
    if session.scalar(select(exists().where(Advisor.id == case.advisor_id, Advisor.user_id == user.id))):
        raise Forbidden(OWN_CALL_REFUSED)
    return a, case, store_row, store


def _lock_customer(session: Session, customer_id: int) -> None:
    """One claim or outcome per customer at a time: PostgreSQL locks the customer's row; SQLite
    writes one transaction at a time anyway (the next statement is a write)."""
    session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())


def _other_call_held(customer_id: int, attempt_id: int, username: str, now: datetime) -> Any:
    """Another call of the same customer held by someone else right now."""
    other, case, visit = aliased(ContactAttempt), aliased(FollowupCase), aliased(Visit)
    return (exists().where(other.case_id == case.id, case.visit_id == visit.id, visit.customer_id == customer_id,
                           other.id != attempt_id, other.status == "planned", other.held_until > now,
                           other.held_by != username))


def claim(session: Session, settings: Settings, user: User, attempt_id: int, now: datetime) -> Claim:
    """Hold a call for :data:`~followup.rules.worklist.CLAIM_LENGTH` (15 minutes) and reveal its
    number (audited ``pii.revealed``). Claiming a call one holds renews the claim (even after the
    staff hours closed, for a call in progress). One claim wins: a second person gets
    :class:`Conflict`, as does a claim while another call of the same customer is held."""
    a, case, store_row, store = _call_of(session, settings, user, attempt_id)
    renewing = (a.status == "planned" and a.held_by == user.username
                and a.held_until is not None and a.held_until > now)
    if not renewing:
        if not _due_rows(session, store_row, user, now, attempt_id=attempt_id, limit=1):
            raise NotFound(f"call {attempt_id} is not on the worklist (not due, or already recorded)")
        if worklist_opening(now, store.policy, store.timezone) is not None:
            raise NotFound(f"call {attempt_id} is not on the worklist: the staff hours are closed")
    customer_id = session.get_one(Visit, case.visit_id).customer_id
    _lock_customer(session, customer_id)
    until = now + CLAIM_LENGTH
    won = session.execute(
        update(ContactAttempt)
        .where(ContactAttempt.id == attempt_id, ContactAttempt.status == "planned",
               or_(ContactAttempt.held_by.is_(None), ContactAttempt.held_by == user.username,
                   ContactAttempt.held_until <= now),
               ~_other_call_held(customer_id, attempt_id, user.username, now))
        .values(held_by=user.username, held_until=until)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not won:
        _why_not(session, user, attempt_id, customer_id, now)
    session.refresh(a)
    phone = a.destination or ""
    customer = session.get_one(Customer, customer_id)
    audit.record(session, actor_of(user), "pii.revealed", at=now, store_id=case.store_id, case_id=case.id,
                 field="mobile" if phone and phone == customer.mobile else "phone", attempt=attempt_id,
                 via="worklist")
    return Claim(attempt_id, phone, until, store_row.code)


def _why_not(session: Session, user: User, attempt_id: int, customer_id: int, now: datetime) -> None:
    """Raise why a claim did not take: recorded meanwhile, held by someone, or the customer busy."""
    a = session.get_one(ContactAttempt, attempt_id)
    session.refresh(a)
    if a.status != "planned":
        raise NotFound(f"call {attempt_id} is not on the worklist any more (its outcome is recorded)")
    if a.held_by not in (None, user.username) and a.held_until is not None and a.held_until > now:
        raise Conflict(f"{a.held_by} is making this call")
    raise Conflict("someone else is on a call with this customer right now")


def claim_next(session: Session, settings: Settings, user: User, store_code: str, now: datetime,
               ) -> tuple[WorklistCall, Claim] | None:
    """Claim the next call (the one held already, else the first free one a claim can take): "saving
    goes straight to the next call"; None when nothing is left."""
    for call in due_calls(session, settings, user, store_code, now).calls:
        if call.claimed_by not in (None, user.username):
            continue
        try:
            return call, claim(session, settings, user, call.attempt_id, now)
        except (Conflict, NotFound):
            continue  # taken a moment ago, or its customer is on another call: the next one
    return None


def release(session: Session, settings: Settings, user: User, attempt_id: int, now: datetime) -> None:
    """Let go of a call one holds (skip it): it is back on the list for anyone at once."""
    _call_of(session, settings, user, attempt_id)
    session.execute(update(ContactAttempt)
                    .where(ContactAttempt.id == attempt_id, ContactAttempt.held_by == user.username)
                    .values(held_by=None, held_until=None).execution_options(synchronize_session=False))
    audit.record(session, actor_of(user), "worklist.released", at=now, attempt=attempt_id)


def held_call(session: Session, settings: Settings, user: User, attempt_id: int, now: datetime,
              ) -> tuple[WorklistCall, Claim]:
    """The call ``user`` holds right now and its full number, for the call page (the reveal was
    audited when it was claimed; showing it again during the same claim is no new reveal). It
    stays for the claim's length even when the staff hours close meanwhile (a call in progress).
    :class:`Conflict` when someone else holds it; :class:`NotFound` when this user does not hold
    it (never claimed, the claim ran out, already recorded, not due)."""
    a, _case, store_row, store = _call_of(session, settings, user, attempt_id)
    held = a.status == "planned" and a.held_until is not None and a.held_until > now
    if held and a.held_by != user.username:
        raise Conflict(f"{a.held_by} is making this call")
    rows = _due_rows(session, store_row, user, now, attempt_id=attempt_id, limit=1) if held else []
    if not rows:
        raise NotFound(f"you do not hold call {attempt_id}: take it from the worklist")
    assert a.held_until is not None
    return (_calls(session, settings, store, rows, now)[0],
            Claim(attempt_id, a.destination or "", a.held_until, store_row.code))


# --- the outcome --------------------------------------------------------------------------------


def record_outcome(session: Session, settings: Settings, user: User, attempt_id: int, outcome: object,
                   answers: object = None, callback_at: object = None, note: object = None, *,
                   now: datetime) -> Recorded:
    """Record what came of a call one holds (CONTRACT §9), exactly as an IVR call's outcome (R3-R5,
    R7, R10), then ``worklist.call_recorded``; the case is planned at once. ``answers`` maps the
    question ids to 0-10 / ``yes``/``no`` / text; ``callback_at`` is an aware datetime or ISO 8601
    text (without an offset: store local time). :class:`Conflict` when the caller does not hold the
    call (never claimed, the claim ran out, someone else's) or it is already recorded — nothing is
    recorded then; :class:`FieldErrors` for a bad outcome, answer, time or note."""
    a, case, store_row, store = _call_of(session, settings, user, attempt_id)
    visit = session.get_one(Visit, case.visit_id)
    _lock_customer(session, visit.customer_id)
    holding = session.execute(
        update(ContactAttempt)
        .where(ContactAttempt.id == attempt_id, ContactAttempt.status == "planned",
               ContactAttempt.held_by == user.username, ContactAttempt.held_until > now)
        .values(held_until=now + CLAIM_LENGTH)  # locks the row while the outcome is recorded
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(a)
    if not holding:
        if a.status != "planned":
            raise Conflict("this call's outcome is already recorded")
        raise Conflict("you do not hold this call: claim it first (a claim lasts 15 minutes)")
    checked = check_outcome(outcome, answers, callback_at, note, questions_for_case(session, case, settings),
                            now, store.policy, store.timezone, known=[q.id for q in settings.survey.questions])
    if checked.errors:
        raise FieldErrors([e.as_json() for e in checked.errors])
    record_manual_call(session, settings, case, user=user, outcome=checked.outcome,
                       answers=checked.answers or None, callback_at=checked.callback_at, now=now, attempt=a)
    if checked.note:
        add_note(session, case, user=user, text=checked.note, now=now)
    emit(session, "worklist.call_recorded",
         {"store_code": store_row.code, "ro_number": visit.ro_number, "attempt_id": attempt_id, "number": a.number,
          "outcome": checked.outcome, "made_by": actor_of(user)}, at=now, case_id=case.id)
    return Recorded(attempt_id, case.id, store_row.code, visit.ro_number, checked.outcome)


def callback_slots(settings: Settings, store_code: str, now: datetime, *, days: int = 3) -> list[datetime]:
    """The times the callback picker offers: every half hour inside the store's call windows (staff
    hours ∩ calling windows in a staff store), at least 30 minutes ahead, over the next ``days``
    open days (R2, R3)."""
    store = settings.stores[store_code]
    return callback_times(now, store.policy, store.timezone, days=days)
