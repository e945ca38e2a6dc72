"""Who sees what in the panel: roles, stores, advisors, sessions, CSRF, escaping, language."""

from __future__ import annotations

import pytest
from factories import page, seen
from flask.testing import FlaskClient
from panel_support import (
    NOW,
    OTHER_STORE,
    add_other_store,
    csrf,
    log_in,
    make_user,
    make_visit,
    post,
)
from sqlalchemy import func, select

from followup.models import User
from followup.runtime import Runtime
from followup.web import create_app


@pytest.fixture
def app_client(rt: Runtime) -> FlaskClient:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    make_user(rt, "staff1", "info_staff", ["SZ01"])
    return create_app(runtime=rt).test_client()


def test_a_user_of_another_store_gets_404_for_a_case_and_does_not_see_it_listed(rt: Runtime, app_client: FlaskClient) -> None:
    add_other_store(rt)
    make_user(rt, "gz_staff", "info_staff", [OTHER_STORE])
    mine = make_visit(rt, "RO-SZ-1", name="深圳客户")
    theirs = make_visit(rt, "RO-GZ-1", name="广州客户", store=OTHER_STORE)
    log_in(app_client, "gz_staff")
    assert "深圳客户" not in seen(app_client, f"/cases/{mine}", status=404)
    assert "广州客户" in seen(app_client, f"/cases/{theirs}")
    listing = seen(app_client, "/cases")
    assert "找到工单: 1" in listing and "RO-GZ-1" in listing and "RO-SZ-1" not in listing
    # actions on the other store's case are refused the same way and change nothing
    assert post(app_client, f"/cases/{mine}/note", {"text": "不该出现"}).status_code == 404
    app_client.post("/logout", data={"csrf_token": csrf(app_client, "/")})
    log_in(app_client, "staff1")
    own_page = seen(app_client, f"/cases/{mine}")
    assert "深圳客户" in own_page and "不该出现" not in own_page
    assert "广州客户" not in seen(app_client, f"/cases/{theirs}", status=404)


def test_an_advisor_sees_only_their_own_customers(rt: Runtime, app_client: FlaskClient) -> None:
    own = make_visit(rt, "RO-OWN", name="自己的客户", advisor="SA01")
    other = make_visit(rt, "RO-OTHER", name="别人的客户", advisor="SA02", mobile="+8613900139000")
    make_user(rt, "sa01", "advisor", ["SZ01"], advisor="SA01")
    log_in(app_client, "sa01")
    listing = seen(app_client, "/cases")
    assert "自己的客户" in listing and "别人的客户" not in listing
    assert "自己的客户" in seen(app_client, f"/cases/{own}")
    assert "别人的客户" not in seen(app_client, f"/cases/{other}", status=404)
    # the monitor counts only their cases too
    assert 'id="funnel-call1"' in page(app_client, "/")
    assert "找到工单: 1" in seen(app_client, "/cases?open=1")


def test_an_advisor_without_a_linked_advisor_row_sees_no_case(rt: Runtime, app_client: FlaskClient) -> None:
    make_visit(rt, "RO-1")
    make_user(rt, "sa09", "advisor", ["SZ01"])
    log_in(app_client, "sa09")
    listing = seen(app_client, "/cases")
    assert "找到工单: 0" in listing and "RO-1" not in listing


@pytest.mark.parametrize("role", ["info_staff", "advisor", "manager"])
def test_settings_are_for_administrators_only(rt: Runtime, app_client: FlaskClient, role: str) -> None:
    make_user(rt, f"u_{role}", role, ["SZ01"])
    log_in(app_client, f"u_{role}")
    for path in ("/settings", "/settings/messages", "/settings/users", "/settings/tokens"):
        assert "呼叫时段" not in seen(app_client, path, status=403), path
    before = count_users(rt)
    resp = post(app_client, "/settings/users", {"username": "intruder", "password": "a-good-pass-999",
                                                "role": "admin", "store": ""})
    assert resp.status_code == 403 and count_users(rt) == before
    home = seen(app_client, "/")
    assert "回访监控" in home and "系统设置" not in home  # the menu has no Settings link


def count_users(rt: Runtime) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(User)) or 0


def test_pages_need_a_login(app_client: FlaskClient) -> None:
    for path in ("/", "/cases", "/cases/1", "/settings"):
        resp = app_client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/login"), path


def test_logout_refuses_a_copied_cookie(rt: Runtime, app_client: FlaskClient) -> None:
    log_in(app_client, "staff1")
    cookie = app_client.get_cookie("session")
    assert cookie is not None
    stolen = create_app(runtime=rt).test_client()
    stolen.set_cookie("session", cookie.value)
    assert "回访监控" in seen(stolen, "/")  # the copy works while the session lives
    app_client.post("/logout", data={"csrf_token": csrf(app_client, "/")})
    resp = stolen.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    # logging in again works and gives a new, valid session
    log_in(app_client, "staff1")
    assert "回访监控" in seen(app_client, "/")
    assert stolen.get("/").headers["Location"].startswith("/login")


def test_a_new_password_ends_the_old_sessions(rt: Runtime, app_client: FlaskClient) -> None:
    log_in(app_client, "staff1")
    assert app_client.get("/").status_code == 200
    make_user(rt, "staff1", "info_staff", ["SZ01"])  # saved again: a new password hash
    assert app_client.get("/").status_code == 302


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(rt: Runtime, app_client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-CSRF")
    log_in(app_client, "staff1")
    for path, data in ((f"/cases/{case_id}/note", {"text": "没有令牌"}),
                       (f"/cases/{case_id}/call", {"outcome": "no_answer"}),
                       (f"/cases/{case_id}/flags", {"flag": "no_contact", "on": "1"})):
        resp = app_client.post(path, data=data)
        assert resp.status_code == 400 and "CSRF" in resp.get_data(as_text=True), path
    shown = seen(app_client, f"/cases/{case_id}")
    assert "没有令牌" not in shown and "勿联系: 否" in shown and "人工登记电访" not in shown


def test_a_customer_name_with_markup_is_shown_as_text(rt: Runtime, app_client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-XSS", name="<script>alert(1)</script>")
    log_in(app_client, "staff1")
    for path in (f"/cases/{case_id}", "/cases", "/cases?q=script"):
        html = page(app_client, path)
        assert "<script>alert(1)</script>" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
    post(app_client, f"/cases/{case_id}/note", {"text": "<img src=x onerror=alert(2)>"}, token_from=f"/cases/{case_id}")
    html = page(app_client, f"/cases/{case_id}")
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html


def test_chinese_by_default_and_english_on_request(rt: Runtime, app_client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-LANG")
    make_user(rt, "admin1", "admin", [])
    log_in(app_client, "admin1")
    zh = {path: seen(app_client, path) for path in ("/", "/cases", f"/cases/{case_id}", "/settings")}
    assert "今日待拨打" in zh["/"] and "三日回访达标率" in zh["/"]
    assert "维修类型" in zh["/cases"] and "保养" in zh["/cases"] and "Service type" not in zh["/cases"]
    assert "登记人工电访" in zh[f"/cases/{case_id}"] and "Record a call made by hand" not in zh[f"/cases/{case_id}"]
    assert "呼叫时段" in zh["/settings"] and "09:00-12:00" in zh["/settings"]
    en = seen(app_client, "/?lang=en")
    assert "Campaign monitor" in en and "Three-day compliance" in en and "回访监控" not in en
    cases_en = seen(app_client, "/cases")  # the choice is remembered
    assert "Service type" in cases_en and "Maintenance" in cases_en and "维修类型" not in cases_en


def test_pages_have_no_inline_script_or_style(rt: Runtime, app_client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-CSP")
    make_user(rt, "admin1", "admin", [])
    log_in(app_client, "admin1")
    for path in ("/", "/cases", f"/cases/{case_id}", "/settings", "/settings/messages", "/settings/users",
                 "/settings/tokens"):
        html = page(app_client, path)
        assert "<script>" not in html and "<style" not in html and "style=" not in html, path
        assert '<link rel="stylesheet"' in html, path  # the styles come from a file
