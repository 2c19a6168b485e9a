# Tenure: `make run` serves the demo workspace; `make test` sets up and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test lint venv dev-venv chromium bench bench-analytics screenshots clean

$(BIN)/tenure: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

venv: $(BIN)/tenure

$(VENV)/.dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

dev-venv: $(VENV)/.dev

# The demo's workflows email its (invented) customers: captured, never handed to a server.
run: export TENURE_EMAIL_DELIVERY ?= capture
run: venv
	$(BIN)/tenure init --demo-if-empty
	$(BIN)/tenure serve --host 127.0.0.1 --port 8000

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium with apt"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

lint: dev-venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	PYTHONPATH=src $(BIN)/lint-imports

test: dev-venv chromium lint
	@set -e; \
	pg_dir=$$(mktemp -d /tmp/tenure-pg.XXXXXX); chmod 755 $$pg_dir; \
	url=$$(scripts/pg-throwaway.sh start $$pg_dir/cluster); \
	trap "scripts/pg-throwaway.sh stop $$pg_dir/cluster; rm -rf $$pg_dir" EXIT; \
	TENURE_TEST_POSTGRES_URL=$$url TENURE_TEST_REQUIRE_POSTGRES=1 TENURE_TEST_REQUIRE_BROWSER=1 \
	  $(BIN)/pytest $(PYTEST_ARGS)

bench: dev-venv
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/read.py

# lifetimes 0.11.3 is the reference implementation, installed in its own venv only.
bench-analytics:
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install -q lifetimes==0.11.3 -e .
	.venv-bench/bin/python bench/analytics.py

# Home, person, tasks, people and analytics at 1280 and 390 px into screenshots/ (the demo
# workspace is built into .tmp/ once).
screenshots: dev-venv chromium
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
