"""The re-survey after a complaint is resolved (R7), and what the customer's answer does.

Resolving a complaint plans one ``resurvey`` contact ``resurvey_delay`` later (default the next
day): an SMS when the customer can get one, otherwise a call. It is an ordinary planned
``contact_attempts`` row, so the normal dispatcher sends it inside SMS hours / calling windows,
and the answer comes back through :func:`followup.surveys.responses.complete_survey` like any
other survey, which hands it to :func:`answered_during_complaint`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from followup.cases.lifecycle import close_case
from followup.complaints.assignment import assignee_for
from followup.complaints.steps import record_step, store_of
from followup.models import Complaint, ContactAttempt, Customer, FollowupCase, SurveyResponse, Visit
from followup.rules.calendar import next_call_moment, next_sms_moment
from followup.rules.complaint_levels import level_above
from followup.settings import Settings


def active_complaint(session: Session, case_id: int) -> Complaint | None:
    """The case's complaint that is not closed yet (at most one), or None."""
    return session.scalar(
        select(Complaint).where(Complaint.case_id == case_id, Complaint.status != "closed").order_by(Complaint.id.desc())
    )


def plan_resurvey(session: Session, complaint: Complaint, settings: Settings, now: datetime) -> ContactAttempt | None:
    """Plan the re-survey contact; None (and the case flagged for staff) when no channel is left."""
    case = session.get_one(FollowupCase, complaint.case_id)
    customer = session.get_one(Customer, session.get_one(Visit, case.visit_id).customer_id)
    store = store_of(session, settings, case.store_id)
    policy = store.policy
    at = now + settings.complaints.resurvey_delay
    mobile_ok = bool(customer.mobile) and not customer.mobile_bad
    if customer.no_contact:
        channel = None
    elif mobile_ok and not (customer.no_sms or customer.sms_opted_out) and policy.sms_enabled:
        channel, destination, due = "sms", customer.mobile, next_sms_moment(at, policy, store.timezone)
    elif not customer.do_not_call and (mobile_ok or (customer.phone and not customer.phone_bad)):
        channel = "call"
        destination = customer.mobile if mobile_ok else customer.phone
        due = next_call_moment(at, policy, store.timezone)
    else:
        channel = None
    if channel is None:
        case.flagged, case.flag_reason = True, "no channel left for the complaint's re-survey"
        return None
    number = 1 + (session.scalar(
        select(func.count()).select_from(ContactAttempt).where(
            ContactAttempt.case_id == case.id, ContactAttempt.channel == channel, ContactAttempt.status != "cancelled")
    ) or 0)
    attempt = ContactAttempt(
        case_id=case.id, channel=channel, kind="resurvey", number=number, status="planned", destination=destination,
        due_at=due, reason="resurvey", created_at=now,
    )
    session.add(attempt)
    return attempt


def answered_during_complaint(
    session: Session, case: FollowupCase, resp: SurveyResponse, *, settings: Settings, now: datetime
) -> bool:
    """Act on a survey answered while the case has a complaint; False when it has none.

    A resolved complaint's re-survey: satisfied closes the complaint and the case (``satisfied``);
    dissatisfied reopens the complaint one level higher (never above 3). An answer that arrives
    while the complaint is still being handled is only noted on it (no second complaint).
    """
    complaint = active_complaint(session, case.id)
    if complaint is None:
        return False
    if complaint.status != "resolved":
        record_step(session, complaint, "answer", at=now, by=resp.made_by,
                    note=f"survey answered on {resp.channel} while the complaint is open: score {resp.score}")
        return True
    resp.is_resurvey = True
    complaint.resurveys += 1
    if resp.satisfied:
        complaint.status, complaint.closed_at = "closed", now
        record_step(session, complaint, "closed", at=now, by=resp.made_by,
                    note=f"re-survey {complaint.resurveys}: satisfied (score {resp.score})")
        close_case(session, case, "satisfied", now=now, actor=resp.made_by)
        return True
    previous = complaint.assignee
    complaint.level = level_above(complaint.level)
    complaint.status, complaint.acknowledged_at, complaint.resolved_at = "open", None, None
    complaint.due_at = now + settings.complaints.ack_sla
    complaint.assignee = assignee_for(session, case, complaint.level, store_of(session, settings, case.store_id))
    case.state, case.next_check_at = "complaint", None
    record_step(
        session, complaint, "reopened", at=now, by=resp.made_by,
        note=f"re-survey {complaint.resurveys}: dissatisfied again (score {resp.score})",
        event="complaint.escalated",
        data={"from_assignee": previous, "reason": "dissatisfied_again", "resurveys": complaint.resurveys},
    )
    return True
