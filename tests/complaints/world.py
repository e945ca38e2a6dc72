"""Builders shared by the complaint and report tests: visits, surveys, users, ticks.

Importable from any test as ``from complaints.world import ...`` (``tests/`` is on the path).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from fakes.worker_ticks import run_due_until
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from followup.accounts import add_user
from followup.channels.base import Contact, Sent
from followup.channels.sandbox import SandboxChannel, silent
from followup.engine.tick import run_tick
from followup.intake.records import VisitRow
from followup.intake.visit_upsert import accept_visit
from followup.models import (
    Advisor,
    Complaint,
    FollowupCase,
    Store,
    SurveyResponse,
    User,
    WebhookEvent,
)
from followup.runtime import Runtime
from followup.surveys.responses import record_survey
from followup.web import create_app

SH = ZoneInfo("Asia/Shanghai")
PASSWORD = "a-good-pass-123"
GOOD = {"overall": "10", "fixed_right": "yes", "on_time": "yes", "advisor": "9", "comment": "很好"}
BAD = {"overall": "4", "fixed_right": "no", "on_time": "yes", "advisor": "6", "comment": "漆面划伤了"}


def local(*args: int) -> datetime:
    """An instant given in Shanghai local time."""
    return datetime(*args, tzinfo=SH)  # type: ignore[misc,arg-type]


def add_visit(rt: Runtime, ro: str, *, delivered: datetime, advisor: str = "SA01", advisor_name: str | None = None,
              mobile: str | None = "+8613800138000", phone: str | None = None, at: datetime | None = None) -> int:
    """Import one visit of store SZ01 (at its delivery time unless ``at``); returns its case id."""
    row = VisitRow(
        row=2, store_code="SZ01", ro_number=ro, customer_name="张伟", mobile=mobile, phone=phone,
        address="深圳市南山区科技园北区松坪山路3号", plate="粤B12345", vin=None, vehicle_model="帕萨特",
        advisor_code=advisor, advisor_name=advisor_name or f"顾问{advisor}", service_type="repair",
        delivered_at=delivered, mileage_km=1000, language="zh",  # a repair: GOOD and BAD answer fixed_right (R5)
    )
    with rt.sessions() as s:
        store_id = s.scalar(select(Store.id).where(Store.code == "SZ01"))
        assert store_id is not None
        accepted = accept_visit(s, store_id, rt.settings.stores["SZ01"], row, source="test", actor="test",
                                now=at or delivered)
        s.commit()
        assert accepted.case is not None
        return accepted.case.id


def answer(rt: Runtime, case_id: int, answers: Mapping[str, str], *, at: datetime, channel: str = "sms",
           made_by: str = "sms", own_advisor_call: bool = False) -> SurveyResponse:
    """The customer answers the whole survey at ``at`` on ``channel``."""
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        resp = record_survey(s, case, dict(answers), channel=channel, made_by=made_by, settings=rt.settings,
                             now=at, own_advisor_call=own_advisor_call)
        s.commit()
        s.refresh(resp)
        s.expunge(resp)
        return resp


def user(rt: Runtime, username: str, role: str, *, advisor: str | None = None) -> int:
    """A panel user of store SZ01 (linked to an advisor code when given); returns its id."""
    with rt.sessions() as s:
        u = add_user(s, username, PASSWORD, role, ["SZ01"] if role != "admin" else [], now=rt.clock.now())
        if advisor is not None:
            adv = s.scalar(select(Advisor).where(Advisor.code == advisor))
            assert adv is not None, f"no advisor {advisor} yet: add a visit first"
            adv.user_id = u.id
        s.commit()
        return u.id


def get_user(s: object, username: str) -> User:
    found = s.scalar(select(User).where(User.username == username))  # type: ignore[attr-defined]
    assert found is not None
    return found


def the_complaint(rt: Runtime, case_id: int) -> Complaint:
    with rt.sessions() as s:
        c = s.scalar(select(Complaint).where(Complaint.case_id == case_id).order_by(Complaint.id.desc()))
        assert c is not None
        s.expunge(c)
        return c


def events(rt: Runtime, *types: str) -> list[WebhookEvent]:
    with rt.sessions() as s:
        q = select(WebhookEvent).order_by(WebhookEvent.id)
        if types:
            q = q.where(WebhookEvent.type.in_(types))
        rows = list(s.scalars(q))
        for r in rows:
            s.expunge(r)
        return rows


#: a complaint's next escalation (level 3 is the last): unacknowledged, or acknowledged and unresolved
ESCALATION_DUE = select(func.min(Complaint.due_at)).where(
    Complaint.status.in_(("open", "acknowledged")), Complaint.level < 3)
#: every moment the complaint duty acts on: escalations, progress SMS, re-survey checks
COMPLAINT_DUE = [
    ESCALATION_DUE,
    select(func.min(Complaint.progress_due_at)),
    select(func.min(Complaint.resurvey_check_at)),
]


def run_until(rt: Runtime, channel: SandboxChannel, until: datetime) -> list[dict[str, object]]:
    """Tick at every due moment (a contact, a case check or a complaint's escalation, progress SMS or
    re-survey check) up to ``until`` (the test clock jumps; nothing sleeps)."""
    return run_due_until(rt, lambda: run_tick(rt, channel), until, also_due=COMPLAINT_DUE)


def customer(first_sms: Mapping[str, str] | None, resurveys: list[Mapping[str, str] | None] | None = None,
             call_answers: Mapping[str, str] | None = None) -> SandboxChannel:
    """A sandbox customer: never answers survey calls (unless ``call_answers``), answers the
    first SMS with ``first_sms`` and each re-survey or its reminder (SMS or call) with the next of
    ``resurveys`` (None: that one goes unanswered)."""
    left = list(resurveys or [])

    def behaviour(contact: Contact, now: datetime) -> Sent:
        pid = f"T{contact.channel[0]}{contact.attempt_id}"
        if contact.kind in ("resurvey", "re_remind") and left:
            wanted = left.pop(0)
            if wanted is None:  # this re-survey goes unanswered
                return silent(contact, now)
            given = dict(wanted)
            if contact.channel == "call":
                return Sent(pid, outcome="answered", ended_at=now, answers=given)
            return Sent(pid, outcome="delivered", ended_at=now, answers=given)
        if contact.channel == "call" and call_answers:
            return Sent(pid, outcome="answered", ended_at=now, answers=dict(call_answers))
        if contact.channel == "sms" and contact.kind == "survey" and first_sms:
            return Sent(pid, outcome="delivered", ended_at=now, answers=dict(first_sms))
        return silent(contact, now)

    return SandboxChannel(behaviour)


#: Monday 2 November 2026, 10:00 in Shanghai: the delivery of the complaint stories' visits
DELIVERED = local(2026, 11, 2, 10, 0)


def complained(rt: Runtime, ro: str, channel: SandboxChannel, **visit: object) -> int:
    """A visit of store SZ01 delivered at ``DELIVERED`` (``visit``: more of ``add_visit``'s fields), run
    through the engine's ticks with ``channel`` up to 4 November 00:00, by when the survey's answer has
    come; returns its case id."""
    rt.clock.set(DELIVERED)  # type: ignore[attr-defined]
    case_id = add_visit(rt, ro, delivered=DELIVERED, **visit)  # type: ignore[arg-type]
    run_until(rt, channel, local(2026, 11, 4, 0, 0))
    return case_id


def on_complaint(rt: Runtime, case_id: int, action: Callable[[Session, Complaint], object]) -> None:
    """Run ``action(session, complaint)`` on the case's newest complaint and commit."""
    with rt.sessions() as s:
        c = s.scalars(select(Complaint).where(Complaint.case_id == case_id).order_by(Complaint.id.desc())).first()
        assert c is not None
        action(s, c)
        s.commit()


def log_in(rt: Runtime, username: str) -> FlaskClient:
    """A Flask client logged in through the real login form."""
    client = create_app(runtime=rt).test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    resp = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client
