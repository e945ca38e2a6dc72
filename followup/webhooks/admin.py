"""What the subscribers page does: add, turn off or on, rotate a secret, queue a test, replay.

Nothing here sends anything: a test event or a replay is queued, and the next delivery pass
posts it (nothing is sent from inside a request handler).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from followup import audit
from followup.models import DeliveryTry, WebhookDelivery, WebhookEvent, WebhookSubscriber
from followup.webhooks.destinations import DestinationRefused, Resolver, resolve
from followup.webhooks.outbox import new_event_id
from followup.webhooks.poster import short_line
from followup.webhooks.robots import DINGTALK, KINDS, STANDARD, shown_url
from followup.webhooks.signing import new_secret
from followup.webhooks.subscribers import BY_ADMIN, GONE, disable, rotate_secret

log = logging.getLogger("followup.webhooks")


class SubscriberError(ValueError):
    """A request the page refuses, with a message for the user (English id, translated)."""


@dataclass(frozen=True)
class SubscriberRow:
    sub: WebhookSubscriber
    delivered: int
    pending: int
    gave_up: int
    last_try_at: datetime | None


def overview(session: Session) -> list[SubscriberRow]:
    d = WebhookDelivery
    counts = {
        row[0]: row[1:]
        for row in session.execute(
            select(d.subscriber_id,
                   func.sum(case((d.status == "delivered", 1), else_=0)),
                   func.sum(case((d.status == "pending", 1), else_=0)),
                   func.sum(case((d.status == "gave_up", 1), else_=0)),
                   func.max(d.last_try_at)).group_by(d.subscriber_id)
        )
    }
    out = []
    for sub in session.scalars(select(WebhookSubscriber).order_by(WebhookSubscriber.id)):
        c = counts.get(sub.id, (0, 0, 0, None))
        out.append(SubscriberRow(sub, int(c[0] or 0), int(c[1] or 0), int(c[2] or 0), c[3]))
    return out


def check_url(url: str) -> str:
    url = url.strip()
    if not url.startswith(("http://", "https://")) or any(ch.isspace() for ch in url) or len(url) > 500:
        raise SubscriberError("The address must be an http:// or https:// URL (at most 500 characters).")
    return url


def check_public(url: str, *, allow_private: bool, resolver: Resolver | None = None) -> None:
    """A subscriber added here may only point at the public internet (:mod:`.destinations`), unless
    ``FOLLOWUP_WEBHOOK_ALLOW_PRIVATE=1``; the delivery checks again before every try."""
    if allow_private:
        return
    try:
        resolve(url, resolver)
    except DestinationRefused as exc:
        log.info("webhook subscriber refused: %s", exc)
        raise SubscriberError("This address is not on the public internet (loopback, private, link-local and "
                              "metadata addresses are refused).") from None


def check_robot_secret(kind: str, secret: str) -> str:
    """A DingTalk robot's 加签 secret (``SEC…``, optional: the robot may use a keyword instead);
    none for the others."""
    secret = secret.strip()
    if kind != DINGTALK or not secret:
        return ""
    if not secret.startswith("SEC") or len(secret) > 200 or not secret.isascii() or not secret.isalnum():
        raise SubscriberError("The DingTalk signing secret starts with SEC and has only letters and digits.")
    return secret


def add(session: Session, url: str, *, now: datetime, actor: str, allow_private: bool = False,
        resolver: Resolver | None = None, kind: str = STANDARD,
        robot_secret: str = "") -> tuple[WebhookSubscriber, str | None]:
    """A new subscriber. A standard one gets a fresh secret, returned to be shown once; a group robot
    (``kind`` wecom or dingtalk) has none to show (DingTalk's ``robot_secret`` is the robot's own).
    Its address must be public unless ``allow_private`` (``FOLLOWUP_WEBHOOK_ALLOW_PRIVATE``)."""
    if kind not in KINDS:
        raise SubscriberError("Choose the kind of subscriber: Standard Webhooks, WeCom robot or DingTalk robot.")
    url = check_url(url)
    check_public(url, allow_private=allow_private, resolver=resolver)
    if session.scalar(select(WebhookSubscriber.id).where(WebhookSubscriber.url == url)) is not None:
        raise SubscriberError("This address is already a subscriber.")
    secret = new_secret() if kind == STANDARD else check_robot_secret(kind, robot_secret)
    sub = WebhookSubscriber(url=url, secret=secret, active=True, source="admin", created_at=now, kind=kind)
    session.add(sub)
    session.flush()
    audit.record(session, actor, "webhook.subscriber_added", at=now, url=shown_url(url, kind), kind=kind)
    return sub, secret if kind == STANDARD else None


def get(session: Session, sub_id: int) -> WebhookSubscriber:
    sub = session.get(WebhookSubscriber, sub_id)
    if sub is None:
        raise LookupError(sub_id)
    return sub


def turn_off(session: Session, sub: WebhookSubscriber, *, now: datetime, actor: str) -> None:
    if sub.active:
        disable(session, sub, BY_ADMIN, now=now, actor=actor)


def turn_on(session: Session, sub: WebhookSubscriber, *, now: datetime, actor: str) -> None:
    """Only a subscriber an admin turned off; one that answered 410 Gone stays off (CONTRACT §8)."""
    if sub.active:
        return
    if sub.disabled_reason != BY_ADMIN:
        raise SubscriberError("This subscriber answered 410 Gone and stays off; add it again under a new address.")
    sub.active, sub.disabled_reason, sub.disabled_at = True, None, None
    audit.record(session, actor, "webhook.subscriber_enabled", at=now, url=shown_url(sub.url, sub.kind))


def rotate(session: Session, sub: WebhookSubscriber, *, now: datetime, actor: str) -> str:
    """A new secret (shown once); the old one keeps signing for 24 hours next to it."""
    if sub.source == "config":
        raise SubscriberError("This subscriber's secret comes from the configuration; change it there.")
    if sub.kind != STANDARD:
        raise SubscriberError("A group robot's secret is set in the group's robot settings; add the robot again.")
    secret = rotate_secret(sub, now)
    audit.record(session, actor, "webhook.secret_rotated", at=now, url=shown_url(sub.url, sub.kind))
    return secret


def queue_test(session: Session, sub: WebhookSubscriber, *, now: datetime, actor: str) -> WebhookEvent:
    """A ``webhook.test`` event for this subscriber only; the next pass sends it."""
    if not sub.active:
        raise SubscriberError("This subscriber is turned off.")
    event = WebhookEvent(event_id=new_event_id(), type="webhook.test", occurred_at=now, case_id=None,
                         data={"message": "test event from the followup admin panel", "by": actor},
                         fanned_out_at=now)  # not fanned out to the other subscribers
    session.add(event)
    session.flush()
    session.add(WebhookDelivery(event_id=event.id, subscriber_id=sub.id, status="pending", tries=0, next_try_at=now))
    audit.record(session, actor, "webhook.test_queued", at=now, url=shown_url(sub.url, sub.kind))
    return event


@dataclass(frozen=True)
class LogLine:
    attempt: DeliveryTry
    delivery: WebhookDelivery
    event: WebhookEvent

    @property
    def answer(self) -> str:
        """What the log shows of the receiver's answer: one short, printable line (rows written
        before it was cut to that still hold up to a kilobyte)."""
        return short_line(self.attempt.response)


def delivery_log(session: Session, sub: WebhookSubscriber, *, limit: int = 200) -> list[LogLine]:
    """The latest tries to one subscriber, newest first."""
    rows = session.execute(
        select(DeliveryTry, WebhookDelivery, WebhookEvent)
        .join(WebhookDelivery, WebhookDelivery.id == DeliveryTry.delivery_id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.subscriber_id == sub.id)
        .order_by(DeliveryTry.id.desc()).limit(limit)
    ).all()
    return [LogLine(*row) for row in rows]


def replay(session: Session, delivery_id: int, *, now: datetime, actor: str) -> WebhookDelivery:
    """Send a delivery again (same id, same body), on a fresh schedule, at the next pass."""
    d = session.get(WebhookDelivery, delivery_id)
    if d is None:
        raise LookupError(delivery_id)
    sub = session.get_one(WebhookSubscriber, d.subscriber_id)
    if not sub.active:
        raise SubscriberError("This subscriber is turned off.")
    d.status, d.tries, d.next_try_at = "pending", 0, now
    audit.record(session, actor, "webhook.replayed", at=now, url=shown_url(sub.url, sub.kind), delivery=d.id)
    return d


__all__ = ["GONE", "SubscriberError", "add", "shown_url", "delivery_log", "overview", "queue_test", "replay", "rotate",
           "turn_off", "turn_on"]
