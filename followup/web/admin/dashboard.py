"""The numbers on the home page, computed from the stored rows with SQL aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import FollowupCase, Store


@dataclass(frozen=True)
class Overview:
    stores: list[str]
    open_cases: int
    due_today: int
    breached: int
    closed: int
    total: int


def overview(session: Session, store_codes: list[str], now: datetime) -> Overview:
    ids = select(Store.id).where(Store.code.in_(store_codes))
    base = select(func.count()).select_from(FollowupCase).where(FollowupCase.store_id.in_(ids))
    day_end = now + timedelta(days=1)
    return Overview(
        stores=store_codes,
        total=session.scalar(base) or 0,
        open_cases=session.scalar(base.where(FollowupCase.state != "closed")) or 0,
        due_today=session.scalar(
            base.where(FollowupCase.state != "closed", FollowupCase.deadline_at < day_end)
        ) or 0,
        breached=session.scalar(base.where(FollowupCase.three_day_rule == "breached")) or 0,
        closed=session.scalar(base.where(FollowupCase.state == "closed")) or 0,
    )
