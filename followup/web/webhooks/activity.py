"""One line of the dashboard's activity stream per received event, e.g. ``通话结束 · SZ01 RO123 · 无人接听``."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from followup.models import ReceivedEvent
from followup.web.i18n import translate

#: event type -> its English label (Chinese in followup/translations)
LABELS = {
    "visit.imported": "Visit imported",
    "call.completed": "Call finished",
    "case.fallback": "Follow-up moved on",
    "sms.received": "SMS received",
    "survey.completed": "Survey completed",
    "complaint.opened": "Complaint opened",
    "complaint.escalated": "Complaint escalated",
    "complaint.resolved": "Complaint resolved",
    "three_day_rule.breached": "Three-day rule breached",
    "customer.opted_out": "Customer opted out",
    "case.closed": "Case closed",
    "worklist.call_recorded": "Worklist call recorded",
    "channel.paused": "Channel paused",
    "channel.resumed": "Channel resumed",
    "webhook.test": "Test event",
}

#: values of ``outcome``, ``channel`` and ``reason`` shown in words
VALUES = {
    "answered": "answered", "no_answer": "no answer", "busy": "busy", "failed": "call failed",
    "voicemail": "voicemail", "hung_up": "hung up", "invalid_number": "invalid number",
    "callback_requested": "callback requested", "declined": "declined",
    "satisfied": "satisfied", "unreachable": "unreachable", "opted_out": "opted out",
    "dissatisfied_closed": "closed dissatisfied", "cancelled": "cancelled",
    "call": "calls", "sms": "SMS survey", "letter": "letter", "ivr": "phone (IVR)", "web": "web survey", "staff": "staff call",
    "late_intake": "imported late", "insufficient_window": "too few calling hours",
    "system_delay": "system delay", "no_phone": "no phone number", "staff_capacity": "not enough staff time",
}


def describe(event: ReceivedEvent, lang: str) -> str:
    """A short human line for ``event`` in ``lang``; only what the event says, as plain text."""
    data: dict[str, Any] = event.data or {}
    parts = [translate(LABELS.get(event.type, event.type), lang)]
    ref = " ".join(str(data[k]) for k in ("store_code", "ro_number") if data.get(k))
    if ref:
        parts.append(ref)
    for key in ("outcome", "channel", "reason"):
        value = data.get(key)
        if isinstance(value, str) and value:
            parts.append(translate(VALUES.get(value, value), lang))
            break
    if event.type == "survey.completed" and isinstance(data.get("score"), int | float):
        parts.append(translate("score", lang) + f" {data['score']:.0f}")
        parts.append(translate("satisfied" if data.get("satisfied") else "dissatisfied", lang))
    if isinstance(data.get("level"), int):
        parts.append(translate("level", lang) + f" {data['level']}")
    return " · ".join(parts)


def item(event: ReceivedEvent, lang: str, tz: ZoneInfo) -> dict[str, Any]:
    """What the browser gets for one event (rendered with textContent)."""
    at = event.occurred_at or event.received_at
    return {"id": event.id, "type": event.type, "text": describe(event, lang),
            "at": at.astimezone(tz).strftime("%m-%d %H:%M:%S")}
