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

# PDFs embed CJK TrueType fonts (no free 仿宋/小标宋: docs/documents-engine.md, "Fonts"): the
# dossier WenQuanYi Micro Hei (or DOSSIER_FONT=path), issued documents AR PL UMing (body, title),
# WenQuanYi Micro Hei (黑体) and AR PL UKai (楷体) (or DOCUMENT_FONT_BODY/_TITLE/_HEI/_KAI=path).
# Installed here when missing and we are root; otherwise a hint. Never fails: without them the
# documents use the dossier's font, and without any CJK TrueType both fall back to STSong-Light,
# which the PDF reader supplies (not embedded).
FONT_PACKAGES := fonts-wqy-microhei fonts-arphic-uming fonts-arphic-ukai
FONT_FILES := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc \
  /usr/share/fonts/truetype/arphic/uming.ttc /usr/share/fonts/truetype/arphic/ukai.ttc
fonts:
	@missing=; for f in $(FONT_FILES); do [ -e $$f ] || missing=1; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing $(FONT_PACKAGES) (CJK fonts for the PDF dossiers and documents)"; \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(FONT_PACKAGES) || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq $(FONT_PACKAGES); }; } >/dev/null 2>&1 || \
	  echo "Could not install $(FONT_PACKAGES): PDFs will use what is installed, else STSong-Light (not embedded)"; \
	else \
	  echo "Note: install $(FONT_PACKAGES) (sudo apt-get install $(FONT_PACKAGES))"; \
	  echo "      so that PDF dossiers and documents embed their fonts; until then they use what is"; \
	  echo "      installed, else STSong-Light (not embedded)."; \
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
# a few minutes; the full size (issue 20: the pages at 1,000 and 100,000 cases, the completion at
# 2,000 and 100,000): make bench BENCH_CASES=1000,100000 BENCH_COMPLETION_CASES=2000,100000
# BENCH_SWEEP=100000 BENCH_REQUESTS=200. Several sizes: one database per size beside
# BENCH_DATABASE_URL (bench-1000.sqlite3 …; PostgreSQL DB_1000 …), reset by inbox.py.
# On PostgreSQL: BENCH_DATABASE_URL=postgresql+psycopg://USER@HOST:PORT/DB — those databases are
# emptied (created if missing) and seeded; the sweep makes DB_sweep_1000 and DB_sweep_N beside it.
# Every script appends its figures, one JSON line each, to BENCH_JSON; printed again at the end.
BENCH_CASES ?= 1000,5000
BENCH_COMPLETION_CASES ?= $(BENCH_CASES)
BENCH_CLIENTS ?= 4
BENCH_SWEEP ?= 10000
BENCH_REQUESTS ?= 50
BENCH_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/bench/bench.sqlite3
BENCH_JSON ?= instance/bench/figures.jsonl
bench: setup
	mkdir -p instance/bench
	rm -f '$(BENCH_JSON)'
	$(BIN)/python bench/engine_step.py
	$(BIN)/python bench/inbox.py --reset --cases $(BENCH_CASES) --requests $(BENCH_REQUESTS) \
	  --database-url '$(BENCH_DATABASE_URL)' --json '$(BENCH_JSON)'
	$(BIN)/python bench/completion.py --cases $(BENCH_COMPLETION_CASES) \
	  --requests $(BENCH_REQUESTS) --database-url '$(BENCH_DATABASE_URL)' --json '$(BENCH_JSON)'
	$(BIN)/python bench/load.py --cases $(BENCH_COMPLETION_CASES) --clients $(BENCH_CLIENTS) \
	  --requests $(BENCH_REQUESTS) --database-url '$(BENCH_DATABASE_URL)' --json '$(BENCH_JSON)'
	$(BIN)/python bench/sweep.py --large $(BENCH_SWEEP) --database-url '$(BENCH_DATABASE_URL)'
	$(BIN)/python bench/documents.py --json '$(BENCH_JSON)'
	@echo "== the figures, one JSON line each ($(BENCH_JSON)) =="
	@cat '$(BENCH_JSON)'

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache test-artifacts
