"""The importer's batched writes: what one batch stores, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from followup.intake.importer import BATCH, import_visits
from followup.models import AuditEntry, Customer, FollowupCase, Vehicle, Visit, WebhookEvent
from followup.runtime import Runtime

IMPORT_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HEADER = ["门店代码", "工单号", "客户姓名", "手机", "电话", "车牌号", "车架号", "服务顾问工号", "维修类型", "交车时间"]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="gb18030", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _import(rt: Runtime, path: Path):  # type: ignore[no-untyped-def]
    rt.clock.set(IMPORT_AT)  # type: ignore[attr-defined]
    return import_visits(path, settings=rt.settings, sessions=rt.sessions, clock=rt.clock)


def test_a_repeated_ro_of_an_excluded_type_in_one_batch_is_imported(rt: Runtime, tmp_path: Path) -> None:
    """The later row updates the visit; no case is opened for it (it once stopped the import)."""
    path = _write(tmp_path / "v.csv", [
        ["SZ01", "RO1", "张三", "13800138001", "", "粤B12345", "", "SA01", "内部", "2026-11-19 10:00"],
        ["SZ01", "RO1", "张三", "13800138001", "", "粤B12345", "", "SA02", "internal", "2026-11-19 11:00"],
        ["SZ01", "RO2", "李四", "13800138002", "", "", "", "SA01", "保养", "2026-11-19 12:00"],
    ])
    report = _import(rt, path)
    assert (report.created, report.updated, report.excluded, report.cases_opened) == (2, 1, 1, 1)
    assert report.errors == []
    with rt.sessions() as s:
        visit = s.scalars(select(Visit).where(Visit.ro_number == "RO1")).one()
        assert visit.delivered_at == datetime(2026, 11, 19, 3, 0, tzinfo=UTC)  # the later row's time
        assert s.scalars(select(FollowupCase).where(FollowupCase.visit_id == visit.id)).first() is None
        assert [a.action for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))] == [
            "visit.created", "visit.updated", "visit.created"]


def test_ids_of_a_large_batch_link_the_right_rows(rt: Runtime, tmp_path: Path) -> None:
    """Each visit points at its own customer, vehicle and case, across a batch of new rows."""
    rows = [["SZ01", f"RO{i:05d}", f"客户{i}", f"138{i:08d}", "", f"粤B{i:05d}", "", "SA01", "维修",
             "2026-11-19 10:00" if i % 3 else "2026-11-10 10:00"]  # every third is a late intake
            for i in range(BATCH + 7)]
    report = _import(rt, _write(tmp_path / "v.csv", rows))
    assert report.created == BATCH + 7 and report.errors == []
    with rt.sessions() as s:
        for visit in s.scalars(select(Visit)):
            n = int(visit.ro_number[2:])
            customer = s.get(Customer, visit.customer_id)
            vehicle = s.get(Vehicle, visit.vehicle_id)
            case = s.scalars(select(FollowupCase).where(FollowupCase.visit_id == visit.id)).one()
            assert customer is not None and customer.mobile == f"+86138{n:08d}" and customer.name == f"客户{n}"
            assert vehicle is not None and vehicle.customer_id == customer.id and vehicle.plate == f"粤B{n:05d}"
            assert (case.three_day_rule == "breached") == (n % 3 == 0)
        events = s.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()
        late = [e for e in events if e.type == "three_day_rule.breached"]
        assert len(late) == len(range(0, BATCH + 7, 3))
        for event in late:
            case = s.get(FollowupCase, event.case_id)
            visit = s.get(Visit, case.visit_id) if case else None
            assert visit is not None and event.data["ro_number"] == visit.ro_number


def _statements_of_reimport(rt: Runtime, tmp_path: Path, prefix: str, size: int) -> list[str]:
    """The statements of re-importing ``size`` planned visits, a third become internal, a third late,
    a third delivered later (R1: each changes its case)."""
    from sqlalchemy import event

    from followup.engine.planner import plan_due_cases

    first = [["SZ01", f"{prefix}{i:03d}", f"客户{i}", f"139{size:02d}{i:06d}", "", "", "", "SA01", "保养",
              "2026-11-19 10:00"] for i in range(size)]
    _import(rt, _write(tmp_path / f"{prefix}a.csv", first))
    with rt.sessions() as s:
        plan_due_cases(s, rt.settings, IMPORT_AT)
        s.commit()
    changed = [[*r[:8], "内部" if i % 3 == 0 else "保养",
                "2026-11-10 10:00" if i % 3 == 1 else "2026-11-20 10:00"] for i, r in enumerate(first)]
    seen: list[str] = []

    def count(conn, cursor, statement, params, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()[:3]).upper())

    event.listen(rt.engine, "before_cursor_execute", count)
    try:
        report = _import(rt, _write(tmp_path / f"{prefix}b.csv", changed))
    finally:
        event.remove(rt.engine, "before_cursor_execute", count)
    assert report.updated == size and report.errors == []
    return seen


def test_a_reimport_that_changes_many_cases_stays_batched(rt: Runtime, tmp_path: Path) -> None:
    """Cancelling, breaching and moving the cases of a batch costs the same statements for 6 visits as
    for 60, besides the ORM's one UPDATE per stored row it changes (visits and customers did so before)."""
    def batched(statements: list[str]) -> list[str]:
        return sorted(x for x in statements if not x.startswith(("UPDATE VISITS", "UPDATE CUSTOMERS", "UPDATE CASES")))

    small = _statements_of_reimport(rt, tmp_path, "S", 6)
    large = _statements_of_reimport(rt, tmp_path, "L", 60)
    assert batched(small) == batched(large)
    assert large.count("UPDATE CASES SET") <= 60
    assert large.count("INSERT INTO AUDIT_LOG") <= 1 and large.count("INSERT INTO WEBHOOK_EVENTS") <= 1
    with rt.sessions() as s:
        cases = {v.ro_number: c for v, c in s.execute(
            select(Visit, FollowupCase).join(FollowupCase, FollowupCase.visit_id == Visit.id)
            .where(Visit.ro_number.like("L%")))}
    assert {(c.outcome, c.three_day_rule) for ro, c in cases.items() if int(ro[1:]) % 3 == 0} == {("cancelled", "pending")}
    assert {(c.state, c.breach_reason) for ro, c in cases.items() if int(ro[1:]) % 3 == 1} == {("scheduled", "late_intake")}
