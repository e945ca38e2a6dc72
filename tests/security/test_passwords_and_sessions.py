"""Passwords (Argon2id, a minimum length, no common password), the login lock, session fixation
and logout; through the service, the panel and ``followup users add``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import PASSWORD, csrf
from sqlalchemy import select

from followup.accounts import (
    COMMON_PASSWORDS_FILE,
    MIN_PASSWORD_LENGTH,
    AccountError,
    add_user,
    common_passwords,
)
from followup.cli import main
from followup.models import User
from followup.runtime import Runtime
from security.security_world import START, World


def stored_hash(rt: Runtime, username: str) -> str:
    with rt.sessions() as s:
        return s.scalars(select(User.password_hash).where(User.username == username)).one()


def test_the_common_password_list_is_shipped_and_read() -> None:
    lines = [x for x in COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines() if not x.startswith("#")]
    assert len(lines) == len(set(lines)) == 1000
    assert all(len(x) >= MIN_PASSWORD_LENGTH for x in lines)  # shorter ones fail the length rule anyway
    assert {"1234567890", "qwertyuiop", "password12", "woaini1314520"} <= common_passwords()


@pytest.mark.real_password_hash  # the other tests hash at the least cost (tests/conftest.py)
def test_passwords_are_argon2id_hashes(rt: Runtime) -> None:
    with rt.sessions() as s:
        add_user(s, "staff9", PASSWORD, "info_staff", ["SZ01"], now=START)
        s.commit()
    stored = stored_hash(rt, "staff9")
    # RFC 9106's low-memory profile: 64 MiB, three passes, four lanes
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and PASSWORD not in stored


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pw1", "password too short: at least 10 characters"),  # 9 characters
        ("", "password too short: at least 10 characters"),
        ("1234567890", "password too common: choose another one"),
        ("QwertyUiop", "password too common: choose another one"),  # any case
        ("woaini1314520", "password too common: choose another one"),
    ],
)
def test_a_short_or_common_password_is_refused_with_a_clear_message(rt: Runtime, password: str, message: str) -> None:
    with rt.sessions() as s, pytest.raises(AccountError) as refused:
        add_user(s, "staff9", password, "info_staff", ["SZ01"], now=START)
    assert str(refused.value) == message
    with rt.sessions() as s:
        assert s.scalar(select(User).where(User.username == "staff9")) is None


def test_ten_characters_that_are_not_common_are_accepted(rt: Runtime) -> None:
    with rt.sessions() as s:
        add_user(s, "staff9", "tea-by-lake", "info_staff", ["SZ01"], now=START)
        s.commit()
    assert stored_hash(rt, "staff9").startswith("$argon2id$")


def test_the_panel_refuses_a_common_new_password_and_keeps_the_old_one(world: World) -> None:
    admin = world.client("admin")
    old = stored_hash(world.rt, "staff1")
    token = csrf(admin, "/settings/users")
    resp = admin.post("/settings/users", data={"csrf_token": token, "username": "staff1", "password": "qwertyuiop",
                                               "role": "info_staff", "store": "SZ01"}, follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "密码过于常见，请换一个" in page
    assert stored_hash(world.rt, "staff1") == old
    world.client("staff1")  # the old password still logs in


def cli(tmp_path: Path, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "FOLLOWUP_ENV": "test", "FOLLOWUP_CONFIG": None,
           "FOLLOWUP_TEST_CLOCK": None}
    return CliRunner().invoke(main, list(args), env=env, input=input)


@pytest.mark.parametrize(
    ("password", "words"),
    [("nine-char\n", "password too short: at least 10 characters"), ("Password12\n", "password too common")],
)
def test_users_add_refuses_short_and_common_passwords(tmp_path: Path, password: str, words: str) -> None:
    assert cli(tmp_path, "db", "upgrade").exit_code == 0
    result = cli(tmp_path, "users", "add", "m1", "--role", "manager", "--store", "SZ01", input=password)
    assert result.exit_code == 2
    assert result.stderr.startswith("followup: ") and words in result.stderr and result.stderr.count("\n") == 1
    assert password.strip() not in result.output
    saved = cli(tmp_path, "users", "add", "m1", "--role", "manager", "--store", "SZ01", input="tea-by-lake\n")
    assert saved.exit_code == 0, saved.output


def test_ten_failed_logins_lock_the_user_even_with_the_right_password(world: World) -> None:
    client = world.client()
    for _ in range(10):
        resp = client.post("/login", data={"username": "staff1", "password": "wrong-password-1",
                                           "csrf_token": csrf(client)})
        assert resp.status_code == 401
    right = {"username": "staff1", "password": PASSWORD}
    locked = client.post("/login", data={**right, "csrf_token": csrf(client)})
    assert locked.status_code == 429 and client.get("/").status_code == 302
    world.rt.clock.set(START + timedelta(minutes=14, seconds=59))  # type: ignore[attr-defined]
    assert client.post("/login", data={**right, "csrf_token": csrf(client)}).status_code == 429
    world.rt.clock.set(START + timedelta(minutes=15, seconds=1))  # type: ignore[attr-defined]
    assert client.post("/login", data={**right, "csrf_token": csrf(client)}).status_code == 302
    assert client.get("/").status_code == 200


def test_the_session_cookie_changes_on_login_and_the_old_one_is_not_logged_in(world: World) -> None:
    client = world.client()
    token = csrf(client)
    before = client.get_cookie("session")
    assert before is not None
    assert client.post("/login", data={"username": "staff1", "password": PASSWORD, "csrf_token": token}).status_code == 302
    after = client.get_cookie("session")
    assert after is not None and after.value != before.value
    # an attacker who planted (or kept) the pre-login cookie is not logged in with it
    planted = world.app.test_client()
    planted.set_cookie("session", before.value)
    assert planted.get("/").status_code == 302
    assert client.get("/").status_code == 200


def test_a_copied_cookie_stops_working_at_logout(world: World) -> None:
    client = world.client("staff1")
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = world.app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get(f"/cases/{world.cases['plain']}").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf(client, "/")}).status_code == 302
    refused = thief.get(f"/cases/{world.cases['plain']}")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")
