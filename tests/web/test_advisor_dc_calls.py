"""R11 in the panel: the advisor's own 3-day calls on their home page, recorded by them (or a manager),
audited, and never touching the case, its attempts or the score. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from panel_support import (
    NOW,
    OTHER_STORE,
    add_other_store,
    csrf,
    log_in,
    make_user,
    make_visit,
    post,
    text_of,
)
from sqlalchemy import func, select

from followup.models import AdvisorCall, AuditEntry, ContactAttempt, FollowupCase, SurveyResponse, Visit
from followup.reports.advisors import advisor_scores, find_store
from followup.runtime import Runtime
from followup.web import create_app


@pytest.fixture
def client(rt: Runtime) -> FlaskClient:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    return create_app(runtime=rt).test_client()


def call_id(rt: Runtime, ro: str) -> int:
    with rt.sessions() as s:
        found = s.scalar(select(AdvisorCall.id).join(Visit, Visit.id == AdvisorCall.visit_id).where(Visit.ro_number == ro))
        assert found is not None
        return found


def dc_section(html: str) -> str:
    found = re.search(r'<section class="dc-calls".*?</section>', html, flags=re.S)
    return text_of(found.group(0)) if found else ""


def case_snapshot(rt: Runtime, case_id: int) -> tuple[object, ...]:
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        attempts = s.execute(select(ContactAttempt.id, ContactAttempt.channel, ContactAttempt.status,
                                    ContactAttempt.due_at, ContactAttempt.outcome)
                             .where(ContactAttempt.case_id == case_id).order_by(ContactAttempt.id)).all()
        responses = s.scalar(select(func.count(SurveyResponse.id)))
        return (case.state, case.outcome, case.three_day_rule, case.next_check_at, case.flagged, tuple(attempts),
                responses)


def test_the_advisor_sees_their_open_calls_due_soonest_first_overdue_marked(rt: Runtime, client: FlaskClient) -> None:
    make_visit(rt, "RO-NEW", name="新客户", delivered=NOW - timedelta(hours=2))
    make_visit(rt, "RO-LATE", name="逾期客户", delivered=NOW - timedelta(hours=80), mobile="+8613900139001")
    make_visit(rt, "RO-SA02", name="别人的客户", advisor="SA02", mobile="+8613900139002")
    make_user(rt, "sa01", "advisor", ["SZ01"], advisor="SA01")
    log_in(client, "sa01")
    page = client.get("/").get_data(as_text=True)
    section = dc_section(page)
    assert "我的三日DC回访" in section
    assert section.index("RO-LATE") < section.index("RO-NEW")  # due soonest first
    assert "逾期客户" in section and "已超时" in section and "139****9001" in section
    assert "+8613900139001" not in page  # masked; the case page reveals it (audited)
    assert "RO-SA02" not in section and "别人的客户" not in section
    assert section.count("已超时") == 1
    assert 'id="funnel-call1"' in page  # the monitor of their own customers is still below


def test_information_staff_have_no_dc_call_list_and_may_not_record(rt: Runtime, client: FlaskClient) -> None:
    make_visit(rt, "RO-1")
    make_user(rt, "staff1", "info_staff", ["SZ01"])
    log_in(client, "staff1")
    assert dc_section(client.get("/").get_data(as_text=True)) == ""
    assert client.get("/advisor-calls").status_code == 403
    assert post(client, f"/advisor-calls/{call_id(rt, 'RO-1')}", {"reached": "yes", "note": ""}).status_code == 403


def test_recording_the_call_changes_nothing_of_the_case_its_attempts_or_the_score(rt: Runtime,
                                                                                  client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-1", name="张伟", plan=True)  # its first survey call is planned
    make_user(rt, "sa01", "advisor", ["SZ01"], advisor="SA01")
    before = case_snapshot(rt, case_id)
    assert before[5], "a planned call to compare with"
    log_in(client, "sa01")
    resp = post(client, f"/advisor-calls/{call_id(rt, 'RO-1')}", {"reached": "yes", "note": "客户说车况良好"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "三日DC回访已登记。" in text_of(home) and "RO-1" not in dc_section(home)
    assert case_snapshot(rt, case_id) == before  # same state, same planned call, no survey response
    with rt.sessions() as s:
        call = s.get_one(AdvisorCall, call_id(rt, "RO-1"))
        assert (call.done_at, call.reached, call.note, call.made_by) == (NOW, True, "客户说车况良好", "user:sa01")
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "advisor_call.recorded")).one()
        assert (entry.actor, entry.case_id, entry.detail["reached"], entry.detail["on_time"]) == (
            "user:sa01", case_id, True, True)
        assert s.scalar(select(func.count(ContactAttempt.id)).where(ContactAttempt.made_by == "user:sa01")) == 0
        (row,) = advisor_scores(s, find_store(s, "SZ01"), date(2026, 11, 1), rt.settings)
    assert (row.responses, row.score, row.dc_calls_on_time, row.dc_call_rate) == (0, None, 1, 1.0)
    # the case page shows the advisor's call in its log, nothing else moved
    assert "客户说车况良好" in text_of(client.get(f"/cases/{case_id}").get_data(as_text=True))
    # recorded once: a second try changes nothing
    again = post(client, f"/advisor-calls/{call_id(rt, 'RO-1')}", {"reached": "no", "note": "改口"})
    assert again.status_code == 302
    assert "这个回访已经登记过。" in text_of(client.get("/").get_data(as_text=True))
    with rt.sessions() as s:
        assert s.get_one(AdvisorCall, call_id(rt, "RO-1")).reached is True


def test_only_the_visits_advisor_or_a_manager_of_the_store_may_record(rt: Runtime, client: FlaskClient) -> None:
    add_other_store(rt)
    make_visit(rt, "RO-1")
    make_visit(rt, "RO-GZ", store=OTHER_STORE, mobile="+8613900139003")
    make_user(rt, "sa02", "advisor", ["SZ01"], advisor="SA02")
    make_user(rt, "boss", "manager", ["SZ01"])
    make_user(rt, "gzboss", "manager", [OTHER_STORE])
    mine, theirs = call_id(rt, "RO-1"), call_id(rt, "RO-GZ")
    log_in(client, "sa02")  # another advisor: the task does not exist for them
    assert post(client, f"/advisor-calls/{mine}", {"reached": "yes", "note": ""}).status_code == 404
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    log_in(client, "gzboss")  # another store's manager
    assert post(client, f"/advisor-calls/{mine}", {"reached": "yes", "note": ""}).status_code == 404
    assert "RO-1" not in text_of(client.get("/advisor-calls").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    log_in(client, "boss")
    listing = text_of(client.get("/advisor-calls").get_data(as_text=True))
    assert "RO-1" in listing and "RO-GZ" not in listing and "SA01" in listing
    assert post(client, f"/advisor-calls/{theirs}", {"reached": "yes", "note": ""}).status_code == 404
    assert client.post(f"/advisor-calls/{mine}", data={"reached": "no", "note": ""}).status_code == 400  # no CSRF
    resp = post(client, f"/advisor-calls/{mine}", {"reached": "no", "note": "关机", "back": "list"},
                token_from="/advisor-calls")
    assert resp.status_code == 302 and resp.headers["Location"] == "/advisor-calls"
    with rt.sessions() as s:
        call = s.get_one(AdvisorCall, mine)
        assert (call.reached, call.made_by, call.note) == (False, "user:boss", "关机")
        assert s.get_one(AdvisorCall, theirs).done_at is None


def test_an_unreadable_form_records_nothing(rt: Runtime, client: FlaskClient) -> None:
    make_visit(rt, "RO-1")
    make_user(rt, "sa01", "advisor", ["SZ01"], advisor="SA01")
    log_in(client, "sa01")
    assert post(client, f"/advisor-calls/{call_id(rt, 'RO-1')}", {"note": "没选"}).status_code == 302
    assert "请选择是否联系上客户。" in text_of(client.get("/").get_data(as_text=True))
    with rt.sessions() as s:
        assert s.get_one(AdvisorCall, call_id(rt, "RO-1")).done_at is None
