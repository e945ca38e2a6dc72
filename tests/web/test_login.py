"""The admin panel's login (CONTRACT §4b), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factories
import pytest
from factories import PASSWORD, csrf, make_user, page, seen
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from followup.models import LoginFailure, User
from followup.runtime import Runtime
from followup.web import create_app

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def client(rt: Runtime) -> FlaskClient:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    make_user(rt, "staff1")
    return create_app(runtime=rt).test_client()


def log_in(client: FlaskClient, password: str = PASSWORD, username: str = "staff1", query: str = "") -> TestResponse:
    """``staff1`` tries to log in (with ``password``): the response, whatever it is."""
    return factories.log_in(client, username, password=password, query=query, expect=None)


def logged_in(client: FlaskClient) -> bool:
    """True when the home page shows the monitor, False when the browser is sent to the login page;
    anything else (an error, another page) fails the test."""
    resp = client.get("/")
    if resp.status_code == 302:
        assert resp.headers["Location"].startswith("/login"), resp.headers["Location"]
        return False
    assert resp.status_code == 200, resp.status_code
    assert "回访监控" in resp.get_data(as_text=True)
    return True


def failures(rt: Runtime) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(LoginFailure)) or 0


def test_the_login_page_is_chinese_by_default_and_english_on_request(client: FlaskClient) -> None:
    text = page(client, "/login")
    assert "登录" in text and "用户名" in text and "密码" in text and 'lang="zh-CN"' in text
    assert "Log in" not in text
    english = seen(client, "/login?lang=en")
    assert "Log in" in english and "Username" in english and "登录" not in english
    # the choice is remembered
    assert "Log in" in seen(client, "/login")


def test_the_form_has_the_contract_fields(client: FlaskClient) -> None:
    text = page(client, "/login")
    for name in ("username", "password", "csrf_token"):
        assert f'name="{name}"' in text


def test_a_post_without_csrf_token_is_refused(rt: Runtime, client: FlaskClient) -> None:
    client.get("/login")
    resp = client.post("/login", data={"username": "staff1", "password": PASSWORD})
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)
    assert not logged_in(client)
    bad = client.post("/login", data={"username": "staff1", "password": PASSWORD, "csrf_token": "forged"})
    assert bad.status_code == 400
    assert not logged_in(client)


def test_the_right_password_logs_in_and_shows_the_monitor(rt: Runtime, client: FlaskClient) -> None:
    assert client.get("/").headers["Location"].startswith("/login")
    resp = log_in(client)
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    home = client.get("/")
    text = home.get_data(as_text=True)
    assert home.status_code == 200
    assert "回访监控" in text and "staff1" in text and "SZ01" in text
    assert failures(rt) == 0


def test_login_goes_back_to_the_page_asked_for_but_never_off_site(client: FlaskClient) -> None:
    resp = client.get("/?lang=en")
    assert resp.status_code == 302 and "next=/" in resp.headers["Location"]
    assert log_in(client, query="?next=/").headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        resp = log_in(client, query=f"?next={target}")
        assert (resp.status_code, resp.headers["Location"]) == (302, "/"), target  # home, not off site
        assert logged_in(client)
        client.post("/logout", data={"csrf_token": csrf(client, "/")})


def test_a_wrong_password_is_401_with_the_error(rt: Runtime, client: FlaskClient) -> None:
    resp = log_in(client, password="not-the-password")
    assert resp.status_code == 401
    assert "用户名或密码错误" in resp.get_data(as_text=True)
    assert not logged_in(client)
    assert failures(rt) == 1
    client.get("/login?lang=en")
    english = log_in(client, username="nobody", password="whatever-123")
    assert english.status_code == 401
    assert "Wrong username or password." in english.get_data(as_text=True)


def test_ten_failures_lock_the_username_even_for_the_right_password(rt: Runtime, client: FlaskClient) -> None:
    for _ in range(10):
        assert log_in(client, password="wrong-password").status_code == 401
    resp = log_in(client)
    assert resp.status_code == 429
    assert "15 分钟" in resp.get_data(as_text=True)
    assert not logged_in(client)
    # another username is not locked
    make_user(rt, "staff2")
    assert log_in(client, username="staff2").status_code == 302


def test_the_lock_lasts_15_minutes(rt: Runtime, client: FlaskClient) -> None:
    for _ in range(10):
        log_in(client, password="wrong-password")
    rt.clock.set(NOW + timedelta(minutes=14))  # type: ignore[attr-defined]
    assert log_in(client).status_code == 429
    rt.clock.set(NOW + timedelta(minutes=15, seconds=1))  # type: ignore[attr-defined]
    assert log_in(client).status_code == 302
    assert logged_in(client)


def test_the_lock_lasts_15_minutes_after_failures_spread_out(rt: Runtime, client: FlaskClient) -> None:
    # ten failures over nine minutes: locked at the tenth, for 15 minutes from then
    for minute in range(10):
        rt.clock.set(NOW + timedelta(minutes=minute))  # type: ignore[attr-defined]
        assert log_in(client, password="wrong-password").status_code == 401
    rt.clock.set(NOW + timedelta(minutes=9 + 10))  # type: ignore[attr-defined]
    assert log_in(client).status_code == 429
    rt.clock.set(NOW + timedelta(minutes=9 + 15, seconds=1))  # type: ignore[attr-defined]
    assert log_in(client).status_code == 302


def test_nine_failures_do_not_lock(rt: Runtime, client: FlaskClient) -> None:
    for _ in range(9):
        log_in(client, password="wrong-password")
    assert log_in(client).status_code == 302


def test_odd_usernames_are_just_wrong(rt: Runtime, client: FlaskClient) -> None:
    for name in ("staff1\x00", "x" * 500, "员工\u202e1"):
        resp = log_in(client, username=name)
        assert resp.status_code == 401, name
    assert not logged_in(client)


def test_the_session_cookie_is_httponly_and_lax(client: FlaskClient) -> None:
    resp = log_in(client)
    assert resp.status_code == 302
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session="))
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags and "samesite=lax" in flags
    assert "secure" not in flags  # Secure only in production


def test_the_session_is_renewed_on_login(client: FlaskClient) -> None:
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by-an-attacker"
        before = dict(sess)
    assert log_in(client).status_code == 302
    with client.session_transaction() as sess:
        after = dict(sess)
    assert "planted" not in after
    assert after.get("csrf_token") != before.get("csrf_token")
    assert "uid" in after


def test_logout_ends_the_session(client: FlaskClient) -> None:
    log_in(client)
    assert logged_in(client)
    assert client.post("/logout").status_code == 400  # no csrf token
    assert logged_in(client)
    resp = client.post("/logout", data={"csrf_token": csrf(client, "/")})
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    after = client.get("/")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")


def test_an_inactive_user_cannot_log_in_or_stay_logged_in(rt: Runtime, client: FlaskClient) -> None:
    log_in(client)
    assert logged_in(client)
    with rt.sessions() as s:
        user = s.scalar(select(User).where(User.username == "staff1"))
        assert user is not None
        user.active = False
        s.commit()
    assert not logged_in(client)
    resp = log_in(client)
    assert resp.status_code == 401 and "用户名或密码错误" in resp.get_data(as_text=True)


def test_security_headers(client: FlaskClient) -> None:
    for path in ("/login", "/"):
        resp = client.get(path)
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_has_no_inline_script_or_style(client: FlaskClient) -> None:
    assert log_in(client).status_code == 302
    for path in ("/login", "/"):
        text = page(client, path)
        assert '<link rel="stylesheet"' in text, path  # the styles come from a file
        assert "<script>" not in text and "<style" not in text and "style=" not in text
