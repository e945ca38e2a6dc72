"""The webhook outbox: events written with the change they report, delivered later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from followup.models.base import Base


class WebhookEvent(Base):
    """One event (CONTRACT §8), written in the same transaction as the change it reports."""

    __tablename__ = "webhook_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the webhook-id header: stable across retries
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: set once a delivery row exists for every active subscriber (the fan-out)
    fanned_out_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_events_fan_out", "id", postgresql_where=text("fanned_out_at IS NULL"),
              sqlite_where=text("fanned_out_at IS NULL")),
    )


class WebhookSubscriber(Base):
    """A receiver of webhooks; 410 turns it off for good."""

    __tablename__ = "webhook_subscribers"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500), unique=True)
    #: whsec_ secrets; during rotation both sign
    secret: Mapped[str] = mapped_column(String(200))
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    previous_valid_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    #: config | env | admin | panel (the admin panel's own receiver)
    source: Mapped[str] = mapped_column(String(10), default="admin")
    created_at: Mapped[datetime]
    #: when it was turned off (410 Gone, by an admin, or removed from the configuration)
    disabled_at: Mapped[datetime | None]
    #: standard (Standard Webhooks) | wecom (企业微信 group robot) | dingtalk (钉钉 group robot, its
    #: 加签 secret ``SEC…`` in ``secret``); robots get a Markdown message of a few event types
    kind: Mapped[str] = mapped_column(String(10), default="standard", server_default="standard")


class WebhookDelivery(Base):
    """One event for one subscriber, with its retry schedule."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscriber_id"),
        Index("ix_deliveries_due", "status", "next_try_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscribers.id"))
    #: pending | delivered | gave_up | disabled
    status: Mapped[str] = mapped_column(String(12), default="pending")
    tries: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime | None]
    last_status: Mapped[int | None]
    last_response: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    #: the service-clock time of the last try
    last_try_at: Mapped[datetime | None]


class DeliveryTry(Base):
    """One try of one delivery (the delivery log): when, what came back, how long it took."""

    __tablename__ = "webhook_delivery_log"
    __table_args__ = (Index("ix_delivery_log_delivery", "delivery_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"))
    #: the service's clock (the retry schedule runs on it)
    at: Mapped[datetime]
    #: the real time of the sending (the ``webhook-timestamp`` header)
    sent_at: Mapped[datetime]
    #: None when no answer came (timeout, connection refused)
    http_status: Mapped[int | None]
    latency_ms: Mapped[int]
    #: first 1 KB of the answer, or what went wrong ("timeout", "connection refused")
    response: Mapped[str | None] = mapped_column(Text)
    #: delivered | retry | gave_up | disabled
    result: Mapped[str] = mapped_column(String(12))


class ReceivedEvent(Base):
    """An event the admin panel's own receiver accepted: stored once per webhook id."""

    __tablename__ = "received_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the ``webhook-id`` header; a replay of the same id is accepted and ignored
    webhook_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    #: the body's ``timestamp``: when the event happened
    occurred_at: Mapped[datetime | None]
    #: the receiver's wall clock
    received_at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
