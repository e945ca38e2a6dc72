"""Several workers on one PostgreSQL database (issue #9): every due contact goes out once.

Real processes (``python -m bench.race_worker``) race over the same rows; each appends what it
sent to its own record file, and the records are counted: an attempt id twice would be a
customer called twice.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.backlog import load_cases
from bench.common import NOW, pg_db, runtime_for
from followup.models import ContactAttempt

pytestmark = [pytest.mark.postgres, pytest.mark.slow(seconds=25)]  # tests/conftest.py starts the longest first

ROOT = Path(__file__).resolve().parents[2]


def start(url: str, record: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bench.race_worker", url, str(record), *extra], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def sent_ids(records: list[Path]) -> collections.Counter[int]:
    ids: collections.Counter[int] = collections.Counter()
    for rec in records:
        if rec.exists():
            ids.update(int(line) for line in rec.read_text().split())
    return ids


def first_calls(url: str) -> dict[str, int]:
    rt = runtime_for(url)
    with rt.sessions() as s:
        rows = s.execute(select(ContactAttempt.status, func.count()).where(ContactAttempt.number == 1,
                         ContactAttempt.channel == "call", ContactAttempt.due_at == NOW)
                         .group_by(ContactAttempt.status)).all()
    return {status: n for status, n in rows}


def test_four_workers_dispatch_ten_thousand_contacts_exactly_once(tmp_path: Path) -> None:
    with pg_db() as url:
        load_cases(runtime_for(url), 10_000, now=NOW, open_due=True, tag="R")
        records = [tmp_path / f"w{i}.txt" for i in range(4)]
        procs = [start(url, rec) for rec in records]
        for p in procs:
            out, err = p.communicate(timeout=600)
            assert p.returncode == 0, err
        ids = sent_ids(records)
        assert sum(ids.values()) == 10_000
        assert [i for i, n in ids.items() if n > 1] == []
        # every worker took a share: the rows were really raced over, not drained by one
        assert all(rec.read_text().split() for rec in records)
        assert first_calls(url) == {"done": 10_000}


def test_a_killed_workers_claims_are_dispatched_once_after_its_lease(tmp_path: Path) -> None:
    with pg_db() as url:
        load_cases(runtime_for(url), 600, now=NOW, open_due=True, tag="K")
        lease = {"FOLLOWUP_LEASE_SECONDS": "3"}
        victim_record = tmp_path / "victim.txt"
        # a slow provider: the victim holds a claimed batch of 300 rows when it is killed
        victim = start(url, victim_record, "--batch", "300", "--delay", "0.02", env=lease)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(sent_ids([victim_record])) < 20:
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        held = first_calls(url).get("dispatching", 0)
        assert held > 0, "the victim held no claimed rows when killed"
        time.sleep(3.5)  # its lease runs out (wall clock)
        records = [tmp_path / f"w{i}.txt" for i in range(2)]
        procs = [start(url, rec, env=lease) for rec in records]
        for p in procs:
            out, err = p.communicate(timeout=600)
            assert p.returncode == 0, err
        ids = sent_ids([victim_record, *records])
        assert sorted(ids.values()) == [1] * 600, "a contact was sent twice or not at all"
        assert first_calls(url) == {"done": 600}
