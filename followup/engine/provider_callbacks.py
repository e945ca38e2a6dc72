"""Twilio status callbacks: each (SID, status) changes state once, and only forward (CONTRACT §5).

A call's final status ends its attempt through :func:`followup.engine.recording.finish_call`, the one place a
call outcome is recorded; an SMS that was ``undelivered``/``failed`` sends the case on to the
letter (R4).

A callback whose SID no attempt carries yet is **kept**, never dropped: Twilio can call back
before the worker has committed the SID it was just given, or after that worker died in between
(the crash window of issue #10). It is stored ``pending`` with its parameters and the attempt id of
its URL; :func:`apply_kept` (the worker's ``twilio_callbacks`` duty) applies it once an attempt
has that SID — saved by the worker, or found by the reconciler after the crash.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from followup.channels.twilio_sms import NOT_DELIVERED
from followup.channels.twilio_sms import STATUS_RANK as SMS_RANK
from followup.channels.twilio_voice import FINAL_STATUS_OUTCOMES, call_outcome
from followup.channels.twilio_voice import STATUS_RANK as CALL_RANK
from followup.db import insert_once
from followup.engine.recording import finish_call, record_sms_status
from followup.models import (
    ContactAttempt,
    Customer,
    FollowupCase,
    IvrCall,
    SmsMessage,
    Store,
    SurveyResponse,
    TwilioCallback,
    Visit,
)
from followup.rules import callback_slots
from followup.runtime import Runtime
from followup.settings import Settings
from followup.surveys import progress
from followup.surveys.sms_survey import latest_open

log = logging.getLogger("followup.twilio")

#: the customer's callback slots (IVR: 1 this evening, 2 tomorrow morning, 3 tomorrow afternoon), local time
CALLBACK_SLOTS = callback_slots.CALLBACK_SLOTS


def first_time(session: Session, sid: str, status: str, kind: str, now: datetime, *,
               keep: dict[str, str] | None = None, attempt_id: int | None = None) -> bool:
    """Record that (sid, status) arrived; False when it had arrived before (a repeated callback).

    With ``keep`` the callback is stored pending, with these parameters, to be applied later.
    """
    row: dict[str, object] = {"sid": sid, "status": status, "kind": kind, "received_at": now, "pending": False}
    if keep is not None:
        row.update(pending=True, params=json.dumps(keep, ensure_ascii=False), attempt_id=attempt_id)
    return insert_once(session, TwilioCallback, row, ["sid", "status"]) is not None


def callback_time(slot: int | None, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The instant the customer asked for, or None (the policy then waits ``min_gap``). The IVR
    offers only slots still ahead, and the policy never calls back sooner than 30 minutes (R3)."""
    return callback_slots.slot_time(slot, now, tz)


def call_status(session: Session, settings: Settings, params: dict[str, str], now: datetime,
                attempt_id: int | None = None) -> str:
    """Handle one call status callback; returns what happened (for logs and tests).

    ``attempt_id`` is the ``attempt`` of the callback URL: kept with a callback that comes first.
    """
    sid, status = params.get("CallSid", ""), params.get("CallStatus", "")
    if not sid or not status:
        return "ignored: no CallSid/CallStatus"
    return _once(session, settings, "call", sid, status, params, now, attempt_id)


def sms_status(session: Session, settings: Settings, params: dict[str, str], now: datetime,
               attempt_id: int | None = None) -> str:
    """Handle one SMS status callback; ``undelivered``/``failed`` sends the case on to the letter."""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    if not sid or not status:
        return "ignored: no MessageSid/MessageStatus"
    return _once(session, settings, "sms", sid, status, params, now, attempt_id)


def _once(session: Session, settings: Settings, kind: str, sid: str, status: str, params: dict[str, str],
          now: datetime, attempt_id: int | None) -> str:
    """Apply a (SID, status) of a call or an SMS (``kind``) the first time it arrives; keep it when
    no attempt of that kind has the SID yet."""
    a = session.scalar(select(ContactAttempt).where(ContactAttempt.provider_id == sid))
    if a is None or a.channel != kind:
        if not first_time(session, sid, status, kind, now, keep=params, attempt_id=attempt_id):
            return "duplicate"
        return "kept"  # no attempt has this SID yet: applied once one has (apply_kept)
    if not first_time(session, sid, status, kind, now):
        return "duplicate"
    return _APPLY[kind](session, settings, a, sid, status, params, now)


def _apply_call(session: Session, settings: Settings, a: ContactAttempt, sid: str, status: str,
                params: dict[str, str], now: datetime) -> str:
    """A call's status: a final one ends its attempt (:func:`~followup.engine.recording.finish_call`)."""
    if a.status == "done":
        return "already final"  # a late or reordered callback never moves a call backwards
    if status not in FINAL_STATUS_OUTCOMES:  # ringing, in-progress…: nothing to record but its arrival
        if status not in CALL_RANK:
            log.warning("call %s: unknown CallStatus %r kept, nothing changed", sid, status[:30])
            return f"unknown status: {status}"
        return f"progress: {status}"
    ivr = session.scalar(select(IvrCall).where(IvrCall.call_sid == sid))
    resp = session.get(SurveyResponse, ivr.response_id) if ivr and ivr.response_id else None
    answers = progress.stored_answers(session, resp) if resp is not None else {}
    outcome = call_outcome(status, params.get("AnsweredBy"), choice=ivr.choice if ivr else None,
                           answered_any=bool(answers), error_code=params.get("ErrorCode"))
    if outcome is None:
        return f"progress: {status}"
    case, visit, customer, code = session.execute(  # one round trip, not four
        select(FollowupCase, Visit, Customer, Store.code)
        .join(Visit, Visit.id == FollowupCase.visit_id)
        .join(Customer, Customer.id == Visit.customer_id)
        .join(Store, Store.id == FollowupCase.store_id)
        .where(FollowupCase.id == a.case_id)
    ).one()
    ref = {"store_code": code, "ro_number": visit.ro_number}
    callback_at = None
    if outcome == "callback_requested" and ivr is not None:
        callback_at = callback_time(ivr.callback_slot, now, settings.stores[code].timezone)
    a.error_code = params.get("ErrorCode") or a.error_code
    finish_call(session, a, case, customer, outcome, now, settings, now, ref, callback_at=callback_at)
    if outcome == "answered" and resp is not None and resp.status == "in_progress" and case.state != "closed":
        progress.finish(session, case, resp, settings=settings, now=now)  # a dropped call keeps its answers
    elif resp is not None and resp.status == "in_progress":
        resp.status = "incomplete"
    return outcome


def _apply_sms(session: Session, settings: Settings, a: ContactAttempt, sid: str, status: str,
               params: dict[str, str], now: datetime) -> str:
    """An SMS's status, only forward; undelivered/failed sends the case on to the letter (R4)."""
    current = SMS_RANK.get(a.outcome or "", 0)
    if SMS_RANK.get(status, -1) <= current or current >= SMS_RANK["delivered"]:
        return "stale"  # never backwards, and a final status is final
    failed = status in NOT_DELIVERED
    record_sms_status(session, a, status, now, final=failed or status == "delivered",
                      error_code=params.get("ErrorCode") if failed else None)
    session.execute(update(SmsMessage).where(SmsMessage.provider_id == sid).values(status=status))
    if not failed:
        return status
    case = session.get_one(FollowupCase, a.case_id)
    if case.state == "closed":
        return status
    session.execute(update(ContactAttempt)
                    .where(ContactAttempt.case_id == case.id, ContactAttempt.channel == "sms",
                           ContactAttempt.status == "planned")
                    .values(status="cancelled", reason=f"sms_{status}"))
    resp = latest_open(session, case.id)
    if resp is not None and resp.status == "in_progress":
        resp.status, resp.current_question = "incomplete", None
    case.next_check_at = now  # the planner queues the letter (R4.2)
    return status


#: what a status of each kind of contact changes, once its attempt is known
_APPLY: dict[str, Callable[[Session, Settings, ContactAttempt, str, str, dict[str, str], datetime], str]] = {
    "call": _apply_call,
    "sms": _apply_sms,
}


def apply_kept(session: Session, settings: Settings, now: datetime, *, limit: int = 500) -> int:
    """Apply every kept callback whose SID an attempt now carries, oldest first; how many.

    A kept callback nobody ever claims stays stored (pending) for staff and audits.
    """
    rows = session.execute(
        select(TwilioCallback, ContactAttempt)
        .join(ContactAttempt, ContactAttempt.provider_id == TwilioCallback.sid)
        .where(TwilioCallback.pending.is_(True))
        .order_by(TwilioCallback.id)
        .limit(limit)
        .with_for_update(of=TwilioCallback, skip_locked=True)
    ).all()
    for cb, a in rows:
        cb.pending = False
        params = json.loads(cb.params or "{}")
        if cb.kind == a.channel and cb.kind in _APPLY:
            result = _APPLY[cb.kind](session, settings, a, cb.sid, cb.status, params, now)
        else:
            result = "not a match"
        log.info("kept %s callback %s %s applied: %s", cb.kind, cb.sid, cb.status, result)
    return len(rows)


def kept_callbacks(rt: Runtime, now: datetime) -> dict[str, int]:
    """The worker's ``twilio_callbacks`` duty: apply the kept callbacks whose SID is now known."""
    with rt.sessions() as s:
        applied = apply_kept(s, rt.settings, now)
        s.commit()
    return {"callbacks_applied": applied}


def aliyun_report(session: Session, settings: Settings, item: dict[str, str], now: datetime) -> str:
    """One Alibaba Cloud delivery receipt (SmsReport, CONTRACT §10), handled as a Twilio SMS status:
    ``success`` true is ``delivered``, false ``undelivered`` (the case moves on to the letter, R4.2);
    the same (BizId, status) twice changes state once. ``item`` is already read: ``biz_id``,
    ``success`` ("true"/"false"), ``err_code``, ``out_id`` (our attempt id, or empty for a reply)."""
    biz_id = item.get("biz_id", "")
    if not biz_id:
        return "ignored: no biz_id"
    status = "delivered" if item.get("success") == "true" else "undelivered"
    params = {"ErrorCode": item.get("err_code", "")[:30], "MessageStatus": status}
    out_id = item.get("out_id", "")
    attempt_id = int(out_id) if out_id.isdigit() else None
    if attempt_id is None:  # a reply to the customer's SMS (no attempt): its copy notes the receipt, once
        if not first_time(session, biz_id, status, "sms", now):
            return "duplicate"
        session.execute(update(SmsMessage).where(SmsMessage.provider_id == biz_id).values(status=status))
        return f"reply {status}"
    return _once(session, settings, "sms", biz_id, status, params, now, attempt_id)
