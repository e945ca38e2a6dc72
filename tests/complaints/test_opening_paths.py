"""R7's other ways in: staff open a complaint from a case (not the visit's own advisor), and a
comment or a late reply with one of the store's complaint words opens one whatever the scores.
Every complaint has a category, read from the words or chosen by staff."""

from __future__ import annotations

import pytest
from complaints.world import (
    BAD,
    GOOD,
    add_visit,
    answer,
    customer,
    events,
    get_user,
    local,
    the_complaint,
    user,
)
from sqlalchemy import select

from followup.complaints.actions import ComplaintError, NotAllowed, set_category
from followup.complaints.opening import open_by_staff
from followup.engine.tick import run_tick
from followup.models import AuditEntry, Complaint, ComplaintStep, ContactAttempt, FollowupCase
from followup.runtime import Runtime
from followup.surveys.sms_survey import Inbound, handle_inbound

DELIVERED = local(2026, 11, 3, 9, 0)
NOW = local(2026, 11, 4, 10, 0)
MOBILE = "+8613800138000"


def test_information_staff_open_a_complaint_from_a_case(rt: Runtime) -> None:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    case_id = add_visit(rt, "RO-O-1", delivered=DELIVERED)
    run_tick(rt, customer(first_sms=None))  # the first call goes unanswered; the next one is planned
    user(rt, "staff", "info_staff")
    user(rt, "sa01", "advisor", advisor="SA01")
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        assert len(s.scalars(select(ContactAttempt).where(ContactAttempt.status == "planned")).all()) == 1
        with pytest.raises(NotAllowed, match="advisor"):
            open_by_staff(s, rt.settings, case, get_user(s, "sa01"), category="price", note="x", now=NOW)
        with pytest.raises(ComplaintError, match="category"):
            open_by_staff(s, rt.settings, case, get_user(s, "staff"), category="weather", note="x", now=NOW)
        open_by_staff(s, rt.settings, case, get_user(s, "staff"), category="price",
                      note="客户来电：结账比报价多了300元", now=NOW)
        s.commit()
    c = the_complaint(rt, case_id)
    assert (c.level, c.status, c.assignee, c.category, c.source) == (1, "open", "SA01", "price", "staff")
    assert c.due_at == NOW + rt.settings.complaints.ack_sla and c.response_id is None
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        assert (case.state, case.next_check_at) == ("complaint", None)
        # the survey calls wait: the complaint has the customer now, and re-surveys once resolved
        assert s.scalars(select(ContactAttempt).where(ContactAttempt.status == "planned")).all() == []
        step = s.scalars(select(ComplaintStep)).one()
        audited = s.scalars(select(AuditEntry).where(AuditEntry.action == "complaint.opened")).one()
        with pytest.raises(ComplaintError, match="already"):
            open_by_staff(s, rt.settings, case, get_user(s, "staff"), category="other", note="again", now=NOW)
    assert (step.kind, step.by, step.note) == ("opened", "user:staff", "客户来电：结账比报价多了300元")
    assert audited.actor == "user:staff"
    (event,) = events(rt, "complaint.opened")
    assert (event.data["category"], event.data["source"], event.data["ro_number"]) == ("price", "staff", "RO-O-1")


def test_a_satisfied_survey_whose_comment_has_a_complaint_word_opens_one(rt: Runtime) -> None:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    case_id = add_visit(rt, "RO-O-2", delivered=DELIVERED)
    resp = answer(rt, case_id, {**GOOD, "comment": "修得不错，就是乱收费"}, at=NOW)
    assert resp.satisfied  # the scores say satisfied...
    c = the_complaint(rt, case_id)  # ...the words say otherwise
    assert (c.level, c.status, c.category, c.source, c.response_id) == (1, "open", "price", "words", resp.id)
    with rt.sessions() as s:
        assert s.get_one(FollowupCase, case_id).state == "complaint"
        note = s.scalars(select(ComplaintStep.note)).one()
    assert note is not None and "乱收费" in note
    (event,) = events(rt, "complaint.opened")
    assert (event.data["source"], event.data["word"]) == ("words", "乱收费")
    assert [e.data["outcome"] for e in events(rt, "case.closed")] == []


def test_a_dissatisfied_response_gets_its_category_from_the_comment(rt: Runtime) -> None:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    case_id = add_visit(rt, "RO-O-3", delivered=DELIVERED)
    answer(rt, case_id, {**BAD, "comment": "等了四个小时"}, at=NOW)
    assert (the_complaint(rt, case_id).category, the_complaint(rt, case_id).source) == ("waiting_time", "survey")


def test_a_late_sms_reply_with_a_complaint_word_opens_a_complaint_on_the_closed_case(rt: Runtime) -> None:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    case_id = add_visit(rt, "RO-O-4", delivered=DELIVERED)
    answer(rt, case_id, GOOD, at=NOW)
    with rt.sessions() as s:
        assert s.get_one(FollowupCase, case_id).outcome == "satisfied"
        handle_inbound(s, rt.settings, Inbound("SM-late-1", MOBILE, "+10000", "谢谢，挺好"), NOW)
        s.commit()
        assert s.scalars(select(Complaint)).all() == []  # a late reply without the words stays a note
        handle_inbound(s, rt.settings, Inbound("SM-late-2", MOBILE, "+10000", "后来发现多收了钱，我要投诉！"), NOW)
        s.commit()
    c = the_complaint(rt, case_id)
    assert (c.level, c.status, c.category, c.source, c.assignee) == (1, "open", "price", "words", "SA01")
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        assert (case.state, case.outcome, case.closed_at) == ("complaint", None, None)
        # a second late reply is noted on the open complaint, not a second complaint
        handle_inbound(s, rt.settings, Inbound("SM-late-3", MOBILE, "+10000", "再也不来了"), NOW)
        s.commit()
        assert len(s.scalars(select(Complaint)).all()) == 1
        notes = list(s.scalars(select(ComplaintStep.note).where(ComplaintStep.kind == "answer")))
    assert notes == ["late SMS reply: 再也不来了"]
    (event,) = events(rt, "complaint.opened")
    assert (event.data["source"], event.data["word"]) == ("words", "投诉")


def test_a_store_may_list_its_own_complaint_words(rt: Runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    rt.settings = replace(rt.settings, complaints=replace(
        rt.settings.complaints, store_words=(("SZ01", ("差评",)),)))
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    first = add_visit(rt, "RO-O-5", delivered=DELIVERED)
    answer(rt, first, {**GOOD, "comment": "我要投诉"}, at=NOW)  # not this store's word any more
    second = add_visit(rt, "RO-O-6", delivered=DELIVERED)
    answer(rt, second, {**GOOD, "comment": "给你们差评"}, at=NOW)
    with rt.sessions() as s:
        assert [c.case_id for c in s.scalars(select(Complaint))] == [second]


def test_staff_change_the_category(rt: Runtime) -> None:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    case_id = add_visit(rt, "RO-O-7", delivered=DELIVERED)
    answer(rt, case_id, BAD, at=NOW)
    user(rt, "staff", "info_staff")
    user(rt, "sa01", "advisor", advisor="SA01")
    with rt.sessions() as s:
        c = s.scalars(select(Complaint)).one()
        with pytest.raises(NotAllowed):
            set_category(s, c, get_user(s, "sa01"), category="other", now=NOW)
        set_category(s, c, get_user(s, "staff"), category="attitude", now=NOW)
        s.commit()
        step = s.scalars(select(ComplaintStep).where(ComplaintStep.kind == "category")).one()
    assert the_complaint(rt, case_id).category == "attitude"
    assert (step.by, step.note) == ("user:staff", "repair_quality → attitude")
