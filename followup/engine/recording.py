"""Recording what a contact did: the one code path for every channel and every way a result arrives.

A dispatched contact (the sandbox at once, Twilio by status callback, staff by hand, a dead
worker's row reconciled against the provider) is recorded here: the attempt row, the case state,
the audit row and the webhook event, and the survey when the customer answered.

R10: every attempt's outcome is audited here, once, with who made the contact (:func:`audit_outcome`:
``ivr``, ``sms``, ``user:<name>`` for staff, ``system`` for a send the provider refused); no caller
writes its own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from followup import audit
from followup.channels.base import Channel, Contact, Routed, Sent
from followup.models import ContactAttempt, Customer, FollowupCase, SmsMessage
from followup.settings import Settings
from followup.surveys.responses import record_survey
from followup.webhooks.outbox import emit

#: SMS kinds that carry a survey question; their replies go to an SMS survey response
SURVEY_SMS_KINDS = ("survey", "reminder", "resurvey", "re_remind")
STATE_OF_CHANNEL = {"call": "calling", "sms": "sms_survey", "letter": "letter_queued"}


def maker_of(channel: Channel, contact: Contact) -> str:
    """Who made the contact: the routed provider channel's name (``ivr``, ``sms``) or the channel's."""
    return channel.route(contact).name if isinstance(channel, Routed) else channel.name


def record_sent(session: Session, a: ContactAttempt, case: FollowupCase, customer: Customer, sent: Sent,
            settings: Settings, now: datetime, ref: dict[str, str], made_by: str, body: str | None) -> None:
    a.started_at, a.provider_id, a.made_by = now, sent.provider_id, made_by
    a.claimed_by = a.lease_until = None
    if case.state != "complaint":
        case.state = STATE_OF_CHANNEL[a.channel]
    audit.record(session, made_by, f"{a.channel}.sent", at=now, store_id=case.store_id, case_id=case.id,
                 attempt=a.id, number=a.number, kind=a.kind)
    if a.channel == "letter":
        a.status, a.outcome = "in_progress", sent.outcome or "queued"  # sent when its batch is mailed
        return
    if a.channel == "sms":
        a.status, a.outcome, a.ended_at = "done", sent.outcome or "sent", sent.ended_at or now
        session.add(SmsMessage(direction="out", store_id=case.store_id, case_id=case.id, customer_id=customer.id,
                               attempt_id=a.id, from_number=_sender(settings),
                               to_number=a.destination or "", body=body or "", provider_id=sent.provider_id,
                               status=a.outcome, received_at=now))
        case.next_check_at = now
        if sent.answers:
            a.outcome = "replied"
            record_survey(session, case, sent.answers, channel="sms", made_by="sms", settings=settings, now=now)
        if sent.outcome is not None:
            audit_outcome(session, a, case, now)  # the channel knew the outcome at once (the sandbox)
        return
    if sent.outcome is None:
        a.status = "in_progress"  # the result comes by status callback
        return
    finish_call(session, a, case, customer, sent.outcome, sent.ended_at or now, settings, now, ref,
                answers=sent.answers)


def _sender(settings: Settings) -> str:
    """Who an outgoing SMS is from, as kept with its copy: the Twilio number, or the provider's name."""
    if settings.sms_provider == "aliyun":
        return "aliyun"  # Alibaba Cloud sends from its own numbers; the store's signature names the sender
    return settings.twilio.from_number or "sandbox"


def audit_outcome(session: Session, a: ContactAttempt, case: FollowupCase, now: datetime) -> None:
    """R10: the audit row of an attempt's outcome (``call.outcome``, ``sms.outcome``), by whoever made it."""
    audit.record(session, a.made_by or "system", f"{a.channel}.outcome", at=now, store_id=case.store_id,
                 case_id=case.id, attempt=a.id, number=a.number, outcome=a.outcome, error_code=a.error_code,
                 callback_at=a.callback_at.isoformat() if a.callback_at else None)


def finish_refused(session: Session, a: ContactAttempt, case: FollowupCase, customer: Customer, outcome: str,
                   settings: Settings, now: datetime, ref: dict[str, str]) -> None:
    """A contact the provider refused for good (an invalid number …): its outcome, like any other."""
    if a.channel == "call":
        finish_call(session, a, case, customer, outcome, now, settings, now, ref)
        return
    a.status, a.outcome = "done", outcome
    if a.channel == "sms" and outcome == "invalid_number":
        customer.mobile_bad = True
    case.next_check_at = now
    audit_outcome(session, a, case, now)


def record_sms_status(session: Session, a: ContactAttempt, status: str, now: datetime, *, final: bool,
                      error_code: str | None = None) -> None:
    """An SMS's status from the provider (sent, delivered, undelivered …); a ``final`` one is audited."""
    a.outcome = status
    a.error_code = error_code or a.error_code
    if final:
        audit_outcome(session, a, session.get_one(FollowupCase, a.case_id), now)


def finish_call(session: Session, a: ContactAttempt, case: FollowupCase, customer: Customer, outcome: str,
                ended_at: datetime, settings: Settings, now: datetime, ref: dict[str, str],
                answers: dict[str, str] | None = None, callback_at: datetime | None = None) -> None:
    """Record a call's outcome (sandbox at once, Twilio by callback, staff by hand)."""
    a.status, a.outcome, a.ended_at, a.callback_at = "done", outcome, ended_at, callback_at
    if outcome == "invalid_number":
        if a.destination and a.destination == customer.mobile:
            customer.mobile_bad = True
        else:
            customer.phone_bad = True
    emit(session, "call.completed", {**ref, "number": a.number, "outcome": outcome, "made_by": a.made_by},
         at=now, case_id=case.id)
    audit_outcome(session, a, case, now)
    case.next_check_at = now
    if outcome == "answered" and answers:
        staff = a.made_by == "staff" or (a.made_by or "").startswith("user:")  # a call made by hand
        record_survey(session, case, answers, channel="staff" if staff else "ivr",
                      made_by=a.made_by or "ivr", settings=settings, now=now)


