"""#19 finding 8 (sessions and headers): sessions end, production insists on https, and pages that
show a secret once are never stored.

Before: a session cookie stayed good for 31 days of idleness; no ``Strict-Transport-Security``;
the new API token, a new webhook secret and a revealed phone number came with no
``Cache-Control`` (the back button or a shared proxy could show them again).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from factories import csrf
from flask.testing import FlaskClient

from followup.settings import ConfigError, load_settings
from followup.web import create_app
from security.conftest import two_store_env
from security.security_world import MOBILES, World

HOUR = 3600


def logged_in(client: FlaskClient) -> bool:
    resp = client.get("/")
    assert resp.status_code in (200, 302), resp.status_code
    return resp.status_code == 200


def move_session(client: FlaskClient, *, started: float = 0, seen: float = 0) -> None:
    """Make the session cookie look as if it started ``started`` and was last used ``seen`` seconds earlier."""
    with client.session_transaction() as sess:
        sess["iat"] -= started
        sess["seen"] -= seen


def test_a_session_unused_for_8_hours_ends(world: World) -> None:
    client = world.client("staff1")
    move_session(client, started=7 * HOUR, seen=8 * HOUR - 60)
    assert logged_in(client)  # used within 8 hours: still in, and now used again
    move_session(client, seen=8 * HOUR - 60)
    assert logged_in(client)
    move_session(client, seen=8 * HOUR + 1)
    resp = client.get("/cases")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    assert not logged_in(client)  # ended, not only refused once
    with client.session_transaction() as sess:
        assert "uid" not in sess


def test_a_session_ends_24_hours_after_the_login_however_busy(world: World) -> None:
    client = world.client("staff1")
    move_session(client, started=24 * HOUR - 60)
    assert logged_in(client)
    move_session(client, started=61)
    assert not logged_in(client)
    assert logged_in(world.client("staff1"))  # logging in again starts a new one


def test_a_cookie_without_session_times_is_not_a_session(world: World) -> None:
    client = world.client("staff1")
    with client.session_transaction() as sess:
        del sess["iat"], sess["seen"]
    assert not logged_in(client)


def test_the_activity_polls_do_not_keep_an_unattended_session_alive(world: World) -> None:
    client = world.client("staff1")
    move_session(client, seen=8 * HOUR - 120)
    for _ in range(3):
        assert client.get("/events/recent").status_code == 200
    move_session(client, seen=121)
    assert client.get("/events/recent").status_code == 302
    assert not logged_in(client)


def test_the_session_limits_come_from_the_web_table(world: World, tmp_path: Path) -> None:
    settings = load_settings(two_store_env(world.rt.settings.database_url, FOLLOWUP__web__session_idle="30m",
                                           FOLLOWUP__web__session_max="2h"))
    assert (settings.web.session_idle, settings.web.session_max) == (timedelta(minutes=30), timedelta(hours=2))
    app = create_app(runtime=replace(world.rt, settings=settings))
    client = app.test_client()
    client.post("/login", data={"username": "staff1", "password": "a-good-pass-123", "csrf_token": csrf(client)})
    move_session(client, seen=29 * 60)
    assert logged_in(client)
    move_session(client, seen=31 * 60)
    assert not logged_in(client)
    for key, value in (("session_idle", "8 hours"), ("session_idle", "0s"), ("session_idle", "2d")):
        with pytest.raises(ConfigError) as bad:
            load_settings(two_store_env(world.rt.settings.database_url, **{f"FOLLOWUP__web__{key}": value}))
        assert bad.value.key == f"web.{key}"


PRODUCTION = {"FOLLOWUP_ENV": "production", "FOLLOWUP_SECRET_KEY": "p" * 48, "PUBLIC_BASE_URL": "https://f.example.cn",
              "FOLLOWUP_CHANNEL_MODE": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t" * 32,
              "TWILIO_FROM_NUMBER": "+8675512345678"}


def test_hsts_in_production_only(world: World) -> None:
    production = create_app(settings=load_settings({**two_store_env(world.rt.settings.database_url), **PRODUCTION,
                                                    "FOLLOWUP_TEST_CLOCK": ""}))
    for path in ("/login", "/healthz"):
        resp = production.test_client().get(path)
        assert resp.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains", path
    assert "Strict-Transport-Security" not in world.client().get("/login").headers


def no_store(resp: object) -> bool:
    return resp.headers.get("Cache-Control") == "no-store"  # type: ignore[attr-defined]


def test_a_new_api_token_is_never_stored(world: World) -> None:
    admin = world.client("admin")
    resp = admin.post("/settings/tokens", data={"name": "DMS", "csrf_token": csrf(admin, "/settings/tokens")})
    assert resp.status_code == 200 and re.search(r"fu_[A-Za-z0-9_-]{20,}", resp.get_data(as_text=True))
    assert no_store(resp)


def test_a_new_or_rotated_webhook_secret_is_never_stored(world: World) -> None:
    app = create_app(runtime=replace(world.rt, settings=replace(world.rt.settings, webhook_allow_private=True)))
    admin = app.test_client()
    admin.post("/login", data={"username": "admin", "password": "a-good-pass-123", "csrf_token": csrf(admin)})
    token = csrf(admin, "/webhooks/subscribers")
    added = admin.post("/webhooks/subscribers", data={"url": "http://127.0.0.1:9/hook", "csrf_token": token})
    assert added.status_code == 200 and 'id="new-secret">whsec_' in added.get_data(as_text=True)
    assert no_store(added)
    sub_id = re.findall(r"/webhooks/subscribers/(\d+)/rotate", admin.get("/webhooks/subscribers").get_data(as_text=True))
    assert sub_id
    rotated = admin.post(f"/webhooks/subscribers/{sub_id[-1]}/rotate", data={"csrf_token": token})
    assert rotated.status_code == 200 and 'id="new-secret">whsec_' in rotated.get_data(as_text=True)
    assert no_store(rotated)


def test_a_revealed_phone_number_is_never_stored(world: World) -> None:
    staff = world.client("staff1")
    resp = staff.post(f"/cases/{world.cases['plain']}/reveal",
                      data={"which": "mobile", "csrf_token": csrf(staff, f"/cases/{world.cases['plain']}")})
    assert resp.status_code == 200 and MOBILES["plain"].removeprefix("+86") in resp.get_data(as_text=True)
    assert no_store(resp)
