"""R11 at intake: every accepted visit not of an excluded type has one DC-call task for its advisor.

Called by the visit upsert with the batch's visits: new tasks are written with one INSERT per batch;
a re-imported visit's open task follows it (advisor, delivery time), is removed when the visit's
service type becomes excluded and is given when it stops being excluded. A recorded call is never
changed: it is what the advisor did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from followup.campaigns.post_service import opens_case
from followup.models import AdvisorCall
from followup.rules.advisor_statement import dc_call_due
from followup.settings import StoreSettings


@dataclass(frozen=True)
class VisitForCall:
    """What a DC-call task needs of a visit; ``created`` when this batch created the visit."""

    visit_id: int
    advisor_id: int
    service_type: str
    delivered_at: datetime
    created: bool


def give_dc_calls(session: Session, store_id: int, store: StoreSettings, visits: Iterable[VisitForCall], *,
                  now: datetime) -> None:
    """Give, move or withdraw the DC-call tasks of a batch's visits (the caller commits)."""
    latest: dict[int, VisitForCall] = {}
    created: set[int] = set()
    for v in visits:  # a batch may carry one RO twice: the later row wins, the visit is still new
        latest[v.visit_id] = v
        if v.created:
            created.add(v.visit_id)
    stored_ids = [vid for vid in latest if vid not in created]
    existing = {c.visit_id: c for c in session.scalars(
        select(AdvisorCall).where(AdvisorCall.visit_id.in_(stored_ids)))} if stored_ids else {}
    new: list[dict[str, Any]] = []
    for visit_id, v in latest.items():
        task = existing.get(visit_id)
        wanted = opens_case(v.service_type, store)
        if task is None:
            if wanted:
                new.append({"visit_id": visit_id, "store_id": store_id, "advisor_id": v.advisor_id,
                            "due_at": dc_call_due(v.delivered_at), "created_at": now})
        elif task.done_at is None:
            if not wanted:
                session.delete(task)
            else:
                task.advisor_id = v.advisor_id
                task.due_at = dc_call_due(v.delivered_at)
    if new:  # Core, not the ORM's bulk insert: a plain executemany, a fraction of the cost per row
        session.execute(insert(cast(Table, AdvisorCall.__table__)), new)
