# The two commands (CONTRACT §1): `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk poppler-utils chromium

# Pinned installs: .venv holds exactly the versions of the lock (hashes checked), nothing else.
# `make lock` refreshes the locks from pyproject.toml (UPGRADE=1: every package to its newest allowed version).
LOCK := requirements/lock.txt
RUNTIME_LOCK := requirements/runtime.txt
TOOLS_LOCK := requirements/tools.txt
PIP_VERSION := 26.3
PIP_TOOLS_VERSION := 7.6.2
PIP_AUDIT_VERSION := 2.10.1
HADOLINT_VERSION := 2.15.1
# The lock tools live in a virtualenv of their own, so that .venv holds only what the lock names.
TOOLS := $(VENV)/tools
TOOLS_STAMP := $(TOOLS)/.installed
# pip-compile reads PyPI alone (not a machine's local wheel folders or mirrors from pip.conf), so the
# hashes are PyPI's own files; any mirror serving those same files installs the lock too.
COMPILE := env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null \
	CUSTOM_COMPILE_COMMAND='make lock' $(TOOLS)/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
	--strip-extras --no-emit-index-url --index-url https://pypi.org/simple $(if $(UPGRADE),--upgrade)

.PHONY: run test lint typecheck unit system-packages bench clean lock audit container-lint container-smoke

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet pip==$(PIP_VERSION)

# The locked set, then the project itself without dependencies (its build needs only the locked
# setuptools); `tools.lockcheck sync` removes what the lock no longer names and checks the result.
$(STAMP): $(BIN)/python $(LOCK) pyproject.toml
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m tools.lockcheck sync $(LOCK)
	touch $(STAMP)

$(TOOLS_STAMP): $(TOOLS_LOCK)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --require-hashes -r $(TOOLS_LOCK)
	touch $(TOOLS_STAMP)

## make lock: refresh requirements/*.txt from pyproject.toml (needs PyPI; commit the result)
lock: $(TOOLS_STAMP)
	printf 'pip-tools==$(PIP_TOOLS_VERSION)\npip-audit==$(PIP_AUDIT_VERSION)\nhadolint-bin==$(HADOLINT_VERSION)\n' | \
	  $(COMPILE) --output-file $(TOOLS_LOCK) -
	$(COMPILE) --all-build-deps --extra test --output-file $(LOCK) pyproject.toml
	@# the runtime lock starts from the full one, so both pin the same versions (a test checks it)
	cp $(LOCK) $(RUNTIME_LOCK)
	$(COMPILE) --all-build-deps --output-file $(RUNTIME_LOCK) pyproject.toml

## make audit: known vulnerabilities in the locked set (fails only on one a released version fixes)
audit: $(STAMP) $(TOOLS_STAMP)
	$(BIN)/python -m tools.lock_audit --pip-audit $(TOOLS)/bin/pip-audit $(LOCK)

## make container-lint: hadolint on the Dockerfile (the binary comes in a wheel, pinned in requirements/tools.txt)
container-lint: $(TOOLS_STAMP)
	$(TOOLS)/bin/hadolint Dockerfile

## make container-smoke: build the image, start compose.yaml's stack, check /healthz and the login page
## (says SKIPPED and passes where no container engine runs, as on the development machines and CI)
container-smoke:
	bash tools/container_smoke.sh

## make run: migrate, load the demo, serve the panel and Twilio endpoints on :5000 with the scheduler
run: $(STAMP)
	FOLLOWUP_CONFIG=$${FOLLOWUP_CONFIG:-config/demo.toml} $(BIN)/followup db upgrade
	FOLLOWUP_CONFIG=$${FOLLOWUP_CONFIG:-config/demo.toml} $(BIN)/followup dev --host 127.0.0.1 --port 5000

## make test: lint, types and the whole suite (SQLite and PostgreSQL)
test: $(STAMP) system-packages lint typecheck audit container-lint container-smoke
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --durations=15

# The letter PDF and browser tests need these; installed when running as root on Debian.
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "note: missing system packages (letter PDF / browser tests need them):$$missing"; fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check followup tests tools

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
