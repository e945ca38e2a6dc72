"""R7 revised, through the engine's ticks: a resolved complaint whose re-survey gets no answer is
reminded once (after ``sms_reply_timeout``), and after ``resurvey_timeout`` a manager may close it
as ``resolved_unconfirmed`` (it used to stay resolved for ever). The case closes ``unreachable``:
CONTRACT §4 has no ``resolved_unconfirmed`` outcome, and the customer could not be reached to
confirm the fix."""

from __future__ import annotations

from datetime import timedelta

import pytest
from complaints.world import (
    BAD,
    GOOD,
    complained,
    customer,
    events,
    get_user,
    on_complaint,
    run_until,
    the_complaint,
    user,
)
from sqlalchemy import select

from followup.complaints.actions import ComplaintError, NotAllowed, acknowledge, close_unconfirmed, resolve
from followup.models import AuditEntry, ComplaintStep, ContactAttempt, FollowupCase
from followup.runtime import Runtime


def resolved_case(rt: Runtime, channel_answers: list[dict[str, str] | None], **visit: object) -> tuple[int, object]:
    channel = customer(first_sms=BAD, resurveys=channel_answers, call_answers=BAD if visit.get("mobile", 1) is None else None)
    case_id = complained(rt, "RO-U-1", channel, **visit)
    user(rt, "sa01", "advisor", advisor="SA01")
    user(rt, "manager", "manager")
    user(rt, "staff", "info_staff")
    at = rt.clock.now()
    on_complaint(rt, case_id, lambda s, c: acknowledge(s, c, get_user(s, "sa01"), settings=rt.settings, now=at))
    on_complaint(rt, case_id, lambda s, c: resolve(s, c, get_user(s, "sa01"), cause="洗车划伤", fix="免费补漆",
                                                   settings=rt.settings, now=at))
    return case_id, channel


def test_an_unanswered_resurvey_is_reminded_once_then_a_manager_closes_it_unconfirmed(rt: Runtime) -> None:
    case_id, channel = resolved_case(rt, [None, None])
    resolved_at = rt.clock.now()
    run_until(rt, channel, resolved_at + timedelta(days=5))
    sent = [(at, c) for at, c in channel.sent if c.kind in ("resurvey", "re_remind")]
    assert [c.kind for _, c in sent] == ["resurvey", "re_remind"]
    first_at, reminder_at = sent[0][0], sent[1][0]
    assert reminder_at == first_at + timedelta(hours=48)  # inside SMS hours already
    body = sent[1][1].body or ""
    assert body.startswith("【星河大众】") and "还没有收到您的回复" in body and body.endswith("回T退订")
    with rt.sessions() as s, pytest.raises(ComplaintError, match="7 days"):
        close_unconfirmed(s, s.get_one(type(the_complaint(rt, case_id)), the_complaint(rt, case_id).id),
                          get_user(s, "manager"), note=None, settings=rt.settings, now=rt.clock.now())

    run_until(rt, channel, first_at + timedelta(days=7))
    c = the_complaint(rt, case_id)
    assert c.status == "resolved" and c.unconfirmed_at == first_at + timedelta(days=7)
    assert len([1 for _, x in channel.sent if x.kind in ("resurvey", "re_remind")]) == 2  # reminded once, no more
    with rt.sessions() as s:
        with pytest.raises(NotAllowed):
            close_unconfirmed(s, s.get_one(type(c), c.id), get_user(s, "staff"), note=None, settings=rt.settings,
                              now=rt.clock.now())
        close_unconfirmed(s, s.get_one(type(c), c.id), get_user(s, "manager"), note="客户两次未回复，电话也未接",
                          settings=rt.settings, now=rt.clock.now())
        s.commit()
    c = the_complaint(rt, case_id)
    assert (c.status, c.outcome, c.close_reason) == ("closed", "resolved_unconfirmed", "客户两次未回复，电话也未接")
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        audited = s.scalars(select(AuditEntry).where(AuditEntry.action == "complaint.closed")).one()
        kinds = list(s.scalars(select(ComplaintStep.kind).order_by(ComplaintStep.id)))
    assert (case.state, case.outcome) == ("closed", "unreachable")
    assert audited.actor == "user:manager" and audited.detail["outcome"] == "resolved_unconfirmed"
    assert audited.detail["case_outcome"] == "unreachable"
    assert kinds[-3:] == ["resurvey_reminder", "unconfirmed", "closed"]
    assert events(rt, "case.closed")[-1].data["outcome"] == "unreachable"


def test_the_reminder_is_answered_and_the_case_closes_satisfied(rt: Runtime) -> None:
    case_id, channel = resolved_case(rt, [None, GOOD])
    run_until(rt, channel, rt.clock.now() + timedelta(days=9))
    c = the_complaint(rt, case_id)
    assert (c.status, c.outcome, c.resurveys, c.unconfirmed_at) == ("closed", "satisfied", 1, None)
    with rt.sessions() as s:
        assert s.get_one(FollowupCase, case_id).outcome == "satisfied"


def test_a_resurvey_call_with_no_answer_is_called_once_more(rt: Runtime) -> None:
    case_id, channel = resolved_case(rt, [None, None], mobile=None, phone="+867558600123")
    run_until(rt, channel, rt.clock.now() + timedelta(days=9))
    calls = [c for _, c in channel.sent if c.kind in ("resurvey", "re_remind")]
    assert [(c.channel, c.kind) for c in calls] == [("call", "resurvey"), ("call", "re_remind")]
    assert the_complaint(rt, case_id).unconfirmed_at is not None


def test_a_resurvey_that_could_not_go_out_still_reaches_the_manager(rt: Runtime) -> None:
    case_id, channel = resolved_case(rt, [])
    with rt.sessions() as s:  # the customer asked for no SMS after the resolution: the re-survey is cancelled
        row = s.scalars(select(ContactAttempt).where(ContactAttempt.kind == "resurvey")).one()
        row.status = "cancelled"
        s.commit()
    resolved_at = rt.clock.now()
    run_until(rt, channel, resolved_at + timedelta(days=7))
    assert the_complaint(rt, case_id).unconfirmed_at == resolved_at + timedelta(days=7)
