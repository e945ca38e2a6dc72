"""What Alibaba Cloud SMS pushes to us (CONTRACT §10): delivery receipts (SmsReport) and the
customers' replies (SmsUp), each a JSON array of items, and the answers to replies.

Receipts are handled as Twilio SMS statuses (:func:`~followup.engine.provider_callbacks.aliyun_report`);
replies go to the one SMS conversation both providers share
(:func:`~followup.surveys.sms_survey.converse`: survey answers, opt-out and opt-in words, HELP,
reply codes). A reply cannot be tied to the message it answers: it is matched by phone number to
the customer's open conversation, most recent first. Every answer to the customer is a new
``SendSms`` of the answer's template (:data:`REPLY_KINDS`), sent after the push is committed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from followup.channels.base import AccountError, Channel, Contact, PermanentError, TransientError
from followup.engine.pauses import pause, paused_pairs
from followup.engine.provider_callbacks import aliyun_report
from followup.messages import OPT_OUT_CONFIRMATION
from followup.settings import Settings
from followup.surveys.sms_survey import Inbound, Reply, converse

log = logging.getLogger("followup.aliyun")

#: the conversation's message templates -> the Alibaba Cloud template kind that carries each
REPLY_KINDS = {
    "sms_question.txt.j2": "question", "sms_reask.txt.j2": "reask", "sms_thanks.txt.j2": "thanks",
    "sms_incomplete.txt.j2": "incomplete", "sms_code_hint.txt.j2": "code_hint", "sms_help.txt.j2": "help",
    OPT_OUT_CONFIRMATION: "opt_out_confirmation", "sms_optin.txt.j2": "optin",
}


def read_items(raw: bytes) -> list[dict[str, Any]] | None:
    """The pushed JSON array of objects; None when the body is anything else (answered 400)."""
    try:
        items = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return None
    return items


def _text(value: Any) -> str:
    """A field as text: numbers (``sequence_id`` 12345 or "12345") and booleans alike."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def mainland_e164(phone: str) -> str:
    """``13800138000`` -> ``+8613800138000`` (how customers' mobiles are stored); others unchanged."""
    digits = phone.strip()
    return f"+86{digits}" if len(digits) == 11 and digits.isdigit() and digits.startswith("1") else digits


def store_reports(session: Session, settings: Settings, items: list[dict[str, Any]], now: datetime) -> list[str]:
    """Each receipt of one push, in order; what each did (``duplicate`` for one seen before)."""
    results = []
    for item in items:
        fields = {k: _text(item.get(k)) for k in ("biz_id", "out_id", "err_code", "phone_number")}
        fields["success"] = _text(item.get("success")).lower()
        results.append(aliyun_report(session, settings, fields, now))
    return results


def reply_id(item: dict[str, Any]) -> str:
    """The stored provider id of one SmsUp item: its phone and ``sequence_id`` (number or string);
    without a sequence id, a digest of phone, time and text. The same reply pushed twice has one id."""
    phone, seq = _text(item.get("phone_number")), _text(item.get("sequence_id"))
    if seq:
        return f"aliyun-up:{phone}:{seq}"[:64]
    digest = hashlib.sha256(f"{phone}|{_text(item.get('send_time'))}|{_text(item.get('content'))}".encode())
    return f"aliyun-up:{digest.hexdigest()[:40]}"


def store_replies(session: Session, settings: Settings, items: list[dict[str, Any]], now: datetime) -> list[Reply]:
    """Hand each reply of one push to the shared conversation, in the order Alibaba Cloud sent them
    (``send_time``, then ``sequence_id``); the answers to send once this is committed."""
    def order(item: dict[str, Any]) -> tuple[str, int, str]:
        seq = _text(item.get("sequence_id"))
        return _text(item.get("send_time")), int(seq) if seq.isdigit() else 0, seq

    answers: list[Reply] = []
    for item in sorted(items, key=order):
        msg = Inbound(sid=reply_id(item), from_number=mainland_e164(_text(item.get("phone_number"))),
                      to_number=_text(item.get("dest_code")) or "aliyun", body=_text(item.get("content")))
        answers.extend(converse(session, settings, msg, now))
        session.flush()  # the next item of the push sees this one (a duplicate inside one push)
    return answers


def reply_contact(reply: Reply) -> Contact:
    """The ``SendSms`` of one answer: its template kind and variables; no attempt (no OutId)."""
    return Contact(0, reply.stored.case_id or 0, "sms", REPLY_KINDS[reply.template], reply.stored.to_number,
                   reply.language, reply.store_code, reply.body, reply.context)


def send_replies(session: Session, channel: Channel, replies: list[Reply], now: datetime) -> int:
    """Send the answers of a committed push, each a new ``SendSms``; the caller commits their ids.

    An answer the provider refuses is kept with status ``failed`` (the customer's message and the
    survey's progress are already stored; staff see both on the case); an account error pauses the
    store's SMS as a dispatched SMS would (R3), and a paused store's answers are not sent. How many
    went out."""
    went = 0
    for reply in replies:
        if (reply.store_code, "sms") in paused_pairs(session):
            reply.stored.status = "failed"  # the store's SMS are paused (R3): not sent, kept on the case
            continue
        try:
            sent = channel.send(reply_contact(reply), now)
        except (TransientError, PermanentError, AccountError) as exc:
            reply.stored.status = "failed"
            log.warning("answer to an SMS reply not sent (%s): %s", getattr(exc, "code", None), exc)
            if isinstance(exc, AccountError) and reply.stored.store_id is not None:  # R3: pause the store's SMS
                pause(session, reply.store_code, reply.stored.store_id, "sms", exc.code, str(exc), now)
            continue
        reply.stored.provider_id, reply.stored.status = sent.provider_id, "sent"
        went += 1
    return went
