"""R1: re-importing a visit changes its case as the new data says. SQLite and PostgreSQL.

A service type that becomes excluded cancels the open case (outcome ``cancelled``, reason
``excluded``) and nothing more is sent; one that stops being excluded opens a case; a changed
delivery time moves the deadline and ``late_intake`` is judged again. Attempts already made stay.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from factories import NOW, accept, add_visit, visit_row
from sqlalchemy import select

from followup.campaigns import post_service
from followup.engine.planner import plan_due_cases, sweep_deadlines
from followup.models import AuditEntry, ContactAttempt, FollowupCase, WebhookEvent
from followup.runtime import Runtime


def case_of(rt: Runtime, case_id: int) -> FollowupCase:
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        s.expunge(case)
        return case


def attempts(rt: Runtime, case_id: int) -> list[tuple[str, int, str, str | None, str | None]]:
    """(channel, number, status, outcome, reason) of the case's rows, oldest first."""
    with rt.sessions() as s:
        rows = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id).order_by(ContactAttempt.id))
        return [(a.channel, a.number, a.status, a.outcome, a.reason) for a in rows]


def plan(rt: Runtime, at: datetime) -> None:
    """What the worker's next tick plans."""
    with rt.sessions() as s:
        plan_due_cases(s, rt.settings, at)
        s.commit()


def audit_of(rt: Runtime, case_id: int, action: str) -> list[tuple[str, dict]]:
    with rt.sessions() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id, AuditEntry.action == action)
                         .order_by(AuditEntry.id))
        return [(r.actor, dict(r.detail)) for r in rows]


def events_of(rt: Runtime, case_id: int, type_: str) -> list[dict]:
    with rt.sessions() as s:
        rows = s.scalars(select(WebhookEvent).where(WebhookEvent.case_id == case_id, WebhookEvent.type == type_)
                         .order_by(WebhookEvent.id))
        return [dict(e.data) for e in rows]


def test_a_visit_reimported_as_internal_cancels_its_open_case_and_sends_nothing_more(rt: Runtime) -> None:
    case_id = add_visit(rt, visit_row("RO-X1"), at=NOW, plan=True)
    assert [a[:3] for a in attempts(rt, case_id)] == [("call", 1, "planned")]
    accept(rt, visit_row("RO-X1", service_type="internal"), at=NOW + timedelta(hours=1))
    case = case_of(rt, case_id)
    assert (case.state, case.outcome, case.closed_at, case.next_check_at) == (
        "closed", "cancelled", NOW + timedelta(hours=1), None)
    assert attempts(rt, case_id) == [("call", 1, "cancelled", None, "closed:cancelled")]
    assert audit_of(rt, case_id, "case.closed") == [("test", {"outcome": "cancelled", "reason": "excluded"})]
    assert events_of(rt, case_id, "case.closed") == [
        {"store_code": "SZ01", "ro_number": "RO-X1", "outcome": "cancelled", "reason": "excluded"}]
    # the worker's next days plan nothing for it
    for day in range(1, 5):
        plan(rt, NOW + timedelta(days=day))
    assert [a[2] for a in attempts(rt, case_id)] == ["cancelled"]
    # and it stays out of the three-day metric, like a visit that never had a case
    with rt.sessions() as s:
        sweep_deadlines(s, rt.settings, NOW + timedelta(days=5))
        s.commit()
    assert case_of(rt, case_id).three_day_rule == "pending"
    # importing it again as internal changes nothing more
    accept(rt, visit_row("RO-X1", service_type="internal"), at=NOW + timedelta(days=5))
    assert len(events_of(rt, case_id, "case.closed")) == 1


def test_a_letter_waiting_in_an_unmailed_batch_is_taken_out_when_the_visit_becomes_internal(rt: Runtime) -> None:
    case_id = add_visit(rt, visit_row("RO-X1L"), at=NOW)
    with rt.sessions() as s:
        s.add(ContactAttempt(case_id=case_id, channel="letter", kind="survey", number=1, status="in_progress",
                             outcome="queued", due_at=NOW, started_at=NOW, created_at=NOW))
        s.get_one(FollowupCase, case_id).state = "letter_queued"
        s.commit()
    accept(rt, visit_row("RO-X1L", service_type="internal"), at=NOW + timedelta(hours=1))
    assert [a[:3] for a in attempts(rt, case_id)] == [("letter", 1, "cancelled")]
    assert case_of(rt, case_id).outcome == "cancelled"


def test_a_visit_that_stops_being_internal_opens_its_case_the_usual_way(rt: Runtime) -> None:
    row = visit_row("RO-X2", service_type="internal")
    assert accept(rt, row, at=NOW) is None
    case_id = add_visit(rt, visit_row("RO-X2"), at=NOW + timedelta(hours=1))
    case = case_of(rt, case_id)
    with rt.sessions() as s:
        store = rt.settings.stores["SZ01"]
        assert case.deadline_at == post_service.deadline_for(row.delivered_at, store)
        assert s.scalar(select(FollowupCase.reply_code).where(FollowupCase.id == case_id))
    assert (case.state, case.three_day_rule, case.next_check_at) == ("scheduled", "pending", NOW + timedelta(hours=1))
    plan(rt, NOW + timedelta(hours=1))
    assert [a[:3] for a in attempts(rt, case_id)] == [("call", 1, "planned")]
    # internal again, then not: the same case opens again (one case per visit), its rows kept
    accept(rt, visit_row("RO-X2", service_type="internal"), at=NOW + timedelta(hours=2))
    assert case_of(rt, case_id).outcome == "cancelled"
    again = add_visit(rt, visit_row("RO-X2", service_type="repair"), at=NOW + timedelta(hours=3))
    assert again == case_id
    case = case_of(rt, case_id)
    assert (case.state, case.outcome, case.closed_at, case.next_check_at) == (
        "scheduled", None, None, NOW + timedelta(hours=3))
    assert [a for a, _ in audit_of(rt, case_id, "case.reopened")] == ["test"]
    plan(rt, NOW + timedelta(hours=3))
    assert [a[:3] for a in attempts(rt, case_id)] == [("call", 1, "cancelled"), ("call", 1, "planned")]


def test_a_visit_that_stops_being_internal_after_its_deadline_is_a_late_intake(rt: Runtime) -> None:
    late = visit_row("RO-X2L", service_type="internal", delivered_at=NOW - timedelta(days=5))
    assert accept(rt, late, at=NOW) is None
    case_id = add_visit(rt, visit_row("RO-X2L", delivered_at=NOW - timedelta(days=5)), at=NOW + timedelta(hours=1))
    case = case_of(rt, case_id)
    assert (case.three_day_rule, case.breach_reason) == ("breached", "late_intake")
    assert [e["reason"] for e in events_of(rt, case_id, "three_day_rule.breached")] == ["late_intake"]


def test_a_later_delivery_time_takes_a_late_intake_case_back_to_pending(rt: Runtime) -> None:
    case_id = add_visit(rt, visit_row("RO-X3", delivered_at=NOW - timedelta(days=4)), at=NOW, plan=True)
    case = case_of(rt, case_id)
    assert (case.three_day_rule, case.breach_reason) == ("breached", "late_intake")
    assert attempts(rt, case_id) == [("sms", 1, "planned", None, "late_intake")]  # straight to the fallback
    corrected = NOW - timedelta(hours=26)
    accept(rt, visit_row("RO-X3", delivered_at=corrected), at=NOW + timedelta(minutes=10))
    case = case_of(rt, case_id)
    assert (case.three_day_rule, case.breach_reason, case.rule_decided_at) == ("pending", None, None)
    assert case.deadline_at == post_service.deadline_for(corrected, rt.settings.stores["SZ01"]) > NOW
    assert attempts(rt, case_id) == [("sms", 1, "cancelled", None, "reimport")]  # the SMS never went out
    assert audit_of(rt, case_id, "three_day_rule.reopened") == [
        ("test", {"was": "breached", "reason": "late_intake"})]
    plan(rt, NOW + timedelta(minutes=10))
    assert attempts(rt, case_id)[1][:3] == ("call", 1, "planned")  # the calls of R3 after all


def test_an_earlier_delivery_time_that_makes_the_case_late_breaches_it_and_starts_the_fallback(rt: Runtime) -> None:
    case_id = add_visit(rt, visit_row("RO-X4"), at=NOW, plan=True)
    with rt.sessions() as s:  # the first call was made before the correction: it stays
        first = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id)).one()
        first.status, first.outcome, first.started_at, first.ended_at = "done", "no_answer", NOW, NOW
        s.get_one(FollowupCase, case_id).next_check_at = NOW
        s.commit()
    plan(rt, NOW)
    assert [a[:4] for a in attempts(rt, case_id)] == [("call", 1, "done", "no_answer"), ("call", 2, "planned", None)]
    at = NOW + timedelta(hours=1)
    accept(rt, visit_row("RO-X4", delivered_at=NOW - timedelta(days=5)), at=at)
    case = case_of(rt, case_id)
    assert (case.three_day_rule, case.breach_reason, case.rule_decided_at) == ("breached", "late_intake", at)
    assert case.deadline_at < at
    assert events_of(rt, case_id, "three_day_rule.breached") == [{
        "store_code": "SZ01", "ro_number": "RO-X4", "reason": "late_intake",
        "deadline_at": case.deadline_at.isoformat()}]
    assert [a for a, _ in audit_of(rt, case_id, "three_day_rule.breached")] == ["test"]
    assert [a[:4] for a in attempts(rt, case_id)] == [("call", 1, "done", "no_answer"), ("call", 2, "cancelled", None)]
    plan(rt, at)
    assert attempts(rt, case_id)[2] == ("sms", 1, "planned", None, "late_intake")


def test_a_later_delivery_time_moves_the_deadline_and_the_planned_call(rt: Runtime) -> None:
    case_id = add_visit(rt, visit_row("RO-X5"), at=NOW, plan=True)
    with rt.sessions() as s:
        first_due = s.scalar(select(ContactAttempt.due_at).where(ContactAttempt.case_id == case_id))
    later = NOW + timedelta(hours=2)  # the DMS had the wrong time: the car left this afternoon
    accept(rt, visit_row("RO-X5", delivered_at=later), at=NOW + timedelta(hours=3))
    case = case_of(rt, case_id)
    assert case.deadline_at == post_service.deadline_for(later, rt.settings.stores["SZ01"])
    assert case.three_day_rule == "pending"
    assert [a for a, _ in audit_of(rt, case_id, "case.deadline_moved")] == ["test"]
    plan(rt, NOW + timedelta(hours=3))
    with rt.sessions() as s:
        rows = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id).order_by(ContactAttempt.id)).all()
        assert [(a.status, a.number) for a in rows] == [("cancelled", 1), ("planned", 1)]
        assert rows[1].due_at is not None and first_due is not None
        assert rows[1].due_at >= later + timedelta(hours=24) > first_due  # R3: 24 h after the real delivery
