"""``worklist.held_call``: the call page's view of a call one holds (RULES R3, R10), on SQLite and
PostgreSQL. The full number for the holder only, no second reveal in the audit, the page kept when
the staff hours close during the call, gone when the claim lapses or the outcome is recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from factories import local
from sqlalchemy import func, select
from worklist_world import at, planned_call, staff_visit, staffed, user

from followup.cases import worklist
from followup.models import AuditEntry
from followup.runtime import Runtime


@pytest.fixture
def hrt(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    yield from staffed(backend, tmp_path, request, local(2026, 11, 19, 10, 0))


def reveals(rt: Runtime) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "pii.revealed")) or 0


def test_the_holder_sees_the_full_number_revealed_once_others_get_409(hrt: Runtime) -> None:
    call_id = planned_call(hrt, staff_visit(hrt, "RO1")).id
    now = at(hrt, local(2026, 11, 20, 11, 50))
    with hrt.sessions() as s:
        worklist.claim(s, hrt.settings, user(hrt, "caller1"), call_id, now)
        s.commit()
    assert reveals(hrt) == 1
    with hrt.sessions() as s:
        call, held = worklist.held_call(s, hrt.settings, user(hrt, "caller1"), call_id, now + timedelta(minutes=1))
        assert (call.attempt_id, call.customer_name, call.phone) == (call_id, "张伟", "138****8000")
        assert (held.phone, held.claimed_until) == ("+8613800138000", now + timedelta(minutes=15))
        # 12:04:59: the staff hours closed at 12:00, the call in progress stays on the page
        assert worklist.held_call(s, hrt.settings, user(hrt, "caller1"), call_id, now + timedelta(minutes=15) -
                                  timedelta(seconds=1))[0].attempt_id == call_id
        with pytest.raises(worklist.Conflict, match="caller1"):
            worklist.held_call(s, hrt.settings, user(hrt, "caller2"), call_id, now + timedelta(minutes=1))
        with pytest.raises(worklist.NotFound):  # the claim lapsed
            worklist.held_call(s, hrt.settings, user(hrt, "caller1"), call_id, now + timedelta(minutes=15))
    assert reveals(hrt) == 1  # looking again is not a new reveal


def test_a_call_not_claimed_or_already_recorded_is_not_held(hrt: Runtime) -> None:
    call_id = planned_call(hrt, staff_visit(hrt, "RO1")).id
    now = at(hrt, local(2026, 11, 20, 10, 30))
    with hrt.sessions() as s:
        with pytest.raises(worklist.NotFound):
            worklist.held_call(s, hrt.settings, user(hrt, "caller1"), call_id, now)
        worklist.claim(s, hrt.settings, user(hrt, "caller1"), call_id, now)
        worklist.record_outcome(s, hrt.settings, user(hrt, "caller1"), call_id, "no_answer", now=now)
        s.commit()
    with hrt.sessions() as s, pytest.raises(worklist.NotFound):
        worklist.held_call(s, hrt.settings, user(hrt, "caller1"), call_id, now)
