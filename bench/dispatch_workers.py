"""Dispatch throughput with 1, 2 and 4 worker processes on PostgreSQL, and the duplicate count.

Every worker process claims with ``FOR UPDATE SKIP LOCKED``; the records of what each one sent
are counted afterwards: an attempt id appearing twice would be a customer called twice.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import time

from .backlog import load_cases
from .common import NOW, Context, Row, pg_available, pg_db, runtime_for


def race(url: str, workers: int, record_dir: str, *, batch: int = 100) -> tuple[float, int, int]:
    """Start ``workers`` processes over the due rows; (seconds, sent, duplicates)."""
    records = [f"{record_dir}/w{workers}-{i}.txt" for i in range(workers)]
    t = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "bench.race_worker", url, rec, "--batch", str(batch)],
                              stdout=subprocess.PIPE, text=True) for rec in records]
    busy = []
    for p in procs:
        out, _ = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(f"race worker failed: {out}")
        busy.append(json.loads(out.strip().splitlines()[-1])["seconds"])
    # the slowest worker's own ticking time: process start-up (imports) is not dispatch work
    seconds = max(busy) if busy else time.perf_counter() - t
    ids: collections.Counter[str] = collections.Counter()
    for rec in records:
        with open(rec) as fh:
            ids.update(line.strip() for line in fh if line.strip())
    return seconds, sum(ids.values()), sum(c - 1 for c in ids.values() if c > 1)


def run(ctx: Context) -> list[Row]:
    if not pg_available():
        ctx.say("dispatch: PostgreSQL not answering; skipped")
        return []
    due = 4_000 if ctx.quick else 20_000
    rows: list[Row] = []
    base = None
    for workers in (1, 2, 4):
        with pg_db() as url:
            rt = runtime_for(url)
            load_cases(rt, 10_000 if ctx.quick else 100_000, now=NOW, open_due=False, tag="H")
            load_cases(rt, due, now=NOW, open_due=True, tag="D")
            seconds, sent, dups = race(url, workers, str(ctx.workdir))
        rate = sent / seconds
        base = base or rate
        per_worker = rate / workers
        ctx.say(f"dispatch: {workers} worker(s): {sent:,} sent in {seconds:.1f}s, {dups} duplicates")
        rows.append(Row("dispatch", f"{workers} worker(s), PostgreSQL, {due:,} due", round(rate), "contacts/s",
                        "≥ 2,000/s per worker, scaling", per_worker >= 2_000,
                        {"seconds": round(seconds, 2), "sent": sent, "speedup": round(rate / base, 2)}))
        rows.append(Row("dispatch", f"{workers} worker(s): duplicate sends", dups, "contacts", "0", dups == 0))
        if sent != due:
            raise RuntimeError(f"{workers} workers sent {sent} of {due} due contacts")
    return rows
