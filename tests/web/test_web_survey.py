"""The customers' web survey ``/s/<code>`` (CONTRACT §4b), on SQLite and PostgreSQL: the form,
one use per code, expiry with the case, CSRF, the customer's language, and guessing codes."""

from __future__ import annotations

import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from factories import send_reply_code
from flask.testing import FlaskClient
from sqlalchemy import func, select

from followup.letters.letter_batch import build_batch
from followup.letters.mailing import mark_mailed
from followup.models import FollowupCase, LetterBatch, SurveyAnswer, SurveyResponse
from followup.runtime import Runtime
from followup.web import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "letters"))  # the letter tests' small world
from letter_world import DELIVERED, add_visit, answered_on_the_web, case_row, queue_letter, visit_row  # noqa: E402

GOOD = {"overall": "9", "fixed_right": "yes", "on_time": "yes", "advisor": "10", "comment": "顾问很专业"}
NOW = DELIVERED + timedelta(hours=30)


@pytest.fixture
def client(rt: Runtime) -> FlaskClient:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    return create_app(runtime=rt).test_client()


def open_case(rt: Runtime, n: int = 1, **changes: object) -> tuple[int, str]:
    """An open case whose customer was sent the survey link (a code nobody was sent answers nothing)."""
    case_id = add_visit(rt, visit_row(n, **changes), now=NOW)
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    return case_id, send_reply_code(rt, case_id)


def token(client: FlaskClient, code: str) -> str:
    page = client.get(f"/s/{code}")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)
    return found.group(1)


def responses(rt: Runtime) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(SurveyResponse).where(SurveyResponse.status == "completed")) or 0


def test_the_form_is_chinese_with_one_field_per_question_and_no_inline_style(rt: Runtime, client: FlaskClient) -> None:
    _, code = open_case(rt)
    page = client.get(f"/s/{code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'lang="zh-CN"' in html
    assert "服务满意度回访" in html and "对本次服务的总体满意度" in html and "2026年11月20日" in html
    for qid in ("overall", "on_time", "advisor", "comment", "csrf_token"):
        assert f'name="{qid}"' in html
    assert 'name="fixed_right"' not in html and "一次修好" not in html  # a maintenance visit (R5)
    assert html.count('name="overall"') == 11 and 'value="yes"' in html and 'value="no"' in html
    assert "张伟" not in html and "粤B12345" not in html  # a guessed code shows nobody's name or plate
    assert "style=" not in html and "<script" not in html  # the CSP forbids inline styles and scripts
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert client.get("/static/survey.css").status_code == 200


def test_after_a_repair_the_form_asks_whether_it_was_fixed_right_first_time(rt: Runtime, client: FlaskClient) -> None:
    case_id, code = open_case(rt, service_type="warranty")
    html = client.get(f"/s/{code}").get_data(as_text=True)
    assert 'name="fixed_right"' in html and "车辆问题是否一次修好" in html
    missing = client.post(f"/s/{code}", data={**GOOD, "fixed_right": "", "csrf_token": token(client, code)})
    assert missing.status_code == 422 and responses(rt) == 0  # asked, so it must be answered
    done = client.post(f"/s/{code}", data={**GOOD, "fixed_right": "no", "csrf_token": token(client, code)})
    assert done.status_code == 200 and case_row(rt, case_id).state == "complaint"  # not fixed right: R5, R7


def test_an_english_customer_gets_the_english_page(rt: Runtime, client: FlaskClient) -> None:
    _, code = open_case(rt, language="en")
    html = client.get(f"/s/{code.lower()}").get_data(as_text=True)  # codes are read in any case
    assert 'lang="en"' in html and "Overall satisfaction with this service visit" in html
    assert "Send my answers" in html and "提交" not in html


def test_answers_are_recorded_once_and_the_code_is_then_used_up(rt: Runtime, client: FlaskClient) -> None:
    case_id, code = open_case(rt)
    csrf = token(client, code)
    done = client.post(f"/s/{code}", data={**GOOD, "csrf_token": csrf})
    assert done.status_code == 200 and "感谢您的反馈" in done.get_data(as_text=True)
    resp = answered_on_the_web(rt, case_id)
    with rt.sessions() as s:
        answers = {a.question_id: (a.value_num, a.value_text) for a in
                   s.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id == resp.id))}
        assert answers["overall"] == (9.0, None) and answers["comment"] == (None, "顾问很专业")

    again = client.post(f"/s/{code}", data={**GOOD, "overall": "2", "csrf_token": csrf})
    assert again.status_code == 410 and "问卷已填写" in again.get_data(as_text=True)
    assert responses(rt) == 1
    page = client.get(f"/s/{code}")
    assert page.status_code == 410 and 'name="overall"' not in page.get_data(as_text=True)


def test_a_dissatisfied_answer_opens_a_complaint_and_says_someone_will_call(rt: Runtime, client: FlaskClient) -> None:
    case_id, code = open_case(rt)
    done = client.post(f"/s/{code}", data={**GOOD, "overall": "3", "fixed_right": "no", "csrf_token": token(client, code)})
    assert "服务团队将尽快与您联系" in done.get_data(as_text=True)
    assert case_row(rt, case_id).state == "complaint"
    assert client.get(f"/s/{code}").status_code == 410


def test_missing_or_impossible_answers_show_the_form_again_and_record_nothing(rt: Runtime, client: FlaskClient) -> None:
    _, code = open_case(rt)
    bad = client.post(f"/s/{code}", data={"overall": "11", "fixed_right": "maybe", "on_time": "yes",
                                          "comment": "再说", "csrf_token": token(client, code)})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "请回答下面标出的问题" in html
    assert 'id="q-overall"' in html and "q invalid" in html and "再说" in html  # what was typed is kept
    assert responses(rt) == 0


def test_a_post_without_a_csrf_token_is_refused(rt: Runtime, client: FlaskClient) -> None:
    assert create_app(runtime=rt).config.get("WTF_CSRF_ENABLED", True)  # CSRF is on in the test app
    case_id, code = open_case(rt)
    client.get(f"/s/{code}")
    refused = client.post(f"/s/{code}", data=GOOD)
    assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True)
    assert client.post(f"/s/{code}", data={**GOOD, "csrf_token": "forged"}).status_code == 400
    assert responses(rt) == 0 and case_row(rt, case_id).state != "closed"


def test_a_closed_case_and_a_letter_past_its_reply_timeout_expire_the_code(rt: Runtime, client: FlaskClient) -> None:
    case_id = queue_letter(rt, 1)
    code = case_row(rt, case_id).reply_code
    mailed = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    with rt.sessions() as s:
        result = build_batch(s, rt.settings, "SZ01", date(2026, 11, 22), now=mailed, actor="test")
        assert result.batch is not None
        mark_mailed(s, result.batch, now=mailed, actor="test")
        s.commit()
    rt.clock.set(mailed + timedelta(days=29))  # type: ignore[attr-defined]
    assert client.get(f"/s/{code}").status_code == 200
    rt.clock.set(mailed + timedelta(days=30, minutes=1))  # type: ignore[attr-defined]
    expired = client.get(f"/s/{code}")
    assert expired.status_code == 410 and "问卷已结束" in expired.get_data(as_text=True)

    other_id, other = open_case(rt, 2)
    with rt.sessions() as s:
        s.get_one(FollowupCase, other_id).state = "closed"
        s.commit()
    assert client.get(f"/s/{other}").status_code == 410
    assert responses(rt) == 0
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(LetterBatch)) == 1


def test_unknown_codes_all_look_the_same_and_guessing_is_slowed_down(rt: Runtime, client: FlaskClient) -> None:
    _, code = open_case(rt)
    first = client.get("/s/ZZZZZZ")
    second = client.get("/s/not-a-code!")
    assert first.status_code == second.status_code == 404
    assert first.get_data() == second.get_data() and "未找到问卷" in first.get_data(as_text=True)
    for _ in range(18):
        client.get("/s/ZZZZZZ")
    blocked = client.get(f"/s/{code}")  # even a real code waits once this address guessed 20 times
    assert blocked.status_code == 429 and "请稍后再试" in blocked.get_data(as_text=True)
