"""Import rate of a GB18030 DMS export (rows/s) and the importer's peak memory.

The import runs in a child process so that its peak RSS is its own; memory is measured for two
file sizes to show it stays flat (streaming), not proportional to the file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from .common import Context, Row, runtime_for, sqlite_db
from .synthetic import write_dms_csv

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, ".")
from followup.intake.importer import import_visits
from bench.common import runtime_for
rt = runtime_for(sys.argv[1])
t = time.perf_counter()
report = import_visits(Path(sys.argv[2]), settings=rt.settings, sessions=rt.sessions, clock=rt.clock)
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "imported": report.created + report.updated, "rejected": report.rejected_rows,
                  "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _import(url: str, path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, url, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(ctx: Context) -> list[Row]:
    sizes = (10_000, 20_000) if ctx.quick else (50_000, 100_000)
    rows: list[Row] = []
    results = {}
    for n in sizes:
        path = ctx.workdir / f"dms_{n}.csv"
        t = time.perf_counter()
        write_dms_csv(path, n, seed=n % 97)
        ctx.say(f"import: wrote {n:,} rows GB18030 ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f}s")
        with sqlite_db(ctx) as url:
            runtime_for(url)  # migrated by sqlite_db
            r = _import(url, path)
        results[n] = r
        ctx.say(f"import: {n:,} rows in {r['seconds']:.1f}s, peak RSS {r['peak_rss_kb'] / 1024:.0f} MB")
    big = sizes[-1]
    rate = results[big]["imported"] / results[big]["seconds"]
    rows.append(Row("import", f"{big:,}-row GB18030 CSV, SQLite", round(rate), "rows/s", "≥ 20,000 rows/s",
                    rate >= 20_000, {"imported": results[big]["imported"], "seconds": round(results[big]["seconds"], 2)}))
    small_rss, big_rss = (results[n]["peak_rss_kb"] / 1024 for n in sizes)
    rows.append(Row("import", f"peak RSS {sizes[0]:,} → {big:,} rows", round(big_rss / small_rss, 2), "ratio",
                    "flat memory (ratio ≈ 1)", big_rss / small_rss < 1.3,
                    {"small_mb": round(small_rss), "big_mb": round(big_rss)}))
    return rows
