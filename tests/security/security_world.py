"""A small world for the security tests: two stores (SZ01 and SZ02), a hostile customer name,
an SMS reply carrying HTML, complaints, letter batches and users of every role.

Everything is made through the service's own functions (import, tick, inbound SMS, survey,
letter batch), so the pages show what a real flow stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from factories import case_of, log_in, make_user
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from followup.channels.sandbox import SandboxChannel, silent
from followup.engine.tick import run_tick
from followup.intake.importer import import_visits
from followup.letters.letter_batch import build_batch
from followup.models import Complaint, Customer, FollowupCase, LetterBatch, Store
from followup.runtime import Runtime
from followup.surveys.responses import record_survey
from followup.surveys.sms_survey import Inbound, handle_inbound
from followup.web import create_app

#: the second store every security test has next to SZ01 (configured through the environment)
SZ02_ENV = {
    "FOLLOWUP__stores__SZ02__name": "广州天河店",
    "FOLLOWUP__stores__SZ02__name_en": "Guangzhou Tianhe",
    "FOLLOWUP__stores__SZ02__address": "广州市天河区天河路1号",
    "FOLLOWUP__stores__SZ02__sms_signature": "广州天河店",
}
EVIL_NAME = "<script>alert(1)</script>"
EVIL_SMS = "<img src=x onerror=alert(1)>"
#: 09:00 Shanghai on Thursday 19 November 2026: inside the calling windows and SMS hours
START = datetime(2026, 11, 19, 1, 0, tzinfo=UTC)
#: every full number in the world: none may appear on a page, in the API, an export, a log or a webhook
MOBILES = {
    "evil": "+8613800138000",
    "plain": "+8613900139000",
    "letter": "+8613600136000",
    "gz": "+8613700137000",
}
BAD = {"overall": "3", "fixed_right": "no", "on_time": "yes", "advisor": "5", "comment": EVIL_SMS}

HEADER = ("store_code,ro_number,customer_name,mobile,phone,address,advisor_code,advisor_name,service_type,"
          "delivered_at,language\n")


def full_number_forms(e164: str) -> list[str]:
    """The ways a full number can be written: E.164 and the 11-digit national number."""
    return [e164, e164.removeprefix("+86"), e164.removeprefix("+")]


def leaked_numbers(text: str) -> list[str]:
    """Every full number of the world found in ``text`` (an empty list when none leaked)."""
    return [form for e164 in MOBILES.values() for form in full_number_forms(e164) if form in text]


@dataclass
class World:
    rt: Runtime
    app: Flask
    cases: dict[str, int] = field(default_factory=dict)
    complaints: dict[str, int] = field(default_factory=dict)
    batches: dict[str, int] = field(default_factory=dict)

    def client(self, username: str | None = None) -> FlaskClient:
        client = self.app.test_client()
        if username:
            log_in(client, username)
        return client


def _import(rt: Runtime, tmp_path: Path, rows: list[str]) -> None:
    csv = tmp_path / "visits.csv"
    csv.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    report = import_visits(csv, settings=rt.settings, sessions=rt.sessions, clock=rt.clock)
    assert report.exit_code == 0, report.errors


def build_world(rt: Runtime, tmp_path: Path) -> World:
    """The flows every security test looks at, on the test clock."""
    rt.clock.set(START)  # type: ignore[attr-defined]
    delivered = "2026-11-19T08:30:00+08:00"
    _import(rt, tmp_path, [
        f"SZ01,RO-EVIL,{EVIL_NAME},{MOBILES['evil']},,深圳市南山区科技园1号,SA01,王强,repair,{delivered},zh",
        f"SZ01,RO-PLAIN,李四,{MOBILES['plain']},,深圳市南山区科技园2号,SA02,李娜,maintenance,{delivered},zh",
        f"SZ01,RO-LETTER,{EVIL_NAME},{MOBILES['letter']},,深圳市南山区科技园3号,SA01,王强,repair,{delivered},zh",
        f"SZ02,RO-GZ,广州客户,{MOBILES['gz']},,广州市天河区体育西路5号,GA01,陈明,repair,{delivered},zh",
    ])
    world = World(rt, create_app(runtime=rt))
    for key, (store, ro) in {"evil": ("SZ01", "RO-EVIL"), "plain": ("SZ01", "RO-PLAIN"),
                             "letter": ("SZ01", "RO-LETTER"), "gz": ("SZ02", "RO-GZ")}.items():
        world.cases[key] = case_of(rt, ro, store)
    with rt.sessions() as s:
        # the hostile customer may not be called: the SMS survey starts at once (R3);
        # the letter customers may be neither called nor texted: straight to the letter (R4)
        for key in ("evil", "letter", "gz"):
            customer = s.scalars(select(Customer).where(Customer.mobile == MOBILES[key])).one()
            customer.do_not_call = True
            customer.no_sms = key != "evil"
        s.commit()
    for _ in range(2):  # the first pass plans, the second sends the SMS and queues the letters
        run_tick(rt, SandboxChannel(silent))
    with rt.sessions() as s:
        handle_inbound(s, rt.settings, Inbound("SM" + "e" * 32, MOBILES["evil"], "+8675512345678", EVIL_SMS),
                       rt.clock.now())
        s.commit()
    for store in ("SZ01", "SZ02"):
        with rt.sessions() as s:
            build_batch(s, rt.settings, store, START.date(), now=rt.clock.now(), actor="test")
            s.commit()
            world.batches[store] = s.scalars(select(LetterBatch.id).join(Store, Store.id == LetterBatch.store_id)
                                             .where(Store.code == store)).one()
    # the dissatisfied answers come after the batch (an answer cancels a letter not yet printed)
    for key in ("evil", "gz"):
        with rt.sessions() as s:
            case = s.get_one(FollowupCase, world.cases[key])
            record_survey(s, case, dict(BAD), channel="staff", made_by="user:test", settings=rt.settings,
                          now=rt.clock.now())
            s.commit()
        with rt.sessions() as s:
            world.complaints[key] = s.scalars(select(Complaint.id).where(Complaint.case_id == world.cases[key])).one()
    make_user(rt, "admin", "admin", at=START)
    for username, role, store in [("staff1", "info_staff", "SZ01"), ("manager1", "manager", "SZ01"),
                                  ("gz_staff", "info_staff", "SZ02"), ("gz_manager", "manager", "SZ02"),
                                  ("sa01", "advisor", "SZ01"), ("sa02", "advisor", "SZ01")]:
        make_user(rt, username, role, [store], advisor=username.upper() if role == "advisor" else None, at=START)
    return world


def deliver_events_to_panel(world: World) -> int:
    """Post every outbox event to the panel's receiver, signed as the delivery duty signs them;
    the number of events (what the live stream then shows)."""
    from followup.models import WebhookEvent
    from followup.webhooks.signing import body_of, sign_headers
    from followup.webhooks.subscribers import panel_subscriber, sync_subscribers

    rt = world.rt
    with rt.sessions() as s:
        sync_subscribers(s, rt.settings, rt.clock.now())
        s.commit()
        sub = panel_subscriber(s)
        assert sub is not None
        events = s.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()
        client = world.app.test_client()
        for event in events:
            body = body_of(event.type, event.occurred_at, event.data)
            resp = client.post("/webhooks/events", data=body.encode(),
                               headers=sign_headers(event.event_id, body, [sub.secret], datetime.now(UTC)))
            assert resp.status_code == 204, resp.status_code
        return len(events)


def stream_text(client: FlaskClient, want: int) -> str:
    """The raw ``/events/stream`` text up to its ``want``-th event (at most 20: the stream's backlog)."""
    from webhooks.webhook_world import StreamReader

    resp = client.get("/events/stream", buffered=False)
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    reader = StreamReader(resp, want=min(want, 20))
    reader.close()
    resp.close()
    return b"".join(reader.raw).decode("utf-8")
