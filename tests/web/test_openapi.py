"""The OpenAPI 3.1 description of /api/v1 (#22): it names exactly the app's /api/v1 routes, and
schemathesis, driving the live app with requests generated from it (valid and invalid), finds no
server error and no answer that breaks the description (status, content type, body, headers).

The app runs on SQLite with a staff-calling store holding real visits and worklist calls, and a
token that acts as an information staff member, so that the generated requests reach the visit,
report and worklist code, not only the token check.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from conftest import make_settings, migrated_runtime
from factories import make_user
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from followup.accounts import create_token
from followup.engine.tick import run_tick
from followup.models import ContactAttempt
from followup.web import create_app
from followup.web.api.openapi import description

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai: inside staff hours
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
#: generated requests per operation and pass (each is one request to the app)
EXAMPLES = 40
#: the worklist calls of the fixture's visits (filled by ``live``)
ATTEMPT_IDS: list[int] = []


def _visit(ro: str) -> dict[str, Any]:
    return {"store_code": "SZ01", "ro_number": ro, "customer": {"name": "张伟", "mobile": "13800138000"},
            "advisor": {"code": "SA01", "name": "王强"}, "service_type": "maintenance",
            "delivered_at": "2026-11-19T10:30:00+08:00"}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """The app over a migrated SQLite database whose store SZ01 calls by staff, with three visits
    whose first calls are on the worklist, and a token acting as its information staff member."""
    rt = migrated_runtime(make_settings(tmp_path, FOLLOWUP_TEST_CLOCK="1", FOLLOWUP_CALLS_BY="staff"))
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    make_user(rt, "staff1", "info_staff", ["SZ01"], at=NOW)
    with rt.sessions() as s:
        token = create_token(s, "cti", now=NOW, user="staff1")
        s.commit()
    app = create_app(runtime=rt)
    client = app.test_client()
    resp = client.post("/api/v1/visits", json={"visits": [_visit(f"RO-OAS-{i}") for i in range(3)]},
                       headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    rt.clock.set(datetime(2026, 11, 20, 3, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    run_tick(rt)
    with rt.sessions() as s:
        ATTEMPT_IDS[:] = s.scalars(select(ContactAttempt.id).where(ContactAttempt.status == "planned")).all()
    assert ATTEMPT_IDS, "the worklist has calls"
    yield app, token
    rt.dispose()


def test_the_description_names_exactly_the_apps_api_routes(live: tuple[Flask, str]) -> None:
    app, _ = live
    routes = {(rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}"), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    described = {(path, method) for path, item in description()["paths"].items() for method in item}
    assert described == routes
    assert description()["openapi"] == "3.1.0"


def test_it_is_served_without_a_token(live: tuple[Flask, str]) -> None:
    app, _ = live
    resp = app.test_client().get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.get_json() == description()


@pytest.mark.slow(seconds=60)
def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_description(live: tuple[Flask, str]) -> None:
    app, token = live
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # every operation but the description itself, which schemathesis leaves out (it loaded it)
    described = {f"{m.upper()} {p}" for p, item in description()["paths"].items() for m in item}
    assert {o.label for o in operations} == described - {"GET /api/v1/openapi.json"}
    headers = {"Authorization": f"Bearer {token}"}
    seen: dict[str, set[int]] = {}
    for operation in operations:
        for known in (False, True):
            _fuzz(operation, headers, known, seen)
    # the requests went past the token check to the endpoints' own answers, good and bad
    assert {200, 201} & seen["POST /api/v1/visits"] and 422 in seen["POST /api/v1/visits"], seen
    assert 200 in seen["GET /api/v1/visits/{store_code}/{ro_number}"], seen
    assert 200 in seen["GET /api/v1/reports/advisors"], seen
    assert 200 in seen["GET /api/v1/worklist"], seen
    assert {200, 409} & seen["POST /api/v1/worklist/{attempt_id}/claim"], seen
    # held calls (claimed by the pass before) got generated outcomes recorded
    assert 200 in seen["POST /api/v1/worklist/{attempt_id}/outcome"], seen


#: identifiers that exist, put into half the generated requests so that they reach past the lookups
KNOWN_PATH = {"store_code": "SZ01", "ro_number": "RO-OAS-0"}
KNOWN_QUERY = {"store": "SZ01", "month": "2026-11"}
RO = st.from_regex(r"RO-FUZZ-[0-9]{1,4}", fullmatch=True)


def _fuzz(operation: Any, headers: dict[str, str], known: bool, seen: dict[str, set[int]]) -> None:
    """``EXAMPLES`` generated requests to one operation, each checked against the description;
    with ``known``, their store, RO number, month and call id are real ones (bodies stay generated)."""
    strategy = operation.as_strategy()
    calls = st.sampled_from(ATTEMPT_IDS)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(strategy)
        if known:
            for name in list(case.path_parameters or {}):
                case.path_parameters[name] = data.draw(calls) if name == "attempt_id" else KNOWN_PATH[name]
            if case.query is not None:
                case.query.update({k: v for k, v in KNOWN_QUERY.items() if k in case.query})
            if operation.label == "POST /api/v1/visits" and isinstance(case.body, dict):
                for visit in case.body.get("visits", [case.body]) if isinstance(case.body.get("visits"), list) \
                        else [case.body]:
                    if isinstance(visit, dict):  # a valid core, the rest as generated
                        visit.update({k: v for k, v in _visit(data.draw(RO)).items() if k != "customer"})
                        customer = visit.get("customer")
                        visit["customer"] = {**(customer if isinstance(customer, dict) else {}),
                                             "name": "张伟", "mobile": "13800138000", "language": "zh"}
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        seen.setdefault(operation.label, set()).add(response.status_code)

    run()
