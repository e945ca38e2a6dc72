"""`followup worker` and `followup tick` from the outside."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from followup.worker import SingleWorkerLock


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "FOLLOWUP_ENV": "test",
            "FOLLOWUP_TEST_CLOCK": "1", "FOLLOWUP_TICK_SECONDS": "0.2"}


def _followup(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "followup.cli", *args], env=_env(tmp_path), capture_output=True,
                          text=True, timeout=timeout)


def test_second_lock_on_the_same_sqlite_file_is_refused(tmp_path: Path) -> None:
    first, second = SingleWorkerLock(tmp_path / "x.db"), SingleWorkerLock(tmp_path / "x.db")
    first.acquire()
    with pytest.raises(RuntimeError, match="another followup worker"):
        second.acquire()
    first.release()
    second.acquire()  # free again once the first one is gone
    second.release()


@pytest.mark.slow
def test_second_worker_process_refuses_to_start_on_sqlite(tmp_path: Path, samples: Path) -> None:
    assert _followup(tmp_path, "db", "upgrade").returncode == 0
    worker = subprocess.Popen([sys.executable, "-m", "followup.cli", "worker"], env=_env(tmp_path),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lock = tmp_path / "w.db.worker.lock"
        for _ in range(200):
            if lock.exists() and lock.read_text().strip() == str(worker.pid):
                break
            subprocess.run(["sleep", "0.05"])  # waiting for another process to start, not for our code
        second = _followup(tmp_path, "worker", timeout=30)
        assert second.returncode == 2
        assert "another followup worker is already running" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        worker.terminate()
        worker.wait(timeout=10)


def test_tick_cli_prints_one_json_line_and_dispatches(tmp_path: Path, samples: Path) -> None:
    assert _followup(tmp_path, "db", "upgrade").returncode == 0
    assert _followup(tmp_path, "clock", "set", "2026-11-20T21:00:00+08:00").returncode == 0
    assert _followup(tmp_path, "import-visits", str(samples / "visits_dms_gbk.csv")).returncode == 0
    out = _followup(tmp_path, "tick", "--now", "2026-11-21T10:00:00+08:00")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    counts = json.loads(lines[0])
    assert counts["dispatched"] == counts["due"] > 0
    assert {"due", "dispatched", "retried", "fallbacks", "breaches"} <= counts.keys()


def test_tick_now_without_test_clock_is_refused(tmp_path: Path) -> None:
    env = _env(tmp_path)
    env.pop("FOLLOWUP_TEST_CLOCK")
    subprocess.run([sys.executable, "-m", "followup.cli", "db", "upgrade"], env=env, check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-m", "followup.cli", "tick", "--now", "2026-11-21T10:00:00+08:00"],
                         env=env, capture_output=True, text=True)
    assert out.returncode == 2 and "test clock" in out.stderr


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("FOLLOWUP_LEASE_SECONDS", "abc", "not a number of seconds: 'abc' (e.g. 300 or 0.5)"),
    ("FOLLOWUP_DISPATCH_BATCH", "lots", "must be a whole number of rows (1 or more), got 'lots'"),
    ("FOLLOWUP_TICK_SECONDS", "0", "must be more than 0 and at most 86400 seconds, got '0'"),
])
@pytest.mark.parametrize("command", [("tick",), ("worker",)])
def test_a_bad_worker_setting_stops_the_command_with_one_line(tmp_path: Path, command: tuple[str, ...], name: str,
                                                               value: str, problem: str) -> None:
    env = {**_env(tmp_path), name: value}
    out = subprocess.run([sys.executable, "-m", "followup.cli", *command], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2
    assert out.stderr == f"followup: config error: {name}: {problem}\n"  # that one line, no traceback
    assert out.stdout == ""


def test_tick_claims_no_more_than_the_dispatch_batch(tmp_path: Path, samples: Path) -> None:
    assert _followup(tmp_path, "db", "upgrade").returncode == 0
    assert _followup(tmp_path, "clock", "set", "2026-11-20T21:00:00+08:00").returncode == 0
    assert _followup(tmp_path, "import-visits", str(samples / "visits_dms_gbk.csv")).returncode == 0
    env = {**_env(tmp_path), "FOLLOWUP_DISPATCH_BATCH": "2"}
    out = subprocess.run([sys.executable, "-m", "followup.cli", "tick", "--now", "2026-11-21T10:00:00+08:00"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    counts = json.loads(out.stdout)
    assert counts["due"] == counts["dispatched"] == 2  # more were due (see the test above): two per pass
