"""The complaint SMS (the re-survey after a resolution, the progress SMS), in both languages: golden
files and SMS length.

Run with ``UPDATE_GOLDEN=1`` to rewrite the golden files after an intended wording change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from golden_files import assert_golden

from followup.messages import render, segments, sms_text
from followup.settings import Settings
from followup.surveys.sms_survey import question_context

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "messages"
#: the longest values a real message carries
LONG = {
    "zh": {"customer_name": "欧阳诸葛明", "visit_date": "11月20日", "service_label": "事故维修"},
    "en": {"customer_name": "Alexander Richardson", "visit_date": "20 Nov", "service_label": "maintenance"},
}


def resurvey_sms(settings: Settings, lang: str, question_index: int = 0) -> str:
    q = settings.survey.questions[question_index]
    body = render("sms_resurvey.txt.j2", lang, **LONG[lang], **question_context(q, lang),
                  survey_url="https://followup.example.cn/s/K7M2QX")
    return sms_text(settings.stores["SZ01"].sms_signature, body, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_golden(settings: Settings, lang: str) -> None:
    assert_golden(GOLDEN / lang / "sms_resurvey.txt", resurvey_sms(settings, lang))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_fits_two_segments_for_every_first_question(settings: Settings, lang: str) -> None:
    for i, _q in enumerate(settings.survey.questions):
        text = resurvey_sms(settings, lang, i)
        assert text.startswith("【星河大众】") and text.endswith("回T退订")
        assert segments(text) <= 2, (lang, i, len(text), text)


def progress_sms(settings: Settings, lang: str) -> str:
    store = settings.stores["SZ01"]
    body = render("sms_progress.txt.j2", lang, **LONG[lang], store_phone=store.phone)
    return sms_text(store.sms_signature, body, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_progress_sms_golden_and_length(settings: Settings, lang: str) -> None:
    text = progress_sms(settings, lang)
    assert_golden(GOLDEN / lang / "sms_progress.txt", text)
    assert text.startswith("【星河大众】") and text.endswith("回T退订") and "0755-86001234" in text
    assert segments(text) <= 2, (lang, len(text), text)
