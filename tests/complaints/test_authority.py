"""R7: only the assignee or someone above may acknowledge, resolve or escalate a complaint. An
advisor acknowledging someone else's complaint (or information staff, or a manager below the
level) used to stop its escalation for good."""

from __future__ import annotations

import pytest
from complaints.world import (
    BAD,
    add_visit,
    answer,
    events,
    get_user,
    local,
    on_complaint,
    the_complaint,
    user,
)
from sqlalchemy import select, update

from followup.complaints.actions import NotAllowed, acknowledge, escalate_now, log_contact, resolve
from followup.models import Complaint, ComplaintStep
from followup.runtime import Runtime

NOW = local(2026, 11, 5, 10, 0)

#: (level, user, may act): the visit's advisor is sa01; "manager" is the store's service manager
#: and "gm" its general manager (config/followup.toml); "boss" is a manager the store names neither
TABLE = [
    (1, "sa01", True), (1, "sa02", False), (1, "staff", False), (1, "boss", True), (1, "manager", True),
    (1, "gm", True), (1, "admin", True),
    (2, "sa01", False), (2, "staff", False), (2, "boss", False), (2, "manager", True), (2, "gm", True),
    (2, "admin", True),
    (3, "sa01", False), (3, "boss", False), (3, "manager", False), (3, "gm", True), (3, "admin", True),
]


@pytest.fixture
def case_id(rt: Runtime) -> int:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    case_id = add_visit(rt, "RO-A-1", delivered=local(2026, 11, 3, 9, 0))
    add_visit(rt, "RO-A-2", delivered=local(2026, 11, 3, 9, 0), advisor="SA02")
    answer(rt, case_id, BAD, at=NOW)
    user(rt, "sa01", "advisor", advisor="SA01")
    user(rt, "sa02", "advisor", advisor="SA02")
    for name, role in (("staff", "info_staff"), ("boss", "manager"), ("manager", "manager"), ("gm", "manager"),
                       ("admin", "admin")):
        user(rt, name, role)
    return case_id


def test_who_may_acknowledge_at_each_level(rt: Runtime, case_id: int) -> None:
    seen = []
    with rt.sessions() as s:
        for level, name, _allowed in TABLE:
            s.execute(update(Complaint).values(level=level, status="open"))
            c = s.scalars(select(Complaint)).one()
            try:
                acknowledge(s, c, get_user(s, name), settings=rt.settings, now=NOW)
            except NotAllowed as exc:
                assert "assignee" in str(exc)
                seen.append((level, name, False))
            else:
                seen.append((level, name, True))
            s.rollback()
    assert seen == TABLE


def test_a_refused_acknowledgement_leaves_the_escalation_running(rt: Runtime, case_id: int) -> None:
    with rt.sessions() as s, pytest.raises(NotAllowed):
        acknowledge(s, s.scalars(select(Complaint)).one(), get_user(s, "sa02"), settings=rt.settings, now=NOW)
    # information staff may log what the customer said; it does not take the complaint over
    on_complaint(rt, case_id, lambda s, c: log_contact(s, c, get_user(s, "staff"), note="客户来电，情绪激动",
                                                       cause=None, fix=None, settings=rt.settings, now=NOW))
    c = the_complaint(rt, case_id)
    assert (c.status, c.acknowledged_at) == ("open", None)
    with rt.sessions() as s:
        steps = list(s.execute(select(ComplaintStep.kind, ComplaintStep.by).order_by(ComplaintStep.id)))
    assert steps == [("opened", "system"), ("contact", "user:staff")]
    # the assignee's own contact does acknowledge it
    on_complaint(rt, case_id, lambda s, c: log_contact(s, c, get_user(s, "sa01"), note="已致电道歉",
                                                       cause=None, fix=None, settings=rt.settings, now=NOW))
    assert the_complaint(rt, case_id).status == "acknowledged"


def test_resolving_and_escalating_need_the_same_authority(rt: Runtime, case_id: int) -> None:
    with rt.sessions() as s:
        c = s.scalars(select(Complaint)).one()
        with pytest.raises(NotAllowed):
            resolve(s, c, get_user(s, "staff"), cause=None, fix="补漆", settings=rt.settings, now=NOW)
        with pytest.raises(NotAllowed):
            escalate_now(s, c, get_user(s, "sa02"), note=None, settings=rt.settings, now=NOW)
    assert the_complaint(rt, case_id).status == "open"
    assert events(rt, "complaint.escalated", "complaint.resolved") == []
