"""The builders every test area shares: visits, panel users, logging in, CSRF tokens, and the
worker ticking over simulated days.

Importable from any test as ``from factories import ...`` (``tests/`` is on the path). Each area's
world module (``complaints/world.py``, ``letters/letter_world.py``, ``web/panel_support.py``, …)
keeps only what is its own and passes its defaults to these.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fakes.worker_ticks import run_due_until
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.sql import Executable
from werkzeug.test import TestResponse

from followup.accounts import add_user, link_advisor
from followup.channels.base import Channel
from followup.engine.planner import plan_due_cases
from followup.engine.tick import duties, run_tick
from followup.intake.records import VisitRow
from followup.intake.visit_upsert import accept_visit
from followup.models import Customer, FollowupCase, Store, Visit
from followup.rules.contact_policy import CaseFacts
from followup.runtime import Runtime
from followup.web import create_app

SH = ZoneInfo("Asia/Shanghai")
#: Friday 20 November 2026, 12:00 in Shanghai: inside a calling window
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
#: every test user's password
PASSWORD = "a-good-pass-123"


def local(*args: int) -> datetime:
    """An instant given in Shanghai local time: ``local(2026, 11, 20, 10)``."""
    return datetime(*args, tzinfo=SH)  # type: ignore[misc,arg-type]


# --- visits -------------------------------------------------------------------------------------


def visit_row(ro: str = "RO26110001", **fields: Any) -> VisitRow:
    """A visit of store SZ01 as the import reads it: 张伟, a mobile and an address, advisor SA01 王强,
    a maintenance delivered 26 hours before ``NOW``; ``fields`` changes any other of its fields."""
    values: dict[str, Any] = dict(
        row=2, store_code="SZ01", ro_number=ro, customer_name="张伟", mobile="+8613800138000", phone=None,
        address="深圳市南山区科技园北区松坪山路3号", plate="粤B12345", vin=None, vehicle_model="帕萨特",
        advisor_code="SA01", advisor_name="王强", service_type="maintenance", delivered_at=NOW - timedelta(hours=26),
        mileage_km=12000, language="zh",
    )
    values.update(fields)
    return VisitRow(**values)


def add_visit(rt: Runtime, row: VisitRow, *, at: datetime | None = None, plan: bool = False,
              do_not_call: bool = False) -> int:
    """Accept ``row`` as the import does, at ``at`` (its delivery time unless told), and return its
    case id. ``plan``: plan the first contact as a tick would; ``do_not_call``: the customer may not
    be called. A store that is not configured (rows only, for scoping tests) takes SZ01's settings."""
    case_id = accept(rt, row, at=at, plan=plan, do_not_call=do_not_call)
    assert case_id is not None, f"{row.ro_number} opened no case"
    return case_id


def accept(rt: Runtime, row: VisitRow, *, at: datetime | None = None, plan: bool = False,
           do_not_call: bool = False) -> int | None:
    """Like :func:`add_visit`, for a visit that may open no case (an internal one): then None."""
    now = at or row.delivered_at
    assert now is not None
    with rt.sessions() as s:
        store_id = s.scalar(select(Store.id).where(Store.code == row.store_code))
        assert store_id is not None, f"no store {row.store_code}"
        store = rt.settings.stores.get(row.store_code) or rt.settings.stores["SZ01"]
        accepted = accept_visit(s, store_id, store, row, source="test", actor="test", now=now)
        if accepted.case is not None and do_not_call:
            visit = s.get_one(Visit, accepted.case.visit_id)
            s.get_one(Customer, visit.customer_id).do_not_call = True
        if plan:
            plan_due_cases(s, rt.settings, now)
        s.commit()
        return accepted.case.id if accepted.case is not None else None


def case_of(rt: Runtime, ro: str, store: str = "SZ01") -> int:
    """The case id of visit ``ro`` of ``store``."""
    with rt.sessions() as s:
        case_id = s.scalar(select(FollowupCase.id).join(Visit, Visit.id == FollowupCase.visit_id)
                           .join(Store, Store.id == Visit.store_id)
                           .where(Store.code == store, Visit.ro_number == ro))
        assert case_id is not None, f"no case for {store} {ro}"
        return case_id


def case_facts(delivered: datetime, deadline: timedelta, opened: datetime | None = None, **facts: bool) -> CaseFacts:
    """A case as the pure rules see it: a reachable customer (mobile, address, no flags) unless
    ``facts`` says otherwise."""
    flags = dict(closed=False, has_mobile=True, has_landline=False, has_address=True, do_not_call=False,
                 no_sms=False, no_contact=False, reached=False)
    flags.update(facts)
    return CaseFacts(delivered, delivered + deadline, opened or delivered, **flags)


# --- panel users and logging in -----------------------------------------------------------------


def make_user(rt: Runtime, username: str, role: str = "info_staff", stores: Sequence[str] | None = None, *,
              advisor: str | None = None, at: datetime | None = None) -> int:
    """A panel user with ``PASSWORD``, made by the service's own ``add_user`` (at ``at``, the test
    clock's time unless told); of store SZ01 unless ``stores`` (an admin: of none); linked to the
    service advisor ``advisor`` of its first store when given. Returns the user's id."""
    codes = list(stores) if stores is not None else ([] if role == "admin" else ["SZ01"])
    with rt.sessions() as s:
        user = add_user(s, username, PASSWORD, role, codes, now=at or rt.clock.now())
        if advisor:
            link_advisor(s, user, codes[0] if codes else "SZ01", advisor)
        s.commit()
        return user.id


def csrf(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form on ``path`` (as the browser has it after opening the page)."""
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, f"no csrf_token on {path} (status {page.status_code})"
    return found.group(1)


def log_in(client: FlaskClient, username: str, *, password: str = PASSWORD, query: str = "",
           expect: int | None = 302) -> TestResponse:
    """Log in through the real form (with its CSRF token); the response is asserted to be ``expect``
    (302, to the page asked for) unless ``expect`` is None."""
    resp = client.post("/login" + query, data={"username": username, "password": password,
                                               "csrf_token": csrf(client)})
    if expect is not None:
        assert resp.status_code == expect, (username, resp.status_code, resp.get_data(as_text=True)[:500])
    return resp


def logged_in_client(rt: Runtime, username: str | None = None) -> FlaskClient:
    """A browser on a new app of ``rt``, logged in as ``username`` when given."""
    client = create_app(runtime=rt).test_client()
    if username:
        log_in(client, username)
    return client


def post(client: FlaskClient, path: str, data: dict[str, str], *, token_from: str | None = None) -> TestResponse:
    """A form POST with the CSRF token of the page it is sent from (the home page unless told)."""
    return client.post(path, data={**data, "csrf_token": csrf(client, token_from or "/")})


def text_of(html: str) -> str:
    """The visible text of a page, tags removed and spaces squeezed (what a person reads)."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def page(client: FlaskClient, path: str, *, status: int = 200) -> str:
    """The HTML of ``path``, asserted to come with ``status``: what a page does not show is only
    worth checking on the page itself, not on an error or a redirect to the login."""
    resp = client.get(path)
    assert resp.status_code == status, (path, resp.status_code, resp.headers.get("Location"))
    return resp.get_data(as_text=True)


def seen(client: FlaskClient, path: str, *, status: int = 200) -> str:
    """The visible text of ``path`` (see :func:`page`)."""
    return text_of(page(client, path, status=status))


# --- the worker over simulated days -------------------------------------------------------------


def run_until(rt: Runtime, channel: Channel, until: datetime, *, only: Collection[str] | None = None,
              skip: Collection[str] = (), also_due: Sequence[Executable] = (),
              after_tick: Callable[[], object] | None = None, most: int = 500) -> list[Any]:
    """Tick at every moment something falls due, up to ``until``: the test clock jumps there,
    nothing sleeps. A tick is ``run_tick`` itself, unless ``only`` names the duties to run (e.g.
    ``("dispatch",)``) or ``skip`` the ones not to (e.g. ``("letters",)``: the daily batch renders
    every queued letter's PDF); ``also_due``: more moments that count (each a query for one time,
    e.g. a complaint's escalation); ``after_tick``: what happens after each tick (a customer
    answering the provider's callbacks). What each tick returned, in order."""
    chosen = None
    if only is not None or skip:
        every = duties(rt, channel)
        unknown = set(only or ()).union(skip) - set(every)
        assert not unknown, f"no such duty: {sorted(unknown)} (there are {list(every)})"
        chosen = [duty for name, duty in every.items() if (only is None or name in only) and name not in skip]

    def step() -> Any:
        if chosen is None:
            done = run_tick(rt, channel)
        else:
            now = rt.clock.now()
            done = {"now": now.isoformat()}
            for duty in chosen:
                done.update(duty(rt, now))
        if after_tick is not None:
            after_tick()
        return done

    return run_due_until(rt, step, until, also_due=also_due, most=most)


def send_reply_code(rt: Runtime, case_id: int) -> str:
    """The customer was sent the case's reply code (an SMS reminder with the survey link, stored as
    the engine stores every SMS it sends): from now on ``/s/<code>`` answers. The code."""
    from followup.models import SmsMessage

    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        url = f"{rt.settings.public_base_url}/s/{case.reply_code}"
        s.add(SmsMessage(direction="out", store_id=case.store_id, case_id=case.id, from_number="sandbox",
                         to_number="+8613800138000", body=f"您好，还没有收到您的回复。也可打开{url}填写问卷。",
                         status="delivered", received_at=rt.clock.now()))
        s.commit()
        return case.reply_code
