"""Write an event into the outbox, in the caller's transaction (never sent from here)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from followup.models import WebhookEvent
from followup.privacy import scrub

EVENT_TYPES = (
    "visit.imported",
    "call.completed",
    "case.fallback",
    "sms.received",
    "survey.completed",
    "complaint.opened",
    "complaint.escalated",
    "complaint.resolved",
    "three_day_rule.breached",
    "customer.opted_out",
    "case.closed",
    "worklist.call_recorded",  # staff recorded a call made from the call worklist (CONTRACT §9)
    "channel.paused",  # a store's calls or SMS paused on an account/configuration error (R3)
    "channel.resumed",  # an administrator resumed it (R3)
)


def new_event_id() -> str:
    return "msg_" + secrets.token_hex(12)


def emit(session: Session, type_: str, data: dict[str, Any], *, at: datetime, case_id: int | None = None) -> WebhookEvent:
    """Record that something happened; the delivery job signs and sends it later.

    ``data`` is scrubbed first: phone numbers masked, addresses dropped (CONTRACT §8).
    """
    event = WebhookEvent(**_event_values(type_, data, at=at, case_id=case_id))
    session.add(event)
    return event


def emit_many(session: Session, events: Sequence[tuple[str, dict[str, Any], int | None]], *, at: datetime) -> None:
    """:func:`emit` for each ``(type, data, case_id)``, in order, with one INSERT (an import's batch)."""
    if events:
        session.execute(insert(WebhookEvent.__table__), [  # type: ignore[arg-type]
            _event_values(type_, data, at=at, case_id=case_id) for type_, data, case_id in events
        ])


def _event_values(type_: str, data: dict[str, Any], *, at: datetime, case_id: int | None) -> dict[str, Any]:
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    return {"event_id": new_event_id(), "type": type_, "occurred_at": at, "case_id": case_id, "data": scrub(data)}
