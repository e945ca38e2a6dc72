"""The pure escalation rule of R7 (no database, no clock): a table of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from followup.rules.complaint_levels import ComplaintFacts, Escalation, level_above, next_escalation
from followup.settings import ComplaintSettings

SLA = ComplaintSettings(ack_sla=timedelta(hours=24), resurvey_delay=timedelta(hours=24), max_resurveys=2)
DUE = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(("level", "status", "now", "expected"), [
    (1, "open", DUE - timedelta(seconds=1), None),
    (1, "open", DUE, Escalation(2, DUE + timedelta(hours=24))),
    (2, "open", DUE + timedelta(hours=5), Escalation(3, DUE + timedelta(hours=29))),
    (3, "open", DUE + timedelta(days=9), None),  # the general manager is the top
    (1, "acknowledged", DUE + timedelta(days=1), None),
    (2, "resolved", DUE + timedelta(days=1), None),
    (1, "closed", DUE + timedelta(days=1), None),
])
def test_next_escalation(level: int, status: str, now: datetime, expected: Escalation | None) -> None:
    assert next_escalation(ComplaintFacts(level, status, DUE), now, SLA) == expected


def test_a_reopened_complaint_goes_one_level_up_but_never_past_3() -> None:
    assert [level_above(n) for n in (1, 2, 3)] == [2, 3, 3]
