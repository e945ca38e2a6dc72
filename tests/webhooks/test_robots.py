"""WeCom and DingTalk group robots as subscribers (#22 item 4): added in the panel (admin only, CSRF),
sent a Chinese Markdown message of the events they take, through the same outbox and retries, with
DingTalk's 加签 checked by a local robot as DingTalk checks it, and never a full phone number."""

from __future__ import annotations

import re

import pytest
from factories import add_visit, log_in, make_user, visit_row
from flask.testing import FlaskClient
from robot_receivers import RobotReceiver
from sqlalchemy import select
from webhook_world import NOW, NoJitter, allow_private_receivers, at, subscriber, webhook_admin

from followup.complaints.opening import open_from_words
from followup.engine.pauses import pause
from followup.models import AuditEntry, FollowupCase, WebhookDelivery, WebhookSubscriber
from followup.runtime import Runtime
from followup.web import create_app
from followup.webhooks import admin as service
from followup.webhooks.delivery import deliver_due
from followup.webhooks.outbox import emit
from followup.webhooks.robots import dingtalk

SECRET = "SEC4f1d8e2b6c0a9e7d5b3f1a8c6e4d2b0a9f7e5c3b1d8f6a4e2c0b9d7f5e3a1c8b"
MOBILE = "+8613800138000"


@pytest.fixture
def admin(rt: Runtime) -> FlaskClient:
    allow_private_receivers(rt)  # FOLLOWUP_WEBHOOK_ALLOW_PRIVATE=1: the local robots listen on 127.0.0.1
    return webhook_admin(rt)


def token(client: FlaskClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/webhooks/subscribers").get_data(as_text=True))
    assert found
    return found.group(1)


def add_robot(client: FlaskClient, kind: str, url: str, secret: str = "") -> str:
    resp = client.post("/webhooks/subscribers", data={"kind": kind, "url": url, "robot_secret": secret,
                                                      "csrf_token": token(client)})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200, page
    assert "群机器人已添加" in page and 'id="new-secret"' not in page  # a robot has no signing secret to show
    return page


def complaint_opened(rt: Runtime) -> int:
    """A real complaint opened from a late SMS reply that quotes the customer's number; its case id."""
    case_id = add_visit(rt, visit_row("RO26110042", mobile=MOBILE), at=NOW)
    with rt.sessions() as s:
        open_from_words(s, s.get_one(FollowupCase, case_id), "服务太差，打我电话13800138000", "太差",
                        settings=rt.settings, now=at(1), by="system", where="sms")
        s.commit()
    return case_id


def test_wecom_and_dingtalk_robots_get_the_complaint_as_markdown(rt: Runtime, admin: FlaskClient) -> None:
    with RobotReceiver("wecom") as wecom, RobotReceiver("dingtalk", SECRET) as ding:
        add_robot(admin, "wecom", wecom.url)
        page = add_robot(admin, "dingtalk", ding.url, SECRET)
        assert "企业微信群机器人" in page and "钉钉群机器人" in page
        assert wecom.url not in page, page[page.find(wecom.url) - 300:page.find(wecom.url) + 50]
        assert "…5aaa" in page and SECRET not in page  # the robot's key is not shown whole
        case_id = complaint_opened(rt)
        with rt.sessions() as s:
            emit(s, "visit.imported", {"store_code": "SZ01", "ro_number": "RO26110042"}, at=at(2), case_id=case_id)
            s.commit()
        deliver_due(rt, at(3), rng=NoJitter())
    assert wecom.answers == [0] and ding.answers == [0]  # one message each: visit.imported is not for robots
    wecom_md = wecom.messages[0]["markdown"]["content"]
    ding_md = ding.messages[0]["markdown"]
    assert ding_md["title"] == "售后回访｜客户投诉已立案"
    for text in (wecom_md, ding_md["text"]):
        assert text.startswith("### 售后回访｜客户投诉已立案")
        assert "深圳星河大众4S店" in text and "RO26110042" in text and "138****8000" in text
        assert "一级（服务顾问）" in text and "SA01" in text
        assert "](http://localhost:5000/complaints/" in text or "/complaints/" in text
        assert "13800138000" not in text and "8613800138000" not in text
    with rt.sessions() as s:
        statuses = s.scalars(select(WebhookDelivery.status).join(WebhookSubscriber)
                             .where(WebhookSubscriber.kind != "standard")).all()
        assert sorted(statuses) == ["delivered", "delivered"]
        added = s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "webhook.subscriber_added")).all()
        assert {d["kind"] for d in added} == {"wecom", "dingtalk"}
        assert all("693axxx6" not in str(d) and "b2e7d4c0" not in str(d) for d in added)


def test_the_link_points_at_the_complaint_page(rt: Runtime, admin: FlaskClient) -> None:
    with RobotReceiver("wecom") as wecom:
        add_robot(admin, "wecom", wecom.url)
        complaint_opened(rt)
        deliver_due(rt, at(3), rng=NoJitter())
    link = re.search(r"\[查看投诉\]\(([^)]+)\)", wecom.texts()[0])
    assert link and link.group(1).startswith(rt.settings.public_base_url.rstrip("/") + "/complaints/")
    assert admin.get(link.group(1).removeprefix(rt.settings.public_base_url.rstrip("/"))).status_code == 200


def test_a_wrong_dingtalk_secret_is_310000_and_retried(rt: Runtime, admin: FlaskClient) -> None:
    wrong = "SEC" + "0" * 64
    with RobotReceiver("dingtalk", SECRET) as ding:
        add_robot(admin, "dingtalk", ding.url, wrong)
        complaint_opened(rt)
        deliver_due(rt, at(3), rng=NoJitter())
        assert ding.answers == [310000] and ding.messages == []
        with rt.sessions() as s:
            d = s.scalars(select(WebhookDelivery).join(WebhookSubscriber)
                          .where(WebhookSubscriber.kind == "dingtalk")).one()
            assert d.status == "pending" and d.tries == 1 and d.last_status == 200 and "310000" in (d.last_response or "")
            sub = s.get_one(WebhookSubscriber, d.subscriber_id)
            sub.secret = SECRET  # the administrator adds it again with the right one: here, fixed in place
            s.commit()
        deliver_due(rt, at(3 + 5), rng=NoJitter())  # the schedule's second try, 5 s later
    assert ding.answers == [310000, 0] and len(ding.messages) == 1


def test_a_rate_limited_wecom_robot_is_retried_on_the_schedule(rt: Runtime, admin: FlaskClient) -> None:
    with RobotReceiver("wecom", refuse=45009) as wecom:
        add_robot(admin, "wecom", wecom.url)
        complaint_opened(rt)
        deliver_due(rt, at(3), rng=NoJitter())
        deliver_due(rt, at(4), rng=NoJitter())  # not due yet
        assert wecom.answers == [45009]
        wecom.refuse = None
        deliver_due(rt, at(8), rng=NoJitter())
    assert wecom.answers == [45009, 0]


def test_channel_paused_and_breach_and_test_reach_the_robot(rt: Runtime, admin: FlaskClient) -> None:
    with RobotReceiver("dingtalk", SECRET) as ding:
        add_robot(admin, "dingtalk", ding.url, SECRET)
        case_id = add_visit(rt, visit_row("RO26110043", mobile=MOBILE), at=NOW)
        with rt.sessions() as s:
            store_id = s.get_one(FollowupCase, case_id).store_id
            assert pause(s, "SZ01", store_id, "call", "20003", "Authenticate", at(1))
            emit(s, "three_day_rule.breached", {"store_code": "SZ01", "ro_number": "RO26110043",
                                                "reason": "system_delay", "deadline_at": at(1).isoformat()},
                 at=at(1), case_id=case_id)
            s.commit()
        sub = subscriber(rt, ding.url)
        admin.post(f"/webhooks/subscribers/{sub.id}/test", data={"csrf_token": token(admin)})
        deliver_due(rt, at(3), rng=NoJitter())
    titles = sorted(m["markdown"]["title"] for m in ding.messages)
    assert titles == ["售后回访｜三日回访超时", "售后回访｜回访渠道已暂停", "售后回访｜测试消息"]
    texts = "\n".join(ding.texts())
    assert "电话回访" in texts and "20003" in texts and "系统延误" in texts and "138****8000" in texts
    assert f"/cases/{case_id})" in texts and "13800138000" not in texts


def test_dingtalk_sign_matches_the_documented_example() -> None:
    # DingTalk's documentation computes it in Java; the same inputs give the same bytes here
    import base64
    import hashlib
    import hmac
    from urllib.parse import unquote_plus

    ts, secret = 1577262236757, "SECxxxxxxxx"
    raw = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()).decode()
    assert unquote_plus(dingtalk.sign(ts, secret)) == raw
    assert dingtalk.signed_url("https://oapi.dingtalk.com/robot/send?access_token=t", secret, ts) == (
        f"https://oapi.dingtalk.com/robot/send?access_token=t&timestamp={ts}&sign={dingtalk.sign(ts, secret)}")


def test_only_admins_add_robots_and_only_with_the_form_token(rt: Runtime, admin: FlaskClient) -> None:
    with RobotReceiver("wecom") as wecom:
        resp = admin.post("/webhooks/subscribers", data={"kind": "wecom", "url": wecom.url})
        assert resp.status_code in (400, 403)
        make_user(rt, "mgr", "manager")
        manager = create_app(runtime=rt).test_client()
        log_in(manager, "mgr")
        page = manager.get("/").get_data(as_text=True)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        resp = manager.post("/webhooks/subscribers", data={"kind": "wecom", "url": wecom.url,
                                                           "csrf_token": found.group(1) if found else ""})
        assert resp.status_code == 403
    with rt.sessions() as s:
        assert s.scalar(select(WebhookSubscriber).where(WebhookSubscriber.kind == "wecom")) is None


def test_bad_kinds_and_secrets_are_refused(rt: Runtime, admin: FlaskClient) -> None:
    resp = admin.post("/webhooks/subscribers", data={"kind": "slack", "url": "http://127.0.0.1:9/x",
                                                     "csrf_token": token(admin)})
    assert resp.status_code == 422 and "请选择订阅方类型" in resp.get_data(as_text=True)
    resp = admin.post("/webhooks/subscribers", data={"kind": "dingtalk", "url": "http://127.0.0.1:9/x",
                                                     "robot_secret": "not-a-secret", "csrf_token": token(admin)})
    assert resp.status_code == 422 and "钉钉加签密钥以 SEC 开头" in resp.get_data(as_text=True)
    with pytest.raises(service.SubscriberError), rt.sessions() as s:
        sub, _ = service.add(s, "http://127.0.0.1:9/r", now=NOW, actor="t", allow_private=True, kind="wecom")
        service.rotate(s, sub, now=NOW, actor="t")


def test_a_loopback_robot_is_refused_without_allow_private(rt: Runtime, admin: FlaskClient) -> None:
    import dataclasses
    rt.settings = dataclasses.replace(rt.settings, webhook_allow_private=False)
    resp = admin.post("/webhooks/subscribers", data={"kind": "wecom", "url": "http://127.0.0.1:9/cgi-bin/webhook/send?key=k",
                                                     "csrf_token": token(admin)})
    assert resp.status_code == 422 and "公网" in resp.get_data(as_text=True)


def test_a_robot_that_does_not_answer_keeps_its_key_out_of_the_log(rt: Runtime, admin: FlaskClient) -> None:
    with RobotReceiver("dingtalk", SECRET) as ding:
        url = ding.url  # the port is closed once the robot is gone
    add_robot(admin, "dingtalk", url, SECRET)
    complaint_opened(rt)
    deliver_due(rt, at(3), rng=NoJitter())
    sub = subscriber(rt, url)
    with rt.sessions() as s:
        d = s.scalars(select(WebhookDelivery).where(WebhookDelivery.subscriber_id == sub.id)).one()
        assert d.status == "pending" and d.last_status is None and "?…" in (d.last_response or ""), d.last_response
    log = admin.get(f"/webhooks/subscribers/{sub.id}/log").get_data(as_text=True)
    for secret_part in ("b2e7d4c0f1a94c3e8d6f0a1b2c3d4e5f", "sign=", SECRET):
        assert secret_part not in (d.last_response or "") and secret_part not in log


def test_an_escalation_says_who_had_it_why_and_the_new_level() -> None:
    from followup.models import WebhookEvent
    from followup.webhooks.robots.text import Facts, compose

    event = WebhookEvent(type="complaint.escalated", case_id=7, data={
        "store_code": "SZ01", "ro_number": "RO9", "complaint_id": 3, "level": 2, "assignee": "manager1",
        "from_assignee": "SA01", "reason": "not_acknowledged", "due_at": "2026-11-21T02:00:00+00:00",
        "note": "客户电话 13800138000"})
    title, text = compose(event, Facts("深圳星河大众4S店", "Asia/Shanghai", "138****8000"), "https://fu.example.cn/")
    assert title == "售后回访｜投诉已升级"
    assert "二级（服务经理）" in text and "未按时确认" in text and "SA01" in text and "manager1" in text
    assert "11月21日 10:00" in text and "[查看投诉](https://fu.example.cn/complaints/3)" in text
    assert "138****8000" in text and "13800138000" not in text
