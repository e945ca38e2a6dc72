"""What information staff do to a case by hand: record a call they made, mark the customer
do-not-call / no-SMS / no-contact, add a note, reveal a phone number. Each is audited (R10).

A call made by hand is recorded through :func:`followup.engine.recording.finish_call`, the one
place a call outcome is recorded (and audited, R10, by ``user:<name>``), so it counts exactly like
an IVR call (R3).

Independence (R3, R9): the visit's own service advisor never records the survey call of their own
customer, nor marks that customer (do-not-call, no-SMS, no-contact): :class:`OwnCustomerRefused`.
Their own call is R11's separate task (``followup.advisor_calls``). Notes and reveals stay theirs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from followup import audit
from followup.cases.lifecycle import case_ref, close_case
from followup.engine.planner import plan_case, refresh_rule
from followup.engine.recording import finish_call
from followup.models import (
    Advisor,
    ContactAttempt,
    Customer,
    FollowupCase,
    User,
    Visit,
)
from followup.settings import Question, Settings
from followup.webhooks.outbox import emit

#: what staff can record for a call they made (the IVR's outcomes; ``failed`` is the provider's)
MANUAL_CALL_OUTCOMES = ("answered", "no_answer", "busy", "voicemail", "hung_up", "invalid_number",
                        "callback_requested", "declined")
#: the customer flags staff may set, and the channels each one stops
CUSTOMER_FLAGS: dict[str, tuple[str, ...]] = {
    "do_not_call": ("call",),
    "no_sms": ("sms",),
    "no_contact": ("call", "sms", "letter"),
}
NOTE_MAX = 2000


class StaffActionError(ValueError):
    """The action cannot be done as asked; ``str(exc)`` is an English message id shown translated."""


class OwnCustomerRefused(StaffActionError):
    """R3: the visit's own service advisor tried to act on their own customer's case (the view answers 403)."""


#: the refusals' English message ids, shown translated
OWN_CALL_REFUSED = ("A service advisor cannot record the follow-up call of their own customer: "
                    "your own call is the 3-day call task.")
OWN_MARK_REFUSED = "A service advisor cannot mark their own customer: ask the information staff."
HELD_BY_OTHER = "Someone is calling this customer from the call worklist right now: try again later."


def is_visit_advisor(session: Session, case: FollowupCase, user: User) -> bool:
    """Whether ``user`` is the visit's own service advisor (the user linked to the case's advisor code)."""
    linked = session.scalar(select(Advisor.user_id).where(Advisor.id == case.advisor_id))
    return linked is not None and linked == user.id


def actor_of(user: User) -> str:
    return f"user:{user.username}"


def parse_answers(form: Mapping[str, str], questions: Sequence[Question]) -> dict[str, str]:
    """The survey answers of a call as typed in the form (``q_<question id>``), checked like the IVR's.

    ``questions`` are the case's (:func:`~followup.surveys.questions.questions_for_case`, R5): a field
    for a question the customer was not asked is ignored.
    """
    out: dict[str, str] = {}
    for q in questions:
        raw = (form.get(f"q_{q.id}") or "").strip()
        if not raw:
            if not q.optional:
                raise StaffActionError("Answer every survey question (the comment is optional).")
            continue
        if q.kind == "scale10":
            if not raw.isdigit() or not 0 <= int(raw) <= 10:
                raise StaffActionError("Scores are whole numbers from 0 to 10.")
            out[q.id] = str(int(raw))
        elif q.kind == "yesno":
            if raw not in ("yes", "no"):
                raise StaffActionError("Yes/no questions need yes or no.")
            out[q.id] = raw
        else:
            out[q.id] = raw[:NOTE_MAX]
    return out


def _call_row(session: Session, case: FollowupCase, customer: Customer, now: datetime) -> ContactAttempt:
    """The next planned call of the case, or a new call row when none is planned."""
    planned = session.scalar(
        select(ContactAttempt)
        .where(ContactAttempt.case_id == case.id, ContactAttempt.channel == "call", ContactAttempt.status == "planned")
        .order_by(ContactAttempt.due_at, ContactAttempt.id)
        .limit(1)
    )
    if planned is not None:
        return planned
    made = session.scalar(
        select(func.count()).select_from(ContactAttempt)
        .where(ContactAttempt.case_id == case.id, ContactAttempt.channel == "call", ContactAttempt.status != "cancelled")
    ) or 0
    destination = customer.mobile if customer.mobile and not customer.mobile_bad else customer.phone
    row = ContactAttempt(case_id=case.id, channel="call", kind="survey", number=made + 1, status="dispatching",
                         destination=destination, due_at=now, reason="manual_call", created_at=now)
    session.add(row)
    session.flush()
    return row


def record_manual_call(
    session: Session, settings: Settings, case: FollowupCase, *, user: User, outcome: str,
    answers: Mapping[str, str] | None = None, callback_at: datetime | None = None, now: datetime,
    attempt: ContactAttempt | None = None,
) -> ContactAttempt:
    """Record the outcome of a call a staff member made by hand; the caller commits.

    ``attempt``: the planned call it was (the call worklist passes the row it holds); otherwise the
    case's next planned call, or a new call row. Refused (:class:`OwnCustomerRefused`) to the
    visit's own advisor: R3's survey call is independent; and while another person holds the
    planned call on the worklist (two people never call one customer at once).
    """
    if is_visit_advisor(session, case, user):
        raise OwnCustomerRefused(OWN_CALL_REFUSED)
    if case.state == "closed":
        raise StaffActionError("This case is closed: nothing more to record.")
    if outcome not in MANUAL_CALL_OUTCOMES:
        raise StaffActionError("Choose the outcome of the call.")
    if outcome == "answered" and not answers:
        raise StaffActionError("Answer every survey question (the comment is optional).")
    if outcome == "callback_requested" and (callback_at is None or callback_at <= now):
        raise StaffActionError("Give the time the customer asked to be called back (in the future).")
    visit = session.get_one(Visit, case.visit_id)
    customer = session.get_one(Customer, visit.customer_id)
    actor = actor_of(user)
    a = attempt or _call_row(session, case, customer, now)
    if a.held_by not in (None, user.username) and a.held_until is not None and a.held_until > now:
        raise StaffActionError(HELD_BY_OTHER)
    a.held_by = a.held_until = None
    a.started_at, a.made_by, a.claimed_by, a.lease_until = now, actor, None, None
    if case.state == "scheduled":
        case.state = "calling"
    finish_call(session, a, case, customer, outcome, now, settings, now, case_ref(session, case),
                answers=dict(answers) if outcome == "answered" and answers else None,
                callback_at=callback_at if outcome == "callback_requested" else None)
    refresh_rule(session, case, settings, now)
    if case.state != "closed":
        plan_case(session, case, settings, now)  # the next step shows at once, not at the next tick
    return a


def _open_cases(session: Session, customer_id: int) -> list[FollowupCase]:
    return list(session.scalars(
        select(FollowupCase).join(Visit, Visit.id == FollowupCase.visit_id)
        .where(Visit.customer_id == customer_id, FollowupCase.state != "closed").order_by(FollowupCase.id)
    ))


def mark_customer(session: Session, settings: Settings, case: FollowupCase, *, flag: str, on: bool, user: User,
                  now: datetime) -> int:
    """Set or clear do-not-call / no-SMS / no-contact on the case's customer (R6); returns cases closed.

    Setting a flag cancels the planned contacts of its channels on every open case of the customer
    and plans again; no-contact closes those cases as ``opted_out``. Refused (:class:`OwnCustomerRefused`)
    to the visit's own advisor (R3).
    """
    if is_visit_advisor(session, case, user):
        raise OwnCustomerRefused(OWN_MARK_REFUSED)
    if flag not in CUSTOMER_FLAGS:
        raise StaffActionError("Unknown customer flag.")
    visit = session.get_one(Visit, case.visit_id)
    customer = session.get_one(Customer, visit.customer_id)
    setattr(customer, flag, on)
    customer.updated_at = now
    actor = actor_of(user)
    audit.record(session, actor, "customer.marked", at=now, store_id=case.store_id, case_id=case.id,
                 customer=customer.id, flag=flag, on=on)
    if not on:
        return 0
    emit(session, "customer.opted_out", {**case_ref(session, case), "flag": flag, "by": "staff"}, at=now, case_id=case.id)
    closed = 0
    for open_case in _open_cases(session, customer.id):
        channels = CUSTOMER_FLAGS[flag]
        session.execute(
            update(ContactAttempt)
            .where(ContactAttempt.case_id == open_case.id, ContactAttempt.channel.in_(channels),
                   ContactAttempt.status == "planned")
            .values(status="cancelled", reason=f"staff:{flag}")
        )
        if flag == "no_contact":
            # letters waiting in a batch that was not mailed yet are taken out too
            session.execute(
                update(ContactAttempt)
                .where(ContactAttempt.case_id == open_case.id, ContactAttempt.channel == "letter",
                       ContactAttempt.status == "in_progress", ContactAttempt.outcome == "queued")
                .values(status="cancelled", reason="staff:no_contact")
            )
            close_case(session, open_case, "opted_out", now=now, actor=actor)
            closed += 1
        else:
            session.flush()
            plan_case(session, open_case, settings, now)
    return closed


def add_note(session: Session, case: FollowupCase, *, user: User, text: str, now: datetime) -> None:
    """A staff note on the case; kept in the audit log, shown on the timeline."""
    clean = text.strip()
    if not clean:
        raise StaffActionError("The note is empty.")
    if len(clean) > NOTE_MAX:
        raise StaffActionError("The note is too long (at most 2000 characters).")
    audit.record(session, actor_of(user), "note.added", at=now, store_id=case.store_id, case_id=case.id, text=clean)


def reveal_phone(session: Session, case: FollowupCase, *, user: User, which: str, now: datetime) -> str | None:
    """The customer's full number, once; every reveal writes ``pii.revealed`` to the audit log."""
    if which not in ("mobile", "phone"):
        raise StaffActionError("Unknown phone number.")
    visit = session.get_one(Visit, case.visit_id)
    customer = session.get_one(Customer, visit.customer_id)
    number: str | None = getattr(customer, which)
    if number is None:
        raise StaffActionError("The customer has no such number.")
    audit.record(session, actor_of(user), "pii.revealed", at=now, store_id=case.store_id, case_id=case.id,
                 field=which)
    return number
