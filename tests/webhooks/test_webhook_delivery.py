"""Delivery to a local receiver: signatures, the retry schedule, 410, Retry-After, timeouts, redirects, order."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook
from webhook_world import (
    NOW,
    NoJitter,
    Reply,
    allow_private_receivers,
    at,
    receiver,
    subscribe,
    subscriber,
    with_settings,
)

from followup.models import AuditEntry, DeliveryTry, WebhookDelivery, WebhookEvent
from followup.runtime import Runtime
from followup.settings import Subscriber
from followup.webhooks.delivery import SCHEDULE, deliver_due, next_wait
from followup.webhooks.outbox import emit
from followup.webhooks.poster import Answer
from followup.webhooks.subscribers import sync_subscribers


@pytest.fixture(autouse=True)
def _private_receivers(rt: Runtime) -> None:
    allow_private_receivers(rt)  # panel subscribers on loopback (the local receivers)


def event(rt: Runtime, type_: str = "call.completed", when: float = 0, **data: object) -> str:
    with rt.sessions() as s:
        e = emit(s, type_, {"store_code": "SZ01", "ro_number": "RO123", "outcome": "no_answer", **data}, at=at(when))
        s.commit()
        return e.event_id


def deliveries(rt: Runtime) -> list[WebhookDelivery]:
    with rt.sessions() as s:
        return list(s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def tries(rt: Runtime) -> list[DeliveryTry]:
    with rt.sessions() as s:
        return list(s.scalars(select(DeliveryTry).order_by(DeliveryTry.id)))


def test_500_twice_then_200_is_delivered_once_on_schedule_with_the_same_id(rt: Runtime) -> None:
    with receiver([Reply(500, body=b"boom"), Reply(500), Reply(204, body=b"")]) as r:
        subscribe(rt, r.url, r.secret)
        msg_id = event(rt)
        assert deliver_due(rt, at(0), rng=NoJitter()) == {"webhooks_sent": 0, "webhooks_failed": 1, "webhooks_gave_up": 0}
        assert deliver_due(rt, at(4.9), rng=NoJitter())["webhooks_failed"] == 0  # not due yet
        assert len(r.received) == 1
        deliver_due(rt, at(5), rng=NoJitter())
        deliver_due(rt, at(5 + 299), rng=NoJitter())
        assert len(r.received) == 2
        assert deliver_due(rt, at(5 + 300), rng=NoJitter())["webhooks_sent"] == 1
        deliver_due(rt, at(100_000), rng=NoJitter())  # nothing more, ever
    assert len(r.received) == 3
    assert {x.id for x in r.received} == {msg_id}
    assert all(x.verified is not None for x in r.received), "standardwebhooks itself verifies every try"
    assert len({x.body for x in r.received}) == 1, "every try sends the same body"
    body = r.bodies()[0]
    assert body["type"] == "call.completed" and body["timestamp"] == NOW.isoformat()
    assert body["data"] == {"store_code": "SZ01", "ro_number": "RO123", "outcome": "no_answer"}
    (d,) = deliveries(rt)
    assert (d.status, d.tries, d.delivered_at) == ("delivered", 3, at(305))
    log = tries(rt)
    assert [(t.at, t.http_status, t.result) for t in log] == [
        (at(0), 500, "retry"), (at(5), 500, "retry"), (at(305), 204, "delivered")]
    assert log[0].response == "boom"


def test_the_webhook_timestamp_is_wall_clock_while_the_body_keeps_the_service_time(rt: Runtime) -> None:
    # The service clock says 2026; the receiver checks the header against its own (real) clock.
    with receiver() as r:
        subscribe(rt, r.url, r.secret)
        event(rt)
        deliver_due(rt, at(0))
    (got,) = r.received
    assert abs(int(got.headers["webhook-timestamp"]) - got.wall_at.timestamp()) < 5
    assert got.verified is not None and got.verified["timestamp"] == NOW.isoformat()


def test_jitter_only_ever_delays_a_try_by_at_most_a_tenth() -> None:
    rng = random.Random(7)
    for n in range(1, len(SCHEDULE)):
        for _ in range(20):
            wait = next_wait(n, rng)
            assert wait is not None and SCHEDULE[n] <= wait <= SCHEDULE[n] * 1.1
    assert next_wait(len(SCHEDULE), rng) is None


def test_410_turns_the_subscriber_off_for_good(rt: Runtime) -> None:
    with receiver([Reply(410)]) as r:
        subscribe(rt, r.url, r.secret)
        event(rt)
        event(rt, when=1)
        deliver_due(rt, at(1))
        assert len(r.received) == 1  # the second one is not even tried
        sub = subscriber(rt, r.url)
        assert (sub.active, sub.disabled_reason) == (False, "gone")
        assert [d.status for d in deliveries(rt)] == ["disabled", "disabled"]
        # Listed in the configuration and a restart later: still off, and new events are not queued for it.
        restarted = with_settings(rt, subscribers=(Subscriber(r.url, r.secret),))
        with restarted.sessions() as s:
            sync_subscribers(s, restarted.settings, at(60))
            s.commit()
        event(restarted, when=60)
        deliver_due(restarted, at(3600))
        assert len(r.received) == 1
    assert subscriber(rt, r.url).active is False
    assert len(deliveries(rt)) == 2


def test_429_with_retry_after_waits_at_least_that_long(rt: Runtime) -> None:
    with receiver([Reply(429, {"Retry-After": "120"}), Reply(200)]) as r:
        subscribe(rt, r.url, r.secret)
        event(rt)
        deliver_due(rt, at(0), rng=NoJitter())
        (d,) = deliveries(rt)
        assert d.next_try_at is not None and d.next_try_at - at(0) >= timedelta(seconds=120)
        deliver_due(rt, at(119), rng=NoJitter())
        assert len(r.received) == 1
        deliver_due(rt, at(120), rng=NoJitter())
    assert [x.id for x in r.received][0] == r.received[1].id
    assert deliveries(rt)[0].status == "delivered"


def test_503_with_retry_after_is_honoured_too(rt: Runtime) -> None:
    with receiver([Reply(503, {"Retry-After": "600"}), Reply(200)]) as r:
        subscribe(rt, r.url, r.secret)
        event(rt)
        deliver_due(rt, at(0), rng=NoJitter())
        assert deliveries(rt)[0].next_try_at == at(600)


def test_a_receiver_that_hangs_times_out_and_is_retried(rt: Runtime) -> None:
    fast = with_settings(rt, webhook_timeout=0.5)
    with receiver([Reply(hang=3), Reply(200)]) as r:
        subscribe(fast, r.url, r.secret)
        msg_id = event(fast)
        assert deliver_due(fast, at(0), rng=NoJitter())["webhooks_failed"] == 1
        (t,) = tries(fast)
        assert t.http_status is None and "timeout" in (t.response or "") and 450 <= t.latency_ms < 2500
        assert deliveries(fast)[0].next_try_at == at(5)
        assert deliver_due(fast, at(5), rng=NoJitter())["webhooks_sent"] == 1
    assert [x.id for x in r.received] == [msg_id, msg_id]


def test_a_301_is_not_followed_and_is_retried(rt: Runtime) -> None:
    with receiver([Reply(301, {"Location": "/elsewhere"}), Reply(200)]) as r:
        subscribe(rt, r.url, r.secret)
        event(rt)
        deliver_due(rt, at(0), rng=NoJitter())
        assert [x.path for x in r.received] == ["/hook"]
        assert (deliveries(rt)[0].status, deliveries(rt)[0].last_status) == ("pending", 301)
        deliver_due(rt, at(5), rng=NoJitter())
    assert [x.path for x in r.received] == ["/hook", "/hook"]
    assert deliveries(rt)[0].status == "delivered"


def test_a_refused_connection_is_retried(rt: Runtime) -> None:
    with receiver() as r:
        url = r.url
    subscribe(rt, url, r.secret)  # the server is gone: connection refused
    event(rt)
    assert deliver_due(rt, at(0), rng=NoJitter())["webhooks_failed"] == 1
    (t,) = tries(rt)
    assert t.http_status is None and "connection" in (t.response or "")


class FakePoster:
    """Records what would be posted and answers from a script (no HTTP)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.sent: list[tuple[str, dict[str, str], bytes]] = []

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float, *,
             connect_to: str | None = None) -> Answer:
        self.sent.append((url, headers, body))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return Answer(status, "")


def test_after_ten_failed_tries_it_gives_up_and_flags_it(rt: Runtime) -> None:
    subscribe(rt, "http://127.0.0.1:9/hook", "whsec_" + "A" * 43 + "=")
    event(rt)
    poster, now, times = FakePoster(500), at(0), []
    for _ in range(12):
        deliver_due(rt, now, poster=poster, rng=NoJitter())
        times.append(now)
        d = deliveries(rt)[0]
        if d.next_try_at is None:
            break
        now = d.next_try_at
    assert len(poster.sent) == 10
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps == list(SCHEDULE[1:])
    d = deliveries(rt)[0]
    assert (d.status, d.tries) == ("gave_up", 10)
    with rt.sessions() as s:
        flagged = s.scalars(select(AuditEntry).where(AuditEntry.action == "webhook.gave_up")).all()
    assert len(flagged) == 1 and flagged[0].detail["tries"] == 10


def test_events_of_one_case_keep_their_order_per_subscriber(rt: Runtime) -> None:
    with rt.sessions() as s:
        case_id = _a_case(rt, s)
        first = emit(s, "call.completed", {"store_code": "SZ01", "ro_number": "RO123"}, at=at(0), case_id=case_id)
        second = emit(s, "case.closed", {"store_code": "SZ01", "ro_number": "RO123"}, at=at(1), case_id=case_id)
        other = emit(s, "visit.imported", {"store_code": "SZ01", "ro_number": "RO999"}, at=at(2))
        s.commit()
        ids = first.event_id, second.event_id, other.event_id
    subscribe(rt, "http://127.0.0.1:9/hook", "whsec_" + "A" * 43 + "=")
    poster = FakePoster(500, 200)
    deliver_due(rt, at(2), poster=poster, rng=NoJitter())
    # the first failed: the later event of the same case waits; an event of no case goes on
    assert [h["webhook-id"] for _, h, _ in poster.sent] == [ids[0], ids[2]]
    deliver_due(rt, at(3), poster=poster, rng=NoJitter())
    assert len(poster.sent) == 2
    deliver_due(rt, at(2 + 5), poster=poster, rng=NoJitter())
    assert [h["webhook-id"] for _, h, _ in poster.sent] == [ids[0], ids[2], ids[0], ids[1]]
    assert [json.loads(b)["type"] for _, _, b in poster.sent][-2:] == ["call.completed", "case.closed"]


def _a_case(rt: Runtime, s: object) -> int:
    from datetime import datetime

    from followup.intake.validate import validate_row
    from followup.intake.visit_upsert import accept_visit
    from followup.models import Store

    row = validate_row(2, {"store_code": "SZ01", "ro_number": "RO123", "customer_name": "张伟",
                           "mobile": "13800138000", "advisor_code": "SA01", "service_type": "maintenance",
                           "delivered_at": "2026-11-19 10:30"},
                       store_tz=lambda c: rt.settings.stores["SZ01"].timezone, default_store=None,
                       now=datetime(2026, 11, 20, tzinfo=NOW.tzinfo))
    assert not isinstance(row, list)
    store_id = s.scalar(select(Store.id).where(Store.code == "SZ01"))  # type: ignore[attr-defined]
    accepted = accept_visit(s, store_id, rt.settings.stores["SZ01"], row, source="test", actor="test", now=NOW)  # type: ignore[arg-type]
    s.execute(WebhookEvent.__table__.delete())  # type: ignore[attr-defined]  # only the events of this test
    return accepted.case.id  # type: ignore[union-attr]


def test_during_rotation_both_secrets_sign(rt: Runtime) -> None:
    from followup.webhooks.subscribers import rotate_secret

    with receiver() as r:
        sub_id = subscribe(rt, r.url, r.secret)
        with rt.sessions() as s:
            from followup.models import WebhookSubscriber

            new = rotate_secret(s.get_one(WebhookSubscriber, sub_id), at(0))
            s.commit()
        event(rt)
        deliver_due(rt, at(0))
        event(rt, when=1)
        deliver_due(rt, at(25 * 3600))  # the overlap is over: the old secret no longer signs
    first, second = r.received
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    assert first.verified is not None  # the receiver still holds the old secret
    Webhook(new).verify(first.body, first.headers)  # and the new one works too
    assert second.verified is None and len(second.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(second.body, second.headers)


@pytest.mark.parametrize("data", [
    {"mobile": "+8613800138000", "address": "深圳市南山区科技园北区松坪山路3号"},
    {"note": "客户说请打 138 0013 8000 或 0755-86001234", "customer": {"address": "深圳", "phone": "075586001234"}},
])
def test_payloads_never_carry_a_full_phone_number_or_an_address(rt: Runtime, data: dict[str, Any]) -> None:
    with receiver() as r:
        subscribe(rt, r.url, r.secret)
        event(rt, "sms.received", **data)
        deliver_due(rt, at(0))
    (got,) = r.received
    text = got.body.decode()
    for secret_part in ("13800138000", "138 0013 8000", "86001234", "075586001234", "松坪山路", "深圳"):
        assert secret_part not in text, text
    assert "138****8000" in text and "SZ01" in text and "RO123" in text


def test_the_worker_runs_the_webhook_duty_every_second_and_last_in_a_tick(rt: Runtime) -> None:
    from followup.channels.sandbox import SandboxChannel, silent
    from followup.engine.tick import duties
    from followup.worker import build_scheduler

    channel = SandboxChannel(silent)
    assert list(duties(rt, channel))[-1] == "webhooks"
    scheduler = build_scheduler(rt, channel, seconds=10)
    assert scheduler.get_job("webhooks").trigger.interval == timedelta(seconds=1)
    assert scheduler.get_job("dispatch").trigger.interval == timedelta(seconds=10)
