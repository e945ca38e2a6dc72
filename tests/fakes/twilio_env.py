"""Fixtures and helpers for the Twilio tests: the emulator, a Twilio-mode runtime, signed callbacks.

A pytest plugin (``pytest_plugins`` in ``tests/conftest.py``): the fixtures ``emulator`` and ``twilio_rt``
are there for every test, like ``rt``; test modules import only the helpers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import database_url, migrated_runtime
from fakes.twilio_emulator import TwilioEmulator
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from followup.runtime import Runtime
from followup.settings import load_settings

ACCOUNT_SID = "ACe48d698e99f0ad6a1c9c3e7f6ce05ea7"  # the samples' account
AUTH_TOKEN = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
FROM_NUMBER = "+8675512345678"
PUBLIC = "https://localhost"  # loopback: the webhook delivery duty also posts to PUBLIC_BASE_URL


def twilio_env(emulator: TwilioEmulator, database_url: str, **extra: str) -> dict[str, str]:
    env = {
        "FOLLOWUP_ENV": "test", "DATABASE_URL": database_url, "FOLLOWUP_TEST_CLOCK": "1",
        "FOLLOWUP_CHANNEL_MODE": "twilio", "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER, "TWILIO_API_BASE_URL": emulator.base_url, "PUBLIC_BASE_URL": PUBLIC,
        # the flow tests are not about pacing (tests/integration/test_twilio_pacing.py is)
        "FOLLOWUP__twilio__calls_per_second": "1000.0", "FOLLOWUP__twilio__sms_per_second": "1000.0",
    }
    env.update(extra)
    return env


@pytest.fixture
def emulator() -> Iterator[TwilioEmulator]:
    emu = TwilioEmulator(ACCOUNT_SID, AUTH_TOKEN).start()
    yield emu
    emu.stop()


@pytest.fixture
def twilio_rt(backend: str, tmp_path: Path, request: pytest.FixtureRequest, emulator: TwilioEmulator) -> Iterator[Runtime]:
    """A Twilio-mode runtime on a migrated database (SQLite and PostgreSQL) aimed at the emulator."""
    url = database_url(backend, request, tmp_path / "twilio.db")
    runtime = migrated_runtime(load_settings(twilio_env(emulator, url)))
    yield runtime
    runtime.dispose()


def read_sample(samples: Path, name: str) -> dict[str, str]:
    """A ``Key=Value`` sample file (split at the first ``=``, values as written)."""
    out = {}
    for line in (samples / "twilio" / name).read_text(encoding="utf-8").splitlines():
        if line.strip():
            key, _, value = line.partition("=")
            out[key] = value
    return out


def sign(url: str, params: Mapping[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, dict(params))


def post_signed(client: FlaskClient, url: str, params: Mapping[str, str], *, token: str = AUTH_TOKEN,
                signature: str | None = None) -> tuple[int, str]:
    """POST like Twilio does: to the path of ``url`` (a full public URL), signed over ``url``."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    sig = sign(url, params, token) if signature is None else signature
    headers = {"X-Twilio-Signature": sig} if sig else {}
    resp = client.post(path, data=dict(params), headers=headers)
    return resp.status_code, resp.get_data(as_text=True)


def press_keys(call: Mapping[str, Any], samples: Path, step: str, digits: str) -> str:
    """The customer keys ``digits`` at IVR ``step`` of a placed ``call`` (its ``client``, ``sid`` and
    ``attempt``): Twilio's signed gather callback, answered 200; the TwiML said next."""
    params = {**read_sample(samples, "gather_digits.txt"), "CallSid": call["sid"], "Digits": digits}
    code, body = post_signed(call["client"], f"{PUBLIC}/twilio/voice/gather?attempt={call['attempt']}&step={step}",
                             params)
    assert code == 200
    return body


CSV_HEADER = ("store_code,ro_number,customer_name,mobile,phone,address,advisor_code,advisor_name,service_type,"
              "delivered_at,language\n")


def import_visit(rt: Runtime, tmp_path: Path, *, ro: str = "WO26119001", name: str = "欧阳晓明",
                 mobile: str = "+8613800138000", language: str = "zh", do_not_call: bool = False,
                 service_type: str = "repair") -> None:
    """Import one visit delivered 2026-11-19 08:35 (Shanghai), the clock just after delivery."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from followup.intake.importer import import_visits
    from followup.models import Customer

    csv = tmp_path / f"{ro}.csv"
    csv.write_text(CSV_HEADER + f"SZ01,{ro},{name},{mobile},,深圳市南山区粤海街道科技南十二路38号,SA01,王强,{service_type},"
                   f"2026-11-19T08:35:00+08:00,{language}\n", encoding="utf-8")
    rt.clock.set(datetime(2026, 11, 19, 1, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    report = import_visits(csv, settings=rt.settings, sessions=rt.sessions, clock=rt.clock)
    assert report.exit_code == 0, report.errors
    if do_not_call:
        with rt.sessions() as s:
            s.scalars(select(Customer).where(Customer.mobile == mobile)).one().do_not_call = True
            s.commit()


def tick_at(rt: Runtime, at: object) -> dict[str, object]:
    """Move the test clock to ``at`` and run one tick with the Twilio channel."""
    from followup.channels.registry import build_channel
    from followup.engine.tick import run_tick

    rt.clock.set(at)  # type: ignore[attr-defined]
    return run_tick(rt, build_channel(rt.settings))
