"""Loading many cases at once with their visit, customer and store: one query per table.

The planner (cases whose check time came), the dispatcher (claimed rows) and the reclaim of a dead
worker's rows each work on hundreds of cases per tick. Whatever the session already holds (the
visits and customers of the rows just sent, say) is used as it is; only the rest is read, with one
``WHERE id IN (...)`` per table however many cases.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from followup.id_sets import among
from followup.models import ContactAttempt, Customer, FollowupCase, Store, Visit

#: a table with an integer ``id`` (cases, visits, customers, stores)
M = TypeVar("M", FollowupCase, Visit, Customer, Store)


@dataclass(frozen=True)
class CaseParts:
    """A case with the visit it follows up, that visit's customer and its store."""

    case: FollowupCase
    visit: Visit
    customer: Customer
    #: held (not only its code) so that the session keeps it for the next load of these cases
    store: Store | None

    @property
    def store_code(self) -> str:
        return self.store.code if self.store is not None else ""


def by_id(session: Session, model: type[M], ids: Collection[int]) -> dict[int, M]:
    """Rows by id: those the session holds (and has not expired) as they are, the rest in one query."""
    found: dict[int, M] = {}
    for ident in ids:
        obj = session.identity_map.get(session.identity_key(model, ident))
        if obj is not None and not inspect(obj).expired_attributes:
            found[ident] = obj
    missing = set(ids) - found.keys()
    if missing:
        found.update((obj.id, obj) for obj in session.scalars(select(model).where(among(session, model.id, missing))))
    return found


def load_cases(session: Session, cases: Iterable[FollowupCase]) -> dict[int, CaseParts]:
    """Each case's parts, by case id."""
    cases = list(cases)
    visits = by_id(session, Visit, {c.visit_id for c in cases})
    customers = by_id(session, Customer, {v.customer_id for v in visits.values()})
    stores = by_id(session, Store, {c.store_id for c in cases})
    out = {}
    for case in cases:
        visit = visits[case.visit_id]
        out[case.id] = CaseParts(case, visit, customers[visit.customer_id], stores.get(case.store_id))
    return out


def load_cases_of(session: Session, attempts: Iterable[ContactAttempt]) -> dict[int, CaseParts]:
    """The parts of the cases of ``attempts`` (contact rows), by case id."""
    return load_cases(session, by_id(session, FollowupCase, {a.case_id for a in attempts}).values())
