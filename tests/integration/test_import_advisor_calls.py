"""R11 at intake: each visit (not excluded) gives its advisor a DC-call task, written with the batch.
SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from followup.intake.importer import import_visits
from followup.models import Advisor, AdvisorCall, Visit
from followup.runtime import Runtime

IMPORT_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HEADER = ["门店代码", "工单号", "客户姓名", "手机", "服务顾问工号", "维修类型", "交车时间"]


def _import(rt: Runtime, path: Path, rows: list[list[str]], at: datetime = IMPORT_AT):  # type: ignore[no-untyped-def]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    rt.clock.set(at)  # type: ignore[attr-defined]
    return import_visits(path, settings=rt.settings, sessions=rt.sessions, clock=rt.clock)


def tasks(rt: Runtime) -> dict[str, tuple[str, datetime, datetime | None]]:
    """RO number -> (advisor code, due at, done at) of every stored task."""
    with rt.sessions() as s:
        rows = s.execute(select(Visit.ro_number, Advisor.code, AdvisorCall.due_at, AdvisorCall.done_at)
                         .join(Visit, Visit.id == AdvisorCall.visit_id)
                         .join(Advisor, Advisor.id == AdvisorCall.advisor_id)).all()
    return {ro: (code, due, done) for ro, code, due, done in rows}


def test_every_visit_not_excluded_gives_one_task_due_three_days_after_delivery(rt: Runtime, tmp_path: Path) -> None:
    inserts: list[tuple[str, bool]] = []

    def seen(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ADVISOR_CALLS"):
            inserts.append((statement, executemany))

    rows = [["SZ01", f"RO{i:04d}", f"客户{i}", f"138{i:08d}", "SA01" if i % 2 else "SA02",
             "内部" if i % 10 == 0 else "保养", "2026-11-19 10:00"] for i in range(1, 31)]
    event.listen(rt.engine, "before_cursor_execute", seen)
    try:
        report = _import(rt, tmp_path / "v.csv", rows)
    finally:
        event.remove(rt.engine, "before_cursor_execute", seen)
    assert report.errors == [] and report.created == 30
    found = tasks(rt)
    assert len(found) == 27  # RO0010, RO0020, RO0030 are internal: no task, as no case
    assert "RO0010" not in found
    assert found["RO0001"] == ("SA01", datetime(2026, 11, 22, 2, 0, tzinfo=UTC), None)  # 10:00 Shanghai + 72h
    assert found["RO0002"][0] == "SA02"
    assert len(inserts) == 1  # the whole batch in one INSERT


def test_a_reimport_moves_an_open_task_with_its_visit(rt: Runtime, tmp_path: Path) -> None:
    _import(rt, tmp_path / "a.csv", [
        ["SZ01", "RO1", "张三", "13800138001", "SA01", "保养", "2026-11-19 10:00"],
        ["SZ01", "RO2", "李四", "13800138002", "SA01", "保养", "2026-11-19 10:00"],
        ["SZ01", "RO3", "王五", "13800138003", "SA01", "内部", "2026-11-19 10:00"],
        ["SZ01", "RO4", "赵六", "13800138004", "SA01", "保养", "2026-11-19 10:00"],
    ])
    with rt.sessions() as s:  # RO4's call is already made
        done = s.scalars(select(AdvisorCall).join(Visit).where(Visit.ro_number == "RO4")).one()
        done.done_at, done.reached, done.made_by = IMPORT_AT, True, "user:sa01"
        s.commit()
    _import(rt, tmp_path / "b.csv", [
        ["SZ01", "RO1", "张三", "13800138001", "SA02", "保养", "2026-11-19 15:00"],  # advisor and time change
        ["SZ01", "RO2", "李四", "13800138002", "SA01", "内部", "2026-11-19 10:00"],  # becomes excluded
        ["SZ01", "RO3", "王五", "13800138003", "SA01", "保养", "2026-11-19 10:00"],  # stops being excluded
        ["SZ01", "RO4", "赵六", "13800138004", "SA02", "保养", "2026-11-19 12:00"],  # done: stays as it was
    ], at=IMPORT_AT + timedelta(hours=1))
    found = tasks(rt)
    assert found["RO1"] == ("SA02", datetime(2026, 11, 22, 7, 0, tzinfo=UTC), None)
    assert "RO2" not in found
    assert found["RO3"] == ("SA01", datetime(2026, 11, 22, 2, 0, tzinfo=UTC), None)
    assert found["RO4"] == ("SA01", datetime(2026, 11, 22, 2, 0, tzinfo=UTC), IMPORT_AT)
