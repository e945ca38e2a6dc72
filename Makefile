# The two commands (CONTRACT §1): `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk poppler-utils chromium

.PHONY: run test lint typecheck unit system-packages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## make run: migrate, load the demo, serve the panel and Twilio endpoints on :5000 with the scheduler
run: $(STAMP)
	FOLLOWUP_CONFIG=$${FOLLOWUP_CONFIG:-config/demo.toml} $(BIN)/followup db upgrade
	FOLLOWUP_CONFIG=$${FOLLOWUP_CONFIG:-config/demo.toml} $(BIN)/followup dev --host 127.0.0.1 --port 5000

## make test: lint, types and the whole suite (SQLite and PostgreSQL)
test: $(STAMP) system-packages lint typecheck
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
	$(BIN)/ruff check followup tests

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
