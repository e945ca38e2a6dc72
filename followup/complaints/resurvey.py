"""The re-survey after a complaint is resolved (R7), its reminder, and what the customer's answer does.

Resolving a complaint plans one ``resurvey`` contact ``resurvey_delay`` later (default the next
day): an SMS when the customer can get one, otherwise a call. It is an ordinary planned
``contact_attempts`` row, so the normal dispatcher sends it inside SMS hours / calling windows,
and the answer comes back through :func:`followup.surveys.responses.complete_survey` like any
other survey, which hands it to :func:`answered_during_complaint`.

Unanswered, it is reminded once (a ``re_remind`` row, after the store's
``sms_reply_timeout``); after ``resurvey_timeout`` a manager may close the complaint as
``resolved_unconfirmed`` (:func:`check_resurvey`, run by the complaint duty at
``resurvey_check_at``; the timing is :mod:`followup.rules.complaint_resurvey`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from followup.cases.lifecycle import close_case
from followup.complaints.assignment import assignee_for
from followup.complaints.steps import record_step, store_of
from followup.models import Complaint, ContactAttempt, Customer, FollowupCase, SurveyResponse, Visit
from followup.rules.calendar import next_call_moment, next_sms_moment
from followup.rules.complaint_levels import level_above
from followup.rules.complaint_resurvey import ResurveyFacts, resurvey_step
from followup.rules.complaint_words import complaint_word
from followup.settings import Settings, StoreSettings

#: the contact kind of a re-survey's one reminder (复访提醒; the column holds ten characters)
REMINDER = "re_remind"
#: the contact kinds of a re-survey
RESURVEY_KINDS = ("resurvey", REMINDER)
#: rows still to be sent or answered by the provider
PENDING = ("planned", "dispatching", "in_progress")


def active_complaint(session: Session, case_id: int) -> Complaint | None:
    """The case's complaint that is not closed yet (at most one), or None."""
    return session.scalar(
        select(Complaint).where(Complaint.case_id == case_id, Complaint.status != "closed").order_by(Complaint.id.desc())
    )


def _channel(customer: Customer, store: StoreSettings) -> tuple[str, str | None] | None:
    """SMS when the customer can get one, else a call, else None (R7: "SMS, or a call if no SMS")."""
    mobile_ok = bool(customer.mobile) and not customer.mobile_bad
    if customer.no_contact:
        return None
    if mobile_ok and not (customer.no_sms or customer.sms_opted_out) and store.policy.sms_enabled:
        return "sms", customer.mobile
    if not customer.do_not_call and (mobile_ok or (customer.phone and not customer.phone_bad)):
        return "call", customer.mobile if mobile_ok else customer.phone
    return None


def _customer(session: Session, case: FollowupCase) -> Customer:
    return session.get_one(Customer, session.get_one(Visit, case.visit_id).customer_id)


def plan_resurvey(session: Session, complaint: Complaint, settings: Settings, now: datetime, *,
                  kind: str = "resurvey") -> ContactAttempt | None:
    """Plan the re-survey contact (``resurvey_delay`` from now) or its reminder (at once, inside the
    window); None (and the case flagged for staff) when no channel is left. The complaint is looked
    at again (:func:`check_resurvey`) when the contact has had its time to be answered."""
    case = session.get_one(FollowupCase, complaint.case_id)
    store = store_of(session, settings, case.store_id)
    policy = store.policy
    at = now + settings.complaints.resurvey_delay if kind == "resurvey" else now
    found = _channel(_customer(session, case), store) if case.state != "closed" else None
    if found is None:
        case.flagged, case.flag_reason = True, "no channel left for the complaint's re-survey"
        complaint.resurvey_check_at = now
        return None
    channel, destination = found
    due = next_sms_moment(at, policy, store.timezone) if channel == "sms" else next_call_moment(at, policy, store.timezone)
    number = 1 + (session.scalar(
        select(func.count()).select_from(ContactAttempt).where(
            ContactAttempt.case_id == case.id, ContactAttempt.channel == channel, ContactAttempt.status != "cancelled")
    ) or 0)
    attempt = ContactAttempt(
        case_id=case.id, channel=channel, kind=kind, number=number, status="planned", destination=destination,
        due_at=due, reason=kind, created_at=now,
    )
    session.add(attempt)
    complaint.resurvey_check_at = due + policy.sms_reply_timeout
    return attempt


def resurvey_facts(session: Session, complaint: Complaint, settings: Settings) -> ResurveyFacts:
    """This resolution's re-survey as its rows tell it."""
    assert complaint.resolved_at is not None
    case = session.get_one(FollowupCase, complaint.case_id)
    rows = list(session.scalars(select(ContactAttempt).where(
        ContactAttempt.case_id == case.id, ContactAttempt.kind.in_(RESURVEY_KINDS),
        ContactAttempt.created_at >= complaint.resolved_at).order_by(ContactAttempt.id)))
    sent = [a.started_at for a in rows if a.status == "done" and a.started_at is not None]
    pending = [a.due_at or a.created_at for a in rows if a.status in PENDING]
    declined = any(a.outcome == "declined" for a in rows)
    channel_left = case.state != "closed" and _channel(_customer(session, case), store_of(
        session, settings, case.store_id)) is not None
    return ResurveyFacts(
        resolved_at=complaint.resolved_at, first_sent_at=min(sent, default=None), pending_due=max(pending, default=None),
        reminded=complaint.resurvey_reminded_at is not None, can_remind=channel_left and not declined,
    )


def check_resurvey(session: Session, complaint: Complaint, settings: Settings, now: datetime) -> str:
    """The duty's look at a resolved complaint's unanswered re-survey: ``wait``, ``remind`` (the
    reminder is planned) or ``unconfirmed`` (a manager may now close it ``resolved_unconfirmed``)."""
    if complaint.status != "resolved" or complaint.resolved_at is None:
        complaint.resurvey_check_at = None
        return "wait"
    store = store_of(session, settings, complaint.store_id)
    step = resurvey_step(resurvey_facts(session, complaint, settings), now, settings.complaints,
                         store.policy.sms_reply_timeout)
    if step.action == "wait":
        complaint.resurvey_check_at = step.at
        return "wait"
    if step.action == "remind":
        complaint.resurvey_reminded_at = now
        planned = plan_resurvey(session, complaint, settings, now, kind=REMINDER)
        record_step(session, complaint, "resurvey_reminder", at=now, by="system",
                    note="re-survey unanswered: reminded once" if planned else "re-survey unanswered: no channel left")
        return "remind"
    complaint.unconfirmed_at, complaint.resurvey_check_at = step.at, None
    record_step(session, complaint, "unconfirmed", at=now, by="system",
                note="re-survey unanswered: a manager may close the complaint as resolved_unconfirmed")
    return "unconfirmed"


def answered_during_complaint(
    session: Session, case: FollowupCase, resp: SurveyResponse, *, settings: Settings, now: datetime,
    answers: Mapping[str, object] | None = None,
) -> bool:
    """Act on a survey answered while the case has a complaint; False when it has none.

    A resolved complaint's re-survey: satisfied closes the complaint and the case (``satisfied``);
    dissatisfied, or a comment with a complaint word, reopens the complaint one level higher
    (never above 3). An answer that arrives while the complaint is still being handled is only
    noted on it (no second complaint).
    """
    complaint = active_complaint(session, case.id)
    if complaint is None:
        return False
    comment = str((answers or {}).get("comment") or "").strip()
    if complaint.status != "resolved":
        note = f"survey answered on {resp.channel} while the complaint is open: score {resp.score}"
        record_step(session, complaint, "answer", at=now, by=resp.made_by,
                    note=f"{note}; comment: {comment}"[:2000] if comment else note)
        return True
    resp.is_resurvey = True
    complaint.resurveys += 1
    complaint.resurvey_check_at = complaint.resurvey_reminded_at = complaint.unconfirmed_at = None
    word = complaint_word(comment, settings.complaints.words_for(store_of(session, settings, case.store_id).code))
    if resp.satisfied and word is None:
        complaint.status, complaint.closed_at, complaint.outcome = "closed", now, "satisfied"
        record_step(session, complaint, "closed", at=now, by=resp.made_by,
                    note=f"re-survey {complaint.resurveys}: satisfied (score {resp.score})", data={"outcome": "satisfied"})
        if case.state != "closed":
            close_case(session, case, "satisfied", now=now, actor=resp.made_by)
        return True
    previous = complaint.assignee
    complaint.level = level_above(complaint.level)
    complaint.status, complaint.acknowledged_at, complaint.resolved_at = "open", None, None
    complaint.due_at = now + settings.complaints.ack_sla
    complaint.assignee = assignee_for(session, case, complaint.level, store_of(session, settings, case.store_id))
    if case.state != "closed":
        case.state, case.next_check_at = "complaint", None
    why = "dissatisfied again" if word is None else f"complaint word 「{word}」 in the comment"
    record_step(
        session, complaint, "reopened", at=now, by=resp.made_by,
        note=f"re-survey {complaint.resurveys}: {why} (score {resp.score})",
        event="complaint.escalated",
        data={"from_assignee": previous, "reason": "dissatisfied_again", "resurveys": complaint.resurveys},
    )
    return True
