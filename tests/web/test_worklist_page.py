"""The call worklist page ``/worklist`` (RULES R2, R3, R5; CONTRACT §9) through the Flask client,
on SQLite and PostgreSQL: the list, claiming on open (409 and the next call for the second
person), the call script, every outcome button recorded through the service and straight on to
the next call, the callback time picker, advisor scoping, another store's call, the home page.

Friday 20 November 2026 in Shanghai; SZ01 calls by staff (staff hours ∩ calling windows:
09:00-12:00 and 14:00-18:00) and SZ02, 深圳福田大众4S店, too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import database_url, make_settings, migrated_runtime
from factories import add_visit, csrf, local, logged_in_client, make_user, page, seen, text_of, visit_row
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from followup.models import AuditEntry, ContactAttempt, FollowupCase, SurveyResponse, Visit, WebhookEvent
from followup.rules.worklist import CALLBACK_OUTSIDE
from followup.runtime import Runtime
from followup.web.admin.worklist import FIELD_MESSAGES
from followup.web.i18n import translate

SH = ZoneInfo("Asia/Shanghai")
#: Friday 10:30: inside the morning staff hours
NOW = local(2026, 11, 20, 10, 30)


@pytest.fixture
def wrt(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    url = database_url(backend, request, tmp_path / "test.db")
    rt = migrated_runtime(make_settings(
        tmp_path, DATABASE_URL=url, FOLLOWUP_TEST_CLOCK="1", FOLLOWUP_CALLS_BY="staff",
        FOLLOWUP__stores__SZ02__name="深圳福田大众4S店", FOLLOWUP__stores__SZ02__name_en="Shenzhen Futian VW"))
    rt.clock.set(local(2026, 11, 17, 8, 0))
    for name in ("caller1", "caller2"):
        make_user(rt, name, "info_staff")
    make_user(rt, "boss", "manager", advisor="SA02")  # a manager who is also service advisor SA02 (R3)
    make_user(rt, "wang", "advisor", advisor="SA01")
    make_user(rt, "futian", "info_staff", ["SZ02"])
    # A: 张伟's maintenance, first call due Friday 10:00, deadline Sunday 10:00
    visit(rt, "RO-A", local(2026, 11, 19, 10, 0))
    # B: 李娜's repair of SA02, deadline Friday 20:00 (at risk), first call due since Thursday 09:00
    visit(rt, "RO-B", local(2026, 11, 17, 20, 0), customer_name="李娜", mobile="+8613900139000", advisor_code="SA02",
          advisor_name="李娜娜", service_type="repair", plate="粤B54321", vehicle_model="迈腾")
    # C: 王芳's maintenance of SA02, first call due Friday 09:30
    visit(rt, "RO-C", local(2026, 11, 19, 9, 30), customer_name="王芳", mobile="+8613700137000", advisor_code="SA02",
          advisor_name="李娜娜")
    # Z: a visit of the other staff store
    visit(rt, "RO-Z", local(2026, 11, 19, 10, 0), store_code="SZ02", customer_name="赵六", mobile="+8613600136000")
    rt.clock.set(NOW)
    yield rt
    rt.dispose()


def visit(rt: Runtime, ro: str, delivered: datetime, **fields: object) -> int:
    return add_visit(rt, visit_row(ro, delivered_at=delivered, **fields), at=delivered, plan=True)


def call_of(rt: Runtime, ro: str) -> ContactAttempt:
    """The planned call of visit ``ro`` (its worklist row)."""
    with rt.sessions() as s:
        row = s.scalar(select(ContactAttempt).join(FollowupCase, FollowupCase.id == ContactAttempt.case_id)
                       .join(Visit, Visit.id == FollowupCase.visit_id)
                       .where(Visit.ro_number == ro, ContactAttempt.channel == "call", ContactAttempt.status == "planned"))
        assert row is not None, f"{ro} has no planned call"
        s.expunge(row)
        return row


def calls_of(rt: Runtime, ro: str) -> list[ContactAttempt]:
    with rt.sessions() as s:
        rows = list(s.scalars(select(ContactAttempt).join(FollowupCase, FollowupCase.id == ContactAttempt.case_id)
                              .join(Visit, Visit.id == FollowupCase.visit_id)
                              .where(Visit.ro_number == ro, ContactAttempt.channel == "call")
                              .order_by(ContactAttempt.id)))
        s.expunge_all()
        return rows


def form_post(client: FlaskClient, path: str, data: dict[str, str], token_from: str = "/worklist") -> TestResponse:
    return client.post(path, data={**data, "csrf_token": csrf(client, token_from)})


def take(client: FlaskClient, attempt_id: int) -> TestResponse:
    return form_post(client, f"/worklist/{attempt_id}/claim", {})


def caller_with_call(rt: Runtime) -> tuple[FlaskClient, ContactAttempt]:
    """caller1, logged in, having taken the call of visit RO-A; that call."""
    client = logged_in_client(rt, "caller1")
    a = call_of(rt, "RO-A")
    take(client, a.id)
    return client, a


def test_the_list_shows_the_calls_due_now_soonest_deadline_first_at_risk_marked(wrt: Runtime) -> None:
    client = logged_in_client(wrt, "caller1")
    html = page(client, "/worklist")
    rows = re.findall(r'<tr class="([^"]*)" data-attempt="(\d+)">', html)
    ids = [int(a) for _cls, a in rows]
    assert ids == [call_of(wrt, "RO-B").id, call_of(wrt, "RO-C").id, call_of(wrt, "RO-A").id]
    assert "at-risk" in rows[0][0] and all("at-risk" not in cls for cls, _a in rows[1:])
    text = text_of(html)
    assert "电访工作列表" in text and "即将超时" in text and "3 个电话待拨打" in text
    assert "赵六" not in text  # SZ02's call is not on SZ01's list
    assert "+8613900139000" not in html  # numbers masked until a call is taken
    # the page carries no inline script or style (the CSP forbids them); the keyboard is a static file
    assert "<script>" not in html and "style=" not in html and "/static/worklist.js" in html


def test_outside_staff_hours_the_list_says_when_it_opens(wrt: Runtime) -> None:
    client = logged_in_client(wrt, "caller1")
    wrt.clock.set(local(2026, 11, 20, 12, 30))  # type: ignore[attr-defined]
    text = seen(client, "/worklist")
    assert "现在不在客户信息员工作时间内" in text and "2026-11-20 14:00" in text and "RO-A" not in text


def test_opening_a_call_claims_it_and_shows_the_script_in_the_customers_language(wrt: Runtime) -> None:
    client = logged_in_client(wrt, "caller1")
    attempt = call_of(wrt, "RO-B")
    resp = take(client, attempt.id)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/worklist/{attempt.id}")
    held = call_of(wrt, "RO-B")
    assert (held.held_by, held.held_until) == ("caller1", NOW + timedelta(minutes=15))
    with wrt.sessions() as s:
        reveals = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "pii.revealed")))
    assert [(r.actor, r.detail.get("via"), r.detail.get("attempt")) for r in reveals] == [("user:caller1", "worklist", attempt.id)]

    html = page(client, f"/worklist/{attempt.id}")
    text = text_of(html)
    assert ("您好，请问是李娜吗？我是深圳星河大众4S店的客户信息员。您的迈腾（粤B54321）于11月17日在我们店做了维修，"
            "想耽误您一分钟做个满意度回访，请问现在方便吗？") in text
    # R5: a repair visit is asked whether it was fixed right, each question with its answer buttons
    for asked in ("请您为本次服务的总体满意度打分", "请问您的车辆问题是否一次修好？", "请问我们是否按约定的时间为您交车？",
                  "请您为服务顾问的服务打分", "请问您对我们还有其他意见或建议吗？"):
        assert asked in text
    assert len(re.findall(r'name="q_overall" value="(\d+)"', html)) == 11
    assert re.findall(r'name="q_fixed_right" value="(\w+)"', html) == ["yes", "no"]
    assert 'href="tel:+8613900139000"' in html
    for word in ("已接通", "无人接听", "占线", "语音信箱", "挂断", "空号/错号", "拒绝回访", "约定回拨"):
        assert word in text
    assert "键盘快捷键" in text and "即将超时" in text
    # viewing the page again is the same reveal, not a new one
    page(client, f"/worklist/{attempt.id}")
    with wrt.sessions() as s:
        assert len(list(s.scalars(select(AuditEntry).where(AuditEntry.action == "pii.revealed")))) == 1


def test_a_maintenance_is_not_asked_whether_it_was_fixed_and_an_english_customer_hears_english(wrt: Runtime) -> None:
    visit(wrt, "RO-EN", local(2026, 11, 19, 8, 0), customer_name="Mr Chen", mobile="+8613500135000",
          language="en", vehicle_model="Passat", plate="粤B77777")
    client, a = caller_with_call(wrt)
    text = seen(client, f"/worklist/{a.id}")
    assert "一次修好" not in text and "帕萨特（粤B12345）" in text and "保养" in text
    english = call_of(wrt, "RO-EN")
    form_post(client, f"/worklist/{a.id}/release", {})
    take(client, english.id)
    text = seen(client, f"/worklist/{english.id}")
    assert ("Hello, may I speak with Mr Chen? This is the customer care team of Shenzhen Xinghe VW Service Center. "
            "Your Passat (粤B77777) had its maintenance with us on 19 November.") in text
    assert "How satisfied are you with this visit?" in text and "电访话术" in text  # the panel stays Chinese


def test_a_second_person_gets_409_with_the_next_call_and_sees_it_taken_on_the_list(wrt: Runtime) -> None:
    first, second = logged_in_client(wrt, "caller1"), logged_in_client(wrt, "caller2")
    b = call_of(wrt, "RO-B")
    take(first, b.id)
    resp = take(second, b.id)
    assert resp.status_code == 409
    text = text_of(resp.get_data(as_text=True))
    assert "此电话已被领取，正在拨打的是： caller1" in text and "下一个电话" in text and "王芳" in text
    c = call_of(wrt, "RO-C")
    assert f'action="/worklist/{c.id}/claim"' in resp.get_data(as_text=True)
    assert call_of(wrt, "RO-B").held_by == "caller1"  # the first claim stands
    assert page(second, f"/worklist/{b.id}", status=409)
    listed = text_of(page(second, "/worklist"))
    assert "正在拨打： caller1" in listed
    # the offered call is taken with one more POST
    assert take(second, c.id).status_code == 302
    assert call_of(wrt, "RO-C").held_by == "caller2"


def test_the_same_person_in_a_second_tab_keeps_their_call(wrt: Runtime) -> None:
    tab1, tab2 = logged_in_client(wrt, "caller1"), logged_in_client(wrt, "caller1")
    b = call_of(wrt, "RO-B")
    take(tab1, b.id)
    assert take(tab2, b.id).status_code == 302
    assert page(tab2, f"/worklist/{b.id}")


@pytest.mark.parametrize("outcome", ["no_answer", "busy", "voicemail", "hung_up", "invalid_number", "declined"])
def test_each_outcome_button_records_through_the_service_and_opens_the_next_call(wrt: Runtime, outcome: str) -> None:
    client = logged_in_client(wrt, "caller1")
    b, c = call_of(wrt, "RO-B"), call_of(wrt, "RO-C")
    take(client, b.id)
    resp = form_post(client, f"/worklist/{b.id}/outcome", {"outcome": outcome, "q_overall": "3"}, f"/worklist/{b.id}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/worklist/{c.id}")
    made = calls_of(wrt, "RO-B")[0]
    assert (made.status, made.outcome, made.made_by, made.held_by) == ("done", outcome, "user:caller1", None)
    assert call_of(wrt, "RO-C").held_by == "caller1"  # straight to the next call, already claimed
    with wrt.sessions() as s:
        recorded = [e.data for e in s.scalars(select(WebhookEvent).where(WebhookEvent.type == "worklist.call_recorded"))]
        answers = list(s.scalars(select(SurveyResponse)))
    assert [(e["ro_number"], e["outcome"], e["made_by"]) for e in recorded] == [("RO-B", outcome, "user:caller1")]
    assert answers == []  # the score typed in before choosing the outcome is not an answer
    assert "电访结果已登记。" in seen(client, f"/worklist/{c.id}")


def test_answered_records_the_survey_as_an_ivr_call_would(wrt: Runtime) -> None:
    client, a = caller_with_call(wrt)
    form = {"outcome": "answered", "q_overall": "9", "q_on_time": "yes", "q_advisor": "8", "q_comment": "师傅很专业"}
    resp = form_post(client, f"/worklist/{a.id}/outcome", form, f"/worklist/{a.id}")
    assert resp.status_code == 302
    with wrt.sessions() as s:
        response = s.scalars(select(SurveyResponse)).one()
        case = s.scalars(select(FollowupCase).join(Visit, Visit.id == FollowupCase.visit_id)
                         .where(Visit.ro_number == "RO-A")).one()
        # 9 -> 90 x 0.4, yes -> 100 x 0.2, 8 -> 80 x 0.2, over the 0.8 asked after a maintenance
        assert (response.channel, response.made_by, response.score) == ("staff", "user:caller1", 90.0)
        assert (case.state, case.outcome) == ("closed", "satisfied")


def test_answered_without_every_answer_is_422_with_the_question_named_and_nothing_recorded(wrt: Runtime) -> None:
    client, a = caller_with_call(wrt)
    resp = form_post(client, f"/worklist/{a.id}/outcome", {"outcome": "answered", "q_overall": "9"}, f"/worklist/{a.id}")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'class="question invalid" data-kind="yesno" data-question="on_time"' in html
    assert 'class="question invalid" data-kind="scale10" data-question="advisor"' in html
    assert 'name="q_overall" value="9" checked' in html  # what was given stays
    assert "请回答这个问题（只有意见建议可以不填）。" in text_of(html)
    assert call_of(wrt, "RO-A").status == "planned"


def test_the_time_picker_offers_only_times_inside_the_calling_windows(wrt: Runtime) -> None:
    client, a = caller_with_call(wrt)
    html = page(client, f"/worklist/{a.id}")
    offered = [datetime.fromisoformat(v) for v in re.findall(r'<option value="([^"]+)"', html) if v]
    local_times = [o.astimezone(SH) for o in offered]
    assert local_times[0] == local(2026, 11, 20, 11, 0)  # 30 minutes ahead, on the half hour
    assert {t.date().isoformat() for t in local_times} == {"2026-11-20", "2026-11-21", "2026-11-22"}
    for t in local_times:
        minutes = t.hour * 60 + t.minute
        assert 9 * 60 <= minutes < 12 * 60 or 14 * 60 <= minutes < 18 * 60, t  # staff hours ∩ calling windows
        assert t.minute in (0, 30)
    # today 11:00, 11:30 and 14:00-17:30; Saturday and Sunday 6 + 8 each
    assert len(local_times) == 10 + 14 + 14

    chosen = local(2026, 11, 20, 14, 30).isoformat(timespec="minutes")
    resp = form_post(client, f"/worklist/{a.id}/outcome", {"outcome": "callback_requested", "callback_at": chosen},
                     f"/worklist/{a.id}")
    assert resp.status_code == 302
    made, nxt = calls_of(wrt, "RO-A")
    assert (made.outcome, nxt.status, nxt.due_at) == ("callback_requested", "planned", local(2026, 11, 20, 14, 30))


def test_a_callback_time_outside_the_windows_is_422_at_the_picker(wrt: Runtime) -> None:
    client, a = caller_with_call(wrt)
    lunch = local(2026, 11, 20, 13, 0).isoformat(timespec="minutes")
    resp = form_post(client, f"/worklist/{a.id}/outcome", {"outcome": "callback_requested", "callback_at": lunch},
                     f"/worklist/{a.id}")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'class="callback invalid"' in html and translate(CALLBACK_OUTSIDE, "zh") in text_of(html)
    assert call_of(wrt, "RO-A").status == "planned"


def test_an_expired_claim_records_nothing(wrt: Runtime) -> None:
    client, a = caller_with_call(wrt)
    token = csrf(client, f"/worklist/{a.id}")
    wrt.clock.set(NOW + timedelta(minutes=16))  # type: ignore[attr-defined]
    resp = client.post(f"/worklist/{a.id}/outcome", data={"outcome": "no_answer", "csrf_token": token})
    assert resp.status_code == 409
    assert call_of(wrt, "RO-A").status == "planned" and calls_of(wrt, "RO-A")[0].outcome is None


def test_advisors_never_see_their_own_customers_calls(wrt: Runtime) -> None:
    advisor = logged_in_client(wrt, "wang")
    assert advisor.get("/worklist").status_code == 403
    token = csrf(advisor, "/")
    assert advisor.post(f"/worklist/{call_of(wrt, 'RO-A').id}/claim", data={"csrf_token": token}).status_code == 403
    boss = logged_in_client(wrt, "boss")  # also service advisor SA02: B and C are their own customers
    text = seen(boss, "/worklist")
    assert "张伟" in text and "李娜" not in text and "王芳" not in text
    assert take(boss, call_of(wrt, "RO-B").id).status_code == 403
    assert call_of(wrt, "RO-B").held_by is None
    # the next call skips them too
    resp = form_post(boss, "/worklist/next", {"store": "SZ01"})
    assert resp.headers["Location"].endswith(f"/worklist/{call_of(wrt, 'RO-A').id}")


def test_another_stores_call_is_404(wrt: Runtime) -> None:
    client = logged_in_client(wrt, "caller1")
    z = call_of(wrt, "RO-Z")
    assert take(client, z.id).status_code == 404
    assert client.get(f"/worklist/{z.id}").status_code == 404
    assert client.get("/worklist?store=SZ02").status_code == 404
    assert call_of(wrt, "RO-Z").held_by is None
    futian = logged_in_client(wrt, "futian")  # SZ02's own staff works it
    text = seen(futian, "/worklist")
    assert "深圳福田大众4S店" in text and "赵六" in text and "张伟" not in text


def test_the_next_call_button_takes_the_soonest_deadline_first(wrt: Runtime) -> None:
    client = logged_in_client(wrt, "caller1")
    resp = form_post(client, "/worklist/next", {"store": "SZ01"})
    assert resp.headers["Location"].endswith(f"/worklist/{call_of(wrt, 'RO-B').id}")
    assert call_of(wrt, "RO-B").held_by == "caller1"
    assert "回到我正在拨打的电话" in seen(client, "/worklist")


def test_home_is_the_worklist_for_information_staff_of_staff_stores_and_the_monitor_shows_capacity(wrt: Runtime) -> None:
    staff = logged_in_client(wrt, "caller1")
    resp = staff.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/worklist")
    monitor_page = page(staff, "/?view=monitor")
    assert "回访监控" in text_of(monitor_page) and 'href="/?view=monitor"' in monitor_page
    a = call_of(wrt, "RO-A")
    take(staff, a.id)
    form_post(staff, f"/worklist/{a.id}/outcome", {"outcome": "no_answer"}, f"/worklist/{a.id}")

    boss = logged_in_client(wrt, "boss")
    html = page(boss, "/")  # a manager keeps the monitor, with the worklist in the menu
    assert 'id="nav-worklist"' in html and "人工电访：人手是否够用" in text_of(html)
    made = re.search(r'id="cap-SZ01-made">(\d+)<', html)
    due = re.search(r'id="cap-SZ01-due">(\d+)<', html)
    assert made and due and int(made.group(1)) == 1
    # made 1 (A), waiting B, C and A's second call (no answer at 10:30 -> 14:00 today)
    assert int(due.group(1)) == 4
    assert re.search(r'<tr data-caller="caller1"><td>caller1</td><td class="num">1</td>', html)


def test_every_field_error_has_its_chinese_text() -> None:
    assert all(translate(m, "zh") != m for m in FIELD_MESSAGES)


def test_english_on_request_while_the_script_keeps_the_customers_language(wrt: Runtime) -> None:
    client = logged_in_client(wrt, "caller1")
    listed = seen(client, "/worklist?lang=en")
    assert "Call worklist" in listed and "Take the next call" in listed and "At risk" in listed
    a = call_of(wrt, "RO-A")
    take(client, a.id)
    text = seen(client, f"/worklist/{a.id}")
    assert "Answered: save the answers" in text and "Wrong or dead number" in text and "Call script (Chinese)" in text
    assert "您好，请问是张伟吗？" in text  # 张伟 is a Chinese-speaking customer
