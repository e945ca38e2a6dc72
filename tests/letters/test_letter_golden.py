"""The letter's HTML per language against golden files (ARCHITECTURE: every message template has a
golden test). To accept a deliberate change: ``UPDATE_GOLDEN=1 pytest tests/letters`` and review the diff."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from followup.letters.content import Letter, survey_url
from followup.letters.render import letter_html
from followup.settings import load_settings

GOLDEN = Path(__file__).parent / "golden"


def letter(lang: str, name: str, settings_url: str, service_type: str = "repair") -> Letter:
    return Letter(
        attempt_id=7, case_id=3, store_code="SZ01", language=lang, customer_name=name,
        address="深圳市南山区科技南十二路18号3栋2单元1101", plate="粤B12345", vehicle_model="大众朗逸",
        visit_date=date(2026, 11, 20), ro_number="RO26110001", advisor_name="王强", reply_code="B72YSP",
        survey_url=settings_url, case_state="letter_queued", no_contact=False, service_type=service_type,
    )


@pytest.mark.parametrize(("lang", "name", "service_type"), [("zh", "张伟", "repair"),
                                                             ("en", "Emily <Chen> & Co", "maintenance")])
def test_the_letter_html_matches_its_golden_file(lang: str, name: str, service_type: str) -> None:
    settings = load_settings({"FOLLOWUP_ENV": "test", "PUBLIC_BASE_URL": "https://followup.example.cn",
                              "TWILIO_FROM_NUMBER": "+8675586001234"})
    html = letter_html(letter(lang, name, survey_url(settings, "B72YSP"), service_type), settings.stores["SZ01"],
                       settings, date(2026, 11, 23))
    # R5: the letter lists the questions of the visit's service type
    fixed_right = settings.survey.question("fixed_right").text(lang)
    assert (fixed_right in html) is (service_type == "repair")
    golden = GOLDEN / f"letter.{lang}.html"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(html, encoding="utf-8")
    assert html == golden.read_text(encoding="utf-8")
    assert "https://followup.example.cn/s/B72YSP" in html
    assert "&lt;Chen&gt; &amp; Co" in html or lang == "zh"  # a customer's name is text, never markup


def test_without_an_sms_number_the_letter_does_not_offer_the_sms_reply() -> None:
    settings = load_settings({"FOLLOWUP_ENV": "test"})
    html = letter_html(letter("zh", "张伟", survey_url(settings, "B72YSP")), settings.stores["SZ01"], settings,
                       date(2026, 11, 23))
    assert "发送至" not in html and "寄回本店" in html and "B72YSP" in html
