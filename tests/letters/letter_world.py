"""A small world for the letter tests: one store, visits accepted at a given time, a customer who
never picks up and whose SMS bounces, and a clock moved from one due moment to the next."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fakes.worker_ticks import run_due_until
from sqlalchemy import select

from followup.channels.base import Contact, Sent
from followup.channels.sandbox import SandboxChannel, silent
from followup.engine.tick import duties, run_tick
from followup.intake.records import VisitRow
from followup.intake.visit_upsert import accept_visit
from followup.models import FollowupCase, Store
from followup.runtime import Runtime

SH = ZoneInfo("Asia/Shanghai")
#: delivered Friday 20 November 2026, 10:00 in Shenzhen
DELIVERED = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def visit_row(n: int = 1, **changes: object) -> VisitRow:
    values: dict[str, object] = dict(
        row=n + 1, store_code="SZ01", ro_number=f"RO2611{n:04d}", customer_name="张伟", mobile=f"+861380013{n:04d}",
        phone=None, address="深圳市南山区科技南十二路18号3栋2单元1101", plate="粤B12345", vin=None,
        vehicle_model="大众朗逸", advisor_code="SA01", advisor_name="王强", service_type="maintenance",
        delivered_at=DELIVERED, mileage_km=12000, language="zh",
    )
    values.update(changes)
    return VisitRow(**values)  # type: ignore[arg-type]


def add_visit(rt: Runtime, row: VisitRow, *, now: datetime | None = None) -> int:
    """Accept the visit (at its delivery time unless told) and return its case id."""
    with rt.sessions() as s:
        store_id = s.scalar(select(Store.id).where(Store.code == row.store_code))
        assert store_id is not None
        accepted = accept_visit(s, store_id, rt.settings.stores[row.store_code], row, source="test", actor="test",
                                now=now or row.delivered_at)
        s.commit()
        assert accepted.case is not None
        return accepted.case.id


def unreachable(contact: Contact, now: datetime) -> Sent:
    """Nobody picks up the phone and every SMS bounces (the provider says undelivered)."""
    if contact.channel == "sms":
        return Sent(f"SBS{contact.attempt_id:08d}", outcome="undelivered", ended_at=now)
    return silent(contact, now)


def run_until(rt: Runtime, channel: SandboxChannel, until: datetime, *, dispatch_only: bool = False) -> None:
    """Tick at every moment something falls due, up to ``until`` (no sleeping); with
    ``dispatch_only`` the other duties (the worker's letter batch among them) do not run."""
    dispatch = duties(rt, channel)["dispatch"]

    def step() -> object:
        return dispatch(rt, rt.clock.now()) if dispatch_only else run_tick(rt, channel)

    run_due_until(rt, step, until)


def case_row(rt: Runtime, case_id: int) -> FollowupCase:
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        s.expunge(case)
        return case


def queue_letter(rt: Runtime, n: int = 1, **changes: object) -> int:
    """A case whose three calls failed and whose SMS bounced: its letter is queued (in no batch yet);
    the case id."""
    rt.clock.set(DELIVERED)  # type: ignore[attr-defined]
    case_id = add_visit(rt, visit_row(n, **changes))
    run_until(rt, SandboxChannel(unreachable), datetime(2026, 11, 21, 12, 0, tzinfo=UTC), dispatch_only=True)
    return case_id
