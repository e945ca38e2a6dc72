"""Issue #5's "done when": three failed calls and a bounced SMS -> letter_queued; the next batch
holds the letter; marking it mailed -> letter_sent; the web survey with the letter's code
completes the survey and closes the case. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from letter_world import (
    DELIVERED,
    SH,
    add_visit,
    answered_on_the_web,
    case_row,
    run_until,
    unreachable,
    visit_row,
)
from sqlalchemy import select

from followup.channels.sandbox import SandboxChannel
from followup.engine.tick import run_tick
from followup.letters.mailing import mark_mailed
from followup.models import BatchLetter, ContactAttempt, LetterBatch
from followup.runtime import Runtime
from followup.web import create_app


def test_a_customer_never_reached_gets_a_letter_and_answers_on_the_web(rt: Runtime) -> None:
    channel = SandboxChannel(unreachable)
    rt.clock.set(DELIVERED)  # type: ignore[attr-defined]
    case_id = add_visit(rt, visit_row())
    run_until(rt, channel, datetime(2026, 11, 21, 9, 30, tzinfo=UTC))  # Saturday 17:30 in Shenzhen

    sent = [(at.astimezone(SH).strftime("%a %H:%M"), c.channel) for at, c in channel.sent if c.case_id == case_id]
    assert sent == [("Sat 10:00", "call"), ("Sat 14:00", "call"), ("Sat 17:00", "call"), ("Sat 17:00", "sms"),
                    ("Sat 17:00", "letter")]
    case = case_row(rt, case_id)
    assert case.state == "letter_queued"

    # Past letters.batch_time (16:00 local) the worker's tick put the letter into the day's batch at once;
    # the day's batch is built only once.
    counts = run_tick(rt, channel)
    assert (counts["letter_batches"], counts["letters"]) == (0, 0)
    batch_day = datetime(2026, 11, 21, 18, 0, tzinfo=SH)
    with rt.sessions() as s:
        batch = s.scalars(select(LetterBatch)).one()
        assert batch.day.isoformat() == "2026-11-21" and batch.letters == 1 and batch.status == "built"
        assert batch.pdf.startswith(b"%PDF")
        item = s.scalars(select(BatchLetter)).one()
        assert item.case_id == case_id and item.page == 1
        assert case.reply_code in batch.address_csv and "张伟" in batch.address_csv
        # queued, not yet sent: the letter waits for the post
        letter = s.get_one(ContactAttempt, item.attempt_id)
        assert (letter.status, letter.outcome) == ("in_progress", "queued")

        mailed_at = batch_day + timedelta(hours=1)
        assert mark_mailed(s, batch, now=mailed_at, actor="user:staff1") == 1
        s.commit()
        letter = s.get_one(ContactAttempt, item.attempt_id)
        assert (letter.status, letter.outcome, letter.ended_at) == ("done", "sent", mailed_at)
    assert case_row(rt, case_id).state == "letter_sent"

    # A few days later the customer opens the link on the letter.
    rt.clock.set(datetime(2026, 11, 26, 3, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    run_tick(rt, channel)
    assert case_row(rt, case_id).state == "letter_sent"  # still waiting for the answer
    client = create_app(runtime=rt).test_client()
    page = client.get(f"/s/{case.reply_code}")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert token
    answers = {"overall": "9", "fixed_right": "yes", "on_time": "yes", "advisor": "10", "comment": "服务周到"}
    done = client.post(f"/s/{case.reply_code}", data={**answers, "csrf_token": token.group(1)})
    assert done.status_code == 200 and "感谢您的反馈" in done.get_data(as_text=True)
    answered_on_the_web(rt, case_id)
    # nothing else goes out to this customer afterwards
    before = len(channel.sent)
    run_until(rt, channel, datetime(2027, 1, 31, tzinfo=UTC))
    assert len(channel.sent) == before
