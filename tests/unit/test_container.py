"""The container files, read as docker and compose read them (no engine runs on the development
machines or in CI, so ``make container-smoke`` is skipped there; these checks run everywhere).

compose.yaml starts PostgreSQL, the release step once, then the web process and the worker;
secrets come only from the env file; the image runs the Procfile's web line as a non-root user
from the hashed runtime lock; and the smoke test tells apart "checked" from "nothing to check with".
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE_TEXT = (ROOT / "compose.yaml").read_text(encoding="utf-8")
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, Any] = COMPOSE["services"]
REQUIRED = set(re.findall(r"\$\{(\w+):\?", COMPOSE_TEXT))  # variables compose refuses to start without


def procfile(kind: str) -> str:
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
    return next(line.split(":", 1)[1].strip() for line in lines if line.startswith(f"{kind}:"))


def test_compose_runs_the_release_step_once_before_the_web_process_and_the_worker() -> None:
    assert set(SERVICES) == {"db", "release", "web", "worker"}
    assert " ".join(SERVICES["release"]["command"]) == procfile("release") == "followup db upgrade"
    assert " ".join(SERVICES["worker"]["command"]) == procfile("worker") == "followup worker"
    assert "command" not in SERVICES["web"]  # the image's command: the Procfile's web line
    assert SERVICES["release"]["restart"] == "no"
    for name in ("web", "worker"):
        assert SERVICES[name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "release": {"condition": "service_completed_successfully"},
        }
    assert SERVICES["release"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "pg_isready" in " ".join(SERVICES["db"]["healthcheck"]["test"])
    assert "/healthz" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_every_app_service_gets_the_same_image_database_and_env_file() -> None:
    for name in ("release", "web", "worker"):
        service = SERVICES[name]
        assert service["build"] == "." and service["image"] == "followup:local"
        assert service["env_file"] == "${FOLLOWUP_ENV_FILE:-.env}"
        assert service["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://followup:${POSTGRES_PASSWORD:?")
        assert service["environment"]["DATABASE_URL"].endswith("@db:5432/followup")
        assert "instance:/app/instance" in service["volumes"]
    assert SERVICES["web"]["ports"] == ["127.0.0.1:${PORT:-5000}:${PORT:-5000}"]


def test_no_secret_is_written_in_the_compose_file_or_its_example() -> None:
    """Secrets are `${VAR:?…}` references filled from .env; the committed example leaves them empty."""
    assert {"POSTGRES_PASSWORD", "FOLLOWUP_SECRET_KEY"} == REQUIRED
    assert SERVICES["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    example = dict(
        line.split("=", 1) for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    assert {name: example.get(name) for name in REQUIRED} == {name: "" for name in REQUIRED}
    assert example["FOLLOWUP_CHANNEL_MODE"] == "sandbox"  # a trial contacts nobody
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_postgresql_is_the_major_version_of_the_images_pg_dump() -> None:
    """Debian 12 (bookworm) ships pg_dump 15, which refuses a newer server: `followup backup` works."""
    assert re.search(r"^FROM python:3\.11-slim-bookworm$", DOCKERFILE, re.M)
    assert SERVICES["db"]["image"].startswith("postgres:15")
    assert "postgresql-client" in DOCKERFILE


def test_the_image_runs_the_procfiles_web_line_as_a_non_root_user() -> None:
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M)
    assert cmd is not None
    assert yaml.safe_load(cmd.group(1)) == ["sh", "-c", f"exec {procfile('web')}"]
    user = re.findall(r"^USER (\S+)$", DOCKERFILE, re.M)
    assert user == ["10001:10001"]
    assert "--uid 10001" in DOCKERFILE and "--gid 10001" in DOCKERFILE


def test_the_image_installs_the_hashed_runtime_lock_and_what_letters_need() -> None:
    assert "COPY requirements/runtime.txt" in DOCKERFILE
    assert "pip install --no-deps --require-hashes -r /tmp/runtime.txt" in DOCKERFILE
    assert "pip install --no-deps --no-build-isolation -e ." in DOCKERFILE
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    letters = {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-noto-cjk"}
    assert letters <= set(re.search(r"^SYSTEM_PACKAGES := (.*)$", makefile, re.M).group(1).split())  # type: ignore[union-attr]
    assert all(re.search(rf"\b{re.escape(p)}\b", DOCKERFILE) for p in letters)


def test_the_build_context_leaves_out_secrets_state_and_virtualenvs() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()}
    assert {".venv", "instance", ".git", ".env", "requirements/lock.txt"} <= ignored
    assert "requirements/runtime.txt" not in ignored and "config" not in ignored


def test_the_smoke_tests_own_env_file_fills_every_required_variable() -> None:
    script = (ROOT / "tools" / "container_smoke.sh").read_text(encoding="utf-8")
    heredoc = script.split('cat >"$env_file" <<EOF', 1)[1].split("\nEOF", 1)[0]
    assert {line.split("=", 1)[0] for line in heredoc.split()} >= REQUIRED


# --- make container-smoke without an engine ---------------------------------------------------------


def run_smoke(bin_dir: Path) -> subprocess.CompletedProcess[str]:
    """The smoke script with only ``bin_dir`` (and what it needs to start) on the PATH."""
    os.symlink(shutil.which("dirname") or "/usr/bin/dirname", bin_dir / "dirname")
    return subprocess.run(["/bin/bash", str(ROOT / "tools" / "container_smoke.sh")], capture_output=True,
                          text=True, env={"PATH": str(bin_dir)}, timeout=60)


def fake_docker(bin_dir: Path, script: str) -> None:
    docker = bin_dir / "docker"
    docker.write_text(f"#!/bin/bash\n{script}\n", encoding="utf-8")
    docker.chmod(0o755)


def test_the_smoke_test_says_skipped_without_a_docker_client(tmp_path: Path) -> None:
    done = run_smoke(tmp_path)
    assert done.returncode == 0
    assert done.stdout.strip() == "container-smoke: SKIPPED, nothing checked: no docker client installed"


def test_the_smoke_test_says_skipped_when_no_engine_answers(tmp_path: Path) -> None:
    """This machine's case: the client is installed, `docker info` cannot reach a daemon."""
    fake_docker(tmp_path, 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2; exit 1')
    done = run_smoke(tmp_path)
    assert done.returncode == 0
    assert "SKIPPED, nothing checked: no container engine running (Cannot connect to the Docker daemon" in done.stdout


def test_with_an_engine_the_smoke_test_goes_on_to_compose(tmp_path: Path) -> None:
    """`docker info` answers: no skip; here the fake has no compose plugin, which is said too."""
    fake_docker(tmp_path, '[ "$1" = info ] && exit 0; echo "unknown command: docker $1" >&2; exit 1')
    done = run_smoke(tmp_path)
    assert done.returncode == 0
    assert done.stdout.strip() == "container-smoke: SKIPPED, nothing checked: the docker compose plugin is not installed"
