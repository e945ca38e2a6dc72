"""`make run`: demo data for store SZ01 (calls by the IVR, answered by simulated customers) and, when
the configuration has it (``config/demo.toml``), store SZ02 (calls by its information staff, on the
call worklist), demo users, the worker beside the web server."""

from __future__ import annotations

import dataclasses
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from followup.accounts import add_user
from followup.cases import worklist
from followup.channels.sandbox import DemoCustomers, SandboxChannel
from followup.engine.dispatch import DispatchCounts, dispatch_one
from followup.engine.planner import plan_case
from followup.intake.records import VisitRow
from followup.intake.visit_upsert import accept_visit
from followup.models import Advisor, ContactAttempt, FollowupCase, Store, User, Visit
from followup.runtime import Runtime, sync_stores

DEMO_PASSWORD = "followup-demo"
DEMO_USERS = (
    ("staff", "info_staff", "客户信息员 / information staff"),
    ("manager", "manager", "服务经理 / service manager"),
    ("gm", "manager", "总经理 / general manager"),
    ("admin", "admin", "系统管理员 / administrator"),
    ("sa01", "advisor", "服务顾问 SA01 / service advisor"),
    ("staff2", "info_staff", "客户信息员，SZ02 人工电访 / information staff, SZ02 (calls by staff: /worklist)"),
)
#: the demo's store whose calls are made by staff (config/demo.toml), its visits and its caller
STAFF_STORE = "SZ02"
STAFF_STORE_VISITS = 30
STAFF_CALLER = "staff2"
#: what the staff caller recorded in the hour before the demo starts (the capacity panel's numbers);
#: the unanswered call is tried again at once (the soonest deadline), so one case shows two attempts
EARLIER_OUTCOMES = ("answered", "declined", "answered", "answered", "no_answer", "busy")
ADVISORS = (("SA01", "王强"), ("SA02", "李娜"), ("SA03", "陈刚"), ("SA04", "刘洋"), ("SA05", "赵敏"))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "宇航", "佳怡", "子涵")
MODELS = ("朗逸", "速腾", "迈腾", "帕萨特", "途观L", "探岳", "ID.4 CROZZ", "宝来")
SERVICES = ("maintenance", "maintenance", "maintenance", "repair", "repair", "warranty", "insurance", "quick")
STREETS = ("南山区科技南十二路", "福田区福华三路", "罗湖区解放路", "龙岗区五和大道", "宝安区创业二路")


def demo_rows(store_code: str, now: datetime, count: int = 60, seed: int = 7, prefix: str = "DEMO") -> list[VisitRow]:
    """Realistic made-up visits delivered over the last three days (RO numbers ``<prefix>YYMMnnnn``)."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        has_mobile = i % 13 != 5
        code, adv_name = ADVISORS[i % len(ADVISORS)]
        rows.append(
            VisitRow(
                row=i + 2, store_code=store_code, ro_number=f"{prefix}{now:%y%m}{i + 1:04d}", customer_name=name,
                mobile=f"+86139{rng.randint(10000000, 99999999)}" if has_mobile else None,
                phone=None if has_mobile else f"+86755{rng.randint(20000000, 89999999)}",
                address=None if i % 17 == 9 else f"深圳市{rng.choice(STREETS)}{rng.randint(1, 300)}号{rng.randint(1, 30)}栋",
                plate=f"粤B{rng.randint(10000, 99999)}", vin=None, vehicle_model=rng.choice(MODELS),
                advisor_code=code, advisor_name=adv_name, service_type=rng.choice(SERVICES),
                delivered_at=now - timedelta(minutes=rng.randint(5, 60 * 70)), mileage_km=rng.randint(3000, 150000),
                language="en" if i % 11 == 3 else "zh",
            )
        )
    return rows


def history_rows(store_code: str, now: datetime, count: int = 60, seed: int = 11) -> list[VisitRow]:
    """Visits of the past month (delivered 3 to 30 days ago): the advisors' month already has scores."""
    rows = demo_rows(store_code, now, count, seed)
    rng = random.Random(seed)
    return [dataclasses.replace(r, ro_number=r.ro_number.replace("DEMO", "HIST"),
                                delivered_at=now - timedelta(days=3 + 27 * rng.random()))
            for r in rows]


def play_history(session: Session, rt: Runtime, case: FollowupCase, delivered: datetime) -> None:
    """Follow one past visit up as the engine did then: the planner plans, the dispatcher calls the
    simulated customer (the same :class:`DemoCustomers` as the live demo), the answers are recorded,
    scored and, when unhappy, a complaint opened. Stops at a letter (the post takes its time)."""
    channel = SandboxChannel(DemoCustomers(seed=97))
    at = delivered
    for _ in range(8):
        plan_case(session, case, rt.settings, at)
        row = session.scalar(select(ContactAttempt).where(ContactAttempt.case_id == case.id,
                                                          ContactAttempt.status == "planned",
                                                          ContactAttempt.channel != "letter"))
        if row is None or case.state == "closed" or row.due_at is None:
            return
        at = max(at, row.due_at)
        counts = DispatchCounts(worker="demo-history")
        row.status, row.claimed_by = "dispatching", counts.worker
        dispatch_one(session, row.id, channel, rt.settings, at, counts)
        session.flush()
        at += timedelta(seconds=1)


def load_demo(session: Session, rt: Runtime) -> bool:
    """Load demo visits and users into an empty database; False when it already has visits.
    Never in production (the demo logins have a published password)."""
    if rt.settings.env == "production":
        raise RuntimeError("demo data is refused in production")
    if session.scalar(select(func.count()).select_from(Visit)):
        return False
    now = rt.clock.now()
    store_ids = sync_stores(session, rt.settings)
    code = next(iter(rt.settings.stores))
    for row in sorted(history_rows(code, now), key=lambda r: r.delivered_at):
        done = accept_visit(session, store_ids[code], rt.settings.stores[code], row, source="demo", actor="demo",
                            now=row.delivered_at + timedelta(minutes=5))
        if done.case is not None:
            play_history(session, rt, done.case, row.delivered_at + timedelta(minutes=5))
    for row in demo_rows(code, now):
        accept_visit(session, store_ids[code], rt.settings.stores[code], row, source="demo", actor="demo", now=now)
    staff_store = STAFF_STORE if staff_store_configured(rt) else None
    if staff_store is not None:
        for row in sorted(demo_rows(staff_store, now, STAFF_STORE_VISITS, seed=23, prefix="FT"),
                          key=lambda r: r.delivered_at):
            accept_visit(session, store_ids[staff_store], rt.settings.stores[staff_store], row, source="demo",
                         actor="demo", now=min(now, row.delivered_at + timedelta(minutes=5)))
    for username, role, _label in DEMO_USERS:
        stores = _demo_stores(username, role, code, staff_store)
        if stores is not None and session.scalar(select(User).where(User.username == username)) is None:
            add_user(session, username, DEMO_PASSWORD, role, stores, now=now, actor="demo")
    # the advisor login sees the complaints and customers of advisor SA01 (Advisor.user_id)
    session.flush()
    sa01 = session.scalar(select(Advisor).where(Advisor.store_id == store_ids[code], Advisor.code == "SA01"))
    if sa01 is not None:
        sa01.user_id = session.scalar(select(User.id).where(User.username == "sa01"))
    if staff_store is not None:
        play_staff_calls(session, rt, staff_store, now)
    return True


def staff_store_configured(rt: Runtime) -> bool:
    """Whether the configuration has the demo's staff-calling store (``config/demo.toml`` does)."""
    store = rt.settings.stores.get(STAFF_STORE)
    return store is not None and store.calls_by == "staff"


def _demo_stores(username: str, role: str, code: str, staff_store: str | None) -> list[str] | None:
    """The stores of a demo login (None: no such login in this configuration): the staff caller
    works the staff store, the managers see both, the others the IVR store."""
    if username == STAFF_CALLER:
        return [staff_store] if staff_store else None
    if role == "admin":
        return []
    return [code, staff_store] if role == "manager" and staff_store else [code]


def play_staff_calls(session: Session, rt: Runtime, store_code: str, now: datetime) -> None:
    """The hour before the demo starts in the staff store: its calls are planned, and the staff
    caller works the worklist through the service (claim the next call, record what came of it),
    a call every nine minutes, so that the monitor's capacity panel has a pace and a reach rate."""
    start = now - timedelta(minutes=70)
    store_id = session.scalar(select(Store.id).where(Store.code == store_code))
    for case in session.scalars(select(FollowupCase).where(FollowupCase.store_id == store_id)):
        plan_case(session, case, rt.settings, max(start, case.opened_at))
    session.flush()
    user = session.scalar(select(User).where(User.username == STAFF_CALLER))
    if user is None:
        return
    for i, outcome in enumerate(EARLIER_OUTCOMES):
        at = start + timedelta(minutes=9 * i)
        taken = worklist.claim_next(session, rt.settings, user, store_code, at)
        if taken is None:
            continue
        call, _claim = taken
        answers = {q.id: (9 if q.kind == "scale10" else "yes" if q.kind == "yesno" else "师傅很专业，谢谢")
                   for q in call.questions}
        worklist.record_outcome(session, rt.settings, user, call.attempt_id, outcome,
                                answers if outcome == "answered" else None, now=at + timedelta(minutes=4))
        session.flush()


def run_dev(rt: Runtime, *, host: str, port: int) -> None:
    from followup.web import create_app

    with rt.sessions() as s:
        if load_demo(s, rt):
            s.commit()
            click.echo("demo data loaded: 60 visits of the past month, followed up, and 60 new ones for store " + next(iter(rt.settings.stores)))
            if staff_store_configured(rt):
                click.echo(f"  and {STAFF_STORE_VISITS} new ones for store {STAFF_STORE}, whose calls its staff make "
                           f"from the call worklist (/worklist, login {STAFF_CALLER})")
    click.echo(f"\nfollowup is running: http://{host}:{port}/  (sandbox channel: nothing leaves this machine)")
    click.echo(f"demo logins (password: {DEMO_PASSWORD}):")
    for username, _role, label in DEMO_USERS:
        if username != STAFF_CALLER or staff_store_configured(rt):
            click.echo(f"  {username:<8} {label}")
    env = {**os.environ, "FOLLOWUP_SANDBOX_CUSTOMERS": "demo", "FOLLOWUP_TICK_SECONDS": "3"}
    worker = subprocess.Popen([sys.executable, "-m", "followup.cli", "worker"], env=env)
    try:
        create_app(runtime=rt).run(host=host, port=port, debug=False, use_reloader=False)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
