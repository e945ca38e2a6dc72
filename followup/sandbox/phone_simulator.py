"""The sandbox phone simulator (CONTRACT §7): a person plays the customer, as Twilio's dev phone does.

Nothing here is a second IVR or SMS survey. A simulated call is placed through the real
dispatcher (:func:`dispatcher.dispatch_one` with a channel that only "rings"), every keypress goes
to the same :func:`ivr_survey.answer_call` / :func:`ivr_survey.gather` that Twilio's requests reach,
and the call ends through the same status handling (:func:`provider_status.call_status`), so the
answers, the outcome (answered, callback, declined, hung up, no answer) and the next step are
recorded exactly as for a real IVR call. An SMS reply goes to :func:`sms_survey.handle_inbound`,
the function behind ``POST /twilio/sms/inbound``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from followup.channels.base import Contact, Sent
from followup.engine import provider_callbacks as provider_status
from followup.engine.dispatch import DispatchCounts, dispatch_one
from followup.engine.planner import plan_case
from followup.models import ContactAttempt, Customer, FollowupCase, IvrCall, SmsMessage, Store, Visit
from followup.privacy import mask_phone
from followup.settings import Settings
from followup.surveys import ivr_survey, sms_survey

#: provider ids of simulated calls and SMS start with this, so they are never mistaken for Twilio's
SIM_PREFIX = "SIM"
SIMULATOR = "simulator"


class SimulatorError(Exception):
    """What the person at the simulator asked for cannot be done now (shown, never a traceback)."""


@dataclass(frozen=True)
class PhoneOwner:
    """A customer one may pick in the simulator."""

    id: int
    name: str
    mobile: str  # masked
    store_code: str
    open_cases: int


@dataclass(frozen=True)
class CallLine:
    """One call the customer's phone received, or one still to come."""

    attempt_id: int
    case_id: int
    ro_number: str
    number: int
    status: str
    outcome: str | None
    due_at: datetime | None
    started_at: datetime | None
    made_by: str | None


@dataclass(frozen=True)
class SmsLine:
    """One SMS of the conversation, in or out."""

    direction: str
    body: str
    at: datetime
    handling: str | None


@dataclass(frozen=True)
class LiveCall:
    """The simulated call in progress: what the IVR just said and what it waits for."""

    sid: str
    attempt_id: int
    step: str
    #: True when the IVR waits for digits ended by ``#`` (0-10), False for one key
    hash_terminated: bool


@dataclass(frozen=True)
class Phone:
    """The customer's simulated phone."""

    customer: PhoneOwner
    calls: list[CallLine]
    sms: list[SmsLine]
    live: LiveCall | None
    #: case id -> id of its next planned call (a call that may ring now)
    ringable: dict[int, int]
    can_text: bool


@dataclass(frozen=True)
class Spoken:
    """What the IVR said in one turn (the ``<Say>`` texts of its TwiML) and whether it hung up."""

    lines: list[str]
    hung_up: bool
    hash_terminated: bool


def read_twiml(twiml: str) -> Spoken:
    """The texts a caller hears from ``twiml``, in order."""
    root = ElementTree.fromstring(twiml)
    lines = [el.text or "" for el in root.iter("Say")]
    gather = root.find("Gather")
    return Spoken(lines, root.find("Hangup") is not None,
                  gather is not None and gather.get("finishOnKey") == "#")


class _Ringing:
    """A channel that only rings the simulated phone: the result comes from the simulator."""

    name = "ivr"

    def send(self, contact: Contact, now: datetime) -> Sent:
        return Sent(f"{SIM_PREFIX}CA{contact.attempt_id:08d}{uuid.uuid4().hex[:8]}")


def _owner(session: Session, customer: Customer, code: str) -> PhoneOwner:
    open_cases = len(session.scalars(
        select(FollowupCase.id).join(Visit, Visit.id == FollowupCase.visit_id)
        .where(Visit.customer_id == customer.id, FollowupCase.state != "closed")).all())
    return PhoneOwner(customer.id, customer.name, mask_phone(customer.mobile or customer.phone) or "—", code, open_cases)


def find_customers(session: Session, stores: list[str] | tuple[str, ...], query: str = "",
                   limit: int = 20) -> list[PhoneOwner]:
    """Customers of ``stores`` whose name or phone number contains ``query`` (newest first)."""
    stmt = (select(Customer, Store.code).join(Store, Store.id == Customer.store_id)
            .where(Store.code.in_(list(stores))).order_by(Customer.id.desc()).limit(limit))
    q = query.strip()
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        conds = [Customer.name.contains(q)]
        if len(digits) >= 3:
            conds += [Customer.mobile.contains(digits), Customer.phone.contains(digits)]
        stmt = stmt.where(or_(*conds))
    return [_owner(session, c, code) for c, code in session.execute(stmt).all()]


def _customer(session: Session, customer_id: int, stores: list[str] | tuple[str, ...]) -> tuple[Customer, str]:
    row = session.execute(select(Customer, Store.code).join(Store, Store.id == Customer.store_id)
                          .where(Customer.id == customer_id, Store.code.in_(list(stores)))).first()
    if row is None:
        raise LookupError(customer_id)
    return row[0], row[1]


def _live(session: Session, settings: Settings, case_ids: list[int]) -> LiveCall | None:
    row = session.execute(
        select(IvrCall, ContactAttempt).join(ContactAttempt, ContactAttempt.id == IvrCall.attempt_id)
        .where(ContactAttempt.case_id.in_(case_ids), ContactAttempt.status == "in_progress",
               ContactAttempt.channel == "call", IvrCall.call_sid.startswith(SIM_PREFIX))
        .order_by(IvrCall.id.desc())).first()
    if row is None:
        return None
    ivr, a = row
    kinds = {q.id: q.kind for q in settings.survey.questions}
    return LiveCall(ivr.call_sid, a.id, ivr.step, kinds.get(ivr.step) == "scale10")


def phone(session: Session, settings: Settings, customer_id: int, stores: list[str] | tuple[str, ...]) -> Phone:
    """Everything the simulated phone shows; ``LookupError`` for a customer outside ``stores``."""
    customer, code = _customer(session, customer_id, stores)
    cases = session.execute(select(FollowupCase.id, Visit.ro_number).join(Visit, Visit.id == FollowupCase.visit_id)
                            .where(Visit.customer_id == customer.id)).all()
    ro_of = {cid: ro for cid, ro in cases}
    attempts = session.scalars(select(ContactAttempt).where(ContactAttempt.case_id.in_(list(ro_of)),
                                                            ContactAttempt.channel == "call",
                                                            ContactAttempt.status != "cancelled")
                               .order_by(ContactAttempt.id)).all()
    calls = [CallLine(a.id, a.case_id, ro_of[a.case_id], a.number, a.status, a.outcome, a.due_at, a.started_at,
                      a.made_by) for a in attempts]
    ringable: dict[int, int] = {}
    for a in attempts:
        if a.status == "planned":
            ringable.setdefault(a.case_id, a.id)
    conds = [SmsMessage.customer_id == customer.id]
    if customer.mobile:
        conds.append(SmsMessage.from_number == customer.mobile)
    texts = session.scalars(select(SmsMessage).where(or_(*conds)).order_by(SmsMessage.received_at,
                                                                           SmsMessage.id)).all()
    sms = [SmsLine(m.direction, m.body, m.received_at, m.handling) for m in texts]
    return Phone(_owner(session, customer, code), calls, sms, _live(session, settings, list(ro_of)), ringable,
                 bool(customer.mobile))


def ring(session: Session, settings: Settings, customer_id: int, attempt_id: int, stores: list[str] | tuple[str, ...],
         now: datetime, *, pick_up: bool = True) -> tuple[str, Spoken | None]:
    """Place the customer's next planned call now through the dispatcher; the customer picks up (the
    IVR greets them) or lets it ring out (``no-answer``). Returns the call SID and what was said."""
    customer, _code = _customer(session, customer_id, stores)
    a = session.get(ContactAttempt, attempt_id)
    case = session.get(FollowupCase, a.case_id) if a is not None else None
    visit = session.get(Visit, case.visit_id) if case is not None else None
    if a is None or visit is None or visit.customer_id != customer.id or a.channel != "call" or a.status != "planned":
        raise SimulatorError("This call is no longer planned.")
    counts = DispatchCounts(worker=SIMULATOR)
    a.status, a.claimed_by = "dispatching", counts.worker
    dispatch_one(session, a.id, _Ringing(), settings, now, counts)
    if a.status == "planned":
        raise SimulatorError("The store is outside its calling hours now: the call waits for the next window.")
    if a.status != "in_progress" or not a.provider_id:
        raise SimulatorError("The call could not be placed.")
    sid = a.provider_id
    if not pick_up:
        provider_status.call_status(session, settings, {"CallSid": sid, "CallStatus": "no-answer"}, now)
        _plan_now(session, settings, customer.id, now)
        return sid, None
    twiml = ivr_survey.answer_call(session, settings, a.id, {"CallSid": sid, "AnsweredBy": "human"}, now)
    return sid, read_twiml(twiml)


def _plan_now(session: Session, settings: Settings, customer_id: int, now: datetime) -> None:
    """Plan the next step of the customer's cases that are due for a look, as the next tick would:
    the person at the simulator sees the consequence at once (as with a call recorded by staff)."""
    due = session.scalars(select(FollowupCase).join(Visit, Visit.id == FollowupCase.visit_id)
                          .where(Visit.customer_id == customer_id, FollowupCase.state != "closed",
                                 FollowupCase.next_check_at <= now)).all()
    for case in due:
        plan_case(session, case, settings, now)


def _call(session: Session, sid: str, customer_id: int, stores: list[str] | tuple[str, ...]) -> ContactAttempt:
    customer, _code = _customer(session, customer_id, stores)
    ivr = session.scalar(select(IvrCall).where(IvrCall.call_sid == sid))
    a = session.get(ContactAttempt, ivr.attempt_id) if ivr is not None else None
    case = session.get(FollowupCase, a.case_id) if a is not None else None
    visit = session.get(Visit, case.visit_id) if case is not None else None
    if a is None or visit is None or visit.customer_id != customer.id or not sid.startswith(SIM_PREFIX):
        raise SimulatorError("No such call on this phone.")
    if a.status != "in_progress":
        raise SimulatorError("This call has ended.")
    return a


def press(session: Session, settings: Settings, customer_id: int, sid: str, digits: str,
          stores: list[str] | tuple[str, ...], now: datetime) -> Spoken:
    """The customer keyed ``digits`` (empty: they said nothing until the timeout). When the IVR hangs
    up, the call's final status is delivered as Twilio would deliver it."""
    a = _call(session, sid, customer_id, stores)
    ivr = session.scalar(select(IvrCall).where(IvrCall.call_sid == sid))
    assert ivr is not None
    spoken = read_twiml(ivr_survey.gather(session, settings, a.id, ivr.step, {"CallSid": sid, "Digits": digits},
                                          now))
    if spoken.hung_up:
        end_call(session, settings, customer_id, sid, stores, now)
    return spoken


def end_call(session: Session, settings: Settings, customer_id: int, sid: str, stores: list[str] | tuple[str, ...],
             now: datetime) -> str:
    """The call is over (the IVR or the customer hung up): Twilio's ``completed`` status callback."""
    _call(session, sid, customer_id, stores)
    outcome = provider_status.call_status(session, settings,
                                          {"CallSid": sid, "CallStatus": "completed", "AnsweredBy": "human"}, now)
    _plan_now(session, settings, customer_id, now)
    return outcome


def reply_sms(session: Session, settings: Settings, customer_id: int, body: str, stores: list[str] | tuple[str, ...],
              now: datetime) -> list[str]:
    """The customer texts ``body`` back: handled as ``POST /twilio/sms/inbound`` would; the replies."""
    customer, _code = _customer(session, customer_id, stores)
    if not customer.mobile:
        raise SimulatorError("This customer has no mobile number.")
    if not body.strip():
        raise SimulatorError("Type a reply first.")
    msg = sms_survey.Inbound(sid=f"{SIM_PREFIX}SM{uuid.uuid4().hex[:24]}", from_number=customer.mobile,
                             to_number=settings.twilio.from_number or "sandbox", body=body[:1600])
    replies = sms_survey.handle_inbound(session, settings, msg, now)
    _plan_now(session, settings, customer.id, now)
    return replies
