"""The locked set of packages (``requirements/lock.txt``) and the virtualenv that must hold exactly it.

``python -m tools.lockcheck sync LOCK``: run by ``make`` after ``pip install --require-hashes -r LOCK``.
Stops (exit 1) when ``pyproject.toml`` asks for a package the lock does not pin (``make lock``
refreshes it), removes packages the lock no longer names, then checks that every installed
distribution is the locked version. ``verify LOCK`` only checks. pip installs what the lock says
but never removes what it stopped saying, hence the removal step.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping
from importlib.metadata import distributions
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
#: a pinned line of a pip-compile output: ``name==version \`` (extras stripped, markers possible)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
#: installed but never in the lock: the installer itself and the project (editable install)
ALWAYS_ALLOWED = ("pip",)


def canonical(name: str) -> str:
    """PEP 503 name: ``Flask_WTF`` and ``flask-wtf`` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(text: str) -> dict[str, str]:
    """``{canonical name: version}`` of every ``name==version`` line of a lock file."""
    pins: dict[str, str] = {}
    for line in text.splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def unhashed(text: str) -> list[str]:
    """Pinned packages of a lock file without a ``--hash``: pip refuses the whole file with ``--require-hashes``."""
    blocks: list[tuple[str, list[str]]] = []  # (name, its indented continuation lines)
    for line in text.splitlines():
        match = _PIN.match(line)
        if match:
            blocks.append((canonical(match.group(1)), [line]))
        elif blocks and line.startswith((" ", "\t")):
            blocks[-1][1].append(line)
    return [name for name, lines in blocks if not any("--hash=sha256:" in line for line in lines)]


def installed_versions() -> dict[str, str]:
    """``{canonical name: version}`` of every distribution this interpreter sees."""
    return {canonical(d.metadata["Name"]): d.version for d in distributions() if d.metadata["Name"]}


def project_requirements(pyproject_text: str, extras: Iterable[str] = ("test",)) -> list[Requirement]:
    """The project's own requirements plus those of ``extras``, as pyproject.toml writes them."""
    project = tomllib.loads(pyproject_text)["project"]
    lines = list(project.get("dependencies", []))
    for extra in extras:
        lines += project.get("optional-dependencies", {}).get(extra, [])
    return [Requirement(line) for line in lines]


def project_name(pyproject_text: str) -> str:
    return canonical(tomllib.loads(pyproject_text)["project"]["name"])


def uncovered(requirements: Iterable[Requirement], pins: Mapping[str, str]) -> list[str]:
    """Requirements the lock does not satisfy (absent, or pinned outside the specifier), one line each."""
    env = default_environment()
    problems: list[str] = []
    for req in requirements:
        if req.marker is not None and not req.marker.evaluate(env):  # type: ignore[arg-type]
            continue
        pinned = pins.get(canonical(req.name))
        if pinned is None:
            problems.append(f"{req} is not in the lock")
        elif not req.specifier.contains(Version(pinned), prereleases=True):
            problems.append(f"{req} but the lock pins {req.name}=={pinned}")
    return problems


def differences(pins: Mapping[str, str], installed: Mapping[str, str], allowed: Iterable[str]) -> list[str]:
    """How the installed set differs from the lock, one line per package (empty: exactly the lock)."""
    allowed = set(allowed)
    lines = []
    for name in sorted(set(pins) | set(installed)):
        want, have = pins.get(name), installed.get(name)
        if want is None and name not in allowed:
            lines.append(f"{name}=={have} is installed but not in the lock")
        elif want is not None and have is None:
            lines.append(f"{name}=={want} is locked but not installed")
        elif want is not None and have is not None and Version(want) != Version(have):
            lines.append(f"{name} is {have}, the lock says {want}")
    return lines


def extras_to_remove(pins: Mapping[str, str], installed: Mapping[str, str], allowed: Iterable[str]) -> list[str]:
    """Installed packages the lock does not name (left over from an older lock or a hand install)."""
    keep = set(pins) | set(allowed)
    return sorted(name for name in installed if name not in keep)


def _load(lock: Path) -> tuple[dict[str, str], str]:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return read_pins(lock.read_text(encoding="utf-8")), pyproject


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("sync", "verify"):
        print("usage: python -m tools.lockcheck sync|verify LOCK", file=sys.stderr)
        return 2
    command, lock = argv[0], Path(argv[1])
    pins, pyproject = _load(lock)
    allowed = (*ALWAYS_ALLOWED, project_name(pyproject))
    stale = uncovered(project_requirements(pyproject), pins)
    if stale:
        for line in stale:
            print(f"{lock}: pyproject.toml asks for {line}", file=sys.stderr)
        print(f"{lock} is older than pyproject.toml: run `make lock`", file=sys.stderr)
        return 1
    if command == "sync":
        leftover = extras_to_remove(pins, installed_versions(), allowed)
        if leftover:
            print(f"removing packages the lock does not name: {' '.join(leftover)}")
            subprocess.run([sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", *leftover], check=True)
    diff = differences(pins, installed_versions(), allowed)
    for line in diff:
        print(f"{lock}: {line}", file=sys.stderr)
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
