"""CSRF on every form POST of the panel, and no state change on any GET (SQLite and PostgreSQL).

Both tests walk ``app.url_map``: a route added later is covered, or the test fails until it is
given its sample arguments in ``ARGS``.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from followup.accounts import create_token
from followup.models import (
    AdvisorCall,
    ApiToken,
    BatchLetter,
    ContactAttempt,
    Customer,
    FollowupCase,
    User,
    WebhookDelivery,
    WebhookSubscriber,
)
from security.db_snapshot import changed_tables, new_audit_actions, snapshot
from security.security_world import MOBILES, World

#: POST routes that do not use the session cookie: bearer token, Twilio signature, Standard Webhooks
#: signature, Alibaba Cloud's path token (each tested on its own: tests/web/test_api_visits.py, the /twilio
#: tests, tests/webhooks, tests/aliyun)
NOT_CSRF = ("/api/", "/twilio/", "/webhooks/events", "/aliyun/")
#: GETs that write exactly one audit row each time (a download is a record of who took the data, R10)
AUDITED_GETS = {"letters.download": "letters.exported", "reports.export": "report.exported"}


def sample_args(world: World) -> dict[str, Any]:
    """A real value for every URL parameter of the app, taken from the world."""
    rt = world.rt
    with rt.sessions() as s:
        token = create_token(s, "dms", now=rt.clock.now())
        worklist_token = create_token(s, "cti", now=rt.clock.now(), user="staff1", scope="worklist")
        s.commit()
        letter_case = s.get_one(FollowupCase, world.cases["letter"])
        return {
            "case_id": world.cases["evil"],
            "call_id": s.scalars(select(AdvisorCall.id).where(
                AdvisorCall.visit_id == s.get_one(FollowupCase, world.cases["evil"]).visit_id)).one(),
            # a call of the world's cases (the /worklist forms must refuse a POST without a token too)
            "attempt_id": s.scalars(select(ContactAttempt.id).where(
                ContactAttempt.case_id == world.cases["evil"]).order_by(ContactAttempt.id)).first() or 1,
            "customer_id": s.scalars(select(Customer.id).where(Customer.mobile == MOBILES["evil"])).one(),
            "complaint_id": world.complaints["evil"],
            "batch_id": world.batches["SZ01"],
            "item_id": s.scalars(select(BatchLetter.id).where(BatchLetter.batch_id == world.batches["SZ01"])).first(),
            "step": "printed",
            "kind": "csv",
            "fmt": "csv",
            "token_id": s.scalars(select(ApiToken.id).where(ApiToken.name == "dms")).one(),
            "user_id": s.scalars(select(User.id).where(User.username == "staff1")).one(),
            "sub_id": s.scalars(select(WebhookSubscriber.id)).first(),
            "delivery_id": s.scalars(select(WebhookDelivery.id)).first(),
            "action": "disable",
            "code": letter_case.reply_code,
            "store_code": "SZ01",
            "channel": "call",  # a paused channel's resume (R3)
            "ro_number": "RO-EVIL",
            "filename": "panel.css",
            "token": "not-the-callback-token",  # /aliyun/: the world has no ALIYUN_CALLBACK_TOKEN
            "_token": token,
            "_worklist_token": worklist_token,
        }


def routes(app: Flask, method: str) -> list[tuple[str, str, list[str]]]:
    """(endpoint, rule, argument names) of every route answering ``method``."""
    return sorted((r.endpoint, r.rule, sorted(r.arguments)) for r in app.url_map.iter_rules()
                  if r.methods and method in r.methods)


def url_for_rule(rule: str, args: dict[str, Any]) -> str:
    def fill(m: re.Match[str]) -> str:
        name = m.group(1).split(":")[-1]
        assert name in args, f"give ARGS a sample value for <{name}> (route {rule})"
        return str(args[name])

    return re.sub(r"<([^>]+)>", fill, rule)


def test_every_form_post_without_a_csrf_token_is_refused_and_changes_nothing(world: World) -> None:
    args = sample_args(world)
    admin = world.client("admin")
    posts = [(e, r) for e, r, _ in routes(world.app, "POST") if not r.startswith(NOT_CSRF)]
    assert len(posts) >= 20, posts  # the table is not empty: cases, complaints, letters, settings, ...
    for endpoint, rule in posts:
        url = url_for_rule(rule, args)
        before = snapshot(world.rt)
        for data in ({}, {"csrf_token": "forged-token"}):
            resp = admin.post(url, data={**data, "username": "admin", "text": "note", "store": "SZ01"})
            body = resp.get_data(as_text=True)
            assert resp.status_code == 400, (endpoint, url, resp.status_code)
            assert "CSRF" in body or "页面已过期" in body or "expired" in body.lower(), (endpoint, body[:200])
        assert changed_tables(before, snapshot(world.rt)) == {}, endpoint
    # the admin is still logged in: the refusals did not end the session either
    assert admin.get("/").status_code == 200


def test_the_same_post_with_the_token_goes_through(world: World) -> None:
    """The CSRF table above is not refusing for another reason: a note with the token is stored."""
    admin = world.client("admin")
    page = admin.get(f"/cases/{world.cases['evil']}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    resp = admin.post(f"/cases/{world.cases['evil']}/note", data={"csrf_token": token.group(1), "text": "已回电"})
    assert resp.status_code == 302
    assert "已回电" in admin.get(f"/cases/{world.cases['evil']}").get_data(as_text=True)


def bearer(rule: str) -> bool:
    """The routes that take an API token rather than the panel's session: /api/v1 and /metrics."""
    return rule.startswith("/api/") or rule == "/metrics"


def test_no_get_changes_anything_except_the_audit_row_of_a_download(world: World) -> None:
    args = sample_args(world)
    admin = world.client("admin")
    gets = routes(world.app, "GET")
    assert len(gets) >= 20, gets
    seen: dict[str, list[str]] = {}
    for endpoint, rule, _names in gets:
        url = url_for_rule(rule, args)
        if endpoint in ("reports.export", "reports.index", "api_reports.advisors"):
            url += "?store=SZ01&month=2026-11"
        token = args["_worklist_token"] if endpoint.startswith("api_worklist.") else args["_token"]
        if endpoint.startswith("api_worklist."):
            url += "?store=SZ01"
        before = snapshot(world.rt)
        if endpoint == "webhooks.stream":
            resp = admin.get(url, buffered=False)
            first = next(iter(resp.response))  # the stream's first chunk; then the browser goes away
            resp.close()
            assert first, endpoint
        else:
            resp = admin.get(url, headers={"Authorization": f"Bearer {token}"} if bearer(rule) else {})
        # the world's store calls by IVR: its calls are on no worklist, so the call page answers 404
        # and it sends no SMS by Alibaba Cloud: its receipt and reply URLs answer 404 to any token
        expected = (404,) if endpoint == "worklist.call" or endpoint.startswith("aliyun.") else (200, 302)
        assert resp.status_code in expected, (endpoint, url, resp.status_code)
        after = snapshot(world.rt)
        changed = changed_tables(before, after)
        if bearer(rule):
            # a token records when it was last used: that one column, no row added
            assert set(changed) <= {"api_tokens"} and all(a == b for a, b in changed.values()), (endpoint, changed)
            continue
        if endpoint in AUDITED_GETS:
            assert set(changed) == {"audit_log"}, (endpoint, changed)
            seen[endpoint] = new_audit_actions(world.rt, before, after)
            assert seen[endpoint] == [AUDITED_GETS[endpoint]], (endpoint, seen[endpoint])
        else:
            assert changed == {}, (endpoint, url, changed)
    assert set(seen) == set(AUDITED_GETS)


def test_a_download_is_idempotent_apart_from_its_audit_row(world: World) -> None:
    manager = world.client("manager1")
    first = manager.get("/reports/advisors.csv?store=SZ01&month=2026-11")
    before = snapshot(world.rt)
    second = manager.get("/reports/advisors.csv?store=SZ01&month=2026-11")
    after = snapshot(world.rt)
    assert first.status_code == second.status_code == 200
    assert first.data == second.data  # the same file each time
    assert set(changed_tables(before, after)) == {"audit_log"}
    assert new_audit_actions(world.rt, before, after) == ["report.exported"]


def test_reveal_is_a_post_and_every_export_is_a_get_download(world: World) -> None:
    """The decision written in the README: reveal shows data on one response (POST, CSRF); a download
    is a link (GET) whose only write is its audit row."""
    methods = {r.endpoint: (r.methods or set()) - {"HEAD", "OPTIONS"} for r in world.app.url_map.iter_rules()}
    assert methods["cases.reveal"] == {"POST"}
    assert methods["letters.download"] == {"GET"} and methods["reports.export"] == {"GET"}
