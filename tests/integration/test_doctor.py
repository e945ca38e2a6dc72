"""RULES R3 "an open case always has a next step" as a database check: ``followup.cases.next_step``,
the ``followup doctor`` command (CONTRACT §3: exit 0 none, 1 some, listed), the worker's daily duty
and the monitor's count."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from factories import NOW, add_visit, logged_in_client, make_user, visit_row
from sqlalchemy import select, update

from followup.cases.next_step import cases_without_next_step, check
from followup.cli import main
from followup.engine.tick import daily_duties, doctor
from followup.models import AuditEntry, Complaint, ContactAttempt, FollowupCase, User
from followup.runtime import Runtime, build_runtime, sync_stores
from followup.schema import upgrade
from followup.settings import load_settings


def strand(rt: Runtime, case_id: int, *, state: str | None = None) -> None:
    """Leave a case with no next step, as a defect would: its planned contacts cancelled and nothing
    to look at it again (rows written directly)."""
    with rt.sessions() as s:
        s.execute(update(ContactAttempt).where(ContactAttempt.case_id == case_id,
                                               ContactAttempt.status.in_(("planned", "dispatching")))
                  .values(status="cancelled", reason="test"))
        case = s.get_one(FollowupCase, case_id)
        case.next_check_at = None
        if state:
            case.state = state
        s.commit()


def test_every_kind_of_next_step_counts_and_a_stranded_case_is_listed(rt: Runtime) -> None:
    planned = add_visit(rt, visit_row("RO-PLAN", mobile="+8613900139000"), at=NOW, plan=True)
    lost = add_visit(rt, visit_row("RO-LOST", mobile="+8613600136000"), at=NOW, plan=True)
    letter = add_visit(rt, visit_row("RO-LTR", mobile="+8613700137000"), at=NOW)
    new = add_visit(rt, visit_row("RO-NEW"), at=NOW)  # next_check_at: planned on the next tick
    with rt.sessions() as s:
        assert s.get_one(FollowupCase, new).next_check_at is not None
        assert s.scalar(select(ContactAttempt.status).where(ContactAttempt.case_id == planned)) == "planned"
        # a letter queued for the next batch: in progress, nothing else planned, no check time
        case = s.get_one(FollowupCase, letter)
        case.state, case.next_check_at = "letter_queued", None
        s.add(ContactAttempt(case_id=letter, channel="letter", kind="survey", number=1, status="in_progress",
                             outcome="queued", started_at=NOW, created_at=NOW))
        s.commit()
        assert cases_without_next_step(s, rt.settings, NOW) == []
    strand(rt, lost, state="calling")
    with rt.sessions() as s:
        found = cases_without_next_step(s, rt.settings, NOW)
        assert [(c.case_id, c.store_code, c.ro_number, c.state) for c in found] == [(lost, "SZ01", "RO-LOST", "calling")]
        assert "nothing planned and nothing looks at it again" in found[0].reason
        assert "call #1 (survey) cancelled" in found[0].reason
        # a planned row without a due time is never claimed: not a next step either
        s.execute(update(ContactAttempt).where(ContactAttempt.case_id == planned).values(due_at=None))
        s.commit()
        assert [c.case_id for c in cases_without_next_step(s, rt.settings, NOW)] == [planned, lost]
        assert [c.case_id for c in cases_without_next_step(s, rt.settings, NOW, store_codes=["SZ01"])] == [planned, lost]
        health = check(s, rt.settings, NOW)
        assert health.open_cases == 4 and not health.ok


def test_a_call_whose_status_callback_never_came_is_found_after_four_hours(rt: Runtime) -> None:
    case_id = add_visit(rt, visit_row("RO-CB"), at=NOW, plan=True)
    with rt.sessions() as s:  # the provider took the call; its final status callback is lost
        call = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id)).one()
        call.status, call.started_at, call.provider_id = "in_progress", NOW, "CA0001"
        s.get_one(FollowupCase, case_id).next_check_at = None
        s.commit()
        assert cases_without_next_step(s, rt.settings, NOW + timedelta(hours=3, minutes=59)) == []
        (found,) = cases_without_next_step(s, rt.settings, NOW + timedelta(hours=4, minutes=1))
    assert found.ro_number == "RO-CB" and "call #1 has waited for the provider's status callback since" in found.reason


def test_a_case_in_complaint_state_with_no_open_complaint_has_no_next_step(rt: Runtime) -> None:
    case_id = add_visit(rt, visit_row("RO-CMP"), at=NOW, plan=True)
    strand(rt, case_id, state="complaint")
    with rt.sessions() as s:
        found = cases_without_next_step(s, rt.settings, NOW)
    assert [(c.ro_number, c.state) for c in found] == [("RO-CMP", "complaint")]
    assert "none of its complaints is open" in found[0].reason


def test_a_case_in_complaint_state_moves_on_while_its_complaint_has_a_way_forward(rt: Runtime) -> None:
    from complaints.world import BAD, answer, local, user
    from complaints.world import add_visit as complaint_visit

    now = local(2026, 11, 5, 10, 0)
    rt.clock.set(now)  # type: ignore[attr-defined]
    case_id = complaint_visit(rt, "RO-H-1", delivered=local(2026, 11, 3, 9, 0))
    answer(rt, case_id, BAD, at=now)  # dissatisfied: the case is the complaint loop's
    user(rt, "gm", "manager")
    with rt.sessions() as s:
        assert s.get_one(FollowupCase, case_id).state == "complaint"
        health = check(s, rt.settings, now)
        assert health.ok and health.open_complaints == 1
        s.execute(update(Complaint).values(level=3, assignee="nobody"))  # nobody can act on it at the top
        s.execute(update(User).where(User.username == "gm").values(active=False))
        s.commit()
        health = check(s, rt.settings, now)
    assert [k.ro_number for k in health.complaints] == ["RO-H-1"]
    assert [(c.ro_number, c.state) for c in health.cases] == [("RO-H-1", "complaint")]
    assert "has no way forward: nobody can act on it" in health.cases[0].reason


def test_the_daily_duty_audits_only_a_finding(rt: Runtime) -> None:
    assert list(daily_duties()) == ["doctor", "retention"]
    ok = add_visit(rt, visit_row("RO-OK"), at=NOW, plan=True)
    assert doctor(rt, NOW) == {"cases_without_next_step": 0, "complaints_without_way_forward": 0}
    strand(rt, ok)
    assert doctor(rt, NOW)["cases_without_next_step"] == 1
    with rt.sessions() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action.like("doctor.%"))).all()
    assert [(r.action, r.actor, r.detail["cases"], r.detail["first_cases"]) for r in rows] == [
        ("doctor.found", "system", 1, ["SZ01 RO-OK (scheduled)"])]


def test_the_worker_runs_the_doctor_once_a_day(rt: Runtime) -> None:
    from followup.channels.sandbox import SandboxChannel
    from followup.worker import build_scheduler

    scheduler = build_scheduler(rt, SandboxChannel(lambda contact: None))  # type: ignore[arg-type,return-value]
    job = scheduler.get_job("doctor")
    assert job is not None and job.trigger.interval == timedelta(days=1)
    assert scheduler.get_job("dispatch").trigger.interval < timedelta(minutes=5)  # type: ignore[union-attr]


def test_the_monitor_shows_the_count(rt: Runtime) -> None:
    make_user(rt, "staff1")
    client = logged_in_client(rt, "staff1")
    lost = add_visit(rt, visit_row("RO-LOST"), at=NOW, plan=True)
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'id="no-next-step">0<', html) and "无下一步的案件" in html
    strand(rt, lost)
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'id="no-next-step">1<', html) and "followup doctor" in html
    en = client.get("/?lang=en").get_data(as_text=True)
    assert "Cases without a next step" in en and "无下一步的案件" not in en


# --- the command ----------------------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path) -> dict[str, str | None]:
    env: dict[str, str | None] = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "FOLLOWUP_ENV": "test",
                                  "FOLLOWUP_TEST_CLOCK": "1", "FOLLOWUP_CONFIG": None}
    rt = build_runtime(load_settings({k: v for k, v in env.items() if v is not None}))
    upgrade(rt.engine)
    with rt.sessions() as s:
        sync_stores(s, rt.settings)
        s.commit()
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    rt.dispose()
    return env


def run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(main, ["doctor", *args], env=env)


def test_doctor_exit_0_then_1_with_the_list(cli_db: dict[str, str | None]) -> None:
    rt = build_runtime(load_settings({k: v for k, v in cli_db.items() if v is not None}))
    try:
        ok = add_visit(rt, visit_row("RO-OK"), at=NOW, plan=True)
        lost = add_visit(rt, visit_row("RO-LOST", mobile="+8613900139000"), at=NOW, plan=True)
        result = run(cli_db)
        assert result.exit_code == 0, result.output
        assert result.output.strip() == "OK: 2 open cases, each with a next step; 0 complaints, each with a way forward"
        strand(rt, lost, state="calling")
        result = run(cli_db)
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert lines[0].startswith(f"case without a next step: SZ01 RO-LOST (case {lost}, state calling): "
                                   "nothing planned and nothing looks at it again")
        assert lines[-1] == ("1 of 2 open cases without a next step (RULES R3); "
                             "0 of 0 complaints without a way forward (RULES R7)")
        assert "RO-OK" not in result.output and ok != lost
        assert run(cli_db, "--store", "SZ01").exit_code == 1
        unknown = run(cli_db, "--store", "NOPE")
        assert unknown.exit_code == 2 and "unknown store 'NOPE'" in unknown.output
    finally:
        rt.dispose()


def test_doctor_before_db_upgrade_says_what_to_do(tmp_path: Path) -> None:
    result = run({"DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}", "FOLLOWUP_ENV": "test", "FOLLOWUP_CONFIG": None})
    assert result.exit_code == 2 and "followup db upgrade" in result.output and "Traceback" not in result.output
