"""#19, finding 8: phone numbers a customer (or a colleague) wrote inside free text were shown whole on
the case timeline — a comment, an SMS reply, a complaint note, a staff note — while the customer's
own number was masked a few lines above. Every one is masked now, on SQLite and PostgreSQL."""

from __future__ import annotations

from factories import add_visit, logged_in_client, make_user, visit_row
from sqlalchemy import select

from followup.cases.staff_actions import add_note
from followup.models import ComplaintStep, FollowupCase, SmsMessage, User
from followup.runtime import Runtime
from followup.surveys.responses import record_survey

#: written by the customer or staff, each in its own way
WIFE, NEW, LANDLINE = "139 1234 5678", "138-0013-8111", "0755-26605049"


def test_numbers_inside_free_text_are_masked_on_the_timeline(rt: Runtime) -> None:
    case_id = add_visit(rt, visit_row("RO-MASK", mobile="+8613800138000"))
    make_user(rt, "staff1")
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        s.add(SmsMessage(direction="in", store_id=case.store_id, case_id=case.id, from_number="+8613800138000",
                         to_number="sandbox", body=f"换号了，新号码{NEW}，白天打{LANDLINE}", handling="late",
                         received_at=rt.clock.now()))
        record_survey(s, case, {"overall": "3", "on_time": "no", "advisor": "4",
                                "comment": f"电话打不通，请打我老婆{WIFE}"},
                      channel="web", made_by="web", settings=rt.settings, now=rt.clock.now())
        step = s.scalars(select(ComplaintStep)).first()
        assert step is not None  # a dissatisfied answer opened a complaint (R7)
        step.note = f"客户要求回电 {NEW}"
        add_note(s, case, user=s.scalars(select(User)).one(), text=f"客户说改用 {WIFE} 联系", now=rt.clock.now())
        s.commit()
    page = logged_in_client(rt, "staff1").get(f"/cases/{case_id}").get_data(as_text=True)
    digits = page.replace(" ", "").replace("-", "")
    for number in (WIFE, NEW, LANDLINE):
        assert number.replace(" ", "").replace("-", "") not in digits, number
    assert "139****5678" in page and "138****8111" in page and "0755****5049" in page
    assert "请打我老婆" in page and "新号码" in page and "客户要求回电" in page and "改用" in page  # the words stay
