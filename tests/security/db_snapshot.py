"""Every row of every table, to prove that a request changed nothing (or only what it may)."""

from __future__ import annotations

from sqlalchemy import select

from followup.models import Base
from followup.runtime import Runtime

Snapshot = dict[str, list[tuple[str, ...]]]


def snapshot(rt: Runtime) -> Snapshot:
    """``{table: [row as strings, ...]}`` for every mapped table, rows in primary-key order."""
    out: Snapshot = {}
    with rt.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = conn.execute(select(table).order_by(*order)).all()
            out[table.name] = [tuple(str(v) for v in row) for row in rows]
    return out


def changed_tables(before: Snapshot, after: Snapshot) -> dict[str, tuple[int, int]]:
    """The tables whose rows differ, with their row counts before and after."""
    return {name: (len(before[name]), len(after[name])) for name in before if before[name] != after[name]}


def new_audit_actions(rt: Runtime, before: Snapshot, after: Snapshot) -> list[str]:
    """The actions of the audit rows added between two snapshots (the old rows must be unchanged)."""
    old, new = before["audit_log"], after["audit_log"]
    assert new[: len(old)] == old, "an audit row was changed or removed"
    columns = [c.name for c in Base.metadata.tables["audit_log"].columns]
    action = columns.index("action")
    return [row[action] for row in new[len(old):]]
