"""Bulk-loads a case backlog straight into the tables (Core executemany in chunks).

A backlog is history: closed cases with their finished call, as a store accumulates over years.
On top of it, ``make_due`` adds open cases whose first call is due now, the work a tick does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from followup.models import (
    Advisor,
    ContactAttempt,
    Customer,
    FollowupCase,
    Store,
    SurveyAnswer,
    SurveyResponse,
    Visit,
)
from followup.runtime import Runtime, sync_stores

CHUNK = 20_000
Progress = Callable[[str], None]


def _chunks(total: int, size: int = CHUNK) -> Iterator[range]:
    for start in range(0, total, size):
        yield range(start, min(total, start + size))


def _advisors(rt: Runtime, store_id: int) -> list[int]:
    with rt.sessions() as s:
        ids = list(s.scalars(select(Advisor.id).where(Advisor.store_id == store_id)))
        if not ids:
            s.execute(insert(Advisor), [{"store_id": store_id, "code": f"SA{i:02d}", "name": f"顾问{i}"}
                                        for i in range(1, 13)])
            s.commit()
            ids = list(s.scalars(select(Advisor.id).where(Advisor.store_id == store_id)))
        return ids


def _next_id(engine: Engine, table: Any) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1


def load_cases(rt: Runtime, count: int, *, now: datetime, open_due: bool, tag: str,
               progress: Progress | None = None) -> list[int]:
    """Insert ``count`` visits with their customer and case.

    ``open_due``: the case is open with call 1 planned and due at ``now`` (work for a tick);
    otherwise it is closed history (satisfied, rule met, one finished call). Returns case ids
    only for open cases (history ids are not needed).
    """
    with rt.sessions() as s:
        store_id = sync_stores(s, rt.settings)["SZ01"]
        s.commit()
    advisors = _advisors(rt, store_id)
    tables = {m: m.__table__ for m in (Customer, Visit, FollowupCase, ContactAttempt, SurveyResponse, SurveyAnswer)}
    cust0, visit0, case0, resp0 = (_next_id(rt.engine, tables[m]) for m in (Customer, Visit, FollowupCase, SurveyResponse))
    opened: list[int] = []
    for part in _chunks(count):
        delivered = [now - (timedelta(hours=25) if open_due else timedelta(days=4 + (i % 700))) for i in part]
        customers = [{"id": cust0 + i, "store_id": store_id, "name": f"客户{i}", "mobile": f"+86138{(cust0 + i) % 10**8:08d}",
                      "language": "zh", "do_not_call": False, "no_sms": False, "no_contact": False,
                      "sms_opted_out": False, "mobile_bad": False, "phone_bad": False,
                      "created_at": now, "updated_at": now} for i in part]
        visits = [{"id": visit0 + i, "store_id": store_id, "ro_number": f"{tag}{i:09d}", "customer_id": cust0 + i,
                   "advisor_id": advisors[i % len(advisors)], "service_type": "maintenance",
                   "delivered_at": delivered[k], "source": "bench", "imported_at": now, "updated_at": now}
                  for k, i in enumerate(part)]
        cases = [{"id": case0 + i, "visit_id": visit0 + i, "store_id": store_id,
                  "advisor_id": advisors[i % len(advisors)],
                  "state": "calling" if open_due else "closed", "outcome": None if open_due else "satisfied",
                  "deadline_at": delivered[k] + timedelta(hours=72), "opened_at": delivered[k],
                  "closed_at": None if open_due else delivered[k] + timedelta(days=1),
                  "three_day_rule": "pending" if open_due else "met", "flagged": False,
                  "next_check_at": None, "reply_code": f"{tag[:2]}{i:010d}"[-12:]}
                 for k, i in enumerate(part)]
        attempts = [{"case_id": case0 + i, "channel": "call", "kind": "survey", "number": 1,
                     "status": "planned" if open_due else "done", "outcome": None if open_due else "answered",
                     "destination": f"+86138{(cust0 + i) % 10**8:08d}", "due_at": now if open_due else delivered[k] + timedelta(hours=24),
                     "retries": 0, "created_at": now}
                    for k, i in enumerate(part)]
        responses: list[dict[str, Any]] = []
        answers: list[dict[str, Any]] = []
        if not open_due:  # history was surveyed: scores for the reports, answers for one in four
            for k, i in enumerate(part):
                overall = (i * 7919) % 11
                done = delivered[k] + timedelta(hours=26)
                responses.append({"id": resp0 + i, "case_id": case0 + i, "store_id": store_id,
                                  "advisor_id": advisors[i % len(advisors)], "channel": ("ivr", "sms", "web")[i % 3],
                                  "made_by": "ivr", "own_advisor_call": False, "status": "completed",
                                  "unreadable": 0, "is_resurvey": False, "started_at": done, "completed_at": done,
                                  "score": 40.0 + overall * 6, "satisfied": overall > 6})
                if i % 4 == 0:
                    answers.extend({"response_id": resp0 + i, "question_id": q, "value_num": v,
                                    "answered_at": done} for q, v in (("overall", overall), ("advisor", overall),
                                                                      ("fixed_right", 1.0), ("on_time", 1.0)))
        with rt.engine.begin() as c:
            c.execute(insert(tables[Customer]), customers)
            c.execute(insert(tables[Visit]), visits)
            c.execute(insert(tables[FollowupCase]), cases)
            c.execute(insert(tables[ContactAttempt]), attempts)
            if responses:
                c.execute(insert(tables[SurveyResponse]), responses)
            if answers:
                c.execute(insert(tables[SurveyAnswer]), answers)
        if open_due:
            opened.extend(case0 + i for i in part)
        if progress:
            progress(f"  loaded {part.stop:,}/{count:,} {'due' if open_due else 'history'} cases")
    _analyze(rt.engine)
    return opened


def _analyze(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(text("ANALYZE"))


def count_cases(rt: Runtime) -> int:
    with rt.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(FollowupCase)) or 0)


def store_id(rt: Runtime) -> int:
    with rt.sessions() as s:
        return int(s.scalar(select(Store.id).where(Store.code == "SZ01")) or 0)
