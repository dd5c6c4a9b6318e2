# Duban: the newcomer's commands. `make test` sets up and runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup lint test run serve bench clean fonts screenshots

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
	$(BIN)/lint-imports

# The whole suite on SQLite, the browser journeys of tests/e2e included (Debian's chromium:
# `apt-get install chromium`; skipped with a message without it, screenshots in
# test-artifacts/e2e/); with DUBAN_TEST_POSTGRES (a server URL, e.g. from
# `scripts/test-postgres start`) the whole suite runs again on PostgreSQL (tests/unit never
# opens a database: it runs twice for the sake of "the whole suite", about 20 s).
test: lint
	DUBAN_TEST_POSTGRES= $(BIN)/python -m pytest
	@if [ -n "$$DUBAN_TEST_POSTGRES" ]; then \
	  echo "== the whole suite again, on PostgreSQL ($$DUBAN_TEST_POSTGRES) =="; \
	  $(BIN)/python -m pytest; \
	fi

# PDF dossiers embed a CJK TrueType font: Debian's fonts-wqy-microhei (or DOSSIER_FONT=path).
# Installed here when missing and we are root; otherwise a hint. Never fails: without the font
# dossiers fall back to STSong-Light, which the PDF reader supplies (not embedded).
WQY_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
fonts:
	@if [ -e $(WQY_FONT) ] || [ -n "$$DOSSIER_FONT" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing fonts-wqy-microhei (CJK font for the PDF dossiers)"; \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq fonts-wqy-microhei; }; } >/dev/null 2>&1 || \
	  echo "Could not install fonts-wqy-microhei: dossiers will use STSong-Light (not embedded)"; \
	else \
	  echo "Note: install fonts-wqy-microhei (sudo apt-get install fonts-wqy-microhei) so that"; \
	  echo "      PDF dossiers embed their font; until then they use STSong-Light (not embedded)."; \
	fi

# Migrate the database (DATABASE_URL, default instance/duban.sqlite3), seed the demo once, and
# serve with the timer sweep running. No reloader: it would start a second scheduler.
run: setup fonts
	SCHEDULER_ENABLED=0 $(BIN)/flask --app server init-db
	SCHEDULER_ENABLED=0 $(BIN)/flask --app server seed-demo --if-empty
	SCHEDULER_ENABLED=1 $(BIN)/flask --app server run --host 127.0.0.1 --port 5000 --no-reload

# Production: migrate the database, then serve with gunicorn (gunicorn.conf.py): DUBAN_WORKERS
# worker processes (default 4) on DUBAN_BIND (default 127.0.0.1:8000), the timer sweep on
# (SCHEDULER_ENABLED=0 turns it off on this server). DUBAN_ENV defaults to production here, so
# the app refuses the default SECRET_KEY and SQLite (unless DUBAN_ALLOW_SQLITE=1); no demo data.
serve: setup fonts
	DUBAN_ENV=$${DUBAN_ENV:-production} SCHEDULER_ENABLED=0 $(BIN)/flask --app server init-db
	DUBAN_ENV=$${DUBAN_ENV:-production} SCHEDULER_ENABLED=$${SCHEDULER_ENABLED:-1} \
	  exec $(BIN)/gunicorn --config gunicorn.conf.py

# Regenerate docs/screenshots/ from the browser journeys (needs chromium and poppler-utils).
screenshots: setup
	DUBAN_README_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/e2e -k journey

# The benchmarks of bench/ (figures printed; bench/RESULTS.md records them). Small by default,
# a minute or two; the full size: make bench BENCH_CASES=100000 BENCH_SWEEP=100000 BENCH_REQUESTS=200
# On PostgreSQL: BENCH_DATABASE_URL=postgresql+psycopg://USER@HOST:PORT/DB — that database is
# emptied (created if missing) and seeded; the sweep makes DB_sweep_1000 and DB_sweep_N beside it on the server.
BENCH_CASES ?= 5000
BENCH_SWEEP ?= 10000
BENCH_REQUESTS ?= 50
BENCH_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/bench/bench.sqlite3
bench: setup
	mkdir -p instance/bench
	$(BIN)/python bench/engine_step.py
	$(BIN)/python bench/inbox.py --reset --cases $(BENCH_CASES) --database-url '$(BENCH_DATABASE_URL)'
	$(BIN)/python bench/load.py --cases $(BENCH_CASES) --requests $(BENCH_REQUESTS) \
	  --database-url '$(BENCH_DATABASE_URL)'
	$(BIN)/python bench/completion.py --cases $(BENCH_CASES) --requests $(BENCH_REQUESTS) \
	  --database-url '$(BENCH_DATABASE_URL)'
	$(BIN)/python bench/sweep.py --large $(BENCH_SWEEP) --database-url '$(BENCH_DATABASE_URL)'

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache test-artifacts
