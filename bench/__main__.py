"""``python -m bench [--quick] [--only SECTION ...]``: run the benchmarks, print and record them."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from .common import Context, Row

SECTIONS = ("import_rate", "tick_latency", "dispatch_workers", "callbacks", "naive_scheduler")
HERE = Path(__file__).resolve().parent


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip() if shutil.which("psql") else "n/a"
    return {"cpu": cpu, "cores": str(os.cpu_count()), "python": platform.python_version(),
            "os": platform.platform(), "postgresql": pg, "sqlite": __import__("sqlite3").sqlite_version}


def table(rows: list[Row]) -> str:
    lines = ["| section | measure | value | unit | target | met |", "|---|---|---|---|---|---|"]
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        value = f"{r.value:,}" if isinstance(r.value, int) else f"{r.value:,}"
        lines.append(f"| {r.section} | {r.name} | {value} | {r.unit} | {r.target} | {met} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for trying the harness")
    parser.add_argument("--only", nargs="*", choices=SECTIONS)
    parser.add_argument("--no-write", action="store_true", help="print only; don't update RESULTS.md")
    args = parser.parse_args()
    load_at_start = " ".join(f"{x:.1f}" for x in os.getloadavg())
    workdir = Path(tempfile.mkdtemp(prefix="followup-bench-"))
    ctx = Context(quick=args.quick, workdir=workdir)
    rows: list[Row] = []
    started = time.perf_counter()
    try:
        for name in args.only or SECTIONS:
            module = importlib.import_module(f"bench.{name}")
            t = time.perf_counter()
            rows.extend(module.run(ctx))
            ctx.say(f"== {name} done in {time.perf_counter() - t:.0f}s")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(table(rows))
    info = machine()
    info["load average at start"] = load_at_start
    info["load average at end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    result = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "quick": args.quick,
              "seconds": round(time.perf_counter() - started), "machine": info,
              "rows": [dataclasses.asdict(r) for r in rows]}
    print(json.dumps(result, ensure_ascii=False))
    if not args.no_write and not args.only:
        (HERE / "results.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
        (HERE / "RESULTS.md").write_text(
            "# Benchmark results\n\n"
            f"Measured by `make bench{' ARGS=--quick' if args.quick else ''}` on {result['when']} in {result['seconds']} s"
            + (" (quick sizes: see each row)" if args.quick else "") + ".\n\n"
            + "\n".join(f"- {k}: {v}" for k, v in info.items())
            + "\n\n" + table(rows) + "\n\n" + (HERE / "NOTES.md").read_text()
        )


if __name__ == "__main__":
    sys.exit(main())
