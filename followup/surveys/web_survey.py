"""The customer's web survey behind ``/s/<code>`` (CONTRACT §4b): what the page shows, and taking
the answers (channel ``web``), once per code, until the case closes or the letter's reply
timeout passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from followup.models import Customer, FollowupCase, SurveyResponse, Visit
from followup.settings import Question, Settings
from followup.surveys.reply_codes import case_for_code, code_status, parse_answers
from followup.surveys.responses import record_survey


@dataclass
class SurveyPage:
    """What ``/s/<code>`` shows: the form (``open``), ``answered``, ``expired``; None = unknown code."""

    code: str
    state: str
    language: str
    store_name: str
    visit_date: date
    errors: dict[str, str] = field(default_factory=dict)
    response: SurveyResponse | None = None
    #: R5: the questions of the visit's service type (the form shows these and no others)
    questions: tuple[Question, ...] = ()


def _case(session: Session, code: str, *, lock: bool = False) -> FollowupCase | None:
    return case_for_code(session, code, lock=lock)


def survey_page(session: Session, settings: Settings, code: str, now: datetime, *,
                case: FollowupCase | None = None) -> SurveyPage | None:
    case = case or _case(session, code)
    if case is None:
        return None
    status = code_status(session, case, settings, now)
    visit = session.get_one(Visit, case.visit_id)
    customer = session.get_one(Customer, visit.customer_id)
    store = settings.stores.get(status.store_code)
    lang = customer.language if customer.language in ("zh", "en") else "zh"
    name = "" if store is None else (store.name_en if lang == "en" else store.name)
    tz = store.timezone if store else None
    return SurveyPage(case.reply_code, status.state, lang, name, visit.delivered_at.astimezone(tz).date(),
                      questions=settings.survey.questions_for(visit.service_type))


def take_web_survey(session: Session, settings: Settings, code: str, form: Mapping[str, str],
                    now: datetime, *, evidence: Mapping[str, str] | None = None) -> SurveyPage | None:
    """Record the customer's answers (the caller commits); the page to show next.

    The case row is locked first, so that two posts of the same form record one survey.
    ``evidence`` (the client's address as the trusted proxies tell it, its user agent) is kept
    with the response, with the time, so that a disputed score can be checked.
    """
    case = _case(session, code, lock=True)
    if case is None:
        return None
    page = survey_page(session, settings, code, now, case=case)
    assert page is not None
    if page.state != "open":
        return page
    answers, errors = parse_answers(page.questions, form, all_required=True)
    if errors:
        page.errors = errors
        return page
    page.response = record_survey(session, case, answers, channel="web", made_by="web", settings=settings, now=now)
    page.response.evidence = {**(evidence or {}), "at": now.isoformat()}
    page.state = "thanks"
    return page
