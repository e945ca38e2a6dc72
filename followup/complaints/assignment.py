"""Who is in charge of a complaint at each level, from the visit and the store's config."""

from __future__ import annotations

from sqlalchemy.orm import Session

from followup.models import Advisor, FollowupCase
from followup.settings import StoreSettings

LEVEL_ROLE = {1: "advisor", 2: "service_manager", 3: "general_manager"}


def assignee_for(session: Session, case: FollowupCase, level: int, store: StoreSettings) -> str | None:
    """Level 1: the visit's advisor (their staff code); 2: the service manager; 3: the general manager.

    Levels 2 and 3 are usernames from ``[stores.CODE] service_manager`` / ``general_manager``;
    None when the store has not named one (the queue then shows the level without a name).
    """
    if level <= 1:
        advisor = session.get(Advisor, case.advisor_id)
        return advisor.code if advisor else None
    if level == 2:
        return store.service_manager
    return store.general_manager
