"""Who receives webhooks, and the fan-out of each new event to them.

Subscribers come from three places: the configuration (``[[webhooks.subscribers]]`` and
``FOLLOWUP_WEBHOOK_URLS``), the admin page, and the admin panel's own receiver
(``PUBLIC_BASE_URL`` + ``/webhooks/events``), whose secret is generated and stored on first
use unless the configuration lists that URL with a secret of its own.
A subscriber turned off by a 410 answer stays off, whatever the configuration says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from followup import audit
from followup.id_sets import among
from followup.models import WebhookDelivery, WebhookEvent, WebhookSubscriber
from followup.settings import Settings
from followup.webhooks.robots import ROBOT_EVENTS, STANDARD, shown_url
from followup.webhooks.signing import new_secret

RECEIVER_PATH = "/webhooks/events"
#: how long a rotated-out secret keeps signing next to the new one
ROTATION_OVERLAP = timedelta(hours=24)
#: events fanned out per pass; a larger backlog is worked through over several passes
FAN_OUT_BATCH = 1000

GONE = "gone"  # answered 410: off for good
BY_ADMIN = "admin"
REMOVED = "removed from configuration"


def panel_url(settings: Settings) -> str:
    return settings.public_base_url + RECEIVER_PATH


def panel_subscriber(session: Session) -> WebhookSubscriber | None:
    return session.scalar(select(WebhookSubscriber).where(WebhookSubscriber.source == "panel"))


def valid_secrets(sub: WebhookSubscriber, now: datetime) -> list[str]:
    """The secrets that sign (and verify) now: the current one, then a rotated-out one still in its overlap."""
    keys = [sub.secret]
    if sub.previous_secret and sub.previous_valid_until and sub.previous_valid_until > now:
        keys.append(sub.previous_secret)
    return keys


def rotate_secret(sub: WebhookSubscriber, now: datetime, new: str | None = None) -> str:
    """Give ``sub`` a new secret; the old one keeps signing for :data:`ROTATION_OVERLAP`."""
    sub.previous_secret, sub.previous_valid_until = sub.secret, now + ROTATION_OVERLAP
    sub.secret = new or new_secret()
    return sub.secret


def sync_subscribers(session: Session, settings: Settings, now: datetime) -> None:
    """Make the subscriber rows match the configuration; the caller commits."""
    if session.get_bind().dialect.name == "postgresql":
        # Several workers start together: one syncs at a time, the others then find its rows.
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('followup.webhook_subscribers'))"))
    rows = {s.url: s for s in session.scalars(select(WebhookSubscriber))}
    configured = {s.url: s.secret for s in settings.subscribers}
    url = panel_url(settings)
    panel = panel_subscriber(session)
    if panel is None:
        panel = rows.get(url) or WebhookSubscriber(url=url, secret=configured.get(url) or new_secret(),
                                                    active=True, created_at=now)
        panel.source = "panel"
        session.add(panel)
    elif panel.url != url and url not in rows:
        panel.url = url  # PUBLIC_BASE_URL changed
    rows[url] = panel
    for sub_url, secret in configured.items():
        if sub_url == url:
            if panel.secret != secret:
                rotate_secret(panel, now, secret)
            continue
        row = rows.get(sub_url)
        if row is None:
            row = WebhookSubscriber(url=sub_url, secret=secret, active=True, created_at=now,
                                    source="config")
            session.add(row)
            rows[sub_url] = row
            continue
        if row.secret != secret:
            rotate_secret(row, now, secret)
        if not row.active and row.disabled_reason == REMOVED:
            row.active, row.disabled_reason, row.disabled_at = True, None, None
    for row in rows.values():
        if row.source in ("config", "env") and row.url not in configured and row.active:
            row.active, row.disabled_reason, row.disabled_at = False, REMOVED, now
    session.flush()


def disable(session: Session, sub: WebhookSubscriber, reason: str, *, now: datetime, actor: str) -> int:
    """Turn a subscriber off; its pending deliveries stop. Returns how many were stopped."""
    sub.active, sub.disabled_reason, sub.disabled_at = False, reason, now
    stopped = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.subscriber_id == sub.id, WebhookDelivery.status == "pending")
        .values(status="disabled", next_try_at=None)
    ).rowcount  # type: ignore[attr-defined]
    audit.record(session, actor, "webhook.subscriber_disabled", at=now, url=shown_url(sub.url, sub.kind),
                 reason=reason)
    return int(stopped or 0)


@dataclass
class FanOut:
    events: int = 0
    deliveries: int = 0


def fan_out(session: Session, now: datetime, *, limit: int = FAN_OUT_BATCH) -> FanOut:
    """Give each new event one delivery per active subscriber; the caller commits.

    A group robot (WeCom, DingTalk) gets only the events of :data:`ROBOT_EVENTS`."""
    q = select(WebhookEvent.id, WebhookEvent.type).where(WebhookEvent.fanned_out_at.is_(None)).order_by(WebhookEvent.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    found = session.execute(q).all()
    counts = FanOut(events=len(found))
    if not found:
        return counts
    subscribers = session.execute(select(WebhookSubscriber.id, WebhookSubscriber.kind)
                                  .where(WebhookSubscriber.active.is_(True))).all()
    # One INSERT and one UPDATE for the pass (a tick that sent a thousand contacts has a thousand events).
    rows = [{"event_id": event_id, "subscriber_id": sub_id, "status": "pending", "tries": 0, "next_try_at": now}
            for event_id, type_ in found for sub_id, kind in subscribers if kind == STANDARD or type_ in ROBOT_EVENTS]
    if rows:
        session.execute(insert(WebhookDelivery), rows)
    events = [event_id for event_id, _ in found]
    session.execute(update(WebhookEvent).where(among(session, WebhookEvent.id, events)).values(fanned_out_at=now))
    counts.deliveries = len(rows)
    return counts
