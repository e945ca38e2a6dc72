"""#19, finding 8: API tokens had no scope, no store and no expiry — one leaked DMS token could
re-point every customer's mobile in every store. Tried as the holder of a leaked token would, on
SQLite and PostgreSQL, with tokens made by ``followup tokens create`` and by the settings page."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from factories import log_in, make_user
from flask.testing import FlaskClient
from sqlalchemy import select

from followup.cli import main
from followup.models import ApiToken, AuditEntry, Customer, Store, User
from followup.runtime import Runtime
from followup.web import create_app
from security.security_world import SZ02_ENV

VISIT = {"ro_number": "RO-API-1", "customer": {"name": "张伟", "mobile": "13800138000"},
         "advisor": {"code": "SA01"}, "service_type": "maintenance", "delivered_at": "2026-11-20T10:00:00+08:00"}
#: what an attacker with a leaked token sends: the same RO, the customer's mobile changed to theirs
REPOINTED = {**VISIT, "customer": {"name": "张伟", "mobile": "13912345678"}}


def tokens_create(rt: Runtime, *args: str) -> Any:
    """``followup tokens create …`` on the test's database."""
    env = {"FOLLOWUP_ENV": "test", "DATABASE_URL": rt.settings.database_url, "FOLLOWUP_TEST_CLOCK": "1",
           "FOLLOWUP_CONFIG": "", **SZ02_ENV}
    result = CliRunner().invoke(main, ["tokens", "create", *args], env={**os.environ, **env})
    return result


def token(rt: Runtime, *options: str) -> str:
    result = tokens_create(rt, "dms", *options)
    assert result.exit_code == 0, result.output
    return str(result.output.strip().splitlines()[-1])


def call(client: FlaskClient, value: str, method: str, path: str, body: Any = None) -> Any:
    return client.open(f"/api/v1{path}", method=method, json=body, headers={"Authorization": f"Bearer {value}"})


def mobile(rt: Runtime, store: str = "SZ01") -> str | None:
    with rt.sessions() as s:
        return s.scalar(select(Customer.mobile).join(Store, Store.id == Customer.store_id).where(Store.code == store)
                        .order_by(Customer.id.desc()).limit(1))


@pytest.fixture
def api(rt: Runtime) -> FlaskClient:
    client = create_app(runtime=rt).test_client()
    owner = token(rt)  # the dealership's own, made before: every store, read and write
    for store in ("SZ01", "SZ02"):
        assert call(client, owner, "POST", "/visits", {**VISIT, "store_code": store}).status_code == 201
    return client


def test_a_token_made_without_limits_keeps_its_meaning(rt: Runtime, api: FlaskClient) -> None:
    value = token(rt)
    for store in ("SZ01", "SZ02"):
        assert call(api, value, "GET", f"/visits/{store}/RO-API-1").status_code == 200
        assert call(api, value, "POST", "/visits", {**REPOINTED, "store_code": store}).status_code == 200
    assert call(api, value, "GET", "/reports/advisors?store=SZ02&month=2026-11").status_code == 200


def test_a_leaked_read_token_cannot_repoint_a_customers_mobile(rt: Runtime, api: FlaskClient) -> None:
    value = token(rt, "--scope", "read")
    assert call(api, value, "GET", "/visits/SZ01/RO-API-1").status_code == 200
    refused = call(api, value, "POST", "/visits", {**REPOINTED, "store_code": "SZ01"})
    assert refused.status_code == 403 and refused.get_json()["error"] == "Forbidden"
    assert mobile(rt) == "+8613800138000"
    assert call(api, value, "GET", "/worklist?store=SZ01").status_code == 403


def test_a_store_token_touches_its_store_only(rt: Runtime, api: FlaskClient) -> None:
    value = token(rt, "--store", "SZ01", "--scope", "write")
    assert call(api, value, "POST", "/visits", {**REPOINTED, "store_code": "SZ02"}).status_code == 403
    batch = {"visits": [{**VISIT, "store_code": "SZ01"}, {**REPOINTED, "store_code": "SZ02"}]}
    assert call(api, value, "POST", "/visits", batch).status_code == 403  # one visit of another store: none
    assert mobile(rt, "SZ02") == "+8613800138000"
    assert call(api, value, "GET", "/visits/SZ02/RO-API-1").status_code == 403
    assert call(api, value, "GET", "/reports/advisors?store=SZ02&month=2026-11").status_code == 403
    assert call(api, value, "GET", "/visits/SZ01/RO-API-1").status_code == 200
    assert call(api, value, "POST", "/visits", {**REPOINTED, "store_code": "SZ01"}).status_code == 200


def test_a_worklist_token_does_nothing_else(rt: Runtime, api: FlaskClient) -> None:
    make_user(rt, "caller1", "info_staff", ["SZ01"])
    value = token(rt, "--user", "caller1", "--scope", "worklist")
    assert call(api, value, "GET", "/visits/SZ01/RO-API-1").status_code == 403
    assert call(api, value, "POST", "/visits", {**REPOINTED, "store_code": "SZ01"}).status_code == 403
    assert call(api, value, "GET", "/worklist?store=SZ01").status_code == 200
    with rt.sessions() as s:
        row = s.scalars(select(ApiToken).where(ApiToken.scope == "worklist")).one()
        assert row.user_id == s.scalar(select(User.id).where(User.username == "caller1"))


def test_an_expired_token_is_refused(rt: Runtime, api: FlaskClient) -> None:
    value = token(rt, "--expires", "1d")
    assert call(api, value, "GET", "/visits/SZ01/RO-API-1").status_code == 200
    rt.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    expired = call(api, value, "GET", "/visits/SZ01/RO-API-1")
    assert expired.status_code == 401 and expired.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_command_refuses_what_it_cannot_make_with_one_line(rt: Runtime) -> None:
    for args, words in ((["--store", "XX99"], "unknown store"), (["--scope", "admin"], "scope"),
                        (["--expires", "soon"], "--expires"), (["--user", "nobody"], "unknown user")):
        result = tokens_create(rt, "dms", *args)
        assert result.exit_code == 2 and words in result.output, (args, result.output)
    with rt.sessions() as s:
        assert s.scalars(select(ApiToken)).all() == []


def test_the_settings_page_makes_the_same_tokens_and_lists_their_limits(rt: Runtime) -> None:
    make_user(rt, "root", "admin")
    make_user(rt, "caller1", "info_staff", ["SZ01"])
    client = create_app(runtime=rt).test_client()
    log_in(client, "root")
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert 'name="store"' in page and 'name="scope"' in page and 'name="expires"' in page and 'name="user"' in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    made = client.post("/settings/tokens", data={"name": "SZ01 DMS", "store": "SZ01", "scope": "read",
                                                 "expires": "90d", "user": "", "csrf_token": csrf.group(1)})
    html = made.get_data(as_text=True)
    assert made.status_code == 200 and made.headers["Cache-Control"].startswith("no-store")
    assert "只读" in html and "SZ01" in html and "到期" in html
    with rt.sessions() as s:
        row = s.scalars(select(ApiToken)).one()
        assert (row.scope, row.user_id, row.expires_at) == ("read", None, rt.clock.now() + timedelta(days=90))
        assert s.scalar(select(Store.code).where(Store.id == row.store_id)) == "SZ01"
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "token.created")).one()
        assert audit.actor == "user:root" and audit.detail["store"] == "SZ01" and audit.detail["scope"] == "read"
    value = re.search(r'<code id="new-token">([^<]+)</code>', html)
    assert value and call(client, value.group(1), "POST", "/visits", {**REPOINTED, "store_code": "SZ01"}).status_code == 403
