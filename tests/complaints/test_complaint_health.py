"""R7: "no complaint can reach a state from which nobody can move it". ``stuck_complaints`` lists
those that could (for ``followup doctor``); ``ways_forward`` says what moves one that is fine."""

from __future__ import annotations

from datetime import timedelta

from complaints.world import BAD, add_visit, answer, local, user
from sqlalchemy import select, update

from followup.complaints.health import stuck_complaints, ways_forward
from followup.models import Complaint, User
from followup.runtime import Runtime

NOW = local(2026, 11, 5, 10, 0)


def one_complaint(rt: Runtime) -> int:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    case_id = add_visit(rt, "RO-H-1", delivered=local(2026, 11, 3, 9, 0))
    answer(rt, case_id, BAD, at=NOW)
    with rt.sessions() as s:
        return s.scalars(select(Complaint.id)).one()


def problems(rt: Runtime) -> list[str]:
    with rt.sessions() as s:
        return [p.problem for p in stuck_complaints(s, rt.settings, rt.clock.now())]


def changed(rt: Runtime, **values: object) -> None:
    """The complaint's columns set to ``values`` (a state the actions would reach)."""
    with rt.sessions() as s:
        s.execute(update(Complaint).values(**values))
        s.commit()


def stuck_after(rt: Runtime, **values: object) -> str:
    """The complaint :func:`changed` to ``values`` is stuck: the one problem found."""
    changed(rt, **values)
    (stuck,) = problems(rt)
    return stuck


def test_an_open_complaint_that_escalates_is_not_stuck_even_before_anyone_logs_in(rt: Runtime) -> None:
    cid = one_complaint(rt)
    user(rt, "gm", "manager")  # the general manager at the top can always act
    assert problems(rt) == []
    with rt.sessions() as s:
        ways = ways_forward(s, rt.settings, s.get_one(Complaint, cid), NOW)
    assert [w.kind for w in ways] == ["escalates", "act"]
    assert ways[0].at == NOW + timedelta(hours=24) and ways[1].who == ("gm",)


def test_a_top_level_complaint_nobody_can_act_on_is_stuck(rt: Runtime) -> None:
    cid = one_complaint(rt)
    user(rt, "manager", "manager")  # the service manager cannot act at level 3, and no gm or admin exists
    stuck = stuck_after(rt, level=3, assignee="gm")
    assert "nobody" in stuck
    user(rt, "admin", "admin")
    assert problems(rt) == []
    with rt.sessions() as s:  # an inactive admin cannot log in: stuck again
        s.execute(update(User).where(User.username == "admin").values(active=False))
        s.commit()
    assert len(problems(rt)) == 1
    assert cid


def test_a_resolved_complaint_with_no_resurvey_and_no_check_is_stuck(rt: Runtime) -> None:
    one_complaint(rt)
    user(rt, "manager", "manager")
    stuck = stuck_after(rt, status="resolved", resolved_at=NOW, resurvey_check_at=None)
    assert "re-survey" in stuck
    changed(rt, resurvey_check_at=NOW + timedelta(days=2))  # looked at again later (reminder, timeout)
    assert problems(rt) == []


def test_a_complaint_only_a_manager_may_close_needs_a_manager(rt: Runtime) -> None:
    one_complaint(rt)
    user(rt, "staff", "info_staff")
    stuck = stuck_after(rt, status="resolved", resolved_at=NOW, unconfirmed_at=NOW)
    assert "manager" in stuck
    user(rt, "boss", "manager")
    assert problems(rt) == []
