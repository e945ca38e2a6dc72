"""Builders shared by the admin-panel tests: visits, users, logging in, CSRF tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from followup.accounts import add_user, link_advisor
from followup.engine.planner import plan_due_cases
from followup.intake.records import VisitRow
from followup.intake.visit_upsert import accept_visit
from followup.models import FollowupCase, Store, Visit
from followup.runtime import Runtime
from followup.web import create_app

#: 12:00 in Shanghai, inside a calling window
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
PASSWORD = "a-good-pass-123"
#: a second store the default configuration does not have: rows only, for scoping tests
OTHER_STORE = "GZ01"


def add_other_store(rt: Runtime) -> int:
    with rt.sessions() as s:
        store = Store(code=OTHER_STORE, name="广州店", timezone="Asia/Shanghai", created_at=NOW)
        s.add(store)
        s.commit()
        return store.id


def make_visit(rt: Runtime, ro: str, *, name: str = "张伟", advisor: str = "SA01", store: str = "SZ01",
               delivered: datetime | None = None, mobile: str | None = "+8613800138000", plate: str = "粤B12345",
               service: str = "maintenance", plan: bool = False) -> int:
    """A visit and its case; returns the case id. ``plan`` plans the first call as a tick would."""
    with rt.sessions() as s:
        store_id = s.scalar(select(Store.id).where(Store.code == store))
        assert store_id is not None
        row = VisitRow(row=2, store_code=store, ro_number=ro, customer_name=name, mobile=mobile, phone=None,
                       address="深圳市南山区科技园北区松坪山路3号", plate=plate, vin=None, vehicle_model="帕萨特",
                       advisor_code=advisor, advisor_name="王强" if advisor == "SA01" else "李娜",
                       service_type=service, delivered_at=delivered or NOW - timedelta(hours=26), mileage_km=12000,
                       language="zh")
        accept_visit(s, store_id, rt.settings.stores["SZ01"], row, source="test", actor="test", now=NOW)
        if plan:
            plan_due_cases(s, rt.settings, NOW)
        s.commit()
        case_id = s.scalar(select(FollowupCase.id).join(Visit, Visit.id == FollowupCase.visit_id)
                           .where(Visit.ro_number == ro, Visit.store_id == store_id))
        assert case_id is not None
        return case_id


def make_user(rt: Runtime, username: str, role: str, stores: list[str], *, advisor: str | None = None) -> None:
    with rt.sessions() as s:
        user = add_user(s, username, PASSWORD, role, stores, now=NOW)
        if advisor:
            link_advisor(s, user, stores[0], advisor)
        s.commit()


def staff_client(rt: Runtime, at: datetime = NOW) -> FlaskClient:
    """A browser logged in as ``staff1`` (info staff of SZ01), the clock at ``at``."""
    rt.clock.set(at)  # type: ignore[attr-defined]
    make_user(rt, "staff1", "info_staff", ["SZ01"])
    client = create_app(runtime=rt).test_client()
    log_in(client, "staff1")
    return client


def csrf(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, f"no csrf_token in {path}"
    return found.group(1)


def log_in(client: FlaskClient, username: str) -> None:
    resp = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf(client)})
    assert resp.status_code == 302, resp.get_data(as_text=True)


def post(client: FlaskClient, path: str, data: dict[str, str], *, token_from: str | None = None):  # type: ignore[no-untyped-def]
    """A form POST with the CSRF token of the page it is sent from."""
    return client.post(path, data={**data, "csrf_token": csrf(client, token_from or "/")})


def text_of(html: str) -> str:
    """The visible text of a page, tags removed and spaces squeezed (what a person reads)."""
    import html as html_lib

    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", body))).strip()
