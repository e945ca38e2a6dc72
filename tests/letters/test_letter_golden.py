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


def letter(lang: str, name: str, settings_url: str, service_type: str = "repair", *, called: bool = False,
           texted: bool = False) -> Letter:
    return Letter(
        attempt_id=7, case_id=3, store_code="SZ01", language=lang, customer_name=name,
        address="深圳市南山区科技南十二路18号3栋2单元1101", plate="粤B12345", vehicle_model="大众朗逸",
        visit_date=date(2026, 11, 20), ro_number="RO26110001", advisor_name="王强", reply_code="B72YSPK4MQ8R",
        survey_url=settings_url, case_state="letter_queued", no_contact=False, service_type=service_type,
        earlier_calls=called, earlier_sms=texted,
    )


#: per language: the customer's name as the DMS sent it (markup in it), how the letter must print it,
#: the visit's service type, and words only a letter in that language has
LETTERS = {
    "zh": ("张伟<VIP> & 家人", "张伟&lt;VIP&gt; &amp; 家人", "repair", ('lang="zh-CN"', "尊敬的", "先生/女士")),
    "en": ("Emily <Chen> & Co", "Emily &lt;Chen&gt; &amp; Co", "maintenance", ('lang="en"', "Dear ")),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_letter_html_matches_its_golden_file(lang: str) -> None:
    name, printed, service_type, own_words = LETTERS[lang]
    settings = load_settings({"FOLLOWUP_ENV": "test", "PUBLIC_BASE_URL": "https://followup.example.cn",
                              "TWILIO_FROM_NUMBER": "+8675586001234"})
    # the Chinese customer was called and texted before; the English one neither (R4.4: said only when true)
    html = letter_html(letter(lang, name, survey_url(settings, "B72YSPK4MQ8R"), service_type, called=lang == "zh",
                              texted=lang == "zh"), settings.stores["SZ01"], settings, date(2026, 11, 23))
    golden = GOLDEN / f"letter.{lang}.html"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(html, encoding="utf-8")
    assert html == golden.read_text(encoding="utf-8")
    # the golden file itself is the letter it should be: in the customer's language, every survey
    # question of the visit's service type (R5), the survey link, the name as text, never markup
    assert all(words in html for words in own_words), lang
    other = LETTERS["en" if lang == "zh" else "zh"][3]
    assert not any(words in html for words in other[1:]), lang
    for question in settings.survey.questions_for(service_type):
        assert question.text(lang) in html, question.id
    fixed_right = settings.survey.question("fixed_right").text(lang)
    assert (fixed_right in html) is (service_type == "repair")
    assert "https://followup.example.cn/s/B72YSPK4MQ8R" in html and "B72Y-SPK4-MQ8R" in html
    assert printed in html and name not in html


def test_without_an_sms_number_the_letter_does_not_offer_the_sms_reply() -> None:
    settings = load_settings({"FOLLOWUP_ENV": "test"})
    html = letter_html(letter("zh", "张伟", survey_url(settings, "B72YSPK4MQ8R")), settings.stores["SZ01"], settings,
                       date(2026, 11, 23))
    assert "发送至" not in html and "寄回本店" in html and "B72Y-SPK4-MQ8R" in html
