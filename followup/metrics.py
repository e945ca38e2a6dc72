"""``GET /metrics``: the service's health as Prometheus reads it (text exposition format 0.0.4).

Every number is computed from the database at the scrape (the database is the truth: several web
and worker processes share it, and none keeps counters of its own). Each query is served by an
index: due rows by ``ix_attempts_due``, finished contacts by ``ix_attempts_call_ended`` /
``ix_attempts_sms_ended``, callbacks by ``ix_twilio_callbacks_received``, the webhook backlog by
``ix_deliveries_due``, open complaints by ``ix_complaints_overdue`` (partial on the open ones), open pauses by
``ux_channel_pauses_open``.

Windowed counts ("finished in the last 5 minutes") are gauges, not counters: they go down as
the window moves. Label values: ``store`` is the store code, ``channel`` call / sms / letter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from followup.models import (
    ChannelPause,
    Complaint,
    ContactAttempt,
    FollowupCase,
    Store,
    TwilioCallback,
    WebhookDelivery,
    WebhookEvent,
)
from followup.rules.complaint_levels import IN_HAND

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CHANNELS = ("call", "sms", "letter")
#: the windows of the rates, as their label value
WINDOWS = (("5m", timedelta(minutes=5)), ("1h", timedelta(hours=1)))

#: name -> (type, help); the order of the exposition
FAMILIES: dict[str, tuple[str, str]] = {
    "followup_contacts_due": ("gauge", "Planned contacts due now (due_at <= now), by store and channel."),
    "followup_contacts_due_oldest_age_seconds": (
        "gauge", "Seconds since the oldest due contact became due (queue age), by store and channel; 0 when none."),
    "followup_contacts_finished": (
        "gauge", "Calls and SMS that finished (ended_at) within the window, by channel and window."),
    "followup_provider_callbacks": (
        "gauge", "Provider status callbacks received (Twilio, Alibaba Cloud) within the window, by kind."),
    "followup_webhook_deliveries_pending": ("gauge", "Webhook deliveries not yet delivered nor given up."),
    "followup_webhook_oldest_pending_age_seconds": (
        "gauge", "Seconds since the event of the oldest pending webhook delivery happened; 0 when none."),
    "followup_complaints_open": ("gauge", "Complaints open or acknowledged, by level."),
    "followup_channel_paused": ("gauge", "1 for each store's channel paused on an account or configuration error."),
    "followup_channels_paused": ("gauge", "Store channels paused now."),
}


@dataclass(frozen=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


def _age(now: datetime, since: datetime | None) -> float:
    if since is None:
        return 0.0
    if since.tzinfo is None:  # SQLite hands back naive UTC
        now = now.replace(tzinfo=None)
    return max(0.0, (now - since).total_seconds())


def collect(session: Session, now: datetime) -> list[Sample]:
    """Every sample, from one short read of the database."""
    out: list[Sample] = []
    stores = list(session.scalars(select(Store.code).order_by(Store.code)))
    due = {
        (row[0], row[1]): (int(row[2]), row[3])
        for row in session.execute(
            select(Store.code, ContactAttempt.channel, func.count(), func.min(ContactAttempt.due_at))
            .select_from(ContactAttempt)
            .join(FollowupCase, FollowupCase.id == ContactAttempt.case_id)
            .join(Store, Store.id == FollowupCase.store_id)
            .where(ContactAttempt.status == "planned", ContactAttempt.due_at <= now)
            .group_by(Store.code, ContactAttempt.channel))
    }
    for store in stores:
        for channel in CHANNELS:
            count, oldest = due.get((store, channel), (0, None))
            labels = (("store", store), ("channel", channel))
            out.append(Sample("followup_contacts_due", labels, count))
            out.append(Sample("followup_contacts_due_oldest_age_seconds", labels, _age(now, oldest)))
    for window, length in WINDOWS:
        for channel in ("call", "sms"):
            finished = session.scalar(select(func.count()).select_from(ContactAttempt).where(
                ContactAttempt.channel == channel, ContactAttempt.ended_at > now - length,
                ContactAttempt.ended_at <= now))
            out.append(Sample("followup_contacts_finished", (("channel", channel), ("window", window)),
                              int(finished or 0)))
    callbacks = {str(kind): int(n) for kind, n in session.execute(
        select(TwilioCallback.kind, func.count()).where(TwilioCallback.received_at > now - timedelta(minutes=5),
                                                        TwilioCallback.received_at <= now)
        .group_by(TwilioCallback.kind))}
    for kind in ("call", "sms"):
        out.append(Sample("followup_provider_callbacks", (("kind", kind), ("window", "5m")),
                          int(callbacks.get(kind, 0))))
    pending, oldest_event = session.execute(
        select(func.count(), func.min(WebhookEvent.occurred_at)).select_from(WebhookDelivery)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.status == "pending")).one()
    out.append(Sample("followup_webhook_deliveries_pending", (), int(pending or 0)))
    out.append(Sample("followup_webhook_oldest_pending_age_seconds", (), _age(now, oldest_event)))
    levels = {int(level): int(n) for level, n in session.execute(
        select(Complaint.level, func.count()).where(Complaint.status.in_(IN_HAND)).group_by(Complaint.level))}
    for level in sorted({1, 2, 3, *levels}):
        out.append(Sample("followup_complaints_open", (("level", str(level)),), int(levels.get(level, 0))))
    paused = session.execute(select(ChannelPause.store_code, ChannelPause.channel)
                             .where(ChannelPause.resumed_at.is_(None))
                             .order_by(ChannelPause.store_code, ChannelPause.channel)).all()
    for store_code, channel in paused:
        out.append(Sample("followup_channel_paused", (("store", store_code), ("channel", channel)), 1))
    out.append(Sample("followup_channels_paused", (), len(paused)))
    return out


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render(samples: Iterable[Sample]) -> str:
    """The text exposition: ``# HELP`` and ``# TYPE`` once per family, then its samples."""
    by_name: dict[str, list[Sample]] = {}
    for sample in samples:
        by_name.setdefault(sample.name, []).append(sample)
    lines: list[str] = []
    for name, (kind, text) in FAMILIES.items():
        found: Sequence[Sample] = by_name.get(name, [])
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        for s in found:
            labels = ",".join(f'{k}="{_escape(v)}"' for k, v in s.labels)
            lines.append(f"{name}{{{labels}}} {_number(s.value)}" if labels else f"{name} {_number(s.value)}")
    return "\n".join(lines) + "\n"
