"""`make run`'s demo (``config/demo.toml``): SZ01 calls by the IVR, SZ02 by its staff, whose worklist
is filled for the demo login ``staff2`` and whose capacity panel already has an hour of calls."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from template_db import migrated_sqlite_url

from followup.cases import worklist
from followup.cases.monitor import staff_capacity
from followup.models import User
from followup.runtime import build_runtime, sync_stores
from followup.sandbox.demo_data import load_demo
from followup.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow(seconds=8)
def test_the_demo_has_an_ivr_store_and_a_staff_store_with_its_worklist_filled(tmp_path: Path) -> None:
    settings = load_settings({"FOLLOWUP_ENV": "test", "DATABASE_URL": migrated_sqlite_url(tmp_path / "demo.db"),
                              "FOLLOWUP_TEST_CLOCK": "1", "FOLLOWUP_CONFIG": str(ROOT / "config" / "demo.toml")})
    assert (settings.stores["SZ01"].calls_by, settings.stores["SZ02"].calls_by) == ("ivr", "staff")
    assert settings.stores["SZ02"].name == "深圳福田大众4S店"
    rt = build_runtime(settings)
    try:
        with rt.sessions() as s:
            sync_stores(s, rt.settings)
            s.commit()
        now = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # Friday 14:00 in Shenzhen
        rt.clock.set(now)  # type: ignore[attr-defined]
        with rt.sessions() as s:
            assert load_demo(s, rt)
            s.commit()
        with rt.sessions() as s:
            staff2 = s.scalars(select(User).where(User.username == "staff2")).one()
            assert worklist.worklist_stores(s, rt.settings, staff2) == ["SZ02"]
            page = worklist.due_calls(s, rt.settings, staff2, "SZ02", now)
            assert page.next_opening is None and len(page.calls) >= 20
            assert all(c.store_name == "深圳福田大众4S店" for c in page.calls)
            assert any(c.previous for c in page.calls)  # a case already called twice, without an answer
            assert any(c.at_risk for c in page.calls)
            staff = s.scalars(select(User).where(User.username == "staff")).one()
            assert worklist.worklist_stores(s, rt.settings, staff) == []  # SZ01's calls are the IVR's
            (cap,) = staff_capacity(s, rt.settings, ["SZ01", "SZ02"], now)
            (caller,) = cap.callers
            assert (cap.store_code, cap.made_today, caller.username, caller.reached) == ("SZ02", 6, "staff2", 4)
    finally:
        rt.dispose()
