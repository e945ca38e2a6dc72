"""R7 revised, through the engine's ticks: "escalate now" (超出自己权限范围的，立即逐级汇报), the
resolution deadline of an acknowledged complaint (acknowledged is not solved), and the customer's
one progress SMS (告知解决方案的进展情况)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from complaints.world import (
    BAD,
    DELIVERED,
    add_visit,
    complained,
    customer,
    events,
    get_user,
    local,
    on_complaint,
    run_until,
    the_complaint,
    user,
)
from sqlalchemy import select

from followup.complaints.actions import ComplaintError, acknowledge, escalate_now, resolve
from followup.models import AuditEntry, ComplaintStep, ContactAttempt, Customer
from followup.runtime import Runtime

SHANGHAI_SMS_HOURS = range(8, 21)


def complaint_case(rt: Runtime, ro: str = "RO-R-1") -> int:
    """A case whose SMS survey answer (dissatisfied) opened a level-1 complaint; users sa01 and gm."""
    case_id = complained(rt, ro, customer(first_sms=BAD))
    user(rt, "sa01", "advisor", advisor="SA01")
    user(rt, "manager", "manager")
    user(rt, "gm", "manager")
    assert the_complaint(rt, case_id).level == 1
    return case_id


def test_the_assignee_escalates_at_once_when_it_is_beyond_their_authority(rt: Runtime) -> None:
    case_id = complaint_case(rt)
    at = rt.clock.now()
    on_complaint(rt, case_id, lambda s, c: escalate_now(s, c, get_user(s, "sa01"), note="客户要求退还工时费，超出权限",
                                                        settings=rt.settings, now=at))
    c = the_complaint(rt, case_id)
    assert (c.level, c.status, c.assignee, c.due_at) == (2, "open", "manager", at + timedelta(hours=24))
    (event,) = events(rt, "complaint.escalated")
    assert (event.data["level"], event.data["reason"], event.data["from_assignee"]) == (2, "beyond_authority", "SA01")
    assert event.data["category"] == "repair_quality" and event.occurred_at == at
    with rt.sessions() as s:
        step = s.scalars(select(ComplaintStep).where(ComplaintStep.kind == "escalated")).one()
        audited = s.scalars(select(AuditEntry).where(AuditEntry.action == "complaint.escalated")).one()
    assert (step.by, step.note) == ("user:sa01", "客户要求退还工时费，超出权限")
    assert audited.actor == "user:sa01" and audited.detail["reason"] == "beyond_authority"
    # the advisor is no longer in charge; the general manager can send it to level 3, and no further
    with rt.sessions() as s:
        from followup.complaints.actions import NotAllowed

        with pytest.raises(NotAllowed):
            escalate_now(s, s.get_one(type(c), c.id), get_user(s, "sa01"), note=None, settings=rt.settings, now=at)
    on_complaint(rt, case_id, lambda s, c: escalate_now(s, c, get_user(s, "manager"), note=None,
                                                        settings=rt.settings, now=at))
    assert (the_complaint(rt, case_id).level, the_complaint(rt, case_id).assignee) == (3, "gm")
    with rt.sessions() as s, pytest.raises(ComplaintError, match="top"):
        escalate_now(s, s.get_one(type(c), c.id), get_user(s, "gm"), note=None, settings=rt.settings, now=at)


def test_an_acknowledged_complaint_not_resolved_in_72h_escalates(rt: Runtime) -> None:
    case_id = complaint_case(rt)
    acked = rt.clock.now()
    on_complaint(rt, case_id, lambda s, c: acknowledge(s, c, get_user(s, "sa01"), settings=rt.settings, now=acked))
    c = the_complaint(rt, case_id)
    assert (c.status, c.due_at) == ("acknowledged", acked + timedelta(hours=72))
    channel = customer(first_sms=None)
    run_until(rt, channel, acked + timedelta(hours=71, minutes=59))
    assert the_complaint(rt, case_id).level == 1
    ticks = run_until(rt, channel, acked + timedelta(hours=72))
    assert sum(int(t["escalated"]) for t in ticks) == 1
    c = the_complaint(rt, case_id)
    # the service manager is handed it and must take it up within 24h, then has 72h to resolve
    assert (c.level, c.status, c.assignee, c.due_at) == (2, "open", "manager", acked + timedelta(hours=96))
    (event,) = events(rt, "complaint.escalated")
    assert (event.data["reason"], event.data["from_assignee"]) == ("not_resolved", "SA01")
    at = rt.clock.now()
    on_complaint(rt, case_id, lambda s, c: acknowledge(s, c, get_user(s, "manager"), settings=rt.settings, now=at))
    assert the_complaint(rt, case_id).due_at == at + timedelta(hours=72)


def test_one_progress_sms_while_it_is_open_24h_after_acknowledgement(rt: Runtime) -> None:
    case_id = complaint_case(rt)
    acked = local(2026, 11, 4, 22, 30)  # 24h later is outside SMS hours: it waits for 08:00
    rt.clock.set(acked)  # type: ignore[attr-defined]
    on_complaint(rt, case_id, lambda s, c: acknowledge(s, c, get_user(s, "sa01"), settings=rt.settings, now=acked))
    channel = customer(first_sms=None)
    run_until(rt, channel, acked + timedelta(hours=70))
    progress = [(at, c) for at, c in channel.sent if c.kind == "progress"]
    assert len(progress) == 1
    sent_at, sms = progress[0]
    assert sent_at == local(2026, 11, 6, 8, 0)
    assert sms.channel == "sms" and sms.body == (
        "【星河大众】张伟您好，您反映的问题我们正在处理中，处理结果将尽快告知您。如有疑问请致电0755-86001234。回T退订")
    with rt.sessions() as s:
        row = s.scalars(select(ContactAttempt).where(ContactAttempt.kind == "progress")).one()
        step = s.scalars(select(ComplaintStep).where(ComplaintStep.kind == "progress_sms")).one()
    assert (row.status, row.channel) == ("done", "sms") and step.by == "system"
    # not a survey: the case is still the complaint's, nothing else was planned or sent
    assert [c.kind for _, c in channel.sent] == ["progress"]
    assert the_complaint(rt, case_id).status == "acknowledged"


def test_no_progress_sms_once_resolved_or_to_a_customer_who_wants_none(rt: Runtime) -> None:
    case_id = complaint_case(rt)
    acked = rt.clock.now()
    on_complaint(rt, case_id, lambda s, c: acknowledge(s, c, get_user(s, "sa01"), settings=rt.settings, now=acked))
    rt.clock.set(acked + timedelta(hours=5))  # type: ignore[attr-defined]
    on_complaint(rt, case_id, lambda s, c: resolve(s, c, get_user(s, "sa01"), cause=None, fix="免费补漆",
                                                   settings=rt.settings, now=rt.clock.now()))
    channel = customer(first_sms=None)
    run_until(rt, channel, acked + timedelta(hours=30))
    assert [c.kind for _, c in channel.sent if c.kind == "progress"] == []

    other = add_visit(rt, "RO-R-2", delivered=DELIVERED, at=rt.clock.now())
    with rt.sessions() as s:
        s.scalars(select(Customer)).one().no_sms = True
        s.commit()
    from complaints.world import answer

    answer(rt, other, BAD, at=rt.clock.now())
    at = rt.clock.now()
    on_complaint(rt, other, lambda s, c: acknowledge(s, c, get_user(s, "sa01"), settings=rt.settings, now=at))
    run_until(rt, channel, at + timedelta(hours=30))
    assert [c for _, c in channel.sent if c.kind == "progress"] == []
    with rt.sessions() as s:
        note = s.scalars(select(ComplaintStep.note).where(ComplaintStep.kind == "progress_sms")).one()
    assert note is not None and "no SMS" in note
