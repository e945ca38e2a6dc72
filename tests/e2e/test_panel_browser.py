"""The admin panel in a real browser (Playwright driving the system's Chromium), against the app
served for real on 127.0.0.1 with the demo data and the persistent test clock.

Screenshots go to ``instance/e2e-screenshots/`` (git-ignored). Each screenshot is preceded by a
check, through the DevTools protocol, that the Chinese text was drawn with Noto Sans CJK (the
platform font Chromium really used for the heading's glyphs), so a page of ``.notdef`` boxes fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from browser_support import ROOT, assert_drawn_in_noto_cjk, e2e_runtime, save_full_page, serving
from factories import add_visit, send_reply_code, visit_row
from openpyxl import load_workbook
from sqlalchemy import select

from followup.channels.sandbox import SandboxChannel
from followup.engine.tick import run_tick
from followup.models import FollowupCase, SurveyResponse, Visit
from followup.runtime import Runtime
from followup.sandbox.demo_data import DEMO_PASSWORD, load_demo

pytestmark = pytest.mark.slow
pytest.importorskip("playwright.sync_api")

SHOTS = ROOT / "instance" / "e2e-screenshots"
#: the README's screenshots, retaken by every run so that they show the panel as it is
DOCS_SHOTS = ROOT / "docs" / "screenshots"
#: 14:00 in Shanghai on a Friday: inside the afternoon calling window
NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def late_visit(rt: Runtime, ro: str, name: str, mobile: str) -> None:
    """A visit imported after its deadline (breached, late_intake) of an advisor with no other visit."""
    add_visit(rt, visit_row(ro, customer_name=name, mobile=mobile, plate="粤B8E2E8", vehicle_model="迈腾",
                            advisor_code="SA09", advisor_name="测试顾问", service_type="repair",
                            delivered_at=NOW - timedelta(hours=80), mileage_km=20000), at=NOW)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Runtime]]:
    rt = e2e_runtime(tmp_path_factory.mktemp("e2e") / "e2e.db", NOW)
    with rt.sessions() as s:
        assert load_demo(s, rt)
        s.commit()
    late_visit(rt, "E2E-CALL", "欧阳明", "+8613512345678")
    late_visit(rt, "E2E-SMS", "司马兰", "+8613587654321")
    run_tick(rt, SandboxChannel())  # the late visits go straight to the SMS survey; nobody answers
    with serving(rt) as base:
        yield base, rt


def shot(page: Any, name: str, selector: str = "h1", *, docs: str | None = None) -> None:
    assert_drawn_in_noto_cjk(page, name, selector)
    family = page.eval_on_selector("body", "el => getComputedStyle(el).fontFamily")
    assert family.startswith('"Noto Sans CJK SC"'), family
    save_full_page(page, SHOTS, name)
    if docs:  # the viewport only: the first screen a reader of the README sees
        page.screenshot(path=str(DOCS_SHOTS / f"{docs}.png"))


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_staff_call_shows_in_the_managers_report_and_export_and_the_simulator_answers_sms(
        served: tuple[str, Runtime], browser: Any, tmp_path: Path) -> None:
    base, rt = served
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()

    # information staff: the monitor, then a breached case
    log_in(page, base, "staff")
    assert page.inner_text("h1") == "回访监控"
    breached = page.locator("a[href*='rule=breached']").first
    assert int(breached.inner_text().split()[0]) >= 2
    shot(page, "01-monitor", docs="monitor")
    page.goto(f"{base}/cases?q=E2E-CALL")
    page.click("text=E2E-CALL")
    assert "欧阳明" in page.inner_text("main") and "超时" in page.inner_text("main")
    shot(page, "02-breached-case")

    # record the call the staff member made by hand, with the customer's answers
    page.select_option("select[name=outcome]", "answered")
    page.select_option("select[name=q_overall]", "9")
    page.select_option("select[name=q_fixed_right]", "yes")
    page.select_option("select[name=q_on_time]", "yes")
    page.select_option("select[name=q_advisor]", "8")
    page.fill("textarea[name=q_comment]", "师傅很专业")
    page.click("form.call button[type=submit]")
    page.wait_for_load_state()
    with rt.sessions() as s:
        resp = s.scalars(select(SurveyResponse).join(FollowupCase, FollowupCase.id == SurveyResponse.case_id)
                         .join(Visit, Visit.id == FollowupCase.visit_id).where(Visit.ro_number == "E2E-CALL", SurveyResponse.channel == "staff")).one()
    assert (resp.channel, resp.made_by, resp.score) == ("staff", "user:staff", 92.0)  # 36 + 20 + 20 + 16
    assert "92" in page.inner_text("main")
    page.click("button:has-text('退出')")

    # the manager: the advisor's score in this month's report, and the XLSX export
    log_in(page, base, "manager")
    page.goto(f"{base}/reports?store=SZ01&month=2026-11")
    row = page.locator("tr", has_text="SA09")
    assert "92" in row.inner_text() and "测试顾问" in row.inner_text()
    shot(page, "03-report", docs="report")
    with page.expect_download() as info:
        page.click("a[href*='xlsx']")
    saved = tmp_path / "advisors.xlsx"
    info.value.save_as(saved)
    sheet = load_workbook(saved).active
    assert sheet is not None
    rows = [[c for c in r] for r in sheet.iter_rows(values_only=True)]
    sa09 = [r for r in rows if "SA09" in r]
    assert len(sa09) == 1 and 92.0 in sa09[0] and "测试顾问" in sa09[0]

    # the phone simulator: the customer of the other breached case answers the SMS survey
    page.goto(f"{base}/simulator/?q=司马兰")
    page.click("text=打开手机")
    assert "总体满意度" in page.inner_text("ol.thread")
    page.fill("input[name=body]", "十分")
    page.click("form.sms-reply button[type=submit]")
    page.wait_for_load_state()
    thread = page.inner_text("ol.thread")
    assert "十分" in thread and "一次修好" in thread  # our reply, then the next question
    shot(page, "04-simulator", "ol.thread .sms")

    # English on request, still scoped to the manager's pages
    page.goto(f"{base}/?lang=en")
    assert page.inner_text("h1") == "Campaign monitor"
    context.close()


def test_the_web_survey_on_a_phone(served: tuple[str, Runtime], browser: Any) -> None:
    base, rt = served
    with rt.sessions() as s:
        case_id = s.scalar(select(FollowupCase.id).where(FollowupCase.state == "scheduled").order_by(FollowupCase.id))
    code = send_reply_code(rt, case_id)  # only a code that went out answers
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.goto(f"{base}/s/{code}")
    assert page.locator("form button[type=submit]").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the survey must not scroll sideways on a phone"
    shot(page, "05-web-survey-phone", "h1")
    context.close()
