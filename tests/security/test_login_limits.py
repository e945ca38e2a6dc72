"""#19 finding 2: nobody can lock a colleague out for ever, nor exhaust the web process by logging in.

The attacks, as tried before the change:
- ten wrong passwords for ``admin`` every 15 minutes, from anywhere, kept the real administrator
  out (429 even with the right password, from any address);
- rotating usernames from one address never hit a limit: each try cost an Argon2id check;
- as many password checks ran at once as there were threads (64 MiB each).
Now: failures count per username *and* per client address (in the database); a right password
from an address that has not failed for that username still logs in; an address is refused after
20 failures; at most ``HASHING_SLOTS`` checks run at once per process, the next answered 503 at
once; ``followup users unlock USERNAME`` lifts a lock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta
from ipaddress import ip_network
from typing import Any

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from factories import PASSWORD, csrf
from flask.testing import FlaskClient
from sqlalchemy import func, select

from followup import accounts, login_limits
from followup.cli import main
from followup.models import AuditEntry, LoginFailure
from followup.web import create_app
from security.security_world import START, World

ATTACKER = "203.0.113.9"
OFFICE = "198.51.100.7"


def browser(world: World, address: str, app: Any = None) -> FlaskClient:
    client = (app or world.app).test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def try_login(client: FlaskClient, username: str, password: str = PASSWORD, **headers: str) -> int:
    resp = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf(client)},
                       headers=headers)
    return resp.status_code


def failures(world: World, **where: str) -> int:
    with world.rt.sessions() as s:
        q = select(func.count()).select_from(LoginFailure)
        for column, value in where.items():
            q = q.where(getattr(LoginFailure, column) == value)
        return s.scalar(q) or 0


def lock_admin_from(world: World, address: str) -> FlaskClient:
    attacker = browser(world, address)
    for _ in range(10):
        assert try_login(attacker, "admin", "wrong-password-1") == 401
    return attacker


def test_an_attacker_cannot_keep_the_administrator_out(world: World) -> None:
    attacker = lock_admin_from(world, ATTACKER)
    # the lock of CONTRACT §4b holds for the address that failed, even with the right password
    assert try_login(attacker, "admin") == 429
    # the administrator, at the office, has not failed: the right password logs in
    admin = browser(world, OFFICE)
    assert try_login(admin, "admin") == 302
    assert admin.get("/settings/users").status_code == 200


def test_a_clean_address_gets_one_try_while_the_username_is_locked(world: World) -> None:
    lock_admin_from(world, ATTACKER)
    second = browser(world, "192.0.2.44")
    assert try_login(second, "admin", "another-wrong-1") == 429  # wrong: refused as locked, and recorded
    assert try_login(second, "admin") == 429  # now this address has failed too
    assert failures(world, username="admin") == 11


def test_failures_are_stored_with_the_address_and_an_ipv6_host_counts_as_its_64(world: World) -> None:
    v6 = "2001:db8:1:2::"
    for n in range(10):
        assert try_login(browser(world, f"{v6}{n + 1:x}"), "admin", "wrong-password-1") == 401
    assert failures(world, address="2001:db8:1:2::/64") == 10
    # another address of the same /64 is the same client: it has failed, the lock holds
    assert try_login(browser(world, f"{v6}ff"), "admin") == 429
    assert try_login(browser(world, "2001:db8:1:3::1"), "admin") == 302


def test_an_address_that_keeps_failing_is_refused_for_every_username(world: World) -> None:
    attacker = browser(world, ATTACKER)
    names = ["staff1", "manager1", "sa01", "sa02", "gz_staff", "gz_manager", "nobody1", "nobody2"]
    for n in range(login_limits.ADDRESS_FAILURES):
        assert try_login(attacker, names[n % len(names)], "wrong-password-1") == 401
    before = failures(world)
    # even a right password: the address is refused before any password is checked
    resp = attacker.post("/login", data={"username": "gz_manager", "password": PASSWORD, "csrf_token": csrf(attacker)})
    assert resp.status_code == 429 and "此地址" in resp.get_data(as_text=True)
    assert failures(world) == before
    # nobody's account is locked by it: from elsewhere every user logs in
    assert try_login(browser(world, OFFICE), "staff1") == 302
    world.rt.clock.set(START + timedelta(minutes=15, seconds=1))  # type: ignore[attr-defined]
    assert try_login(attacker, "gz_manager") == 302


def test_x_forwarded_for_counts_only_behind_a_trusted_proxy(world: World) -> None:
    # not trusted: a header the attacker writes changes nothing (every try is still the attacker's address)
    attacker = browser(world, ATTACKER)
    for n in range(10):
        assert try_login(attacker, "admin", "wrong-password-1", **{"X-Forwarded-For": f"10.9.9.{n}"}) == 401
    assert failures(world, address=ATTACKER) == 10
    assert try_login(attacker, "admin", **{"X-Forwarded-For": "10.1.1.1"}) == 429
    # behind the dealership's proxy (127.0.0.1, trusted), the forwarded client is the address
    proxied = create_app(runtime=replace(world.rt, settings=replace(
        world.rt.settings, trusted_proxies=(ip_network("127.0.0.1/32"),))))
    via_proxy = browser(world, "127.0.0.1", proxied)
    assert try_login(via_proxy, "admin", **{"X-Forwarded-For": f"1.2.3.4, {OFFICE}"}) == 302


class CountingHasher(PasswordHasher):
    """The service's hasher at the least cost, whose checks take ``seconds``; counts the most at once."""

    def __init__(self, seconds: float) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.seconds, self.now, self.most, self.calls = seconds, 0, 0, 0
        self.lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002 - argon2's name
        with self.lock:
            self.now += 1
            self.calls += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(self.seconds)
            return super().verify(hash, password)
        finally:
            with self.lock:
                self.now -= 1


def test_at_most_a_few_password_checks_run_at_once_and_the_rest_are_answered_busy_at_once(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = CountingHasher(0.5)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    clients = [browser(world, f"192.0.2.{n}") for n in range(12)]
    tokens = [csrf(c) for c in clients]
    results: list[tuple[int, float, str]] = []
    go = threading.Barrier(len(clients))

    def attempt(client: FlaskClient, token: str) -> None:
        go.wait()
        started = time.monotonic()
        resp = client.post("/login", data={"username": "staff1", "password": "wrong-password-1", "csrf_token": token})
        results.append((resp.status_code, time.monotonic() - started, resp.headers.get("Retry-After", "")))

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert hasher.most <= login_limits.HASHING_SLOTS, f"{hasher.most} password checks ran at once"
    busy = [r for r in results if r[0] == 503]
    assert busy and all(retry == "1" for _, _took, retry in busy), results
    assert {r[0] for r in results} == {401, 503}
    # a busy answer never waited for a password check: only the refused logins ran one (no timing
    # here: under a loaded machine a round trip's duration says nothing)
    assert hasher.calls == len(results) - len(busy), (hasher.calls, results)
    assert failures(world, username="staff1") == len(results) - len(busy)  # a busy answer is no failure


def test_a_busy_answer_says_so_in_chinese(world: World) -> None:
    client = browser(world, OFFICE)
    held = [login_limits.hashing_slot() for _ in range(login_limits.HASHING_SLOTS)]
    for h in held:
        h.__enter__()
    try:
        resp = client.post("/login", data={"username": "staff1", "password": PASSWORD, "csrf_token": csrf(client)})
    finally:
        for h in held:
            h.__exit__(None, None, None)
    assert resp.status_code == 503 and "繁忙" in resp.get_data(as_text=True)
    assert try_login(client, "staff1") == 302


def cli(world: World, *args: str) -> Any:
    env = {"DATABASE_URL": world.rt.settings.database_url, "FOLLOWUP_ENV": "test", "FOLLOWUP_TEST_CLOCK": "1",
           "FOLLOWUP_CONFIG": None}
    return CliRunner().invoke(main, list(args), env=env)


def test_users_unlock_lifts_the_lock_at_once_and_is_audited(world: World) -> None:
    attacker = lock_admin_from(world, ATTACKER)
    result = cli(world, "users", "unlock", "admin")
    assert result.exit_code == 0, result.output
    assert "admin" in result.stdout
    assert try_login(attacker, "admin") == 302  # the same address, at once
    with world.rt.sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.unlocked")).one()
    assert entry.actor.startswith("cli") and entry.detail["username"] == "admin"
    assert entry.detail["failures_cleared"] == 10
    # the failures stay (they still count for the attacker's address), cleared
    assert failures(world, address=ATTACKER) == 10


def test_users_unlock_of_an_unknown_user_says_so_in_one_line(world: World) -> None:
    result = cli(world, "users", "unlock", "admn")
    assert result.exit_code == 2
    assert result.stderr.startswith("followup: ") and "admn" in result.stderr and result.stderr.count("\n") == 1
