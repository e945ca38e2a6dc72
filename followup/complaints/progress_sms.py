"""The customer's one progress SMS (R7 "告知解决方案的进展情况"): while a complaint is still open
``progress_sms_after`` (24h) after it was first acknowledged, the customer is told it is being
handled, with the store's phone number.

It is a planned ``contact_attempts`` row of kind ``progress``, sent by the normal dispatcher inside
SMS hours (not held for holidays: it is not a survey). It is not part of the R4 fallback and asks
no question. No SMS goes to a customer who opted out, was marked no-SMS or no-contact, or has no
usable mobile; the complaint's step says so instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from followup.complaints.steps import record_step, store_of
from followup.models import Complaint, ContactAttempt, Customer, FollowupCase, Visit
from followup.rules.calendar import next_sms_moment
from followup.settings import Settings

KIND = "progress"


def plan_progress_sms(session: Session, complaint: Complaint, settings: Settings, now: datetime) -> int:
    """Plan the progress SMS (1), or note why none goes (0); either way it is looked at only once."""
    complaint.progress_due_at, complaint.progress_sms_at = None, now
    if complaint.status not in ("open", "acknowledged"):
        return 0  # resolved or closed meanwhile: nothing to tell in progress
    case = session.get_one(FollowupCase, complaint.case_id)
    customer = session.get_one(Customer, session.get_one(Visit, case.visit_id).customer_id)
    store = store_of(session, settings, case.store_id)
    possible = (bool(customer.mobile) and not customer.mobile_bad and store.policy.sms_enabled
                and not (customer.no_sms or customer.sms_opted_out or customer.no_contact) and case.state != "closed")
    if not possible:
        record_step(session, complaint, "progress_sms", at=now, by="system",
                    note="no SMS possible (opted out, no-SMS, no-contact or no mobile): no progress SMS")
        return 0
    number = 1 + (session.scalar(select(func.count()).select_from(ContactAttempt).where(
        ContactAttempt.case_id == case.id, ContactAttempt.channel == "sms", ContactAttempt.status != "cancelled")) or 0)
    due = next_sms_moment(now, store.policy, store.timezone, survey=False)
    session.add(ContactAttempt(case_id=case.id, channel="sms", kind=KIND, number=number, status="planned",
                               destination=customer.mobile, due_at=due, reason="complaint_progress", created_at=now))
    record_step(session, complaint, "progress_sms", at=now, by="system",
                note=f"progress SMS planned for {due.astimezone(store.timezone):%Y-%m-%d %H:%M}")
    return 1
