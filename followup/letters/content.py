"""What one letter says: gathered from the rows once, rendered by :mod:`.render`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from followup.models import Advisor, ContactAttempt, Customer, FollowupCase, Store, Vehicle, Visit
from followup.rules.reply_code import grouped
from followup.settings import Settings


@dataclass(frozen=True)
class Letter:
    """One customer's letter (and label): everything the template and the address list need."""

    attempt_id: int
    case_id: int
    store_code: str
    language: str  # zh | en
    customer_name: str
    address: str
    plate: str
    vehicle_model: str
    visit_date: date  # store local
    ro_number: str
    advisor_name: str
    reply_code: str
    survey_url: str
    case_state: str
    no_contact: bool
    #: the visit's service type: the letter lists its questions (R5); None lists them all
    service_type: str | None = None
    #: R4.4: the letter mentions earlier calls or SMS only when there were some
    earlier_calls: bool = False  # a call rang the customer's phone (not a wrong number or a provider failure)
    earlier_sms: bool = False  # a survey SMS reached the phone (not bounced)

    @property
    def shown_code(self) -> str:
        """The reply code as printed, grouped for reading (``B72Y-SPK4-MQ8R``)."""
        return grouped(self.reply_code)


#: call outcomes that did not reach the customer's phone: not worth "we called you"
_CALLS_NOT_PLACED = ("failed", "invalid_number")
#: SMS outcomes of a message the phone never got
_SMS_NOT_RECEIVED = ("undelivered", "failed")


def _earlier_contacts(session: Session, case_ids: list[int]) -> dict[int, tuple[bool, bool]]:
    """Per case: whether a call rang the customer, and whether a survey SMS reached them (one query)."""
    call = (ContactAttempt.channel == "call") & ContactAttempt.outcome.not_in(_CALLS_NOT_PLACED)
    sms = ((ContactAttempt.channel == "sms") & ContactAttempt.kind.in_(("survey", "reminder"))
           & ContactAttempt.outcome.not_in(_SMS_NOT_RECEIVED))
    rows = session.execute(
        select(ContactAttempt.case_id, func.count().filter(call), func.count().filter(sms))
        .where(ContactAttempt.case_id.in_(case_ids), ContactAttempt.status == "done",
               ContactAttempt.outcome.is_not(None))
        .group_by(ContactAttempt.case_id)
    ).all()
    return {case_id: (calls > 0, texts > 0) for case_id, calls, texts in rows}


def survey_url(settings: Settings, reply_code: str) -> str:
    """The short link printed on the letter and sent in the SMS reminder: ``{PUBLIC_BASE_URL}/s/<code>``."""
    return f"{settings.public_base_url}/s/{reply_code}"


def load_letters(session: Session, settings: Settings, attempt_ids: list[int]) -> list[Letter]:
    """The letters of these attempts, in the order given."""
    if not attempt_ids:
        return []
    rows = session.execute(
        select(ContactAttempt, FollowupCase, Visit, Customer, Store, Advisor, Vehicle)
        .join(FollowupCase, FollowupCase.id == ContactAttempt.case_id)
        .join(Visit, Visit.id == FollowupCase.visit_id)
        .join(Customer, Customer.id == Visit.customer_id)
        .join(Store, Store.id == FollowupCase.store_id)
        .join(Advisor, Advisor.id == Visit.advisor_id)
        .outerjoin(Vehicle, Vehicle.id == Visit.vehicle_id)
        .where(ContactAttempt.id.in_(attempt_ids))
    ).all()
    earlier = _earlier_contacts(session, sorted({row[1].id for row in rows}))
    by_id: dict[int, Letter] = {}
    for attempt, case, visit, customer, store, advisor, vehicle in rows:
        calls, texts = earlier.get(case.id, (False, False))
        tz = settings.stores[store.code].timezone if store.code in settings.stores else None
        by_id[attempt.id] = Letter(
            attempt_id=attempt.id,
            case_id=case.id,
            store_code=store.code,
            language=customer.language if customer.language in ("zh", "en") else "zh",
            customer_name=customer.name,
            address=(customer.address or "").strip(),
            plate=(vehicle.plate if vehicle else None) or "",
            vehicle_model=(vehicle.model if vehicle else None) or "",
            visit_date=visit.delivered_at.astimezone(tz).date(),
            ro_number=visit.ro_number,
            advisor_name=advisor.name or advisor.code,
            reply_code=case.reply_code,
            survey_url=survey_url(settings, case.reply_code),
            case_state=case.state,
            no_contact=customer.no_contact,
            service_type=visit.service_type,
            earlier_calls=calls,
            earlier_sms=texts,
        )
    return [by_id[i] for i in attempt_ids if i in by_id]
