"""Who may act on a complaint (R7: "only the assignee or someone above"), from the rows and the
store's config; the rule itself is :func:`followup.rules.complaint_levels.may_act`.

Level 1's assignee is the visit's advisor (the user linked to that advisor code), level 2's the
store's ``service_manager`` and level 3's its ``general_manager`` (usernames in the config).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup.complaints.errors import NotAllowed
from followup.complaints.steps import store_of
from followup.models import Advisor, Complaint, FollowupCase, User, UserStore
from followup.rules.complaint_levels import Authority, may_act
from followup.settings import Settings

#: roles that may open a complaint from a case, change a category, or close one as a manager
OPENING_ROLES = frozenset({"info_staff", "manager", "admin"})
CATEGORY_ROLES = OPENING_ROLES
CLOSING_ROLES = frozenset({"manager", "admin"})


def _people(session: Session, settings: Settings, complaint: Complaint) -> tuple[int | None, str | None, str | None]:
    """The user linked to the visit's advisor, and the store's service and general managers."""
    store = store_of(session, settings, complaint.store_id)
    case = session.get_one(FollowupCase, complaint.case_id)
    advisor_user = session.scalar(select(Advisor.user_id).where(Advisor.id == case.advisor_id))
    return advisor_user, store.service_manager or None, store.general_manager or None


def _authority(user: User, people: tuple[int | None, str | None, str | None]) -> Authority:
    advisor_user, service_manager, general_manager = people
    return Authority(
        role=user.role,
        is_visit_advisor=advisor_user is not None and advisor_user == user.id,
        is_service_manager=service_manager is not None and user.username == service_manager,
        is_general_manager=general_manager is not None and user.username == general_manager,
    )


def authority_of(session: Session, settings: Settings, complaint: Complaint, user: User) -> Authority:
    """What ``user`` is to ``complaint``: role, the visit's own advisor, the store's managers."""
    return _authority(user, _people(session, settings, complaint))


def may_act_on(session: Session, settings: Settings, complaint: Complaint, user: User) -> bool:
    """Whether ``user`` may acknowledge, resolve or escalate ``complaint`` at its current level."""
    return user.active and may_act(complaint.level, authority_of(session, settings, complaint, user))


def require_assignee_or_above(session: Session, settings: Settings, complaint: Complaint, user: User) -> None:
    if not may_act_on(session, settings, complaint, user):
        raise NotAllowed("Only the assignee or someone above may handle this complaint.")


def users_of_store(session: Session, store_id: int) -> list[User]:
    """The active users who can see the store: admins, and those given the store."""
    scoped = select(UserStore.user_id).where(UserStore.store_id == store_id)
    return list(session.scalars(select(User).where(
        User.active.is_(True), (User.role == "admin") | User.id.in_(scoped)).order_by(User.username)))


def who_may_act(session: Session, settings: Settings, complaint: Complaint, level: int | None = None) -> list[str]:
    """Usernames of the users who may act on the complaint at ``level`` (default its own)."""
    at = complaint.level if level is None else level
    people = _people(session, settings, complaint)
    return [u.username for u in users_of_store(session, complaint.store_id) if may_act(at, _authority(u, people))]


def who_may_close(session: Session, complaint: Complaint) -> list[str]:
    """Usernames of the managers and admins who may close the complaint as a manager."""
    return [u.username for u in users_of_store(session, complaint.store_id) if u.role in CLOSING_ROLES]
