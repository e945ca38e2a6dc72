"""The complaints pages: queue, detail, staff actions, manager-only close, store and advisor scoping."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from complaints.world import BAD, PASSWORD, add_visit, answer, local, log_in, user
from flask.testing import FlaskClient
from sqlalchemy import select, update

from followup.accounts import add_user
from followup.models import Complaint, ComplaintStep, ContactAttempt, FollowupCase, Store
from followup.runtime import Runtime

NOW = local(2026, 11, 5, 10, 0)


def csrf_of(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


@pytest.fixture
def complaint_id(rt: Runtime) -> int:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    case_id = add_visit(rt, "RO-W-1", delivered=local(2026, 11, 3, 9, 0))
    answer(rt, case_id, BAD, at=local(2026, 11, 4, 9, 0))  # due 5 Nov 09:00: overdue at NOW
    other = add_visit(rt, "RO-W-2", delivered=local(2026, 11, 3, 9, 0), advisor="SA02")
    answer(rt, other, BAD, at=local(2026, 11, 5, 9, 30))  # not yet due
    user(rt, "staff", "info_staff")
    user(rt, "manager", "manager")
    user(rt, "sa01", "advisor", advisor="SA01")
    user(rt, "sa02", "advisor", advisor="SA02")
    with rt.sessions() as s:
        return s.scalars(select(Complaint.id).where(Complaint.case_id == case_id)).one()


def test_the_queue_shows_overdue_first_in_chinese(rt: Runtime, complaint_id: int) -> None:
    page = log_in(rt, "staff").get("/complaints").get_data(as_text=True)
    assert "投诉处理" in page and "已超时" in page
    assert page.index("RO-W-1") < page.index("RO-W-2")  # the overdue one first
    english = log_in(rt, "staff").get("/complaints?lang=en").get_data(as_text=True)
    assert "overdue" in english and "投诉处理" not in english


def test_an_advisor_sees_only_complaints_about_their_own_visits(rt: Runtime, complaint_id: int) -> None:
    sa02 = log_in(rt, "sa02")
    page = sa02.get("/complaints").get_data(as_text=True)
    assert "RO-W-2" in page and "RO-W-1" not in page
    assert sa02.get(f"/complaints/{complaint_id}").status_code == 404
    token = csrf_of(sa02, "/complaints")
    assert sa02.post(f"/complaints/{complaint_id}/acknowledge", data={"csrf_token": token}).status_code == 404
    assert "RO-W-1" in log_in(rt, "sa01").get("/complaints").get_data(as_text=True)


def test_another_stores_complaint_is_not_found(rt: Runtime, complaint_id: int) -> None:
    with rt.sessions() as s:
        s.add(Store(code="GZ02", name="广州店", timezone="Asia/Shanghai", created_at=NOW))
        s.flush()
        add_user(s, "gz-manager", PASSWORD, "manager", ["GZ02"], now=NOW)
        s.commit()
    client = log_in(rt, "gz-manager")
    assert client.get(f"/complaints/{complaint_id}").status_code == 404
    assert "RO-W-1" not in client.get("/complaints").get_data(as_text=True)


def test_staff_acknowledge_log_a_contact_and_resolve(rt: Runtime, complaint_id: int) -> None:
    client = log_in(rt, "sa01")
    path = f"/complaints/{complaint_id}"
    token = csrf_of(client, path)
    assert client.post(f"{path}/acknowledge", data={"csrf_token": token}).status_code == 302
    client.post(f"{path}/contact", data={"csrf_token": token, "note": "已致电客户道歉", "cause": "洗车划伤",
                                         "fix": ""})
    refused = client.post(f"{path}/resolve", data={"csrf_token": token, "cause": "x", "fix": " "},
                          follow_redirects=True)
    assert "处理措施：请写明为客户做了什么。" in refused.get_data(as_text=True)
    client.post(f"{path}/resolve", data={"csrf_token": token, "cause": "洗车划伤", "fix": "免费补漆"})
    page = client.get(path).get_data(as_text=True)
    assert "已致电客户道歉" in page and "免费补漆" in page and "已处理，待复访" in page
    with rt.sessions() as s:
        steps = list(s.execute(select(ComplaintStep.kind, ComplaintStep.by).order_by(ComplaintStep.id)))
        resurvey = s.scalars(select(ContactAttempt).where(ContactAttempt.kind == "resurvey")).one()
    assert [k for k, _ in steps if _ == "user:sa01"] == ["acknowledged", "contact", "resolved"]
    assert resurvey.channel == "sms" and resurvey.status == "planned"


def test_only_a_manager_closes_after_the_resurveys(rt: Runtime, complaint_id: int) -> None:
    with rt.sessions() as s:
        s.execute(update(Complaint).where(Complaint.id == complaint_id).values(resurveys=2))
        s.commit()
    path = f"/complaints/{complaint_id}"
    staff = log_in(rt, "staff")
    assert "客户仍不满意时结案" not in staff.get(path).get_data(as_text=True)  # no close form for staff
    token = csrf_of(staff, path)
    assert staff.post(f"{path}/close", data={"csrf_token": token, "reason": "客户拒绝"}).status_code == 403
    with rt.sessions() as s:
        assert s.get_one(Complaint, complaint_id).status == "open"

    manager = log_in(rt, "manager")
    assert "客户仍不满意时结案" in manager.get(path).get_data(as_text=True)
    token = csrf_of(manager, path)
    manager.post(f"{path}/close", data={"csrf_token": token, "reason": "客户要求超出政策，已报厂家"})
    with rt.sessions() as s:
        c = s.get_one(Complaint, complaint_id)
        case = s.get_one(FollowupCase, c.case_id)
    assert (c.status, c.close_reason) == ("closed", "客户要求超出政策，已报厂家")
    assert (case.state, case.outcome) == ("closed", "dissatisfied_closed")
    assert isinstance(c.closed_at, datetime)


def test_posting_without_the_csrf_token_changes_nothing(rt: Runtime, complaint_id: int) -> None:
    client = log_in(rt, "staff")
    assert client.post(f"/complaints/{complaint_id}/acknowledge").status_code == 400
    with rt.sessions() as s:
        assert s.get_one(Complaint, complaint_id).status == "open"


def test_only_the_assignee_or_above_sees_and_may_press_acknowledge(rt: Runtime, complaint_id: int) -> None:
    path = f"/complaints/{complaint_id}"
    staff = log_in(rt, "staff")
    page = staff.get(path).get_data(as_text=True)
    assert f"{path}/acknowledge" not in page and f"{path}/escalate" not in page  # no such buttons for staff
    refused = staff.post(f"{path}/acknowledge", data={"csrf_token": csrf_of(staff, path)})
    assert refused.status_code == 403
    assert "只有被指派人或其上级可以处理这条投诉" in refused.get_data(as_text=True)
    with rt.sessions() as s:
        assert s.get_one(Complaint, complaint_id).status == "open"
    sa01 = log_in(rt, "sa01")
    page = sa01.get(path).get_data(as_text=True)
    assert f"{path}/acknowledge" in page and "超出权限，立即上报" in page
    assert sa01.post(f"{path}/acknowledge", data={"csrf_token": csrf_of(sa01, path)}).status_code == 302
    with rt.sessions() as s:
        c = s.get_one(Complaint, complaint_id)
    assert c.status == "acknowledged" and c.due_at == NOW + rt.settings.complaints.resolve_sla


def test_the_assignee_escalates_now_from_the_page(rt: Runtime, complaint_id: int) -> None:
    path = f"/complaints/{complaint_id}"
    sa01 = log_in(rt, "sa01")
    sa01.post(f"{path}/escalate", data={"csrf_token": csrf_of(sa01, path), "note": "涉及赔偿，超出权限"})
    with rt.sessions() as s:
        c = s.get_one(Complaint, complaint_id)
    assert (c.level, c.assignee) == (2, "manager")
    page = log_in(rt, "manager").get(path).get_data(as_text=True)
    assert "涉及赔偿，超出权限" in page and "超出权限，立即上报" in page


def test_the_category_is_shown_and_edited_on_the_page_and_in_the_queue(rt: Runtime, complaint_id: int) -> None:
    staff = log_in(rt, "staff")
    queue = staff.get("/complaints").get_data(as_text=True)
    assert "维修质量" in queue and 'name="category"' in queue  # BAD's 漆面划伤了 reads as repair quality
    path = f"/complaints/{complaint_id}"
    staff.post(f"{path}/category", data={"csrf_token": csrf_of(staff, path), "category": "attitude",
                                         "back": "queue"})
    with rt.sessions() as s:
        assert s.get_one(Complaint, complaint_id).category == "attitude"
    assert "服务态度" in staff.get(path).get_data(as_text=True)
    english = staff.get(f"{path}?lang=en").get_data(as_text=True)
    assert "Attitude" in english
    sa01 = log_in(rt, "sa01")
    assert 'name="category"' not in sa01.get(path).get_data(as_text=True)
    assert sa01.post(f"{path}/category", data={"csrf_token": csrf_of(sa01, path),
                                               "category": "other"}).status_code == 403


def test_a_manager_closes_an_unconfirmed_complaint(rt: Runtime, complaint_id: int) -> None:
    with rt.sessions() as s:
        s.execute(update(Complaint).where(Complaint.id == complaint_id).values(
            status="resolved", resolved_at=NOW, unconfirmed_at=NOW))
        s.commit()
    path = f"/complaints/{complaint_id}"
    assert "复访无人回复" not in log_in(rt, "staff").get(path).get_data(as_text=True)
    manager = log_in(rt, "manager")
    assert "复访无人回复" in manager.get(path).get_data(as_text=True)
    manager.post(f"{path}/close-unconfirmed", data={"csrf_token": csrf_of(manager, path), "note": "多次联系未果"})
    with rt.sessions() as s:
        c = s.get_one(Complaint, complaint_id)
        case = s.get_one(FollowupCase, c.case_id)
    assert (c.status, c.outcome) == ("closed", "resolved_unconfirmed")
    assert (case.state, case.outcome) == ("closed", "unreachable")


def test_staff_open_a_complaint_from_the_case_page(rt: Runtime, complaint_id: int) -> None:
    case_id = add_visit(rt, "RO-W-3", delivered=local(2026, 11, 3, 9, 0))
    path = f"/cases/{case_id}"
    staff = log_in(rt, "staff")
    page = staff.get(path).get_data(as_text=True)
    assert "登记投诉" in page and "价格" in page
    staff.post(f"{path}/complaint", data={"csrf_token": csrf_of(staff, path), "category": "price",
                                          "note": "客户来电反映收费不合理"})
    with rt.sessions() as s:
        c = s.scalars(select(Complaint).where(Complaint.case_id == case_id)).one()
    assert (c.category, c.source, c.assignee, c.level) == ("price", "staff", "SA01", 1)
    # the visit's own advisor sees no such form and is refused (R3 independence)
    other = add_visit(rt, "RO-W-4", delivered=local(2026, 11, 3, 9, 0))
    sa01 = log_in(rt, "sa01")
    assert "登记投诉" not in sa01.get(f"/cases/{other}").get_data(as_text=True)
    refused = sa01.post(f"/cases/{other}/complaint", data={"csrf_token": csrf_of(sa01, f"/cases/{other}"),
                                                           "category": "price", "note": "x"})
    assert refused.status_code == 403
    with rt.sessions() as s:
        assert s.scalars(select(Complaint).where(Complaint.case_id == other)).all() == []
