"""Mailing a batch (letters count as sent), a returned letter (the case closes unreachable, flagged),
the reply timeout after mailing, and letters of customers who answered before printing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from letter_world import case_row, queue_letter, run_until
from sqlalchemy import select

from followup.channels.sandbox import SandboxChannel, silent
from followup.letters.letter_batch import build_batch
from followup.letters.mailing import MailingError, mark_mailed, mark_printed, mark_returned
from followup.models import AuditEntry, BatchLetter, ContactAttempt, FollowupCase, LetterBatch
from followup.runtime import Runtime
from followup.surveys.responses import record_survey

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def built_batch(rt: Runtime, n: int = 1) -> int:
    with rt.sessions() as s:
        result = build_batch(s, rt.settings, "SZ01", date(2026, 11, 22), now=NOW, actor="test")
        s.commit()
        assert result.batch is not None and result.batch.letters == n
        return result.batch.id


def test_printed_then_mailed_records_each_letter_as_sent(rt: Runtime) -> None:
    a, b = queue_letter(rt, 1), queue_letter(rt, 2)
    batch_id = built_batch(rt, 2)
    with rt.sessions() as s:
        batch = s.get_one(LetterBatch, batch_id)
        mark_printed(s, batch, now=NOW, actor="user:staff1")
        with pytest.raises(MailingError):
            mark_printed(s, batch, now=NOW, actor="user:staff1")
        assert mark_mailed(s, batch, now=NOW + timedelta(hours=2), actor="user:staff1") == 2
        with pytest.raises(MailingError):
            mark_mailed(s, batch, now=NOW, actor="user:staff1")
        s.commit()
        letters = s.scalars(select(ContactAttempt).where(ContactAttempt.channel == "letter")).all()
        assert {(x.status, x.outcome, x.ended_at) for x in letters} == {("done", "sent", NOW + timedelta(hours=2))}
        actions = [e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.actor == "user:staff1"))]
        assert actions.count("letter.mailed") == 2 and "letters.batch_printed" in actions
    assert case_row(rt, a).state == case_row(rt, b).state == "letter_sent"


def test_a_returned_letter_closes_the_case_unreachable_with_a_flag(rt: Runtime) -> None:
    case_id = queue_letter(rt, 1)
    batch_id = built_batch(rt)
    with rt.sessions() as s:
        item = s.scalars(select(BatchLetter)).one()
        with pytest.raises(MailingError):  # not mailed yet: it cannot come back
            mark_returned(s, item, now=NOW, actor="user:staff1")
        mark_mailed(s, s.get_one(LetterBatch, batch_id), now=NOW, actor="user:staff1")
        assert mark_returned(s, item, now=NOW + timedelta(days=5), actor="user:staff1") is True
        s.commit()
        letter = s.get_one(ContactAttempt, item.attempt_id)
        assert letter.outcome == "returned"
    case = case_row(rt, case_id)
    assert (case.state, case.outcome, case.flagged, case.flag_reason) == ("closed", "unreachable", True,
                                                                          "letter_returned")


def test_no_answer_within_the_reply_timeout_after_mailing_closes_unreachable(rt: Runtime) -> None:
    case_id = queue_letter(rt, 1)
    batch_id = built_batch(rt)
    mailed = NOW + timedelta(hours=1)
    with rt.sessions() as s:
        mark_mailed(s, s.get_one(LetterBatch, batch_id), now=mailed, actor="user:staff1")
        s.commit()
    channel = SandboxChannel(silent)
    run_until(rt, channel, mailed + timedelta(days=29))
    assert case_row(rt, case_id).state == "letter_sent"
    run_until(rt, channel, mailed + timedelta(days=31))
    case = case_row(rt, case_id)
    assert (case.state, case.outcome) == ("closed", "unreachable")
    assert channel.sent == []  # nothing else was sent meanwhile


def test_a_customer_who_answered_before_printing_gets_no_letter(rt: Runtime) -> None:
    answered, other = queue_letter(rt, 1), queue_letter(rt, 2)
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, answered)
        record_survey(s, case, {"overall": "10", "fixed_right": "yes", "on_time": "yes", "advisor": "10"},
                      channel="sms", made_by="sms", settings=rt.settings, now=NOW)
        s.commit()
    built_batch(rt, 1)
    with rt.sessions() as s:
        item = s.scalars(select(BatchLetter)).one()
        assert item.case_id == other
        letter = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == answered,
                                                        ContactAttempt.channel == "letter")).one()
        assert letter.status == "cancelled"
