"""Ours against the naive design: one APScheduler date job per follow-up in a SQLAlchemyJobStore.

Both sides run in a child process each so memory is their own. Measured: time to schedule N
follow-ups, time for one scheduler wake-up with 1,000 of them due, and peak RSS.
Ours: N contact rows (with their cases) written in bulk, the way the importer writes them in
batches; a wake-up is one tick claiming and dispatching the 1,000 due contacts.
"""

from __future__ import annotations

import json
import subprocess
import sys

from .common import Context, Row

NAIVE = r"""
import json, resource, sys, time, tempfile
from datetime import datetime, timedelta, UTC
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
n = int(sys.argv[1])
d = tempfile.mkdtemp()
store = SQLAlchemyJobStore(url=f"sqlite:///{d}/jobs.db")
sched = BackgroundScheduler(jobstores={"default": store}, timezone=UTC)
sched.start(paused=True)
now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
t = time.perf_counter()
for i in range(n):
    due = now - timedelta(seconds=1) if i < 1000 else now + timedelta(hours=1 + i % 72)
    sched.add_job("bench.naive_scheduler:place_call", "date", run_date=due, args=[i], id=f"c{i}",
                  misfire_grace_time=None)
schedule_s = time.perf_counter() - t
t = time.perf_counter()
due_jobs = store.get_due_jobs(now)
for job in due_jobs:
    store.remove_job(job.id)
wake_s = time.perf_counter() - t
print(json.dumps({"schedule_s": schedule_s, "wake_s": wake_s, "due": len(due_jobs),
                  "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

OURS = r"""
import json, resource, sys, time, tempfile
sys.path.insert(0, ".")
from bench.backlog import load_cases
from bench.common import NOW, runtime_for
from followup.schema import upgrade
from followup.engine.tick import run_tick
from followup.channels.sandbox import SandboxChannel
from datetime import timedelta
n = int(sys.argv[1])
d = tempfile.mkdtemp()
url = f"sqlite:///{d}/ours.db"
rt = runtime_for(url)
upgrade(rt.engine)
t = time.perf_counter()
load_cases(rt, n - 1000, now=NOW + timedelta(hours=30), open_due=True, tag="L")
load_cases(rt, 1000, now=NOW, open_due=True, tag="D")
schedule_s = time.perf_counter() - t
t = time.perf_counter()
counts = run_tick(rt, SandboxChannel(), batch=1000)
wake_s = time.perf_counter() - t
print(json.dumps({"schedule_s": schedule_s, "wake_s": wake_s, "due": counts["due"],
                  "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def place_call(i: int) -> None:  # the naive job's target (never runs: the scheduler stays paused)
    raise NotImplementedError


def _child(code: str, n: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code, str(n)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(ctx: Context) -> list[Row]:
    n = 10_000 if ctx.quick else 100_000
    ctx.say(f"naive: scheduling {n:,} APScheduler date jobs in a SQLAlchemyJobStore…")
    naive = _child(NAIVE, n)
    ctx.say(f"naive: {naive['schedule_s']:.1f}s to schedule; ours next")
    ours = _child(OURS, n)
    return [
        Row("naive", f"time to schedule {n:,} follow-ups, naive ÷ ours", round(naive["schedule_s"] / ours["schedule_s"], 1),
            "×", extra={"naive_s": round(naive["schedule_s"], 2), "ours_s": round(ours["schedule_s"], 2)}),
        Row("naive", "one wake-up with 1,000 due (naive: fetch+remove jobs only; ours: full dispatch)",
            round(naive["wake_s"] / ours["wake_s"], 2), "× (naive ÷ ours)",
            extra={"naive_s": round(naive["wake_s"], 3), "ours_s": round(ours["wake_s"], 3),
                   "naive_due": naive["due"], "ours_due": ours["due"]}),
        Row("naive", "peak RSS, naive ÷ ours", round(naive["rss_kb"] / ours["rss_kb"], 2), "×",
            extra={"naive_mb": round(naive["rss_kb"] / 1024), "ours_mb": round(ours["rss_kb"] / 1024)}),
    ]
