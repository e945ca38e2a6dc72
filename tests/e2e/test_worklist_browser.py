"""The call worklist in a real browser (Playwright driving the system's Chromium), served for real on
127.0.0.1 with the demo's configuration (``config/demo.toml``: store SZ02, 深圳福田大众4S店, calls by
staff) and the test clock: one call worked through with the keyboard only, the Chinese script, and
the claim seen from a second browser context.

Saves ``docs/screenshots/worklist.png`` (the list, for the README) and ``worklist-call.png`` (a call),
each after checking, through the DevTools protocol, that the Chinese was drawn with Noto Sans CJK.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browser_support import ROOT, assert_drawn_in_noto_cjk, e2e_runtime, save_full_page, serving
from factories import PASSWORD, add_visit, make_user, visit_row
from sqlalchemy import select

from followup.models import ContactAttempt, FollowupCase, SurveyAnswer, SurveyResponse, Visit
from followup.runtime import Runtime

pytestmark = pytest.mark.slow(seconds=20)
pytest.importorskip("playwright.sync_api")

SHOTS = ROOT / "docs" / "screenshots"
#: Friday 20 November 2026, 14:00 in Shanghai
NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Runtime]]:
    rt = e2e_runtime(tmp_path_factory.mktemp("e2e-worklist") / "e2e.db", NOW,
                     FOLLOWUP_CONFIG=str(ROOT / "config" / "demo.toml"))
    for name in ("caller1", "caller2"):
        make_user(rt, name, "info_staff", ["SZ02"])

    def visit(ro: str, hours_ago: float, **fields: Any) -> None:
        add_visit(rt, visit_row(ro, store_code="SZ02", delivered_at=NOW - timedelta(hours=hours_ago), **fields),
                  at=NOW, plan=True)

    visit("FT-1", 61, service_type="repair")  # 张伟, 帕萨特 粤B12345: deadline in 11 hours, at risk
    visit("FT-2", 26, customer_name="李娜", mobile="+8613900139000", plate="粤B54321", vehicle_model="迈腾")
    visit("FT-3", 20, customer_name="王芳", mobile="+8613700137000", plate="粤B66666", vehicle_model="途观L")
    with serving(rt) as base:
        yield base, rt


def shot(page: Any, name: str, selector: str = "h1") -> None:
    assert_drawn_in_noto_cjk(page, name, selector)
    save_full_page(page, SHOTS, name)


def log_in(page: Any, base: str, username: str) -> None:
    """Log in with the keyboard: type, then Enter."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{base}/worklist")  # an information staff member of a staff store starts here


def attempt_of(rt: Runtime, ro: str) -> int:
    with rt.sessions() as s:
        found = s.scalar(select(ContactAttempt.id).join(FollowupCase, FollowupCase.id == ContactAttempt.case_id)
                         .join(Visit, Visit.id == FollowupCase.visit_id)
                         .where(Visit.ro_number == ro, ContactAttempt.channel == "call")
                         .order_by(ContactAttempt.id))
        assert found is not None
        return found


def test_a_call_worked_with_the_keyboard_only_and_the_claim_seen_from_a_second_browser(
        served: tuple[str, Runtime], browser: Any) -> None:
    base, rt = served
    first_call, second_call = attempt_of(rt, "FT-1"), attempt_of(rt, "FT-2")
    one = browser.new_context(viewport=DESKTOP).new_page()
    log_in(one, base, "caller1")
    assert one.inner_text("h1").startswith("电访工作列表")
    rows = one.locator("table.worklist tbody tr")
    assert rows.count() == 3 and "即将超时" in rows.first.inner_text()

    # Enter on the list takes the next call: the soonest deadline, claimed for 15 minutes
    one.keyboard.press("Enter")
    one.wait_for_url(f"{base}/worklist/{first_call}")
    script = one.inner_text("section.script")
    assert ("您好，请问是张伟吗？我是深圳福田大众4S店的客户信息员。您的帕萨特（粤B12345）于11月18日在我们店做了维修"
            in script)
    for asked in ("请您为本次服务的总体满意度打分", "请问您的车辆问题是否一次修好？", "请问我们是否按约定的时间为您交车？",
                  "请您为服务顾问的服务打分", "请问您对我们还有其他意见或建议吗？"):
        assert asked in script
    assert one.get_attribute("#call-phone", "href") == "tel:+8613800138000"

    # a second person, in another browser context, sees the call taken and is offered the next one
    two = browser.new_context(viewport=DESKTOP).new_page()
    log_in(two, base, "caller2")
    taken = two.locator(f"tr[data-attempt='{first_call}']")
    assert "正在拨打： caller1" in taken.inner_text() and taken.locator("button").count() == 0
    shot(two, "worklist")
    answer = two.goto(f"{base}/worklist/{first_call}")
    assert answer is not None and answer.status == 409
    assert "此电话已被领取" in two.inner_text("#refused") and "李娜" in two.inner_text("#next-call")
    assert two.evaluate("document.activeElement.id") == "take-next"  # Enter would take the offered call

    # the keyboard only: scores, yes/no, the next question, the comment, then Enter saves
    one.keyboard.press("9")                 # overall 9 (the first question has the focus)
    one.keyboard.press("ArrowDown")
    one.keyboard.press("y")                 # fixed right: yes
    one.keyboard.press("ArrowDown")
    one.keyboard.press("1")                 # on time: 1 = yes
    one.keyboard.press("ArrowDown")
    one.keyboard.press("1")
    one.keyboard.press("0")                 # advisor: 1 then 0 = 10
    one.keyboard.press("ArrowDown")         # the comment box
    one.keyboard.type("师傅很专业")
    assert one.is_checked("input[name=q_overall][value='9']") and one.is_checked("input[name=q_advisor][value='10']")
    shot(one, "worklist-call", "#script-greeting")
    one.keyboard.press("Escape")            # out of the comment box
    one.keyboard.press("Enter")             # save: answered
    one.wait_for_url(f"{base}/worklist/{second_call}")  # straight to the next call, already claimed
    assert "电访结果已登记" in one.inner_text("main") and "李娜" in one.inner_text("h1")
    with rt.sessions() as s:
        response = s.scalars(select(SurveyResponse)).one()
        answers = {a.question_id: a.value_text if a.value_num is None else a.value_num
                   for a in s.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id == response.id))}
    assert (response.channel, response.made_by, response.score) == ("staff", "user:caller1", 96.0)
    assert answers == {"overall": 9.0, "fixed_right": 1.0, "on_time": 1.0, "advisor": 10.0, "comment": "师傅很专业"}

    # an outcome by its letter: W (no answer), Enter; then the third call
    one.keyboard.press("w")
    assert "无人接听" in one.inner_text("#chosen-outcome")
    one.keyboard.press("Enter")
    one.wait_for_url(re.compile(rf"{re.escape(base)}/worklist/\d+$"))
    assert "王芳" in one.inner_text("h1")
    with rt.sessions() as s:
        made = s.get_one(ContactAttempt, second_call)
        assert (made.outcome, made.made_by) == ("no_answer", "user:caller1")
