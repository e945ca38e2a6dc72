"""A visit and its case as the API shows them (CONTRACT §4), with phone numbers masked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup.models import (
    Advisor,
    Complaint,
    ContactAttempt,
    Customer,
    FollowupCase,
    Store,
    SurveyAnswer,
    SurveyResponse,
    Visit,
)
from followup.privacy import mask_in_text, mask_phone


def iso(value: datetime | None, tz: Any = None) -> str | None:
    if value is None:
        return None
    return value.astimezone(tz).isoformat() if tz else value.isoformat()


def _destination(attempt: ContactAttempt, customer: Customer) -> str | None:
    if attempt.channel == "letter":
        address = customer.address or ""
        return address[: address.find("市") + 1] if "市" in address else (address[:6] or None)
    return mask_phone(attempt.destination)


def _survey(session: Session, case_id: int, tz: Any) -> dict[str, Any] | None:
    resp = session.scalar(
        select(SurveyResponse)
        .where(SurveyResponse.case_id == case_id)
        .order_by(SurveyResponse.completed_at.desc().nulls_last(), SurveyResponse.id.desc())
    )
    if resp is None:
        return None
    answers: dict[str, Any] = {}
    for a in session.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id == resp.id)):
        # free text: a customer may write a phone number, which never leaves unmasked
        answers[a.question_id] = mask_in_text(a.value_text) if a.value_num is None and a.value_text else a.value_num
    return {
        "channel": resp.channel,
        "completed_at": iso(resp.completed_at, tz),
        "score": resp.score,
        "satisfied": resp.satisfied,
        "answers": answers,
    }


def visit_record(session: Session, store_code: str, ro_number: str) -> dict[str, Any] | None:
    """The GET /api/v1/visits/<store>/<ro> body, or None when there is no such visit."""
    row = session.execute(
        select(Visit, Store, Advisor, Customer)
        .join(Store, Store.id == Visit.store_id)
        .join(Advisor, Advisor.id == Visit.advisor_id)
        .join(Customer, Customer.id == Visit.customer_id)
        .where(Store.code == store_code, Visit.ro_number == ro_number)
    ).first()
    if row is None:
        return None
    visit, store, advisor, customer = row
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(store.timezone)
    body: dict[str, Any] = {
        "store_code": store.code,
        "ro_number": visit.ro_number,
        "delivered_at": iso(visit.delivered_at, tz),
        "service_type": visit.service_type,
        "advisor": {"code": advisor.code, "name": advisor.name},
        "case": None,
    }
    case = session.scalar(select(FollowupCase).where(FollowupCase.visit_id == visit.id))
    if case is None:
        return body
    attempts = session.scalars(
        select(ContactAttempt)
        .where(ContactAttempt.case_id == case.id, ContactAttempt.status != "cancelled")
        .order_by(ContactAttempt.id)
    )
    complaint = session.scalar(
        select(Complaint).where(Complaint.case_id == case.id).order_by(Complaint.id.desc())
    )
    body["case"] = {
        "state": case.state,
        "outcome": case.outcome,
        "deadline_at": iso(case.deadline_at, tz),
        "three_day_rule": case.three_day_rule,
        "breach_reason": case.breach_reason,
        "attempts": [
            {
                "channel": a.channel,
                "number": a.number,
                "to": _destination(a, customer),
                "status": a.status,
                "outcome": a.outcome,
                "due_at": iso(a.due_at, tz),
                "started_at": iso(a.started_at, tz),
                "ended_at": iso(a.ended_at, tz),
                "made_by": a.made_by,
                "provider_id": a.provider_id,
            }
            for a in attempts
        ],
        "survey": _survey(session, case.id, tz),
        "complaint": None
        if complaint is None
        else {
            "level": complaint.level,
            "status": complaint.status,
            "opened_at": iso(complaint.opened_at, tz),
            "due_at": iso(complaint.due_at, tz),
        },
    }
    return body
