#!/usr/bin/env bash
# make container-smoke: build the image and start compose.yaml's whole stack (PostgreSQL, the
# release step, the web process, the worker) under a throw-away project name, then check that
# /healthz answers {"status": "ok"} and that the login page is served. Everything it started is
# removed afterwards, volumes included.
#
# Where no container engine is running (no docker client, or `docker info` fails, as on the
# development machines and CI, which have the client only), it says SKIPPED and exits 0: nothing
# was checked, and the message says so.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() { echo "container-smoke: SKIPPED, nothing checked: $*"; exit 0; }

command -v docker >/dev/null 2>&1 || skip "no docker client installed"
if ! info_error=$(docker info 2>&1 >/dev/null); then
  skip "no container engine running (${info_error##*$'\n'})"
fi
docker compose version >/dev/null 2>&1 || skip "the docker compose plugin is not installed"

project="followup-smoke-$$"
port="${SMOKE_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
env_file="$(mktemp)"
cat >"$env_file" <<EOF
POSTGRES_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
FOLLOWUP_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
FOLLOWUP_ENV=development
FOLLOWUP_CHANNEL_MODE=sandbox
PORT=$port
EOF
compose() { FOLLOWUP_ENV_FILE="$env_file" docker compose -p "$project" --env-file "$env_file" "$@"; }
cleanup() { compose down --volumes --remove-orphans >/dev/null 2>&1 || true; rm -f "$env_file"; }
trap cleanup EXIT

echo "container-smoke: building the image and starting the stack ($project, port $port)"
if ! compose up --build --detach --wait --wait-timeout 300; then
  compose ps --all || true
  compose logs --no-color --tail 80 || true
  echo "container-smoke: FAILED: the stack did not become healthy" >&2
  exit 1
fi

fail() { compose logs --no-color --tail 80 web release || true; echo "container-smoke: FAILED: $*" >&2; exit 1; }
health="$(curl -fsS --max-time 10 "http://127.0.0.1:$port/healthz")" || fail "/healthz did not answer 200"
python3 -c 'import json, sys; assert json.loads(sys.argv[1]) == {"status": "ok"}, sys.argv[1]' "$health" \
  || fail "/healthz answered $health"
login="$(curl -fsS --max-time 10 "http://127.0.0.1:$port/login")" || fail "/login did not answer 200"
grep -q 'name="csrf_token"' <<<"$login" && grep -q 'name="password"' <<<"$login" \
  || fail "/login is not the login form"
[ "$(compose ps --all --format '{{.Service}} {{.State}} {{.ExitCode}}' release)" = "release exited 0" ] \
  || fail "the release step did not finish with status 0"
compose ps --format '{{.Service}} {{.State}}' worker | grep -q 'worker running' || fail "the worker is not running"
echo "container-smoke: OK: /healthz and the login page served by the image, on PostgreSQL, worker running"
