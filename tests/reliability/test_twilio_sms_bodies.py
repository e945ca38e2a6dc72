"""Bad input of issue #10: SMS bodies that are empty, 1,600 characters long, emoji, right-to-left text,
SQL and HTML. Each is stored whole, handled (a hint and the question again during a survey, ``late``
without one, ``unknown_sender`` from a number we do not know) and shown escaped on the case page.
SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from factories import logged_in_client, make_user
from fakes.twilio_emulator import TwilioEmulator
from fakes.twilio_env import PUBLIC, import_visit, post_signed, tick_at
from markupsafe import escape
from sqlalchemy import select

from followup.models import Customer, FollowupCase, SmsMessage, Visit
from followup.runtime import Runtime
from followup.web import create_app

BODIES = {
    "empty": "",
    "1600 characters": ("非常满意，" * 320)[:1599] + "!",
    "emoji": "👍👍😀 🚗💨",
    "right-to-left": "שלום, הכל היה מצוין — شكراً جزيلاً",
    "SQL": "10'); DROP TABLE sms_messages;-- ' OR '1'='1",
    "HTML": '<script>alert(1)</script><img src=x onerror="alert(2)"><b>9</b>',
}
SMS_AT = datetime(2026, 11, 19, 1, 0, tzinfo=UTC)


def mobile(n: int) -> str:
    return f"+86138001380{n:02d}"


@pytest.fixture
def surveys(twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path) -> dict[str, int]:
    """One do-not-call customer per body, each with an SMS survey waiting for its first answer."""
    for n, _name in enumerate(BODIES):
        import_visit(twilio_rt, tmp_path, ro=f"WO2611900{n}", mobile=mobile(n), do_not_call=True)
    tick_at(twilio_rt, SMS_AT)
    assert len(emulator.created("Messages")) == len(BODIES)
    with twilio_rt.sessions() as s:
        rows = s.execute(select(Customer.mobile, FollowupCase.id).join(Visit, Visit.customer_id == Customer.id)
                         .join(FollowupCase, FollowupCase.visit_id == Visit.id)).all()
    by_mobile = {m: case_id for m, case_id in rows}
    return {name: by_mobile[mobile(n)] for n, name in enumerate(BODIES)}


def send(client: object, body: str, sender: str, sid: str) -> str:
    params = {"AccountSid": "ACe48d698e99f0ad6a1c9c3e7f6ce05ea7", "MessageSid": sid, "SmsSid": sid,
              "From": sender, "To": "+8675512345678", "Body": body, "NumMedia": "0", "NumSegments": "11"}
    code, twiml = post_signed(client, f"{PUBLIC}/twilio/sms/inbound", params)  # type: ignore[arg-type]
    assert code == 200, twiml
    return twiml


def stored(rt: Runtime, sid: str) -> SmsMessage:
    with rt.sessions() as s:
        return s.scalars(select(SmsMessage).where(SmsMessage.provider_id == sid)).one()


def case_page(rt: Runtime, case_id: int) -> str:
    """The case page as information staff see it."""
    client = logged_in_client(rt, "staff_bodies")
    resp = client.get(f"/cases/{case_id}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_odd_sms_bodies_are_stored_whole_answered_with_a_hint_and_shown_escaped(
        twilio_rt: Runtime, surveys: dict[str, int]) -> None:
    client = create_app(runtime=twilio_rt).test_client()
    for n, (name, body) in enumerate(BODIES.items()):
        sid = f"SM{n:032x}"
        twiml = send(client, body, mobile(n), sid)
        # nobody's answer: sorry, the question again and its hint (R5); the body is not echoed back
        (again,) = re.findall(r"<Message>(.*?)</Message>", twiml, re.S)
        assert again.startswith("【星河大众】抱歉，没能看懂您的回复。") and "请回复0-10的数字" in again, name
        assert "script" not in twiml and "DROP" not in twiml
        msg = stored(twilio_rt, sid)
        assert (msg.body, msg.handling, msg.case_id) == (body, "unreadable", surveys[name]), name
    assert len(BODIES["1600 characters"]) == 1600

    make_user(twilio_rt, "staff_bodies", "info_staff", ["SZ01"])
    for name, case_id in surveys.items():
        html = case_page(twilio_rt, case_id)
        assert f"<q>{escape(BODIES[name])}</q>" in html, name  # whole, and escaped
    html = case_page(twilio_rt, surveys["HTML"])
    assert "<script>alert(1)</script>" not in html and 'onerror="alert(2)"' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_odd_bodies_without_a_survey_or_from_strangers_are_kept(
        twilio_rt: Runtime, surveys: dict[str, int]) -> None:
    client = create_app(runtime=twilio_rt).test_client()
    # the customer of the HTML case opts out, so the next odd message finds no survey: "late"
    send(client, "退订", mobile(5), "SM" + "a" * 32)
    for n, (name, body) in enumerate(BODIES.items()):
        late_sid, stranger_sid = f"SM{n:031x}b", f"SM{n:031x}c"
        assert "<Message>" not in send(client, body, mobile(5), late_sid), name
        assert "<Message>" not in send(client, body, "+8613999999999", stranger_sid), name
        late, stranger = stored(twilio_rt, late_sid), stored(twilio_rt, stranger_sid)
        assert (late.body, late.handling, late.case_id) == (body, "late", surveys["HTML"]), name
        assert (stranger.body, stranger.handling, stranger.case_id) == (body, "unknown_sender", None), name
