"""A hand-computed month for store SZ01 (Asia/Shanghai), shared by the report tests.

Scores (R5: overall*10*.4 + fixed_right*.2 + on_time*.2 + advisor*10*.2):
A = 100.0, B = 94.0, C = 88.0, D = 64.0 (on time: no), E = 48.0 (dissatisfied).

November 2026, counted (independent) responses:
- SA01: A B C A B                  -> 476 / 5 = 95.20 -> 900 元 (one of them at 23:30 on 30 Nov local)
  not counted: SA01's own call (staff, made_by user:sa01), a flagged own call, October 31 23:30,
  1 December 00:10 (local), and a re-survey.
- SA02: B C C D                    -> 334 / 4 = 83.50 -> 0 元, insufficient_sample (4 < 5)
- SA03: B C C C B (sms, ivr, letter, web, staff call by the information staff)
                                   -> 452 / 5 = 90.40 -> 600 元
"""

from __future__ import annotations

from datetime import timedelta

from complaints.world import add_visit, answer, get_user, local, user
from sqlalchemy import select

from followup.complaints.actions import resolve
from followup.models import Complaint
from followup.runtime import Runtime

A = {"overall": "10", "fixed_right": "yes", "on_time": "yes", "advisor": "10"}
B = {"overall": "9", "fixed_right": "yes", "on_time": "yes", "advisor": "9"}
C = {"overall": "8", "fixed_right": "yes", "on_time": "yes", "advisor": "8"}
D = {"overall": "7", "fixed_right": "yes", "on_time": "no", "advisor": "8"}
E = {"overall": "4", "fixed_right": "no", "on_time": "yes", "advisor": "6"}

#: each visit is delivered the day before its survey: SA01 has 8 November visits (the five counted,
#: its two own calls' and the one answered at 00:10 on 1 December), SA02 4, SA03 5; × 3 元 each,
#: nobody reaches 100 (no 主动奖), and no DC call is recorded (R11 rate 0)
STATEMENT = {"SA01": (8, 24, 924), "SA02": (4, 12, 12), "SA03": (5, 15, 615)}
EXPECTED = [
    {"code": code, "name": name, "responses": n, "score": score, "insufficient_sample": few, "bonus_cny": cny,
     "visits": STATEMENT[code][0], "visit_commission_cny": STATEMENT[code][1], "first_to_cny": 0,
     "statement_cny": STATEMENT[code][2], "dc_calls_on_time": 0, "dc_call_rate": 0.0}
    for code, name, n, score, few, cny in (
        ("SA01", "王强", 5, 95.2, False, 900),
        ("SA02", "李娜", 4, 83.5, True, 0),
        ("SA03", "陈刚", 5, 90.4, False, 600),
    )
]
NAMES = {"SA01": "王强", "SA02": "李娜", "SA03": "陈刚"}


def build_november(rt: Runtime) -> None:
    n = 0

    def survey(advisor: str, answers: dict[str, str], at: tuple[int, ...], **how: object) -> int:
        nonlocal n
        n += 1
        when = local(*at)
        case_id = add_visit(rt, f"RO-N-{n:03d}", delivered=when - timedelta(days=1), advisor=advisor,
                            advisor_name=NAMES[advisor])
        answer(rt, case_id, answers, at=when, **how)
        return case_id

    survey("SA01", A, (2026, 11, 3, 10, 0))
    survey("SA01", B, (2026, 11, 9, 15, 0), channel="ivr", made_by="ivr")
    survey("SA01", C, (2026, 11, 15, 9, 30))
    survey("SA01", A, (2026, 11, 21, 11, 0), channel="letter", made_by="user:staff")
    survey("SA01", B, (2026, 11, 30, 23, 30))  # 15:30 UTC: still November in Shanghai
    user(rt, "sa01", "advisor", advisor="SA01")
    own = survey("SA01", E, (2026, 11, 12, 16, 0), channel="staff", made_by="user:sa01")  # own call: never counts
    user(rt, "manager", "manager")
    with rt.sessions() as s:  # the complaint it opened is resolved; its re-survey does not count either
        complaint = s.scalars(select(Complaint).where(Complaint.case_id == own)).one()
        resolve(s, complaint, get_user(s, "manager"), cause="-", fix="补漆", settings=rt.settings,
                now=local(2026, 11, 13, 9, 0))
        s.commit()
    answer(rt, own, A, at=local(2026, 11, 14, 10, 0))
    survey("SA01", E, (2026, 11, 13, 16, 0), channel="staff", made_by="staff", own_advisor_call=True)
    survey("SA01", A, (2026, 10, 31, 23, 30))  # October
    survey("SA01", C, (2026, 12, 1, 0, 10))  # December (30 Nov 16:10 UTC)

    survey("SA02", B, (2026, 11, 4, 10, 0))
    survey("SA02", C, (2026, 11, 5, 10, 0), channel="ivr", made_by="ivr")
    survey("SA02", C, (2026, 11, 6, 10, 0))
    survey("SA02", D, (2026, 11, 7, 10, 0), channel="web", made_by="web")

    survey("SA03", B, (2026, 11, 2, 10, 0))
    survey("SA03", C, (2026, 11, 8, 10, 0), channel="ivr", made_by="ivr")
    survey("SA03", C, (2026, 11, 10, 10, 0), channel="letter", made_by="user:staff")
    survey("SA03", C, (2026, 11, 11, 10, 0), channel="web", made_by="web")
    survey("SA03", B, (2026, 11, 12, 10, 0), channel="staff", made_by="user:staff")  # information staff: counts
