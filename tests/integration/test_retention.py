"""RULES R13 (#19): a customer with no visit for 36 months is anonymised by the daily job and by
``followup privacy purge``; ``--dry-run`` lists and changes nothing; scores and counts stay; raw
records go after their own periods. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from click.testing import CliRunner
from factories import NOW, add_visit, visit_row
from sqlalchemy import select

from followup.cli import main
from followup.engine.tick import daily_duties, retention
from followup.models import (
    AuditEntry,
    Complaint,
    ComplaintStep,
    ContactAttempt,
    Customer,
    FollowupCase,
    LoginFailure,
    SmsMessage,
    SurveyAnswer,
    SurveyResponse,
    Visit,
)
from followup.retention import ANONYMOUS, months_before, purge
from followup.runtime import Runtime

OLD = NOW - timedelta(days=37 * 31)  # more than 36 months before NOW
RECENT = NOW - timedelta(days=35 * 30)  # less than 36 months


def closed_customer(rt: Runtime, ro: str, mobile: str, delivered: datetime, *, close: bool = True) -> int:
    """A customer whose one visit (delivered then) was followed up: an SMS reply with a number in
    it, a survey with a score and a comment, a complaint with a note; its case closed unless told."""
    case_id = add_visit(rt, visit_row(ro, mobile=mobile, delivered_at=delivered), at=delivered, plan=True)
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        visit = s.get_one(Visit, case.visit_id)
        if close:
            case.state, case.outcome = "closed", "satisfied"
        s.add(SmsMessage(direction="in", store_id=visit.store_id, case_id=case_id, customer_id=visit.customer_id,
                         from_number=mobile, to_number="+8675500000000", body=f"9分，有事打{mobile[3:]}",
                         received_at=delivered))
        resp = SurveyResponse(case_id=case_id, store_id=visit.store_id, advisor_id=visit.advisor_id, channel="web",
                              made_by="web", status="completed", started_at=delivered, completed_at=delivered,
                              score=90.0, satisfied=True, evidence={"address": "203.0.113.9", "user_agent": "Mozilla"})
        s.add(resp)
        s.flush()
        s.add_all([SurveyAnswer(response_id=resp.id, question_id="overall", value_num=9, raw="9", answered_at=delivered),
                   SurveyAnswer(response_id=resp.id, question_id="comment", value_text="师傅很好，住在科技园",
                                raw="师傅很好，住在科技园", answered_at=delivered)])
        complaint = Complaint(case_id=case_id, store_id=visit.store_id, opened_at=delivered, due_at=delivered,
                              status="closed", close_reason="客户说住在南山区")
        s.add(complaint)
        s.flush()
        s.add(ComplaintStep(complaint_id=complaint.id, at=delivered, kind="contact", level=1, by="user:staff1",
                            note=f"客户手机{mobile}", cause="等待", fix="道歉"))
        s.commit()
        return visit.customer_id


def snapshot(rt: Runtime, customer_id: int) -> dict[str, object]:
    with rt.sessions() as s:
        c = s.get_one(Customer, customer_id)
        cases = select(FollowupCase.id).join(Visit, Visit.id == FollowupCase.visit_id).where(
            Visit.customer_id == customer_id)
        responses = select(SurveyResponse.id).where(SurveyResponse.case_id.in_(cases))
        return {
            "customer": (c.name, c.mobile, c.address, c.anonymised_at is not None),
            "sms": s.execute(select(SmsMessage.body, SmsMessage.from_number).where(
                SmsMessage.customer_id == customer_id)).all(),
            "answers": sorted(s.execute(select(SurveyAnswer.question_id, SurveyAnswer.value_num,
                                               SurveyAnswer.value_text, SurveyAnswer.raw)
                                        .where(SurveyAnswer.response_id.in_(responses))).all()),
            "scores": s.execute(select(SurveyResponse.score, SurveyResponse.evidence)
                                .where(SurveyResponse.id.in_(responses))).all(),
            "complaint": s.execute(select(Complaint.close_reason, ComplaintStep.note, ComplaintStep.cause)
                                   .join(ComplaintStep, ComplaintStep.complaint_id == Complaint.id)
                                   .where(Complaint.case_id.in_(cases))).all(),
            "destinations": s.scalars(select(ContactAttempt.destination).where(
                ContactAttempt.case_id.in_(cases))).all(),
        }


def test_months_before_is_calendar_months() -> None:
    assert months_before(datetime(2026, 11, 20), 36) == datetime(2023, 11, 20)
    assert months_before(datetime(2026, 3, 31), 1) == datetime(2026, 2, 28)
    assert months_before(datetime(2026, 1, 15), 13) == datetime(2024, 12, 15)


def test_a_customer_36_months_without_a_visit_is_anonymised_and_the_scores_stay(rt: Runtime) -> None:
    gone = closed_customer(rt, "RO-OLD", "+8613800000001", OLD)
    kept = closed_customer(rt, "RO-RECENT", "+8613800000002", RECENT)
    still_open = closed_customer(rt, "RO-OPEN", "+8613800000003", OLD, close=False)
    before = {c: snapshot(rt, c) for c in (gone, kept, still_open)}
    assert before[gone]["destinations"] == ["+8613800000001"]  # the planned call's number

    with rt.sessions() as s:
        dry = purge(s, rt.settings, NOW, dry_run=True)
        s.commit()
    assert [d.customer_id for d in dry.customers] == [gone]
    assert {c: snapshot(rt, c) for c in before} == before  # dry: nothing changed

    with rt.sessions() as s:
        done = purge(s, rt.settings, NOW, actor="cli:dpo")
        s.commit()
    assert [d.customer_id for d in done.customers] == [gone]
    after = snapshot(rt, gone)
    assert after["customer"] == (ANONYMOUS, None, None, True)
    assert after["sms"] == [("", "")]
    # the numbers stay (scores, bonuses); the words go
    assert after["answers"] == [("comment", None, None, None), ("overall", 9, None, None)]
    assert after["scores"] == [(90.0, None)]
    assert after["complaint"] == [(None, None, None)]
    assert after["destinations"] == [None]
    assert snapshot(rt, kept) == before[kept] and snapshot(rt, still_open) == before[still_open]
    with rt.sessions() as s:
        (row,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.purged")).all()
        assert row.actor == "cli:dpo" and row.detail["customers_anonymised"] == 1
        assert "张伟" not in repr(row.detail) and "13800000001" not in repr(row.detail)
        # a second run finds nobody new
        assert purge(s, rt.settings, NOW).customers == []


def test_raw_records_go_after_their_own_period(rt: Runtime) -> None:
    with rt.sessions() as s:
        s.add_all([LoginFailure(username="admin", at=NOW - timedelta(days=31), address="203.0.113.0"),
                   LoginFailure(username="admin", at=NOW - timedelta(days=29), address="203.0.113.0")])
        s.commit()
        report = purge(s, rt.settings, NOW, dry_run=True)
        assert report.deleted["login_failures"] == 1
        assert len(s.scalars(select(LoginFailure)).all()) == 2
        purge(s, rt.settings, NOW)
        s.commit()
        assert [f.at for f in s.scalars(select(LoginFailure))] == [NOW - timedelta(days=29)]


def test_the_worker_runs_it_daily_and_the_command_lists_then_purges(rt: Runtime) -> None:
    assert "retention" in daily_duties()
    rt.clock.set(NOW)  # type: ignore[attr-defined]  # the command reads the same test clock
    gone = closed_customer(rt, "RO-OLD", "+8613800000001", OLD)
    env = {"DATABASE_URL": rt.settings.database_url, "FOLLOWUP_ENV": "test", "FOLLOWUP_TEST_CLOCK": "1"}
    dry = CliRunner().invoke(main, ["privacy", "purge", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "would anonymise 1 customers" in dry.output and f"SZ01 customer {gone} (last visit" in dry.output
    assert "张伟" not in dry.output and "13800000001" not in dry.output
    assert snapshot(rt, gone)["customer"][0] == "张伟"
    counts = retention(rt, NOW)
    assert counts["customers_anonymised"] == 1 and snapshot(rt, gone)["customer"][0] == ANONYMOUS
