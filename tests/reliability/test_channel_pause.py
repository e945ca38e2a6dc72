"""R3: an account or configuration error pauses the channel for the store, never costs a customer
an attempt, and an administrator resumes it (issue #16: "a misconfigured account uses up all three
attempts of every customer").

On the loopback Twilio emulator, Twilio answers SZ01's first call with 401 / 20003 (authentication).
SZ01's calls then wait — same due time, not an attempt, nothing audited about the customer — one
``channel.paused`` webhook is emitted (not one per contact), store SZ02 keeps calling, the panel
shows a banner, and the resume (the panel's admin button, or ``followup channels resume``) sends
the waiting calls in due order with a ``channel.resumed`` webhook. SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import database_url, migrated_runtime
from factories import add_visit, local, logged_in_client, make_user, post, seen, visit_row
from fakes.twilio_emulator import TwilioEmulator
from fakes.twilio_env import import_visit, tick_at, twilio_env
from sqlalchemy import select

from followup.channels.base import AccountError
from followup.channels.twilio_errors import classify
from followup.cli import main
from followup.engine.pauses import resume
from followup.models import AuditEntry, ChannelPause, ContactAttempt, FollowupCase, Store, WebhookEvent
from followup.runtime import Runtime
from followup.settings import load_settings

EXTRA = {"FOLLOWUP__stores__SZ02__name": "深圳福田大众4S店"}  # a second store, calling by the IVR too
#: SZ01's three customers, due 09:10, 09:20 and 09:30 on Friday; SZ02's one, due 09:15
SZ01 = [("RO-A", "+8613800138001", 10), ("RO-B", "+8613800138002", 20), ("RO-C", "+8613800138003", 30)]
SZ02 = ("RO-Z", "+8613900139009", 15)
TICK = local(2026, 11, 20, 9, 40)


@pytest.fixture
def env(backend: str, tmp_path: Path, request: pytest.FixtureRequest, emulator: TwilioEmulator) -> dict[str, str]:
    return twilio_env(emulator, database_url(backend, request, tmp_path / "pause.db"), **EXTRA)


@pytest.fixture
def prt(env: dict[str, str], emulator: TwilioEmulator) -> Iterator[Runtime]:
    """A Twilio-mode runtime with two stores, four visits planned, the clock on Thursday."""
    runtime = migrated_runtime(load_settings(env))
    runtime.clock.set(local(2026, 11, 19, 9, 0))  # type: ignore[attr-defined]
    emulator.clock = lambda: runtime.clock.now()
    for ro, mobile, minute in SZ01:
        add_visit(runtime, visit_row(ro, mobile=mobile, delivered_at=local(2026, 11, 19, 9, minute)), plan=True)
    ro, mobile, minute = SZ02
    add_visit(runtime, visit_row(ro, store_code="SZ02", mobile=mobile, delivered_at=local(2026, 11, 19, 9, minute)),
              plan=True)
    yield runtime
    runtime.dispose()


def calls_of(rt: Runtime, store: str) -> list[ContactAttempt]:
    """The store's call rows, in the order they were planned."""
    with rt.sessions() as s:
        return list(s.scalars(select(ContactAttempt).join(FollowupCase, FollowupCase.id == ContactAttempt.case_id)
                              .join(Store, Store.id == FollowupCase.store_id)
                              .where(Store.code == store, ContactAttempt.channel == "call")
                              .order_by(ContactAttempt.due_at, ContactAttempt.id)))


def events(rt: Runtime, type_: str) -> list[WebhookEvent]:
    with rt.sessions() as s:
        return list(s.scalars(select(WebhookEvent).where(WebhookEvent.type == type_)))


def call_posts(emulator: TwilioEmulator) -> list[tuple[str, int | None]]:
    return [(r.one("To"), r.status) for r in emulator.requests if r.method == "POST" and r.resource == "Calls"]


def pause_sz01(rt: Runtime, emulator: TwilioEmulator) -> None:
    """The first call of the tick (SZ01's, due 09:10) gets Twilio's 401 / 20003."""
    emulator.fail_next(401, 20003, "Authenticate")
    tick_at(rt, TICK)


@pytest.mark.parametrize("code", [20003, 20005, 21215, 21212, 21606, 21408, 20008])
def test_twilio_account_and_configuration_codes_are_account_errors(code: int) -> None:
    from twilio.base.exceptions import TwilioRestException

    err = classify(TwilioRestException(400, "https://api.twilio.com/x", "refused", code=code), "call")
    assert isinstance(err, AccountError) and err.code == str(code)


def test_the_customers_stop_21610_and_an_invalid_number_are_not_account_errors() -> None:
    from twilio.base.exceptions import TwilioRestException

    for code in (21610, 21211):
        assert not isinstance(classify(TwilioRestException(400, "u", "m", code=code), "sms"), AccountError)


def test_an_account_error_pauses_the_stores_calls_costs_no_attempt_and_other_stores_keep_calling(
        prt: Runtime, emulator: TwilioEmulator) -> None:
    before = {a.id: (a.due_at, a.number) for a in calls_of(prt, "SZ01")}
    with prt.sessions() as s:
        states = {i: st for i, st in s.execute(select(FollowupCase.id, FollowupCase.state))}
    pause_sz01(prt, emulator)
    # one refused request for SZ01 (the first due), SZ02's call placed, SZ01's others never tried
    assert call_posts(emulator) == [(SZ01[0][1], 401), (SZ02[1], 201)]
    waiting = calls_of(prt, "SZ01")
    assert {a.id: (a.due_at, a.number) for a in waiting} == before  # same due times, same attempt numbers
    assert all((a.status, a.outcome, a.retries, a.started_at) == ("planned", None, 0, None) for a in waiting)
    (z,) = calls_of(prt, "SZ02")
    assert z.status == "in_progress" and z.provider_id
    with prt.sessions() as s:
        assert {i: st for i, st in s.execute(select(FollowupCase.id, FollowupCase.state))} == {
            **states, z.case_id: s.get_one(FollowupCase, z.case_id).state}
        (row,) = s.scalars(select(ChannelPause)).all()
        assert (row.store_code, row.channel, row.code, row.resumed_at) == ("SZ01", "call", "20003", None)
        audit = s.scalars(select(AuditEntry.action).where(AuditEntry.case_id.in_([a.case_id for a in waiting]))).all()
        assert "call.outcome" not in audit  # no customer outcome was recorded
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.action == "channel.paused")).all()) == 1
    (paused,) = events(prt, "channel.paused")
    assert paused.data["store_code"] == "SZ01" and paused.data["channel"] == "call" and paused.data["code"] == "20003"
    assert "Authenticate" in paused.data["message"]
    # later ticks: SZ01 still waits, nothing is tried, no second webhook
    tick_at(prt, local(2026, 11, 20, 14, 0))
    assert call_posts(emulator) == [(SZ01[0][1], 401), (SZ02[1], 201)]
    assert len(events(prt, "channel.paused")) == 1
    assert [a.status for a in calls_of(prt, "SZ01")] == ["planned"] * 3


def test_the_banner_shows_while_paused_and_only_an_admin_resumes_then_the_calls_go_in_due_order(
        prt: Runtime, emulator: TwilioEmulator) -> None:
    make_user(prt, "staff1")
    make_user(prt, "boss", role="admin")
    pause_sz01(prt, emulator)
    staff = logged_in_client(prt, "staff1")
    text = seen(staff, "/cases")
    assert "SZ01" in text and "已暂停" in text and "20003" in text  # Chinese first
    assert 'id="resume-SZ01-call"' not in staff.get("/cases").get_data(as_text=True)  # no button for staff
    assert "paused since" in seen(staff, "/cases?lang=en")  # English from the catalogue's msgid
    refused = post(staff, "/channels/SZ01/call/resume", {}, token_from="/cases")
    assert refused.status_code == 403
    with prt.sessions() as s:
        assert s.scalars(select(ChannelPause.resumed_at)).one() is None
    admin = logged_in_client(prt, "boss")
    assert 'id="resume-SZ01-call"' in admin.get("/").get_data(as_text=True)
    done = post(admin, "/channels/SZ01/call/resume", {"next": "/cases"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/cases")
    with prt.sessions() as s:
        row = s.scalars(select(ChannelPause)).one()
        assert row.resumed_by == "user:boss" and row.resumed_at is not None
        assert s.scalars(select(AuditEntry.actor).where(AuditEntry.action == "channel.resumed")).all() == ["user:boss"]
    (resumed,) = events(prt, "channel.resumed")
    assert resumed.data["store_code"] == "SZ01" and resumed.data["channel"] == "call"
    assert "已暂停" not in seen(staff, "/cases")  # the banner is gone
    tick_at(prt, local(2026, 11, 20, 10, 0))
    assert call_posts(emulator)[2:] == [(m, 201) for _, m, _ in SZ01]  # in due order: A, B, C
    assert [a.status for a in calls_of(prt, "SZ01")] == ["in_progress"] * 3
    assert [a.number for a in calls_of(prt, "SZ01")] == [1, 1, 1]  # the pause cost nobody an attempt


def test_the_cli_resumes_and_a_second_resume_is_a_clear_error(prt: Runtime, emulator: TwilioEmulator,
                                                              env: dict[str, str]) -> None:
    pause_sz01(prt, emulator)
    listed = CliRunner().invoke(main, ["channels", "list"], env=env)
    assert listed.exit_code == 0 and "SZ01 call paused since" in listed.output
    result = CliRunner().invoke(main, ["channels", "resume", "SZ01", "call"], env=env)
    assert result.exit_code == 0, result.output
    assert "SZ01 call resumed" in result.output
    assert len(events(prt, "channel.resumed")) == 1
    with prt.sessions() as s:
        assert (s.scalars(select(ChannelPause.resumed_by)).one() or "").startswith("cli")
    again = CliRunner().invoke(main, ["channels", "resume", "SZ01", "call"], env=env)
    assert again.exit_code == 2 and "not paused" in again.output and "Traceback" not in again.output
    tick_at(prt, local(2026, 11, 20, 10, 0))
    assert call_posts(emulator)[2:] == [(m, 201) for _, m, _ in SZ01]


def test_a_call_whose_deadline_passed_while_paused_starts_the_fallback_with_system_delay(
        prt: Runtime, emulator: TwilioEmulator) -> None:
    pause_sz01(prt, emulator)
    after = local(2026, 11, 23, 10, 0)  # SZ01's deadlines (Sunday 09:10-09:30) have passed
    tick_at(prt, after)
    with prt.sessions() as s:
        ids = [a.case_id for a in calls_of(prt, "SZ01")]
        rules = {(c.three_day_rule, c.breach_reason) for c in s.scalars(select(FollowupCase).where(
            FollowupCase.id.in_(ids)))}
        assert rules == {("breached", "system_delay")}
        resume(s, "SZ01", "call", "cli:test", after)
        s.commit()
    tick_at(prt, local(2026, 11, 23, 10, 1))
    assert [a.status for a in calls_of(prt, "SZ01")] == ["cancelled"] * 3  # no call after the deadline
    sms = [r.one("To") for r in emulator.requests if r.method == "POST" and r.resource == "Messages"]
    assert sorted(sms) == sorted(m for _, m, _ in SZ01)  # the SMS survey (R4) for each, at once


def test_an_sms_sender_refused_pauses_the_stores_sms_and_not_its_calls(
        twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path) -> None:
    import_visit(twilio_rt, tmp_path, ro="WO-SMS", do_not_call=True)  # the SMS survey is due at once
    import_visit(twilio_rt, tmp_path, ro="WO-CALL", mobile="+8613800138005")  # called on Friday 09:00
    at = local(2026, 11, 19, 9, 0)
    emulator.clock = lambda: at
    emulator.fail_next(400, 21606, "The 'From' phone number is not a valid, SMS-capable inbound phone number")
    tick_at(twilio_rt, at)
    with twilio_rt.sessions() as s:
        (sms,) = s.scalars(select(ContactAttempt).where(ContactAttempt.channel == "sms")).all()
        assert (sms.status, sms.outcome, sms.due_at <= at) == ("planned", None, True)  # waits, as it was
        (row,) = s.scalars(select(ChannelPause)).all()
        assert (row.store_code, row.channel, row.code) == ("SZ01", "sms", "21606")
    tick_at(twilio_rt, local(2026, 11, 19, 10, 0))
    assert [r.status for r in emulator.requests if r.method == "POST" and r.resource == "Messages"] == [400]
    emulator.clock = lambda: local(2026, 11, 20, 9, 0)
    tick_at(twilio_rt, local(2026, 11, 20, 9, 0))
    assert call_posts(emulator) == [("+8613800138005", 201)]  # the store's calls go on
    assert len(events(twilio_rt, "channel.paused")) == 1
