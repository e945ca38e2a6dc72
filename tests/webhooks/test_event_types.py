"""Every event type of CONTRACT §8 is produced by the flow that should produce it, reaches a
subscriber (verified by ``standardwebhooks`` itself, same id on every try) and the admin panel's
own receiver, and shows on the dashboard's live stream within a second of the tick.

The admin panel runs as a real HTTP server on 127.0.0.1 (``PUBLIC_BASE_URL`` points at it), and a
second local receiver plays a dealer's DMS configured like a ``FOLLOWUP_WEBHOOK_URLS`` entry.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from factories import log_in, make_user
from fakes.worker_ticks import run_due_until
from sqlalchemy import func, select
from webhook_world import LocalReceiver, receiver, with_settings
from werkzeug.serving import make_server

from followup.accounts import add_user
from followup.cases import worklist
from followup.channels.base import AccountError, Contact, Sent
from followup.channels.sandbox import SandboxChannel, silent
from followup.complaints.actions import resolve
from followup.engine.pauses import resume
from followup.engine.planner import plan_due_cases
from followup.engine.tick import run_tick
from followup.intake.records import VisitRow
from followup.intake.visit_upsert import accept_visit
from followup.models import (
    Complaint,
    FollowupCase,
    ReceivedEvent,
    Store,
    WebhookDelivery,
    WebhookEvent,
)
from followup.runtime import Runtime
from followup.settings import Subscriber
from followup.surveys.responses import record_survey
from followup.surveys.sms_survey import Inbound, handle_inbound
from followup.web import create_app
from followup.webhooks.outbox import EVENT_TYPES

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 19, 10, 30, tzinfo=SH)
GOOD = {"overall": "10", "fixed_right": "yes", "on_time": "yes", "advisor": "9", "comment": "很好"}
BAD = {"overall": "4", "fixed_right": "no", "on_time": "yes", "advisor": "6", "comment": "漆面划伤了"}


@contextmanager
def live_panel(rt: Runtime, dms: LocalReceiver) -> Iterator[tuple[Runtime, Any]]:
    """The admin panel served on 127.0.0.1, with PUBLIC_BASE_URL and the DMS subscriber configured."""
    holder: dict[str, Any] = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True)
    live = with_settings(rt, public_base_url=f"http://127.0.0.1:{server.server_port}",
                         subscribers=(Subscriber(dms.url, dms.secret),))
    holder["app"] = create_app(runtime=live)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield live, holder["app"]
    finally:
        server.shutdown()


def add_visit(rt: Runtime, ro: str, mobile: str, *, delivered: datetime, now: datetime) -> int:
    row = VisitRow(row=2, store_code="SZ01", ro_number=ro, customer_name="张伟", mobile=mobile, phone=None,
                   address="深圳市南山区科技园北区松坪山路3号", plate="粤B12345", vin=None, vehicle_model="帕萨特",
                   advisor_code="SA01", advisor_name="王强", service_type="maintenance", delivered_at=delivered,
                   mileage_km=1000, language="zh")
    with rt.sessions() as s:
        store_id = s.scalar(select(Store.id).where(Store.code == "SZ01"))
        assert store_id is not None
        accepted = accept_visit(s, store_id, rt.settings.stores["SZ01"], row, source="test", actor="test", now=now)
        s.commit()
        assert accepted.case is not None
        return accepted.case.id


def types_since(rt: Runtime, after_id: int) -> Counter[str]:
    with rt.sessions() as s:
        return Counter(s.scalars(select(WebhookEvent.type).where(WebhookEvent.id > after_id)))


def last_event_id(rt: Runtime) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.max(WebhookEvent.id))) or 0


def tick_until(rt: Runtime, channel: SandboxChannel, until: datetime) -> None:
    """Tick at every moment something falls due (an open complaint's due time too), up to ``until``
    (as the worker would), and once more there."""
    complaint_due = select(func.min(Complaint.due_at)).where(Complaint.status == "open")
    run_due_until(rt, lambda: run_tick(rt, channel), until, also_due=[complaint_due], most=200)
    run_tick(rt, channel)


def test_every_event_type_is_produced_by_its_flow_and_reaches_every_receiver(rt: Runtime) -> None:
    rt.clock.set(T0)  # type: ignore[attr-defined]
    channel = SandboxChannel(silent)
    # The DMS fails the first try of everything: every event is retried once, with the same id.
    with receiver(fail_first_tries=True) as dms, live_panel(rt, dms) as (live, _app):
        produced: dict[str, Counter[str]] = {}

        def flow(name: str, *expected: str) -> Iterator[None]:
            before = last_event_id(live)
            yield
            produced[name] = types_since(live, before)
            missing = set(expected) - set(produced[name])
            assert not missing, f"{name} did not emit {missing}: {dict(produced[name])}"

        def step(name: str, expected: tuple[str, ...], action: Any) -> None:
            gen = flow(name, *expected)
            next(gen)
            action()
            next(gen, None)

        # a visit is imported: visit.imported
        step("import", ("visit.imported",), lambda: add_visit(live, "RO-CALL", "+8613800138001", delivered=T0, now=T0))
        bad = add_visit(live, "RO-BAD", "+8613800138002", delivered=T0, now=T0)
        good = add_visit(live, "RO-GOOD", "+8613800138003", delivered=T0, now=T0)
        # imported after its deadline: the three-day rule is breached at once and the fallback starts
        step("late import", ("visit.imported", "three_day_rule.breached", "case.fallback"), lambda: (
            add_visit(live, "RO-LATE", "+8613800138004", delivered=T0 - timedelta(days=5), now=T0),
            run_tick(live, channel)))

        def answer(case_id: int, answers: dict[str, str]) -> None:
            with live.sessions() as s:
                record_survey(s, s.get_one(FollowupCase, case_id), answers, channel="web", made_by="web",
                              settings=live.settings, now=live.clock.now())
                s.commit()

        # a satisfied answer: survey.completed and case.closed
        step("satisfied survey", ("survey.completed", "case.closed"), lambda: answer(good, GOOD))
        # a dissatisfied answer: survey.completed and complaint.opened
        step("dissatisfied survey", ("survey.completed", "complaint.opened"), lambda: answer(bad, BAD))
        # three unanswered calls, then the SMS survey; the complaint nobody acknowledged moves up
        step("calls and escalation", ("call.completed", "case.fallback", "complaint.escalated"),
             lambda: tick_until(live, channel, T0 + timedelta(days=2)))

        def opt_out() -> None:
            with live.sessions() as s:
                handle_inbound(s, live.settings, Inbound("SM1", "+8613800138001", "+8675500000000", "退订"),
                               live.clock.now())
                s.commit()

        # the customer texts 退订: sms.received and customer.opted_out
        step("opt-out SMS", ("sms.received", "customer.opted_out"), opt_out)

        def resolve_complaint() -> None:
            with live.sessions() as s:
                # R7: only the assignee or someone above resolves; the store's general manager is above every level
                manager = add_user(s, "gm", "a-good-pass-123", "manager", ["SZ01"], now=live.clock.now())
                complaint = s.scalar(select(Complaint).where(Complaint.case_id == bad))
                assert complaint is not None
                resolve(s, complaint, manager, cause="漆面划伤", fix="免费重新喷漆", settings=live.settings,
                        now=live.clock.now())
                s.commit()

        step("complaint resolved", ("complaint.resolved",), resolve_complaint)

        def worklist_call() -> None:
            # the same store calling by staff (CONTRACT §9): a caller claims the due call and records it
            store = live.settings.stores["SZ01"]
            staff = with_settings(live, stores={"SZ01": dataclasses.replace(
                store, policy=dataclasses.replace(store.policy, calls_by="staff"))})
            now = staff.clock.now()  # Saturday 10:30: inside staff hours
            add_visit(staff, "RO-STAFF", "+8613800138005", delivered=now - timedelta(hours=25), now=now)
            with staff.sessions() as s:
                plan_due_cases(s, staff.settings, now)
                caller = add_user(s, "caller1", "a-good-pass-123", "info_staff", ["SZ01"], now=now)
                got = worklist.claim_next(s, staff.settings, caller, "SZ01", now)
                assert got is not None
                worklist.record_outcome(s, staff.settings, caller, got[1].attempt_id, "declined", now=now)
                s.commit()

        step("worklist call", ("call.completed", "worklist.call_recorded"), worklist_call)

        def account_error() -> None:
            # R3: the provider refuses our account on a due call: the store's calls pause (once)
            def refused(contact: Contact, now: datetime) -> Sent:
                raise AccountError("Twilio 401 code 20003: Authenticate", code="20003")

            now = live.clock.now()
            add_visit(live, "RO-ACCOUNT", "+8613800138006", delivered=now - timedelta(hours=25), now=now)
            run_tick(live, SandboxChannel(refused))

        step("account error", ("channel.paused",), account_error)

        def resume_calls() -> None:
            with live.sessions() as s:
                resume(s, "SZ01", "call", "user:admin", live.clock.now())
                s.commit()

        step("channel resumed", ("channel.resumed",), resume_calls)

        # the worker's webhook job catches up (retries on the service clock)
        for _ in range(30):
            live.clock.set(live.clock.now() + timedelta(minutes=1))  # type: ignore[attr-defined]
            run_tick(live, channel)
            with live.sessions() as s:
                if not s.scalar(select(func.count()).select_from(WebhookDelivery)
                                .where(WebhookDelivery.status == "pending")):
                    break

        with live.sessions() as s:
            emitted = Counter(s.scalars(select(WebhookEvent.type)))
            panel_got = Counter(s.scalars(select(ReceivedEvent.type)))
    assert set(emitted) == set(EVENT_TYPES)
    # the DMS: every type, every request verified by standardwebhooks itself
    verified = [r for r in dms.received if r.verified is not None]
    assert len(verified) == len(dms.received)
    assert {r.verified["type"] for r in verified if r.verified} == set(EVENT_TYPES)
    bodies_by_id: dict[str, list[bytes]] = defaultdict(list)
    for r in dms.received:
        bodies_by_id[r.id].append(r.body)
    assert len(bodies_by_id) == sum(emitted.values()), "every event delivered, none twice under two ids"
    # the first try of each failed (500) and its retry carried the same id and the same body
    assert all(len(b) == 2 and b[0] == b[1] for b in bodies_by_id.values())
    with live.sessions() as s:
        statuses = Counter(s.scalars(select(WebhookDelivery.status)))
    assert statuses == {"delivered": 2 * sum(emitted.values())}  # the DMS and the panel
    # the admin panel's own receiver stored each event once
    assert panel_got == emitted


def test_the_activity_list_has_an_event_as_soon_as_the_tick_that_produced_it_ends(rt: Runtime) -> None:
    """The page asks ``/events/recent`` every 3 seconds: the event is there on the first ask after the tick."""
    rt.clock.set(T0 + timedelta(hours=2))  # type: ignore[attr-defined]
    channel = SandboxChannel(silent)
    with receiver() as dms, live_panel(rt, dms) as (live, app):
        run_tick(live, channel)  # the panel's receiver and its secret exist from the first pass on
        add_visit(live, "RO-LIVE", "+8613800138009", delivered=T0, now=T0)
        run_tick(live, channel)  # visit.imported reaches the panel
        make_user(live, "staff1")
        client = app.test_client()
        log_in(client, "staff1")
        before = client.get("/events/recent").get_json()
        live.clock.set(T0 + timedelta(days=1))  # type: ignore[attr-defined]  # 10:30 the next day: the first call
        counts = run_tick(live, channel)  # the first call: no answer
        after = client.get(f"/events/recent?last_id={before['last_id']}").get_json()
    assert counts["dispatched"] == 1 and counts["webhooks_sent"] >= 2  # the panel and the DMS
    assert "通话结束 · SZ01 RO-LIVE · 无人接听" in [e["text"] for e in after["events"]]
    assert after["poll_seconds"] == 3
