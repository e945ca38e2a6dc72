"""RULES R13, retention: customers with no visit for ``[privacy] retain_months`` (36) are anonymised,
and raw records older than their periods are deleted. Run daily by the worker and on demand by
``followup privacy purge [--dry-run]``.

Anonymising a customer erases their name (shown as "已匿名" from then on), mobile, landline and
address, and every free text written by or about them: SMS bodies and numbers, survey comments
and raw replies, the web answer's evidence (address, browser), complaint notes, causes, fixes and
close reasons, the advisor's DC-call notes and the numbers the contacts went to. What stays: the
visits, cases, outcomes, scores and answers' numbers (so that reports and bonuses do not move), and
the audit log, which the database keeps append-only (its entries hold facts, with phone numbers
masked). Letter batches built before the cutoff lose their address lists.

Raw records, each by its own period: the panel's received webhook events, the webhook delivery
log, Twilio callbacks with their raw parameters, failed logins and unknown survey codes (both by
``login_failures_days``: they hold client addresses).

Set-based: one UPDATE or DELETE per table, whatever the number of customers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, CursorResult, Select, delete, func, select, update
from sqlalchemy.orm import Session

from followup import audit
from followup.models import (
    AdvisorCall,
    CodeMiss,
    Complaint,
    ComplaintStep,
    ContactAttempt,
    Customer,
    DeliveryTry,
    FollowupCase,
    LetterBatch,
    LoginFailure,
    ReceivedEvent,
    SmsMessage,
    Store,
    SurveyAnswer,
    SurveyResponse,
    TwilioCallback,
    Visit,
)
from followup.models.base import Base
from followup.settings import Settings

#: an anonymised customer's name, as every page and export shows it
ANONYMOUS = "已匿名"


@dataclass(frozen=True)
class Due:
    """A customer the purge anonymises: the store, the customer's id and their last visit."""

    store_code: str
    customer_id: int
    last_visit: datetime | None


@dataclass
class PurgeReport:
    """What the purge erased (or, dry, would erase)."""

    cutoff: datetime
    customers: list[Due] = field(default_factory=list)
    #: rows deleted (or that would be) per raw-record table
    deleted: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    def counts(self) -> dict[str, int]:
        return {"customers_anonymised": len(self.customers), **{f"{k}_deleted": v for k, v in self.deleted.items()}}


def months_before(now: datetime, months: int) -> datetime:
    """``now`` moved back by whole calendar months (the 31st becomes the month's last day)."""
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    month += 1
    day = now.day
    while True:
        try:
            return now.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


def _due(cutoff: datetime) -> Select[int]:
    """The customers to anonymise: not yet anonymised, no visit since ``cutoff`` (none at all: made
    before it), and no case still open."""
    last = (select(Visit.customer_id, func.max(Visit.delivered_at).label("last"))
            .group_by(Visit.customer_id).subquery())
    open_cases = (select(Visit.customer_id).join(FollowupCase, FollowupCase.visit_id == Visit.id)
                  .where(FollowupCase.state != "closed"))
    return (select(Customer.id)
            .outerjoin(last, last.c.customer_id == Customer.id)
            .where(Customer.anonymised_at.is_(None),
                   func.coalesce(last.c.last, Customer.created_at) < cutoff,
                   Customer.id.not_in(open_cases)))


def _raw_records(settings: Settings, now: datetime) -> list[tuple[str, type[Base], ColumnElement[bool]]]:
    """(name, model, the condition of the rows past their period)."""
    p = settings.privacy
    days = lambda n: now - timedelta(days=n)  # noqa: E731
    return [
        ("received_events", ReceivedEvent, ReceivedEvent.received_at < days(p.received_events_days)),
        ("delivery_log", DeliveryTry, DeliveryTry.at < days(p.delivery_log_days)),
        ("twilio_callbacks", TwilioCallback, TwilioCallback.received_at < days(p.twilio_callbacks_days)),
        ("login_failures", LoginFailure, LoginFailure.at < days(p.login_failures_days)),
        ("survey_code_misses", CodeMiss, CodeMiss.at < days(p.login_failures_days)),
    ]


def purge(session: Session, settings: Settings, now: datetime, *, dry_run: bool = False,
          actor: str = "system") -> PurgeReport:
    """Anonymise the customers past ``retain_months`` and delete raw records past their periods
    (``dry_run``: only find them). Audited as ``privacy.purged`` with the counts, never a name.
    The caller commits."""
    cutoff = months_before(now, settings.privacy.retain_months)
    report = PurgeReport(cutoff=cutoff, dry_run=dry_run)
    due = _due(cutoff).subquery()
    last_visit = (select(func.max(Visit.delivered_at)).where(Visit.customer_id == Customer.id)
                  .correlate(Customer).scalar_subquery())
    report.customers = [Due(code, cid, last) for code, cid, last in session.execute(
        select(Store.code, Customer.id, last_visit).join(Store, Store.id == Customer.store_id)
        .where(Customer.id.in_(select(due.c.id))).order_by(Store.code, Customer.id))]
    for name, model, condition in _raw_records(settings, now):
        if dry_run:
            report.deleted[name] = session.scalar(select(func.count()).select_from(model).where(condition)) or 0
        else:
            result = session.execute(delete(model).where(condition))
            report.deleted[name] = result.rowcount if isinstance(result, CursorResult) else 0
    if dry_run:
        return report
    if report.customers:
        _anonymise(session, [d.customer_id for d in report.customers], now)
    session.execute(update(LetterBatch).where(LetterBatch.built_at < cutoff, LetterBatch.address_csv != "")
                    .values(address_csv="").execution_options(synchronize_session=False))
    audit.record(session, actor, "privacy.purged", at=now, cutoff=cutoff.isoformat(), **report.counts())
    return report


def _anonymise(session: Session, customer_ids: list[int], now: datetime) -> None:
    visits = select(Visit.id).where(Visit.customer_id.in_(customer_ids))
    cases = select(FollowupCase.id).where(FollowupCase.visit_id.in_(visits))
    responses = select(SurveyResponse.id).where(SurveyResponse.case_id.in_(cases))
    complaints = select(Complaint.id).where(Complaint.case_id.in_(cases))
    quiet = {"synchronize_session": False}
    for statement in (
        update(Customer).where(Customer.id.in_(customer_ids))
        .values(name=ANONYMOUS, mobile=None, phone=None, address=None, anonymised_at=now, updated_at=now),
        update(ContactAttempt).where(ContactAttempt.case_id.in_(cases)).values(destination=None),
        update(SmsMessage).where(SmsMessage.customer_id.in_(customer_ids) | SmsMessage.case_id.in_(cases))
        .values(body="", from_number="", to_number=""),
        update(SurveyAnswer).where(SurveyAnswer.response_id.in_(responses)).values(value_text=None, raw=None),
        update(SurveyResponse).where(SurveyResponse.id.in_(responses)).values(evidence=None),
        update(Complaint).where(Complaint.id.in_(complaints)).values(close_reason=None),
        update(ComplaintStep).where(ComplaintStep.complaint_id.in_(complaints)).values(note=None, cause=None, fix=None),
        update(AdvisorCall).where(AdvisorCall.visit_id.in_(visits)).values(note=None),
    ):
        session.execute(statement.execution_options(**quiet))
