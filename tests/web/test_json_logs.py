"""Structured JSON logs (#22 item 6): one line per request and per duty run, never a full phone
number nor a survey code or callback token, read back from the lines a handler wrote."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from factories import NOW, add_visit, visit_row

from followup.accounts import create_token
from followup.log_privacy import JsonFormatter
from followup.runtime import Runtime
from followup.settings import ConfigError, _log_format
from followup.web import create_app
from followup.worker import run_duty


@pytest.fixture
def lines() -> Iterator[list[dict[str, Any]]]:
    """Every line written under ``followup`` as the JSON formatter writes it, parsed (and the raw text
    checked for full numbers at the end)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("followup")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    parsed: list[dict[str, Any]] = []
    try:
        yield parsed
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def read(stream_lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    handler = next(h for h in logging.getLogger("followup").handlers if isinstance(h.formatter, JsonFormatter))
    raw = handler.stream.getvalue()  # type: ignore[attr-defined]
    assert "13800138000" not in raw, raw
    stream_lines[:] = [json.loads(line) for line in raw.splitlines()]
    return stream_lines


def json_rt(rt: Runtime) -> Runtime:
    return Runtime(dataclasses.replace(rt.settings, log_format="json"), rt.engine, rt.sessions, rt.clock)


def test_one_line_per_request_with_store_ro_user_and_no_secrets(rt: Runtime, lines: list[dict[str, Any]]) -> None:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    add_visit(rt, visit_row("RO26110001", mobile="+8613800138000"), at=NOW)
    with rt.sessions() as s:
        token = create_token(s, "dms", now=NOW)
        s.commit()
    client = create_app(runtime=json_rt(rt)).test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/visits/SZ01/RO26110001", headers=auth).status_code == 200
    client.get("/api/v1/visits/SZ01/13800138000", headers=auth)  # an RO that is a phone number
    client.get("/s/AB12CD34?mobile=13800138000")
    client.get("/aliyun/sms/up/the-callback-token-123")
    client.get("/login?next=/cases?q=13800138000")
    requests = [line for line in read(lines) if line["logger"] == "followup.requests"]
    assert len(requests) == 5
    first = requests[0]
    assert {k: first[k] for k in ("method", "path", "status", "store", "ro", "user", "level")} == {
        "method": "GET", "path": "/api/v1/visits/SZ01/RO26110001", "status": 200, "store": "SZ01",
        "ro": "RO26110001", "user": "token:dms", "level": "info"}
    assert isinstance(first["duration_ms"], int | float) and first["duration_ms"] >= 0
    assert datetime.fromisoformat(first["ts"]).tzinfo is not None
    assert requests[1]["ro"] == "138****8000" and "138****8000" in requests[1]["path"]
    assert [r["path"] for r in requests[2:]] == ["/s/…", "/aliyun/sms/up/…", "/login"]
    assert all("the-callback-token" not in json.dumps(r) and "AB12CD34" not in json.dumps(r) for r in requests)


def test_text_format_adds_no_request_lines(rt: Runtime, lines: list[dict[str, Any]]) -> None:
    assert rt.settings.log_format == "text"
    create_app(runtime=rt).test_client().get("/healthz")
    assert [line for line in read(lines) if line["logger"] == "followup.requests"] == []


def test_one_line_per_duty_run_with_counts_and_duration(rt: Runtime, lines: list[dict[str, Any]]) -> None:
    rt.clock.set(NOW)  # type: ignore[attr-defined]

    def quiet(_rt: Runtime, _now: datetime) -> dict[str, Any]:
        return {"sent": 0}

    def busy(_rt: Runtime, _now: datetime) -> dict[str, Any]:
        return {"sent": 2, "note": "last to +8613800138000"}

    def broken(_rt: Runtime, _now: datetime) -> dict[str, Any]:
        raise RuntimeError("provider said no to 13800138000")

    jrt = json_rt(rt)
    assert run_duty(jrt, "quiet", quiet) == {"sent": 0}
    run_duty(jrt, "busy", busy)
    assert run_duty(jrt, "broken", broken) is None
    run_duty(rt, "quiet", quiet)  # text mode: a run that did nothing writes nothing
    duties = [line for line in read(lines) if line["logger"] == "followup.worker"]
    assert [d["duty"] for d in duties] == ["quiet", "busy", "broken"]
    assert duties[0]["counts"] == {"sent": 0} and duties[1]["counts"]["note"] == "last to 138****8000"
    assert all(d["duration_ms"] >= 0 for d in duties)
    assert duties[2]["level"] == "error" and duties[2]["failed"] is True and "138****8000" in duties[2]["exc"]


def test_the_format_setting(tmp_path: Path) -> None:
    assert make_settings(tmp_path).log_format == "text"
    assert make_settings(tmp_path, FOLLOWUP_LOG_FORMAT="JSON").log_format == "json"
    with pytest.raises(ConfigError, match="FOLLOWUP_LOG_FORMAT"):
        make_settings(tmp_path, FOLLOWUP_LOG_FORMAT="xml")
    # production's default (a full production configuration is tested elsewhere; here the one rule)
    assert _log_format({}, "production") == "json" and _log_format({"FOLLOWUP_LOG_FORMAT": "text"}, "production") == "text"
