"""Known vulnerabilities in the locked set: ``make audit``, part of ``make test``.

``python -m tools.lock_audit --pip-audit PATH LOCK``

1. pip-audit (pinned in the Makefile) audits the lock against PyPI's vulnerability data, read from
   each release's JSON (``/pypi/<name>/<version>/json``).
2. A package pip-audit could not audit (where that per-release JSON does not answer, as on this
   workplace's network, pip-audit skips every package and still says "No known vulnerabilities
   found") is looked up in the project's JSON (``/pypi/<name>/json``), whose ``vulnerabilities``
   are those of the project's latest release: they are the locked version's when the lock pins
   that release. A package pinned below its latest release stays "not audited", said by name.
3. The verdict (exit status): 1 when a locked version has a known vulnerability that a released
   version fixes (raise the pin: ``make lock UPGRADE=1``, or widen pyproject.toml's range), unless
   its id is listed in ``requirements/audit-ignore.txt`` with the reason. A vulnerability nobody
   has fixed yet, and every package that could not be audited (no network, the service down), is
   printed and does not fail the build: nothing in this repository can act on it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.lockcheck import canonical, read_pins

PROJECT_JSON = "https://pypi.org/pypi/{name}/json"


@dataclass(frozen=True)
class Finding:
    """One known vulnerability of one locked version."""

    package: str
    version: str
    id: str
    fixed_in: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    summary: str = ""

    def names(self) -> set[str]:
        return {self.id, *self.aliases}


@dataclass
class Audit:
    """What was learnt about the locked set, by whom."""

    pins: Mapping[str, str]
    findings: list[Finding] = field(default_factory=list)
    audited_by: dict[str, str] = field(default_factory=dict)  # package -> "pip-audit" or "PyPI project JSON"
    not_audited: dict[str, str] = field(default_factory=dict)  # package -> why


def read_pip_audit(doc: Mapping[str, Any], audit: Audit) -> None:
    """Fold pip-audit's ``--format json`` report into ``audit``: findings, audited and skipped packages."""
    for dep in doc.get("dependencies", []):
        name = canonical(dep["name"])
        if "skip_reason" in dep:
            audit.not_audited[name] = f"pip-audit: {dep['skip_reason']}"
            continue
        audit.audited_by[name] = "pip-audit"
        audit.not_audited.pop(name, None)
        for vuln in dep.get("vulns", []):
            audit.findings.append(Finding(
                name, dep["version"], vuln["id"], tuple(vuln.get("fix_versions") or ()),
                tuple(vuln.get("aliases") or ()), (vuln.get("description") or "").strip(),
            ))


def from_project_json(name: str, pinned: str, doc: Mapping[str, Any]) -> list[Finding] | None:
    """The findings for ``name==pinned`` from the project JSON, or None when the pin is not its latest
    release (the JSON then says nothing about the pinned version)."""
    latest = doc.get("info", {}).get("version")
    if latest != pinned:
        return None
    return [
        Finding(name, pinned, v["id"], tuple(v.get("fixed_in") or ()), tuple(v.get("aliases") or ()),
                (v.get("summary") or v.get("details") or "").strip())
        for v in doc.get("vulnerabilities") or [] if not v.get("withdrawn")
    ]


def fetch_project_json(name: str, timeout: float = 20.0) -> dict[str, Any]:
    """PyPI's JSON for one project (all releases, and the latest release's vulnerabilities)."""
    request = urllib.request.Request(PROJECT_JSON.format(name=name), headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - a fixed https URL
        return dict(json.load(response))


def fill_from_project_json(audit: Audit, fetch: Callable[[str], Mapping[str, Any]] = fetch_project_json) -> None:
    """Look up every package pip-audit could not audit; the first network failure stops the look-ups."""
    todo = sorted(audit.not_audited)
    if not todo:
        return
    try:  # one probe first: without a network, say so once instead of waiting for every package
        first = {todo[0]: fetch(todo[0])}
    except (OSError, ValueError) as exc:
        for name in todo:
            audit.not_audited[name] += f"; PyPI project JSON unreachable ({exc})"
        return

    def one(name: str) -> Mapping[str, Any] | Exception:
        try:
            return fetch(name)
        except (OSError, ValueError) as exc:
            return exc

    with ThreadPoolExecutor(max_workers=6) as pool:
        docs: dict[str, Mapping[str, Any] | Exception] = {**first, **dict(zip(todo[1:], pool.map(one, todo[1:]), strict=True))}
    for name, doc in docs.items():
        pinned = audit.pins[name]
        if isinstance(doc, Exception):
            audit.not_audited[name] += f"; PyPI project JSON: {doc}"
            continue
        found = from_project_json(name, pinned, doc)
        if found is None:
            latest = doc.get("info", {}).get("version")
            audit.not_audited[name] = f"pinned {pinned}, below the latest release {latest}: no per-release data here"
            continue
        audit.audited_by[name] = "PyPI project JSON"
        del audit.not_audited[name]
        audit.findings.extend(found)


def read_ignored(text: str) -> set[str]:
    """Vulnerability ids accepted on purpose: one per line, ``#`` starts the reason."""
    return {line.split("#", 1)[0].strip() for line in text.splitlines()} - {""}


def verdict(audit: Audit, ignored: Iterable[str] = ()) -> tuple[int, list[str]]:
    """Exit status and the lines to print: 1 only for a known vulnerability with a fix, not ignored."""
    ignored = set(ignored)
    total = len(audit.pins)
    by_pip = sum(1 for v in audit.audited_by.values() if v == "pip-audit")
    lines = [
        f"audit: {total} locked packages: {len(audit.audited_by)} audited "
        f"({by_pip} by pip-audit, {len(audit.audited_by) - by_pip} from PyPI's project JSON), "
        f"{len(audit.not_audited)} not audited"
    ]
    code = 0
    seen: set[tuple[str, str]] = set()
    for f in sorted(audit.findings, key=lambda f: (f.package, f.id)):
        if (f.package, f.id) in seen:
            continue
        seen.add((f.package, f.id))
        label = f"{f.package}=={f.version} {f.id}" + (f" ({', '.join(f.aliases)})" if f.aliases else "")
        summary = " ".join(f.summary.split())[:160]
        if f.names() & ignored:
            lines.append(f"audit: accepted in requirements/audit-ignore.txt: {label}")
        elif f.fixed_in:
            lines.append(f"audit: VULNERABLE {label}, fixed in {', '.join(f.fixed_in)}: {summary}")
            code = 1
        else:
            lines.append(f"audit: known vulnerability, no fixed release yet: {label}: {summary}")
    if audit.not_audited:
        lines.append("audit: NOT AUDITED (no vulnerability data reached for these; they are not known to be safe):")
        lines += [f"audit:   {name}=={audit.pins[name]}: {why}" for name, why in sorted(audit.not_audited.items())]
    if code:
        lines.append("audit: raise the pins above (make lock UPGRADE=1) or list the id in requirements/audit-ignore.txt with why")
    elif not audit.audited_by:
        lines.append("audit: nothing was audited: no vulnerability service answered (see the reasons above)")
    elif not audit.findings:
        lines.append(f"audit: no known vulnerability in the {len(audit.audited_by)} audited packages")
    return code, lines


def run_pip_audit(pip_audit: str, lock: Path, audit: Audit) -> None:
    """pip-audit over the lock's hashed pins (no resolver, no virtualenv of its own)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        cmd = [pip_audit, "-r", str(lock), "--require-hashes", "--disable-pip", "-s", "pypi",
               "--progress-spinner", "off", "-f", "json", "-o", str(out)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = f"pip-audit did not run: {exc}"
        else:
            if out.is_file() and out.stat().st_size:
                read_pip_audit(json.loads(out.read_text(encoding="utf-8")), audit)
                return
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            reason = f"pip-audit failed ({last})"
    for name in audit.pins:
        if name not in audit.audited_by:
            audit.not_audited[name] = reason


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.lock_audit", description=__doc__.splitlines()[0])
    parser.add_argument("lock", type=Path)
    parser.add_argument("--pip-audit", required=True, help="the pip-audit executable")
    parser.add_argument("--ignore", type=Path, default=Path("requirements/audit-ignore.txt"))
    args = parser.parse_args(argv)
    audit = Audit(read_pins(args.lock.read_text(encoding="utf-8")))
    run_pip_audit(args.pip_audit, args.lock, audit)
    for name in audit.pins:
        if name not in audit.audited_by and name not in audit.not_audited:
            audit.not_audited[name] = "pip-audit: not in its report"
    fill_from_project_json(audit)
    ignored = read_ignored(args.ignore.read_text(encoding="utf-8")) if args.ignore.is_file() else set()
    code, lines = verdict(audit, ignored)
    print("\n".join(lines), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
