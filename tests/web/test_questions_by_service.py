"""R5: the questions follow the service type on every channel. ``fixed_right`` (车辆问题是否一次修好)
is asked only after repairs; a maintenance customer is never asked it, never shown it, and an answer
to it from anywhere never counts (nor opens a complaint)."""

from __future__ import annotations

import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fakes.twilio_emulator import TwilioEmulator
from fakes.twilio_env import PUBLIC, import_visit, post_signed, press_keys, read_sample, tick_at
from sqlalchemy import select

from followup.letters.content import load_letters
from followup.letters.paper_replies import record_paper_reply
from followup.letters.render import letter_html
from followup.models import Complaint, ContactAttempt, FollowupCase, SurveyAnswer, SurveyResponse
from followup.runtime import Runtime
from followup.surveys.responses import record_survey
from followup.web import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "letters"))  # the letter tests' small world
from letter_world import DELIVERED, add_visit, queue_letter, visit_row  # noqa: E402

IMPORTED = datetime(2026, 11, 19, 1, 0, tzinfo=UTC)  # 09:00 Shanghai: SMS hours
FIRST_CALL = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 Shanghai, the day after delivery
FIXED_RIGHT_ZH = "一次修好"


def answers_of(rt: Runtime) -> dict[str, tuple[float | None, str | None]]:
    with rt.sessions() as s:
        return {a.question_id: (a.value_num, a.value_text) for a in s.scalars(select(SurveyAnswer))}


def complaints(rt: Runtime) -> int:
    with rt.sessions() as s:
        return len(s.scalars(select(Complaint)).all())


# -- the SMS survey ------------------------------------------------------------------------------

@pytest.fixture
def texting(twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path, request: pytest.FixtureRequest
            ) -> dict[str, Any]:
    """A do-not-call customer of a ``service`` visit: the SMS survey starts at once (R3/R4)."""
    import_visit(twilio_rt, tmp_path, do_not_call=True, service_type=request.param)
    tick_at(twilio_rt, IMPORTED)
    (sms,) = emulator.created("Messages")
    return {"rt": twilio_rt, "client": create_app(runtime=twilio_rt).test_client(), "first": sms.one("Body"), "n": 0}


def reply(t: dict[str, Any], samples: Path, body: str) -> str:
    t["n"] += 1
    sid = f"SM{t['n']:032x}"
    params = {**read_sample(samples, "sms_inbound_reply.txt"), "Body": body, "From": "+8613800138000",
              "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid}
    code, twiml = post_signed(t["client"], f"{PUBLIC}/twilio/sms/inbound", params)
    assert code == 200
    (message,) = re.findall(r"<Message>(.*?)</Message>", twiml, re.S)
    return str(message)


@pytest.mark.parametrize("texting", ["maintenance"], indirect=True)
def test_a_maintenance_sms_survey_never_asks_fixed_right_and_a_no_to_on_time_opens_nothing(
        texting: dict[str, Any], samples: Path) -> None:
    rt = texting["rt"]
    assert "总体满意度" in texting["first"]
    second = reply(texting, samples, "很满意")
    assert "按约定的时间" in second and FIXED_RIGHT_ZH not in second
    third = reply(texting, samples, "否")  # on time: no
    assert "服务顾问" in third and FIXED_RIGHT_ZH not in third
    assert "意见或建议" in reply(texting, samples, "10")
    assert "感谢您的评价" in reply(texting, samples, "无")
    assert answers_of(rt) == {"overall": (10.0, None), "on_time": (0.0, "no"), "advisor": (10.0, None)}
    with rt.sessions() as s:
        resp = s.scalars(select(SurveyResponse)).one()
        assert (resp.score, resp.satisfied) == (75.0, True)  # (100*.4 + 0*.2 + 100*.2) / 0.8
        assert s.scalars(select(FollowupCase.outcome)).one() == "satisfied"
    assert complaints(rt) == 0


@pytest.mark.parametrize("texting", ["repair"], indirect=True)
def test_a_repair_sms_survey_asks_fixed_right_second(texting: dict[str, Any], samples: Path) -> None:
    second = reply(texting, samples, "10")
    assert FIXED_RIGHT_ZH in second
    assert "按约定的时间" in reply(texting, samples, "没修好")
    assert answers_of(texting["rt"])["fixed_right"] == (0.0, "no")


# -- the IVR -------------------------------------------------------------------------------------

def ivr_call(rt: Runtime, emulator: TwilioEmulator, tmp_path: Path, service_type: str
             ) -> dict[str, Any]:
    import_visit(rt, tmp_path, service_type=service_type)
    tick_at(rt, FIRST_CALL)
    (call,) = emulator.created("Calls")
    return {"client": create_app(runtime=rt).test_client(), "sid": call.sid, "url": call.one("Url"),
            "attempt": int(call.one("Url").split("=")[-1])}


def start_survey(call: dict[str, Any], samples: Path) -> str:
    """The customer picks up and agrees to the survey; the TwiML of the first question."""
    params = {**read_sample(samples, "gather_digits.txt"), "CallSid": call["sid"], "AnsweredBy": "human"}
    params.pop("Digits")
    assert post_signed(call["client"], call["url"], params)[0] == 200
    press_keys(call, samples, "identity", "1")
    return press_keys(call, samples, "intro", "1")


def test_a_maintenance_ivr_survey_never_asks_fixed_right(twilio_rt: Runtime, emulator: TwilioEmulator,
                                                        tmp_path: Path, samples: Path) -> None:
    call = ivr_call(twilio_rt, emulator, tmp_path, "maintenance")
    assert "step=overall" in start_survey(call, samples)
    second = press_keys(call, samples, "overall", "9#")
    assert "step=on_time" in second and FIXED_RIGHT_ZH not in second
    assert "step=advisor" in press_keys(call, samples, "on_time", "2")
    assert "<Hangup />" in press_keys(call, samples, "advisor", "10#")
    assert set(answers_of(twilio_rt)) == {"overall", "on_time", "advisor"}
    assert complaints(twilio_rt) == 0


def test_a_repair_ivr_survey_asks_fixed_right(twilio_rt: Runtime, emulator: TwilioEmulator,
                                              tmp_path: Path, samples: Path) -> None:
    call = ivr_call(twilio_rt, emulator, tmp_path, "warranty")
    start_survey(call, samples)
    second = press_keys(call, samples, "overall", "9#")
    assert "step=fixed_right" in second and FIXED_RIGHT_ZH in second


# -- every survey taken at once: sandbox customers, web, letters, staff ---------------------------

def test_an_answer_to_a_question_not_asked_is_never_stored_nor_scored(rt: Runtime) -> None:
    """The sandbox's simulated customers (and any caller) hand in every answer; only those asked count."""
    case_id = add_visit(rt, visit_row(1, service_type="maintenance"))
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        resp = record_survey(s, case, {"overall": "10", "fixed_right": "no", "on_time": "yes", "advisor": "10"},
                             channel="sms", made_by="sandbox", settings=rt.settings, now=DELIVERED)
        s.commit()
        assert (resp.score, resp.satisfied) == (100.0, True)
    assert set(answers_of(rt)) == {"overall", "on_time", "advisor"}
    assert complaints(rt) == 0


def test_a_repair_answer_of_no_to_fixed_right_still_opens_a_complaint(rt: Runtime) -> None:
    case_id = add_visit(rt, visit_row(1, service_type="insurance"))
    with rt.sessions() as s:
        resp = record_survey(s, s.get_one(FollowupCase, case_id),
                             {"overall": "10", "fixed_right": "no", "on_time": "yes", "advisor": "10"},
                             channel="sms", made_by="sandbox", settings=rt.settings, now=DELIVERED)
        s.commit()
        assert (resp.score, resp.satisfied) == (80.0, False)
    assert complaints(rt) == 1


def test_the_letter_lists_the_questions_of_its_visit(rt: Runtime) -> None:
    maintenance = queue_letter(rt, 1)
    repair = queue_letter(rt, 2, service_type="repair")
    with rt.sessions() as s:
        ids = {a.case_id: a.id for a in s.scalars(select(ContactAttempt).where(ContactAttempt.channel == "letter"))}
        letters = {x.case_id: x for x in load_letters(s, rt.settings, [ids[maintenance], ids[repair]])}
    store = rt.settings.stores["SZ01"]
    html = {cid: letter_html(x, store, rt.settings, date(2026, 11, 23)) for cid, x in letters.items()}
    assert "车辆问题是否一次修好" not in html[maintenance] and "对本次服务的总体满意度" in html[maintenance]
    assert "车辆问题是否一次修好" in html[repair]


def test_a_paper_reply_keys_in_only_the_questions_of_its_visit(rt: Runtime) -> None:
    case_id = queue_letter(rt, 1)  # maintenance
    with rt.sessions() as s:
        code = s.get_one(FollowupCase, case_id).reply_code
        result = record_paper_reply(s, rt.settings, code, {"overall": "9", "fixed_right": "no", "on_time": "yes",
                                                           "advisor": "9"},
                                    username="staff1", stores=["SZ01"], now=datetime(2026, 11, 25, 2, tzinfo=UTC))
        s.commit()
        assert result.response is not None and result.response.satisfied is True
    assert set(answers_of(rt)) == {"overall", "on_time", "advisor"}
    assert complaints(rt) == 0


# -- a call made by staff ------------------------------------------------------------------------

def test_staff_recording_a_call_see_and_answer_only_the_questions_of_the_visit(rt: Runtime) -> None:
    from panel_support import make_visit, post, staff_client

    client = staff_client(rt)
    maintenance = make_visit(rt, "RO-M", service="maintenance")
    repair = make_visit(rt, "RO-R", service="repair", mobile="+8613900139000")
    assert 'name="q_fixed_right"' not in client.get(f"/cases/{maintenance}").get_data(as_text=True)
    assert 'name="q_fixed_right"' in client.get(f"/cases/{repair}").get_data(as_text=True)
    answers = {"outcome": "answered", "q_overall": "9", "q_on_time": "yes", "q_advisor": "10", "q_comment": ""}
    assert post(client, f"/cases/{maintenance}/call", answers, token_from=f"/cases/{maintenance}").status_code == 302
    with rt.sessions() as s:
        resp = s.scalars(select(SurveyResponse).where(SurveyResponse.case_id == maintenance)).one()
        assert (resp.channel, resp.score, resp.satisfied) == ("staff", 95.0, True)  # (36 + 20 + 20) / 0.8
    # a repair call without the fixed-right answer is refused: it was asked
    post(client, f"/cases/{repair}/call", answers, token_from=f"/cases/{repair}")
    with rt.sessions() as s:
        assert s.scalars(select(SurveyResponse).where(SurveyResponse.case_id == repair)).first() is None
