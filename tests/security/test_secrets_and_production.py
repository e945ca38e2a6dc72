"""Secrets and full phone numbers never reach the logs; ``FOLLOWUP_ENV=production`` refuses to start
with a missing, default or short secret key, SQLite with more than one web worker, the test clock,
an ``http://`` public URL, the sandbox (channel, SMS provider, demo customers) or ``followup dev``,
each with one line naming the key (settings, CLI and gunicorn)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import PASSWORD, csrf
from fakes.twilio_emulator import TwilioEmulator
from fakes.twilio_env import AUTH_TOKEN, PUBLIC, post_signed, read_sample, twilio_env
from sqlalchemy import func, select

from followup.accounts import add_user, create_token
from followup.channels.registry import build_channel
from followup.cli import main
from followup.engine.tick import run_tick
from followup.intake.importer import import_visits
from followup.log_privacy import REDACTED, install, redact
from followup.models import ContactAttempt, Customer, User
from followup.runtime import Runtime, build_runtime, sync_stores
from followup.schema import upgrade
from followup.settings import DEFAULT_SECRET_KEY, ConfigError, load_settings
from followup.web import create_app
from security.security_world import MOBILES, SZ02_ENV, full_number_forms

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "s3cr3t-session-key-0123456789abcdef0123456789"
WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LXdlYmhvb2sta2V5LTAxMjM0NTY3ODk="
GOOD_PRODUCTION = {"FOLLOWUP_ENV": "production", "FOLLOWUP_SECRET_KEY": SECRET_KEY,
                   "PUBLIC_BASE_URL": "https://followup.example.cn", "DATABASE_URL": "sqlite:////tmp/followup-prod.db",
                   # production contacts customers for real: Twilio (start-up never calls it)
                   "FOLLOWUP_CHANNEL_MODE": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
                   "TWILIO_AUTH_TOKEN": "f0e1d2c3b4a5968778695a4b3c2d1e0f", "TWILIO_FROM_NUMBER": "+8675512345678"}


# --- production refusals -------------------------------------------------------------------------

REFUSED = [
    ({"FOLLOWUP_SECRET_KEY": ""}, "FOLLOWUP_SECRET_KEY"),
    ({"FOLLOWUP_SECRET_KEY": None}, "FOLLOWUP_SECRET_KEY"),
    ({"FOLLOWUP_SECRET_KEY": DEFAULT_SECRET_KEY}, "FOLLOWUP_SECRET_KEY"),
    ({"FOLLOWUP_TEST_CLOCK": "1"}, "FOLLOWUP_TEST_CLOCK"),
    ({"PUBLIC_BASE_URL": "http://followup.example.cn"}, "PUBLIC_BASE_URL"),
    ({"PUBLIC_BASE_URL": None}, "PUBLIC_BASE_URL"),  # the default is http://127.0.0.1:5000
    ({"WEB_CONCURRENCY": "2"}, "WEB_CONCURRENCY"),  # two gunicorn workers on one SQLite file
    ({"WEB_CONCURRENCY": "two"}, "WEB_CONCURRENCY"),
    # #19 finding 3: a one-character key signs sessions anybody can forge
    ({"FOLLOWUP_SECRET_KEY": "x"}, "FOLLOWUP_SECRET_KEY"),
    ({"FOLLOWUP_SECRET_KEY": "k" * 31}, "FOLLOWUP_SECRET_KEY"),
    # the sandbox: nobody is contacted, the simulator invents answers that count toward bonuses
    ({"FOLLOWUP_CHANNEL_MODE": "sandbox"}, "FOLLOWUP_CHANNEL_MODE"),
    ({"FOLLOWUP_CHANNEL_MODE": None, "TWILIO_ACCOUNT_SID": None}, "FOLLOWUP_CHANNEL_MODE"),  # sandbox by default
    ({"FOLLOWUP_SMS_PROVIDER": "sandbox"}, "FOLLOWUP_SMS_PROVIDER"),
    # demo customers answer real cases' surveys on their own
    ({"FOLLOWUP_SANDBOX_CUSTOMERS": "demo"}, "FOLLOWUP_SANDBOX_CUSTOMERS"),
]


def production(changes: dict[str, str | None]) -> dict[str, str]:
    env = {**GOOD_PRODUCTION, **{k: v for k, v in changes.items() if v is not None}}
    return {k: v for k, v in env.items() if not (k in changes and changes[k] is None)}


def test_a_good_production_configuration_loads() -> None:
    settings = load_settings(production({}))
    assert settings.env == "production" and settings.secret_key == SECRET_KEY
    assert load_settings(production({"WEB_CONCURRENCY": "1"})).env == "production"  # SQLite, one worker: allowed
    pg = production({"WEB_CONCURRENCY": "4", "DATABASE_URL": "postgresql+psycopg://app@127.0.0.1/followup"})
    assert load_settings(pg).database_url.startswith("postgresql")
    assert load_settings(production({"FOLLOWUP_SECRET_KEY": "k" * 32})).env == "production"  # 32: enough


@pytest.mark.parametrize(("changes", "key"), REFUSED, ids=[f"{k}" for _, k in REFUSED])
def test_production_refuses_with_the_key_named(changes: dict[str, str | None], key: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(production(changes))
    assert refused.value.key == key
    message = str(refused.value)
    assert message.startswith(f"config error: {key}: ") and "\n" not in message
    assert SECRET_KEY not in message


def test_the_same_settings_are_fine_outside_production() -> None:
    for changes, _key in REFUSED:
        env = {**production(changes), "FOLLOWUP_ENV": "development"}
        if env.get("WEB_CONCURRENCY") == "two":
            continue  # not a number is wrong everywhere
        assert load_settings(env).env == "development"


@pytest.mark.parametrize(("changes", "key"), REFUSED, ids=[f"{k}" for _, k in REFUSED])
def test_every_command_refuses_with_one_line_and_exit_2(changes: dict[str, str | None], key: str) -> None:
    env: dict[str, str | None] = {k: None for k in ("FOLLOWUP_CONFIG", "FOLLOWUP_TEST_CLOCK", "WEB_CONCURRENCY",
                                                    "FOLLOWUP_SMS_PROVIDER", "FOLLOWUP_SANDBOX_CUSTOMERS")}
    env.update(production(changes))
    for name in ("FOLLOWUP_SECRET_KEY", "PUBLIC_BASE_URL", *changes):
        if name not in production(changes):
            env[name] = None  # unset, whatever the machine's environment says
    for args in (["db", "upgrade"], ["tick"], ["worker"], ["web"], ["dev"]):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith(f"followup: config error: {key}: ") and result.stderr.count("\n") == 1, args
        assert "Traceback" not in result.output and SECRET_KEY not in result.output


def test_followup_dev_refuses_production_and_makes_no_demo_login(tmp_path: Path) -> None:
    """``followup dev`` would make ``admin`` / ``followup-demo`` on an empty database and start the
    demo customers: never in production, even with an otherwise good configuration."""
    env = {**production({"DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}"}), "FOLLOWUP_CONFIG": None,
           "FOLLOWUP_TEST_CLOCK": None, "WEB_CONCURRENCY": None}
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    result = CliRunner().invoke(main, ["dev", "--port", "1"], env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("followup: config error: FOLLOWUP_ENV: ") and result.stderr.count("\n") == 1
    rt = build_runtime(load_settings({k: v for k, v in env.items() if v is not None}))
    try:
        with rt.sessions() as s:
            assert s.scalar(select(func.count()).select_from(User)) == 0
    finally:
        rt.dispose()


def gunicorn(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FOLLOWUP", "WEB_CONCURRENCY", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", *args, "--bind", "127.0.0.1:0", "followup.web.wsgi:app"],
        cwd=ROOT, env={**base, **GOOD_PRODUCTION, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", **env},
        capture_output=True, text=True, timeout=60,
    )


@pytest.mark.slow
def test_gunicorn_with_several_workers_on_sqlite_refuses_before_forking(tmp_path: Path) -> None:
    """However the worker count is given (--workers, WEB_CONCURRENCY, GUNICORN_CMD_ARGS), gunicorn.conf.py
    checks gunicorn's own count before any worker starts."""
    for args, env in ((["--workers", "2"], {}), ([], {"GUNICORN_CMD_ARGS": "--workers 3"})):
        done = gunicorn(tmp_path, *args, **env)
        assert done.returncode == 2, done.stderr
        lines = [x for x in done.stderr.splitlines() if x.startswith("followup:")]
        assert lines == [lines[0]] and "web workers on SQLite" in lines[0] and "gunicorn --workers" in lines[0]
        assert "Booting worker" not in done.stderr
    refused = gunicorn(tmp_path, WEB_CONCURRENCY="2")  # gunicorn's own default reads it, and so do the settings
    assert refused.returncode == 2 and "followup: config error: " in refused.stderr
    assert "Traceback" not in refused.stderr


# --- secrets and numbers in the logs -------------------------------------------------------------


class FailingReceiver:
    """A webhook subscriber on loopback that answers 500 to everything (so the delivery is retried
    and logged) and keeps what it got."""

    def __init__(self) -> None:
        received: list[bytes] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                received.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                self.send_response(500)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[FailingReceiver]:
    r = FailingReceiver()
    yield r
    r.stop()


def next_due(rt: Runtime) -> datetime:
    with rt.sessions() as s:
        due = s.scalar(select(func.min(ContactAttempt.due_at)).where(ContactAttempt.status == "planned"))
    assert due is not None
    return max(due, rt.clock.now())


def test_a_whole_flow_logs_no_secret_and_no_full_number(tmp_path: Path, emulator: TwilioEmulator,
                                                        receiver: FailingReceiver, samples: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """Import, a failed Twilio request then the SMS, a signed and a forged inbound SMS, a status
    callback, webhook deliveries that fail, the API with a good and a bad token, logins right and
    wrong: every log record of every logger at DEBUG is checked."""
    caplog.set_level(logging.DEBUG)
    env = twilio_env(emulator, f"sqlite:///{tmp_path / 'logs.db'}", FOLLOWUP_SECRET_KEY=SECRET_KEY,
                     FOLLOWUP_WEBHOOK_URLS=f"{receiver.url}|{WEBHOOK_SECRET}", **SZ02_ENV)
    rt = build_runtime(load_settings(env))
    upgrade(rt.engine)
    try:
        with rt.sessions() as s:
            sync_stores(s, rt.settings)
            add_user(s, "staff1", PASSWORD, "info_staff", ["SZ01"], now=datetime(2026, 11, 19, tzinfo=UTC))
            api_token = create_token(s, "dms", now=datetime(2026, 11, 19, tzinfo=UTC))
            s.commit()
        csv = tmp_path / "v.csv"
        csv.write_text("store_code,ro_number,customer_name,mobile,advisor_code,service_type,delivered_at\n"
                       f"SZ01,RO-LOG,张伟,{MOBILES['evil']},SA01,repair,2026-11-19T08:30:00+08:00\n", encoding="utf-8")
        start = datetime(2026, 11, 19, 1, 0, tzinfo=UTC)
        rt.clock.set(start)  # type: ignore[attr-defined]
        assert import_visits(csv, settings=rt.settings, sessions=rt.sessions, clock=rt.clock).exit_code == 0
        with rt.sessions() as s:  # a customer who may not be called: the SMS survey starts at once
            s.scalars(select(Customer)).one().do_not_call = True
            s.commit()
        channel = build_channel(rt.settings)
        emulator.fail_next(500, 20500, "injected failure")  # the first SMS request fails at Twilio
        for _ in range(10):
            run_tick(rt, channel)
            if emulator.created("Messages"):
                break
            rt.clock.set(next_due(rt))  # type: ignore[attr-defined]
        (sms,) = emulator.created("Messages")
        client = create_app(runtime=rt).test_client()
        status = {**read_sample(samples, "sms_status_delivered.txt"), "MessageSid": sms.sid or "",
                  "SmsSid": sms.sid or ""}
        assert post_signed(client, sms.one("StatusCallback"), status)[0] in (200, 204)
        inbound = {**read_sample(samples, "sms_inbound_reply.txt"), "Body": "9", "From": MOBILES["evil"],
                   "MessageSid": "SM" + "a" * 32, "SmsSid": "SM" + "a" * 32}
        assert post_signed(client, f"{PUBLIC}/twilio/sms/inbound", inbound)[0] == 200
        assert post_signed(client, f"{PUBLIC}/twilio/sms/inbound", inbound, signature="forged")[0] == 403
        client.get("/api/v1/visits/SZ01/RO-LOG", headers={"Authorization": f"Bearer {api_token}"})
        client.get("/api/v1/visits/SZ01/RO-LOG", headers={"Authorization": "Bearer fu_wrong-token"})
        client.post("/login", data={"username": "staff1", "password": "wrong-password-9", "csrf_token": csrf(client)})
        client.post("/login", data={"username": "staff1", "password": PASSWORD, "csrf_token": csrf(client)})
        for minutes in (20, 30):
            rt.clock.set(rt.clock.now() + timedelta(minutes=minutes))  # type: ignore[attr-defined]
            run_tick(rt, channel)
        assert receiver.received, "the webhook subscriber was tried"
    finally:
        rt.dispose()
    text = "\n".join(f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert len(caplog.records) > 5, "the flow logged something"
    secrets = {"auth token": AUTH_TOKEN, "session key": SECRET_KEY, "webhook secret": WEBHOOK_SECRET,
               "webhook secret body": WEBHOOK_SECRET.removeprefix("whsec_"), "API token": api_token,
               "password": PASSWORD, "wrong password": "wrong-password-9"}
    assert [name for name, value in secrets.items() if value in text] == []
    assert [f for f in full_number_forms(MOBILES["evil"]) if f in text] == []
    # the logs did speak of the failed request and of the number (masked): the checks above had material
    assert "Response Status Code: 500" in text and "138****8000" in text


@pytest.mark.parametrize(
    ("line", "hidden", "shown"),
    [
        ("GET /Messages.json?To=%2B8613800138000&PageSize=50", "13800138000", "138****8000"),
        ("Query Params: {'To': '+8613800138000'}", "13800138000", "138****8000"),
        ("The 'To' number 13800138000 is not valid", "13800138000", "138****8000"),
        ("called +86 138-0013-8000", "0013-8000", "138****8000"),
        ("Authorization: Bearer fu_abcdefghijklmnopqrstuvwxyz", "fu_abcdef", REDACTED),
        ("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw rotated", "MfKQ9r8G", REDACTED),
        ("token f0e1d2c3b4a5968778695a4b3c2d1e0f in the URL", AUTH_TOKEN, REDACTED),
    ],
)
def test_a_log_record_is_redacted_as_it_is_made(line: str, hidden: str, shown: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    install(load_settings({"FOLLOWUP_ENV": "test", "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                           "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_FROM_NUMBER": "+8675512345678"}))
    with caplog.at_level(logging.INFO):
        logging.getLogger("twilio.http_client").info("%s", line)
        try:
            raise ValueError(line)
        except ValueError:
            logging.getLogger("followup.worker").exception("dispatch failed")
    first, second = caplog.records[-2:]
    assert hidden not in first.getMessage() and shown in first.getMessage()
    assert second.exc_text and hidden not in second.exc_text and shown in second.exc_text
    assert redact("SMdd3c3093b2d7b3bc5e1a1dfe8955d407") == "SMdd3c3093b2d7b3bc5e1a1dfe8955d407"  # SIDs stay
