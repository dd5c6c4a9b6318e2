# Duban: the newcomer's commands. `make test` sets up and runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup lint test run bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

# Migrate the database (DATABASE_URL, default instance/duban.sqlite3), seed the demo once, and
# serve with the timer sweep running. No reloader: it would start a second scheduler.
run: setup
	SCHEDULER_ENABLED=0 $(BIN)/flask --app server init-db
	SCHEDULER_ENABLED=0 $(BIN)/flask --app server seed-demo --if-empty
	SCHEDULER_ENABLED=1 $(BIN)/flask --app server run --host 127.0.0.1 --port 5000 --no-reload

bench: setup
	$(BIN)/python bench/engine_step.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
