"""The subscribers page (admin only): add with a secret shown once, test, log, replay, rotate, turn off."""

from __future__ import annotations

import re

import pytest
from factories import log_in, make_user
from flask.testing import FlaskClient
from sqlalchemy import select
from webhook_world import Reply, allow_private_receivers, at, receiver, subscriber, webhook_admin

from followup.models import AuditEntry, WebhookDelivery, WebhookSubscriber
from followup.runtime import Runtime
from followup.web import create_app
from followup.webhooks.delivery import deliver_due
from followup.webhooks.outbox import emit


@pytest.fixture(autouse=True)
def _private_receivers(rt: Runtime) -> None:
    allow_private_receivers(rt)  # panel subscribers on loopback (the local receivers)


@pytest.fixture
def admin(rt: Runtime) -> FlaskClient:
    return webhook_admin(rt)


def token(client: FlaskClient, path: str = "/webhooks/subscribers") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def add(client: FlaskClient, url: str) -> str:
    resp = client.post("/webhooks/subscribers", data={"url": url, "csrf_token": token(client)})
    assert resp.status_code == 200
    found = re.search(r'<code id="new-secret">(whsec_[A-Za-z0-9+/=]+)</code>', resp.get_data(as_text=True))
    assert found, "the new secret is shown"
    return found.group(1)


def act(client: FlaskClient, sub_id: int, action: str) -> str:
    resp = client.post(f"/webhooks/subscribers/{sub_id}/{action}", data={"csrf_token": token(client)},
                       follow_redirects=True)
    return resp.get_data(as_text=True)


def test_add_test_log_and_replay(rt: Runtime, admin: FlaskClient) -> None:
    page = admin.get("/webhooks/subscribers").get_data(as_text=True)
    assert "Webhook 订阅方" in page and "/webhooks/events" in page and "本后台接收端" in page
    with receiver() as r:
        r.secret = add(admin, r.url)
        assert r.secret not in admin.get("/webhooks/subscribers").get_data(as_text=True), "shown only once"
        sub = subscriber(rt, r.url)
        assert act(admin, sub.id, "test").count("测试事件已排队") == 1
        assert r.received == []  # nothing is sent from the request
        deliver_due(rt, at(1))
        assert [b["type"] for b in r.bodies()] == ["webhook.test"] and r.received[0].verified is not None
        log = admin.get(f"/webhooks/subscribers/{sub.id}/log").get_data(as_text=True)
        assert r.received[0].id in log and "已送达" in log and ">200<" in log
        with rt.sessions() as s:
            delivery = s.scalar(select(WebhookDelivery).where(WebhookDelivery.subscriber_id == sub.id))
            assert delivery is not None
        resp = admin.post(f"/webhooks/subscribers/{sub.id}/deliveries/{delivery.id}/replay",
                          data={"csrf_token": token(admin)}, follow_redirects=True)
        assert "已安排重发" in resp.get_data(as_text=True)
        deliver_due(rt, at(2))
    assert len(r.received) == 2 and r.received[1].id == r.received[0].id and r.received[1].verified is not None


def test_rotation_shows_the_new_secret_and_both_sign_for_a_day(rt: Runtime, admin: FlaskClient) -> None:
    with receiver() as r:
        old = add(admin, r.url)
        r.secret = old
        sub = subscriber(rt, r.url)
        page = act(admin, sub.id, "rotate")
        new = re.search(r'<code id="new-secret">(whsec_[^<]+)</code>', page)
        assert new and new.group(1) != old
        with rt.sessions() as s:
            emit(s, "visit.imported", {"store_code": "SZ01", "ro_number": "RO1"}, at=at(1))
            s.commit()
        deliver_due(rt, at(1))
    assert r.received[0].verified is not None  # a receiver still on the old secret accepts it
    assert len(r.received[0].headers["webhook-signature"].split()) == 2


def test_turning_off_stops_pending_deliveries(rt: Runtime, admin: FlaskClient) -> None:
    with receiver([Reply(500)]) as r:
        r.secret = add(admin, r.url)
        sub = subscriber(rt, r.url)
        with rt.sessions() as s:
            emit(s, "visit.imported", {"store_code": "SZ01", "ro_number": "RO1"}, at=at(1))
            s.commit()
        deliver_due(rt, at(1))
        assert "订阅方已停用" in act(admin, sub.id, "disable")
        deliver_due(rt, at(3600))
    assert len(r.received) == 1
    assert subscriber(rt, r.url).active is False
    with rt.sessions() as s:
        assert s.scalar(select(WebhookDelivery.status).where(WebhookDelivery.subscriber_id == sub.id)) == "disabled"
        assert s.scalar(select(AuditEntry.actor).where(AuditEntry.action == "webhook.subscriber_disabled")) == "root"


def test_a_bad_address_is_refused_with_a_message(rt: Runtime, admin: FlaskClient) -> None:
    resp = admin.post("/webhooks/subscribers", data={"url": "ftp://x y", "csrf_token": token(admin)})
    assert resp.status_code == 422 and "地址必须是 http:// 或 https://" in resp.get_data(as_text=True)
    with rt.sessions() as s:
        assert s.scalar(select(WebhookSubscriber).where(WebhookSubscriber.url == "ftp://x y")) is None


def test_only_admins_see_and_use_the_page(rt: Runtime, admin: FlaskClient) -> None:
    assert 'href="/webhooks/subscribers"' in admin.get("/").get_data(as_text=True)
    make_user(rt, "staff1")
    staff = create_app(runtime=rt).test_client()
    log_in(staff, "staff1")
    assert 'href="/webhooks/subscribers"' not in staff.get("/").get_data(as_text=True)
    assert staff.get("/webhooks/subscribers").status_code == 403
