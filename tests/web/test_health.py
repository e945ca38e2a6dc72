"""GET /healthz (CONTRACT §4)."""

from __future__ import annotations

from pathlib import Path

from followup.runtime import Runtime, build_runtime
from followup.settings import load_settings
from followup.web import create_app


def test_healthz_is_ok_when_the_database_answers(rt: Runtime) -> None:
    resp = create_app(runtime=rt).test_client().get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}
    assert resp.mimetype == "application/json"


def test_healthz_needs_no_login_and_no_token(rt: Runtime) -> None:
    client = create_app(runtime=rt).test_client()
    assert client.get("/healthz", headers={"Authorization": "Bearer wrong"}).status_code == 200


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    settings = load_settings(
        {"FOLLOWUP_ENV": "test", "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"}
    )
    runtime = build_runtime(settings)
    try:
        resp = create_app(runtime=runtime).test_client().get("/healthz")
    finally:
        runtime.dispose()
    assert resp.status_code == 503
    assert resp.get_json()["status"] == "error"


def test_healthz_refuses_other_methods_as_json(rt: Runtime) -> None:
    resp = create_app(runtime=rt).test_client().post("/healthz")
    assert resp.status_code == 405
    assert resp.get_json()["error"] == "Method Not Allowed"
