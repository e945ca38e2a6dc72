"""Settings for administrators: stores and policy, survey, message previews, users, API tokens."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from panel_support import NOW, PASSWORD, csrf, log_in, make_user, post, text_of
from sqlalchemy import select

from followup import message_previews
from followup.accounts import token_owner
from followup.models import Advisor, ApiToken, AuditEntry, User
from followup.runtime import Runtime
from followup.web import create_app


@pytest.fixture
def client(rt: Runtime) -> FlaskClient:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    make_user(rt, "admin1", "admin", [])
    c = create_app(runtime=rt).test_client()
    log_in(c, "admin1")
    return c


def test_stores_policy_and_questions_are_shown_read_only(client: FlaskClient) -> None:
    html = client.get("/settings").get_data(as_text=True)
    text = text_of(html)
    assert "SZ01" in text and "深圳星河大众4S店" in text and "Asia/Shanghai" in text
    assert "09:00-12:00, 14:00-20:00" in text and "08:00-21:00" in text
    assert "config/followup.toml" in text and "在配置文件中修改" in text
    assert "对本次服务的总体满意度" in text and "0.4" in text
    assert "<input" not in html.split("<main>")[1]  # nothing to edit here


def test_every_sms_template_is_previewed_with_its_segments(client: FlaskClient) -> None:
    html = client.get("/settings/messages").get_data(as_text=True)
    text = text_of(html)
    names = message_previews.template_names()
    assert "sms_survey.txt.j2" in names
    for name in names:
        assert name in text
    # the survey SMS as sent: signature first, opt-out hint last, sample name filled in
    row = re.search(r'id="preview-zh-sms_survey-txt-j2">(.*?)</tr>', html, flags=re.S)
    assert row is not None
    row_text = text_of(row.group(1))
    assert "【星河大众】张伟您好" in row_text and "回T退订" in row_text
    assert re.search(r"回T退订 (\d+)$", row_text)


def test_a_template_needing_unknown_variables_is_noted_not_fatal(rt: Runtime, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for lang in ("zh", "en"):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "sms_new.txt.j2").write_text("{{ customer_name }} {{ parcel_number }}", encoding="utf-8")
        (tmp_path / lang / "sms_plain.txt.j2").write_text("你好 {{ customer_name }}", encoding="utf-8")
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(tmp_path)), undefined=StrictUndefined)
    monkeypatch.setattr(message_previews, "TEMPLATES", tmp_path)
    monkeypatch.setattr(message_previews, "environment", lambda: env)
    monkeypatch.setattr(message_previews, "render", lambda name, lang, **ctx: env.get_template(f"{lang}/{name}").render(**ctx))
    found = {(p.name, p.lang): p for p in message_previews.previews(rt.settings)}
    assert found[("sms_new.txt.j2", "zh")].missing == ("parcel_number",) and found[("sms_new.txt.j2", "zh")].text is None
    plain = found[("sms_plain.txt.j2", "zh")]
    assert plain.text == "【星河大众】你好 张伟回T退订" and plain.segments == 1


def test_an_administrator_adds_an_advisor_user_who_can_log_in(rt: Runtime, client: FlaskClient) -> None:
    resp = post(client, "/settings/users", {"username": "sa07", "password": "another-pass-77", "role": "advisor",
                                            "store": "SZ01", "advisor_code": "SA07"}, token_from="/settings/users")
    assert resp.status_code == 302
    text = text_of(client.get("/settings/users").get_data(as_text=True))
    assert "用户已保存" in text and "sa07 服务顾问 SZ01 启用中" in text
    with rt.sessions() as s:
        user = s.scalars(select(User).where(User.username == "sa07")).one()
        assert s.scalars(select(Advisor).where(Advisor.code == "SA07")).one().user_id == user.id
        saved = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.saved",
                                                   AuditEntry.actor == "user:admin1")).one()
        assert saved.detail == {"username": "sa07", "role": "advisor", "stores": ["SZ01"],
                                "role_before": None, "stores_before": []}  # a new user: nothing before
    other = create_app(runtime=rt).test_client()
    resp = other.post("/login", data={"username": "sa07", "password": "another-pass-77", "csrf_token": csrf(other)})
    assert resp.status_code == 302


def test_a_weak_password_or_missing_store_is_refused_with_a_message(rt: Runtime, client: FlaskClient) -> None:
    post(client, "/settings/users", {"username": "x1", "password": "123", "role": "info_staff", "store": "SZ01"},
         token_from="/settings/users")
    assert "密码太短" in text_of(client.get("/settings/users").get_data(as_text=True))
    post(client, "/settings/users", {"username": "x2", "password": "good-pass-123", "role": "info_staff", "store": ""},
         token_from="/settings/users")
    assert "请选择用户所属门店" in text_of(client.get("/settings/users").get_data(as_text=True))
    with rt.sessions() as s:
        assert s.scalars(select(User.username).where(User.username.in_(["x1", "x2"]))).all() == []


def test_deactivating_a_user_ends_their_session(rt: Runtime, client: FlaskClient) -> None:
    make_user(rt, "staff1", "info_staff", ["SZ01"])
    staff = create_app(runtime=rt).test_client()
    log_in(staff, "staff1")
    assert staff.get("/").status_code == 200
    with rt.sessions() as s:
        uid = s.scalars(select(User.id).where(User.username == "staff1")).one()
    post(client, f"/settings/users/{uid}/deactivate", {}, token_from="/settings/users")
    assert staff.get("/").status_code == 302
    assert "staff1 客户信息员 SZ01 已停用" in text_of(client.get("/settings/users").get_data(as_text=True))
    with rt.sessions() as s:
        row = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.deactivated")).one()
        assert (row.actor, row.detail) == ("user:admin1", {"username": "staff1"})
    resp = staff.post("/login", data={"username": "staff1", "password": PASSWORD, "csrf_token": csrf(staff)})
    assert resp.status_code == 401


def test_a_token_is_shown_once_and_can_be_revoked(rt: Runtime, client: FlaskClient) -> None:
    resp = post(client, "/settings/tokens", {"name": "DMS 接口"}, token_from="/settings/tokens")
    html = resp.get_data(as_text=True)
    found = re.search(r'id="new-token">(fu_[^<]+)<', html)
    assert resp.status_code == 200 and found
    token = found.group(1)
    assert token not in client.get("/settings/tokens").get_data(as_text=True)  # never shown again
    with rt.sessions() as s:
        assert token_owner(s, token, now=NOW) is not None
        token_id = s.scalars(select(ApiToken.id)).one()
    post(client, f"/settings/tokens/{token_id}/revoke", {}, token_from="/settings/tokens")
    text = text_of(client.get("/settings/tokens").get_data(as_text=True))
    assert "令牌已吊销" in text and "已吊销" in text
    with rt.sessions() as s:
        assert token_owner(s, token, now=NOW) is None
        rows = s.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail)
                         .where(AuditEntry.action.like("token.%")).order_by(AuditEntry.id)).all()
        assert [(actor, action) for actor, action, _ in rows] == [("user:admin1", "token.created"),
                                                                    ("user:admin1", "token.revoked")]
        assert all(detail["name"] == "DMS 接口" and token not in repr(detail) for _, _, detail in rows)
