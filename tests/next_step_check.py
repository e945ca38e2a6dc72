"""The check every end-to-end scenario ends with: RULES R3, no open case without a next step
(``followup doctor``'s own query, :func:`followup.cases.next_step.cases_without_next_step`)."""

from __future__ import annotations

from followup.cases.next_step import cases_without_next_step
from followup.runtime import Runtime


def assert_every_open_case_has_a_next_step(rt: Runtime) -> None:
    """Fails with each case (store, RO, state, why) that has none, at the runtime's clock."""
    with rt.sessions() as s:
        found = cases_without_next_step(s, rt.settings, rt.clock.now())
    assert not found, "open cases without a next step (RULES R3):\n" + "\n".join(
        f"  {c.store_code} {c.ro_number} (case {c.case_id}, {c.state}): {c.reason}" for c in found)
