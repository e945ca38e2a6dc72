"""The delivery duty: post due webhooks, record each try, schedule the next one.

One pass (:func:`deliver_due`, run by every tick and by the worker's ``webhooks`` job):

1. the subscriber rows are brought in line with the configuration, and each new event gets one
   delivery per active subscriber (:mod:`.subscribers`);
2. due deliveries are claimed (their ``next_try_at`` moved one lease ahead, committed) so that no
   HTTP call runs inside a database transaction, and so that a crash mid-send only delays a try;
3. each is signed and posted. 2xx: delivered. 410: the subscriber is turned off for good.
   429/503 with ``Retry-After``: tried again when asked. Anything else (3xx included, timeouts,
   refused connections): tried again on the Standard Webhooks schedule, then given up and flagged.

The schedule runs on the service clock (``now``), so the test clock moves a delivery to its next
try; the ``webhook-timestamp`` header is the wall-clock time of each sending, because receivers
check it against their own clocks. Every try sends the same body with the same ``webhook-id``.

Per subscriber, events of one case go out in the order they happened: a later event waits while
an earlier one of the same case is still being retried.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from sqlalchemy import Subquery, and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from followup import audit
from followup.clock import monotonic, wall_clock
from followup.id_sets import among
from followup.models import DeliveryTry, WebhookDelivery, WebhookEvent, WebhookSubscriber
from followup.runtime import Runtime
from followup.webhooks.destinations import DestinationRefused, Resolver, resolve
from followup.webhooks.poster import Answer, HttpPoster, Poster, short_line
from followup.webhooks.robots import STANDARD, accepted, shown_url
from followup.webhooks.robots.request import robot_request
from followup.webhooks.signing import body_of, sign_headers
from followup.webhooks.subscribers import GONE, disable, fan_out, sync_subscribers, valid_secrets

#: Standard Webhooks retry schedule: the wait before try n+1 after try n failed (try 1 is immediate)
SCHEDULE = (
    timedelta(0), timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
    timedelta(hours=5), timedelta(hours=10), timedelta(hours=14), timedelta(hours=20), timedelta(hours=24),
)
MAX_TRIES = len(SCHEDULE)
#: up to this share of a wait is added at random, so that receivers are not hit in waves
JITTER = 0.1
#: the longest ``Retry-After`` honoured
RETRY_AFTER_CAP = timedelta(hours=24)
#: deliveries posted per pass
BATCH = 200
#: a URL's query string inside an error message
_QUERY = re.compile(r"\?[^\s'\")]*")


class Jitter(Protocol):
    """Where the random part of a wait comes from (``random.Random``; tests pass one without jitter)."""

    def uniform(self, a: float, b: float) -> float: ...


def next_wait(tries: int, rng: Jitter) -> timedelta | None:
    """The wait after ``tries`` failed tries, with jitter; None when it is time to give up."""
    if tries >= MAX_TRIES:
        return None
    base = SCHEDULE[tries]
    return base + base * rng.uniform(0, JITTER)


def retry_after(value: str | None, now_wall: datetime) -> timedelta | None:
    """A ``Retry-After`` header (seconds or an HTTP date) as a wait, capped; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        wait = timedelta(seconds=int(value))
    else:
        try:
            wait = parsedate_to_datetime(value) - now_wall
        except (TypeError, ValueError, IndexError):
            return None
    return max(timedelta(0), min(wait, RETRY_AFTER_CAP))


@dataclass
class DeliveryCounts:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    disabled: int = 0
    fanned_out: int = 0
    #: subscribers that timed out or refused in this pass: their other deliveries wait for the next pass
    broken: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, int]:
        return {"webhooks_sent": self.sent, "webhooks_failed": self.failed, "webhooks_gave_up": self.gave_up}


def _first_waiting(now: datetime) -> Subquery:
    """Per subscriber and case, the earliest event still waiting for a later try (pending, not due).

    Computed once for the pass, as a set: asking it again for every due delivery (a correlated
    NOT EXISTS) went through every waiting delivery each time when the planner misjudged the
    tables' sizes, which it does while they grow fast (a receiver down for a busy hour).
    """
    waiting_delivery, waiting_event = aliased(WebhookDelivery), aliased(WebhookEvent)
    waiting = (
        select(waiting_delivery.subscriber_id, waiting_event.case_id, waiting_event.occurred_at,
               waiting_event.id.label("event_id"))
        .join(waiting_event, waiting_event.id == waiting_delivery.event_id)
        .where(waiting_delivery.status == "pending", waiting_delivery.next_try_at > now,
               waiting_event.case_id.is_not(None))
        .cte("waiting")
    )
    first_at = (
        select(waiting.c.subscriber_id, waiting.c.case_id, func.min(waiting.c.occurred_at).label("occurred_at"))
        .group_by(waiting.c.subscriber_id, waiting.c.case_id)
        .subquery("first_at")
    )
    return (  # ties on the time go by event id, as the delivery order does
        select(waiting.c.subscriber_id, waiting.c.case_id, waiting.c.occurred_at,
               func.min(waiting.c.event_id).label("event_id"))
        .join(first_at, and_(first_at.c.subscriber_id == waiting.c.subscriber_id,
                             first_at.c.case_id == waiting.c.case_id,
                             first_at.c.occurred_at == waiting.c.occurred_at))
        .group_by(waiting.c.subscriber_id, waiting.c.case_id, waiting.c.occurred_at)
        .subquery("first_waiting")
    )


def due_deliveries(session: Session, now: datetime, limit: int) -> list[WebhookDelivery]:
    """Pending deliveries due at ``now`` whose subscriber is on, oldest event first.

    A delivery waits while an earlier event of the same case, to the same subscriber, is still
    pending and not due (being retried later); earlier ones that are due come first in this list.
    """
    mine, first = WebhookEvent, _first_waiting(now)
    q = (
        select(WebhookDelivery)
        .join(mine, mine.id == WebhookDelivery.event_id)
        .join(WebhookSubscriber, WebhookSubscriber.id == WebhookDelivery.subscriber_id)
        .outerjoin(first, and_(first.c.subscriber_id == WebhookDelivery.subscriber_id,
                               first.c.case_id == mine.case_id))  # never for an event without a case
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_try_at <= now,
               WebhookSubscriber.active.is_(True),
               or_(first.c.event_id.is_(None), mine.occurred_at < first.c.occurred_at,
                   and_(mine.occurred_at == first.c.occurred_at, mine.id < first.c.event_id)))
        .order_by(mine.occurred_at, mine.id, WebhookDelivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(of=WebhookDelivery, skip_locked=True)
    return list(session.scalars(q))


def deliver_due(rt: Runtime, now: datetime, *, poster: Poster | None = None, rng: Jitter | None = None,
                limit: int = BATCH, resolver: Resolver | None = None) -> dict[str, int]:
    """One delivery pass (the ``webhooks`` duty); returns its counts. ``resolver`` answers host names
    for the subscribers added in the panel (``socket.getaddrinfo``; tests pass their own)."""
    poster = poster or _default_poster()
    rng = rng or random.Random()
    counts = DeliveryCounts()
    lease = timedelta(seconds=rt.settings.webhook_timeout + 60)
    with rt.sessions() as s:
        sync_subscribers(s, rt.settings, now)
        counts.fanned_out = fan_out(s, now).deliveries
        s.commit()
    with rt.sessions() as s:
        claimed = due_deliveries(s, now, limit)
        plan = [(d.id, d.subscriber_id, d.next_try_at) for d in claimed]
        if plan:  # one UPDATE, not one per delivery: a receiver that is down is claimed from every pass
            s.execute(update(WebhookDelivery).where(among(s, WebhookDelivery.id, [p[0] for p in plan]))
                      .values(next_try_at=now + lease))
        s.commit()
    waiting: set[tuple[int, int | None]] = set()  # (subscriber, case) with an earlier event not delivered
    put_back: list[dict[str, Any]] = []  # not this pass: back to due, in order (one UPDATE at the end)
    cases = {d_id: case_id for d_id, case_id in _case_of(rt, [p[0] for p in plan])}
    for delivery_id, subscriber_id, due_at in plan:
        key = (subscriber_id, cases.get(delivery_id))
        if subscriber_id in counts.broken or (key[1] is not None and key in waiting):
            put_back.append({"id": delivery_id, "next_try_at": due_at})
            if key[1] is not None:
                waiting.add(key)
            continue
        with rt.sessions() as s:
            d = s.get_one(WebhookDelivery, delivery_id)
            event = s.get_one(WebhookEvent, d.event_id)
            ok = send_one(s, d, event, rt.settings.webhook_timeout, poster, now, rng, counts,
                          allow_private=rt.settings.webhook_allow_private, resolver=resolver,
                          public_base_url=rt.settings.public_base_url)
            s.commit()
        if not ok and key[1] is not None:
            waiting.add(key)
    if put_back:
        with rt.sessions() as s:
            s.execute(update(WebhookDelivery), put_back)
            s.commit()
    return counts.as_dict()


def _case_of(rt: Runtime, delivery_ids: list[int]) -> list[tuple[int, int | None]]:
    if not delivery_ids:
        return []
    with rt.sessions() as s:
        rows = s.execute(select(WebhookDelivery.id, WebhookEvent.case_id)
                         .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                         .where(WebhookDelivery.id.in_(delivery_ids))).all()
    return [(r[0], r[1]) for r in rows]


_POSTER: HttpPoster | None = None


def _default_poster() -> HttpPoster:
    global _POSTER
    if _POSTER is None:
        _POSTER = HttpPoster()
    return _POSTER


def send_one(session: Session, d: WebhookDelivery, event: WebhookEvent, timeout: float, poster: Poster,
             now: datetime, rng: Jitter, counts: DeliveryCounts, *, allow_private: bool = False,
             resolver: Resolver | None = None, public_base_url: str = "") -> bool:
    """Sign, post and record one try; True when it was delivered. The caller commits.

    A subscriber added in the panel is sent nothing unless its address is public (checked now,
    after resolving its name; ``allow_private``: ``FOLLOWUP_WEBHOOK_ALLOW_PRIVATE``). A group
    robot (``kind`` wecom or dingtalk) gets its Markdown message instead of the signed event
    (:mod:`.robots`), with links to ``public_base_url``, and only an ``errcode`` 0 delivers it.
    """
    sub = session.get_one(WebhookSubscriber, d.subscriber_id)
    if d.status != "pending" or not sub.active:
        return False
    sent_at = wall_clock()
    robot = sub.kind != STANDARD
    if robot:
        url, payload = robot_request(session, sub, event, public_base_url=public_base_url, sent_at=sent_at)
        headers = {"content-type": "application/json; charset=utf-8"}
    else:
        body = body_of(event.type, event.occurred_at, event.data)
        url, payload = sub.url, body.encode("utf-8")
        headers = sign_headers(event.event_id, body, valid_secrets(sub, now), sent_at)
    guarded = sub.source == "admin" and not allow_private
    session.commit()  # no transaction held open while the receiver thinks
    started = monotonic()
    if guarded:  # added in the panel: checked again now, and called at the address that was checked
        try:
            answer = poster.post(url, payload, headers, timeout, connect_to=resolve(url, resolver).address)
        except DestinationRefused as exc:
            answer = Answer(None, "", error=f"refused: {exc}")
    else:
        answer = poster.post(url, payload, headers, timeout)
    latency = int((monotonic() - started) * 1000)
    d.tries += 1
    d.last_try_at, d.last_status = now, answer.status
    d.last_response = short_line(answer.text if answer.status is not None else answer.error)
    if robot:  # a connection error quotes the URL: the robot's key and DingTalk's sign stay out of the log
        d.last_response = _QUERY.sub("?…", d.last_response)
    refused = robot and answer.status is not None and 200 <= answer.status < 300 and not accepted(answer.text)
    result = _decide(session, d, sub, answer, now, sent_at, rng, counts, refused=refused)
    session.add(DeliveryTry(delivery_id=d.id, at=now, sent_at=sent_at, http_status=answer.status,
                            latency_ms=latency, response=d.last_response, result=result))
    return result == "delivered"


def _decide(session: Session, d: WebhookDelivery, sub: WebhookSubscriber, answer: Answer, now: datetime,
            sent_at: datetime, rng: Jitter, counts: DeliveryCounts, *, refused: bool = False) -> str:
    """``refused``: a robot answered 2xx with a non-zero ``errcode`` (a failed try like a 500)."""
    status = answer.status
    if status is not None and 200 <= status < 300 and not refused:
        d.status, d.delivered_at, d.next_try_at = "delivered", now, None
        counts.sent += 1
        return "delivered"
    counts.failed += 1
    if status == 410:
        d.status, d.next_try_at = "disabled", None
        counts.disabled += 1 + disable(session, sub, GONE, now=now, actor="webhooks")
        return "disabled"
    if status is None:
        counts.broken.add(sub.id)
    wait = retry_after(answer.retry_after, sent_at) if status in (429, 503) else None
    if wait is None:
        wait = next_wait(d.tries, rng)
    if wait is None or d.tries >= MAX_TRIES:
        d.status, d.next_try_at = "gave_up", None
        counts.gave_up += 1
        audit.record(session, "webhooks", "webhook.gave_up", at=now, url=shown_url(sub.url, sub.kind), delivery=d.id,
                     tries=d.tries, last_status=status)
        return "gave_up"
    d.next_try_at = now + wait
    return "retry"
