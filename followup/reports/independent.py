"""Which survey responses count for an advisor's score (R9): independent surveys only.

IVR, SMS, letter, web and information-staff calls count; a call the advisor made to their own
customer never does. Such a call is recognised by the response's ``own_advisor_call`` flag, or
by a ``staff`` survey whose ``made_by`` is the advisor's own login (``user:<username>``).
Re-surveys after a complaint do not count: each visit is scored once, by its first survey.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, literal, not_, or_, select
from sqlalchemy.orm import aliased

from followup.models import Advisor, SurveyResponse, User

INDEPENDENT_CHANNELS = ("ivr", "sms", "letter", "web", "staff")

#: the advisor's own login, joined to each response
AdvisorUser = aliased(User, name="advisor_user")


def own_advisor_call() -> ColumnElement[bool]:
    """True for a response taken by the visit's own advisor (needs :data:`AdvisorUser` joined)."""
    by_login = and_(
        SurveyResponse.channel == "staff",
        AdvisorUser.username.is_not(None),
        or_(SurveyResponse.made_by == AdvisorUser.username, SurveyResponse.made_by == literal("user:") + AdvisorUser.username),
    )
    return or_(SurveyResponse.own_advisor_call.is_(True), by_login)


def counted(store_id: int, start: datetime, end: datetime) -> ColumnElement[bool]:
    """The WHERE clause of the responses that count, completed in [start, end)."""
    return and_(
        SurveyResponse.store_id == store_id,
        SurveyResponse.completed_at >= start,
        SurveyResponse.completed_at < end,
        SurveyResponse.status == "completed",
        SurveyResponse.score.is_not(None),
        SurveyResponse.is_resurvey.is_(False),
        SurveyResponse.channel.in_(INDEPENDENT_CHANNELS),
        not_(own_advisor_call()),
    )


def with_advisor(query: Select) -> Select:
    """Join each response's advisor and the advisor's login, as :func:`counted` needs them."""
    return query.join(Advisor, Advisor.id == SurveyResponse.advisor_id).outerjoin(
        AdvisorUser, AdvisorUser.id == Advisor.user_id
    )


def counted_responses(store_id: int, start: datetime, end: datetime) -> Select:
    """``SELECT survey_responses.id`` of the responses that count."""
    return with_advisor(select(SurveyResponse.id)).where(counted(store_id, start, end))
