"""The admin panel's side: events its receiver accepted, stored once per webhook id, read by the live stream."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from followup.models import ReceivedEvent
from followup.webhooks.subscribers import panel_subscriber, valid_secrets


def panel_keys(session: Session, now: datetime) -> list[str]:
    """The secrets the panel's receiver accepts now (none before the first delivery pass made one)."""
    sub = panel_subscriber(session)
    return valid_secrets(sub, now) if sub is not None else []


def accept(session: Session, webhook_id: str, event: dict[str, Any], *, received_at: datetime) -> bool:
    """Store a verified event; False (and nothing changed) when this id was already received."""
    if session.scalar(select(ReceivedEvent.id).where(ReceivedEvent.webhook_id == webhook_id)) is not None:
        return False
    data = event.get("data")
    row = ReceivedEvent(webhook_id=webhook_id, type=str(event["type"])[:40], occurred_at=_instant(event.get("timestamp")),
                        received_at=received_at, data=data if isinstance(data, dict) else {})
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # the same id arriving twice at the same moment
        return False
    return True


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def start_after(session: Session, backlog: int) -> int:
    """The id after which a new stream starts: so that it first shows the last ``backlog`` events."""
    top = session.scalar(select(func.max(ReceivedEvent.id))) or 0
    return max(0, top - backlog)


def received_after(session: Session, last_id: int, limit: int = 100) -> list[ReceivedEvent]:
    return list(session.scalars(
        select(ReceivedEvent).where(ReceivedEvent.id > last_id).order_by(ReceivedEvent.id).limit(limit)
    ))
