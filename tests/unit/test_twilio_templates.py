"""Every IVR and SMS template of the Twilio surveys, in both languages: golden files and SMS length.

Each SMS, with the store signature 【店名】 and 回T退订, must fit in two segments (UCS-2: 70
characters single, 67 per part) for every question and realistic long names. Run with
``UPDATE_GOLDEN=1`` to rewrite the golden files after an intended wording change.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from golden_files import assert_golden

from followup.messages import render, segments, sms_text
from followup.settings import Settings
from followup.surveys.code_replies import example_reply
from followup.surveys.ivr_survey import has_honorific, spoken_question
from followup.surveys.sms_survey import question_context

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "messages"
SMS = ["sms_survey", "sms_reminder", "sms_question", "sms_reask", "sms_thanks", "sms_incomplete", "sms_optout",
       "sms_optin", "sms_help", "sms_hint_scale10", "sms_hint_yesno", "sms_hint_text", "sms_code_hint"]
IVR = ["ivr_identity", "ivr_intro", "ivr_question_scale10", "ivr_question_yesno", "ivr_reprompt", "ivr_slot",
       "ivr_callback", "ivr_declined", "ivr_thanks", "ivr_goodbye", "ivr_not_customer"]
#: the longest values a real message carries
LONG = {
    "zh": {"customer_name": "欧阳诸葛明", "visit_date": "11月20日", "service_label": "事故维修"},
    "en": {"customer_name": "Alexander Richardson", "visit_date": "20 Nov", "service_label": "maintenance"},
}
URL = "https://followup.xinghe-vw.com.cn/s/K7M2QX"


def context(settings: Settings, lang: str, question_index: int = 0) -> dict[str, object]:
    store = settings.stores["SZ01"]
    q = settings.survey.questions[question_index]
    return {**LONG[lang], **question_context(q, lang), "survey_url": URL, "slot": 2, "slots": (1, 2, 3),
            "honorific": False, "store_name": store.name if lang == "zh" else store.name_en,
            "store_phone": store.phone, "question": question_context(q, lang)["question"],
            "example": example_reply("K7M2QX", settings.survey.questions, lang)}


def golden_text(settings: Settings, name: str, lang: str) -> str:
    if name.startswith("ivr_question_"):  # spoken as the IVR says it: the first question of that kind
        q = next(q for q in settings.survey.questions if q.kind == name.removeprefix("ivr_question_"))
        return spoken_question(q, lang)
    return render(f"{name}.txt.j2", lang, **context(settings, lang))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", SMS + IVR)
def test_golden(settings: Settings, name: str, lang: str) -> None:
    text = golden_text(settings, name, lang)
    if name.startswith("sms_") and not name.startswith("sms_hint"):
        text = sms_text(settings.stores["SZ01"].sms_signature, text, lang, opt_out_hint=name != "sms_optout")
    assert_golden(GOLDEN / lang / f"{name}.txt", text)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", [n for n in SMS if not n.startswith("sms_hint")])
def test_every_sms_fits_two_segments_with_signature_and_opt_out(settings: Settings, name: str, lang: str) -> None:
    signature = settings.stores["SZ01"].sms_signature
    confirmation = name == "sms_optout"  # R6: the one SMS without the opt-out hint
    for i, _q in enumerate(settings.survey.questions):
        text = sms_text(signature, render(f"{name}.txt.j2", lang, **context(settings, lang, i)), lang,
                        opt_out_hint=not confirmation)
        assert text.startswith(f"【{signature}】") and text.endswith("回T退订") is not confirmation
        assert segments(text) <= 2, (name, lang, i, len(text), text)


def test_the_opt_out_confirmation_carries_no_hint_and_no_english_keyword_in_chinese(settings: Settings) -> None:
    """R6: "you are out" must not end with "reply T to opt out", nor ask a Chinese customer for START."""
    zh = render("sms_optout.txt.j2", "zh")
    assert "回T" not in zh and "退订" in zh and "恢复" in zh
    assert not re.search(r"[A-Za-z]", zh)
    assert "START" in render("sms_optout.txt.j2", "en")


def test_segment_arithmetic() -> None:
    assert segments("【星河大众】" + "好" * 60) == 1  # 66 UCS-2 characters
    assert segments("好" * 70) == 1 and segments("好" * 71) == 2
    assert segments("好" * 134) == 2 and segments("好" * 135) == 3
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_question_is_asked_as_a_complete_sentence(settings: Settings, lang: str) -> None:
    """R5 / #16: the IVR and the SMS ask whole questions, not labels ("对本次服务的总体满意度")."""
    for q in settings.survey.questions:
        sms = question_context(q, lang)["question"]
        assert sms.endswith(("？", "。", "?", ".")), sms
        assert sms != q.text(lang) and q.ask(lang) in sms
        if q.kind != "text":
            assert spoken_question(q, lang).startswith(q.ask(lang).rstrip("。"))
    if lang == "zh":
        overall = spoken_question(settings.survey.question("overall"), lang)
        assert overall == "请您为本次服务的总体满意度打分，0分为非常不满意，10分为非常满意，输入后请按井号键。"
        assert spoken_question(settings.survey.question("fixed_right"), lang).endswith("？是请按1，否请按2。")


@pytest.mark.parametrize(("name", "lang", "honorific", "expected"), [
    ("张先生", "zh", True, "您好，这里是深圳星河大众4S店。请问是张先生吗？是请按1，不是请按2。"),
    ("欧阳诸葛明", "zh", False, "欧阳诸葛明您好，这里是深圳星河大众4S店。请问您是欧阳诸葛明本人吗？是请按1，不是请按2。"),
    ("Mr Chen", "en", True, "Hello, this is Shenzhen Xinghe VW Service Center. Am I speaking with Mr Chen? "
                            "Press 1 for yes, or 2 for no."),
])
def test_the_identity_question_uses_the_name_as_stored(settings: Settings, name: str, lang: str, honorific: bool,
                                                       expected: str) -> None:
    assert has_honorific(name, lang) is honorific
    store = settings.stores["SZ01"]
    text = render("ivr_identity.txt.j2", lang, customer_name=name, honorific=honorific,
                  store_name=store.name if lang == "zh" else store.name_en)
    assert text == expected
