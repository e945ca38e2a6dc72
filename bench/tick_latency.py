"""Tick latency: an idle tick, and the time to dispatch 1,000 / 10,000 due contacts, over a
backlog of 100,000 and 1,000,000 historical cases, on SQLite and PostgreSQL.

The sandbox channel (nobody answers) stands in for Twilio, so this measures our own work:
planning, claiming, recording and planning the next call.
"""

from __future__ import annotations

import statistics
import time
from contextlib import AbstractContextManager
from datetime import timedelta

from followup.channels.sandbox import SandboxChannel
from followup.engine.tick import dispatch_contacts, run_tick

from .backlog import load_cases
from .common import NOW, Context, Row, pg_available, pg_db, runtime_for, sqlite_db


def _idle_ms(url: str) -> float:
    rt = runtime_for(url, NOW + timedelta(minutes=1))
    channel = SandboxChannel()
    times = []
    for _ in range(7):
        t = time.perf_counter()
        counts = run_tick(rt, channel)
        times.append((time.perf_counter() - t) * 1000)
        assert counts["due"] == 0, counts
    return statistics.median(times)


def _dashboards(url: str) -> tuple[float, float]:
    """(monitor page numbers, month advisor report) in ms, median of 5, as a manager opens them."""
    from followup.cases.case_list import Viewer
    from followup.cases.monitor import monitor
    from followup.reports.advisors import find_store
    from followup.reports.month_page import month_report

    rt = runtime_for(url)
    month = (NOW - timedelta(days=40)).date().replace(day=1)
    mon, rep = [], []
    with rt.sessions() as s:
        store = find_store(s, "SZ01")
        for _ in range(5):
            t = time.perf_counter()
            monitor(s, Viewer(store_codes=("SZ01",)), NOW)
            mon.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            report = month_report(s, rt.settings, store, month)
            rep.append((time.perf_counter() - t) * 1000)
        assert report.advisors, "the backlog has surveys in that month"
    return statistics.median(mon), statistics.median(rep)


def _drain(url: str, due: int, *, dispatch_only: bool = False) -> tuple[float, int]:
    """Tick until nothing is due; (seconds, dispatched). ``dispatch_only``: the dispatch duty alone,
    without the other duties of a tick (the webhooks duty posts the events the sends wrote)."""
    rt = runtime_for(url)
    channel = SandboxChannel()
    t = time.perf_counter()
    dispatched = 0
    while True:
        counts = dispatch_contacts(rt, rt.clock.now(), channel) if dispatch_only else run_tick(rt, channel)
        dispatched += counts["dispatched"]
        if counts["due"] == 0:
            break
    return time.perf_counter() - t, dispatched


def run(ctx: Context) -> list[Row]:
    backlogs = (20_000, 100_000) if ctx.quick else (100_000, 1_000_000)
    dues = (1_000,) if ctx.quick else (1_000, 10_000)
    rows: list[Row] = []
    for backlog in backlogs:
        engines: list[tuple[str, AbstractContextManager[str]]] = [("SQLite", sqlite_db(ctx))]
        if pg_available():
            engines.append(("PostgreSQL", pg_db()))
        for db_name, manager in engines:
            with manager as url:
                rt = runtime_for(url)
                t = time.perf_counter()
                load_cases(rt, backlog, now=NOW, open_due=False, tag="H",
                           progress=ctx.say if backlog >= 500_000 else None)
                ctx.say(f"tick: {db_name} backlog {backlog:,} loaded in {time.perf_counter() - t:.0f}s")
                mon_ms, rep_ms = _dashboards(url)
                rows.append(Row("dashboards", f"campaign monitor, {backlog:,} cases, {db_name}", round(mon_ms, 1), "ms",
                                "≤ 300 ms", mon_ms <= 300))
                rows.append(Row("dashboards", f"monthly advisor report, {backlog:,} cases, {db_name}", round(rep_ms, 1),
                                "ms", "≤ 300 ms", rep_ms <= 300))
                idle = _idle_ms(url)
                rows.append(Row("tick", f"idle tick, {backlog:,} cases, {db_name}", round(idle, 1), "ms",
                                "≤ 20 ms", idle <= 20))
                for i, due in enumerate(dues):
                    load_cases(rt, due, now=NOW, open_due=True, tag=f"D{i}")
                    seconds, dispatched = _drain(url, due)
                    per_1000 = seconds / dispatched * 1000
                    rows.append(Row("tick", f"{due:,} due over {backlog:,} cases, {db_name}", round(per_1000, 2),
                                    "s per 1,000 dispatched", "≤ 1 s per 1,000", per_1000 <= 1.0,
                                    {"seconds": round(seconds, 2), "dispatched": dispatched}))
                    ctx.say(f"tick: {db_name} {due:,} due over {backlog:,}: {seconds:.1f}s")
                    load_cases(rt, due, now=NOW, open_due=True, tag=f"E{i}")
                    seconds, dispatched = _drain(url, due, dispatch_only=True)
                    per_1000 = seconds / dispatched * 1000
                    rows.append(Row("tick", f"dispatch duty alone, {due:,} due over {backlog:,} cases, {db_name}",
                                    round(per_1000, 2), "s per 1,000 dispatched", "", None,
                                    {"seconds": round(seconds, 2), "dispatched": dispatched}))
    return rows
