"""R4.4: a letter says only what happened. It mentions earlier calls or SMS only when there were
some (a call that rang, an SMS that was not bounced), and it offers the SMS reply with the code
followed by the answers. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from letter_world import DELIVERED, add_visit, queue_letter, run_until, unreachable, visit_row
from sqlalchemy import select

from followup.channels.sandbox import SandboxChannel, silent
from followup.letters.content import Letter, load_letters
from followup.letters.render import letter_html
from followup.models import ContactAttempt
from followup.runtime import Runtime
from followup.settings import load_settings


def letter_of(rt: Runtime, case_id: int) -> Letter:
    with rt.sessions() as s:
        attempt = s.scalar(select(ContactAttempt.id).where(ContactAttempt.case_id == case_id,
                                                           ContactAttempt.channel == "letter"))
        assert attempt is not None, "no letter was queued"
        (letter,) = load_letters(s, rt.settings, [attempt])
        return letter


def opening(rt: Runtime, letter: Letter) -> str:
    """The letter's first paragraph after the salutation, as printed."""
    html = letter_html(letter, rt.settings.stores["SZ01"], rt.settings, date(2026, 11, 27))
    found = re.search(r'<p class="salutation">.*?</p>\s*<p>(.*?)</p>', html, re.S)
    assert found
    return found.group(1)


def test_three_calls_that_rang_and_a_bounced_sms_mention_the_calls_only(rt: Runtime) -> None:
    letter = letter_of(rt, queue_letter(rt))
    assert (letter.earlier_calls, letter.earlier_sms) == (True, False)
    text = opening(rt, letter)
    assert "前几日我们曾致电向您问候" in text and "短信" not in text


def test_calls_and_an_sms_that_went_unanswered_mention_both(rt: Runtime) -> None:
    rt.clock.set(DELIVERED)  # type: ignore[attr-defined]
    case_id = add_visit(rt, visit_row(1))
    run_until(rt, SandboxChannel(silent), datetime(2026, 11, 26, 12, 0, tzinfo=UTC), only=("dispatch",))
    letter = letter_of(rt, case_id)
    assert (letter.earlier_calls, letter.earlier_sms) == (True, True)
    assert "前几日我们曾致电并发短信向您问候" in opening(rt, letter)


def test_a_customer_never_called_nor_texted_is_told_neither(rt: Runtime) -> None:
    rt.clock.set(DELIVERED)  # type: ignore[attr-defined]
    case_id = add_visit(rt, visit_row(1, mobile=None, phone=None))  # no phone at all: straight to the letter
    run_until(rt, SandboxChannel(unreachable), datetime(2026, 11, 21, 12, 0, tzinfo=UTC), only=("dispatch",))
    letter = letter_of(rt, case_id)
    assert (letter.earlier_calls, letter.earlier_sms) == (False, False)
    text = opening(rt, letter)
    assert "致电" not in text and "短信" not in text and "前几日" not in text
    assert "感谢您于2026年11月20日选择" in text


def test_the_letter_offers_the_sms_reply_with_the_code_and_the_answers(rt: Runtime) -> None:
    letter = letter_of(rt, queue_letter(rt))
    settings = load_settings({"FOLLOWUP_ENV": "test", "TWILIO_FROM_NUMBER": "+8675586001234"})
    html = letter_html(letter, settings.stores["SZ01"], settings, date(2026, 11, 27))
    # a maintenance visit: overall, on time, advisor (no fixed_right, R5)
    typed = letter.shown_code.replace("-", "\u2011")  # grouped, never split over two lines
    assert len(letter.reply_code) == 12 and f"{typed} 9 是 9" in html and "+8675586001234" in html
