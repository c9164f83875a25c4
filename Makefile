# Relais — the two commands of the README, and their helpers.
# Everything runs from the virtualenv in .venv, created on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
TEST_SETTINGS := shared_config.settings_test

.PHONY: run test lint typecheck pytest bench messages db-stop clean-db .tools smoke bench-scale

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# Local settings for `make run` and manage.py: DEBUG on and a random secret key, never committed.
.env:
	printf 'DEBUG=1\nSECRET_KEY=%s\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@

# System tools the tests use: gettext checks the translation catalogues, Chromium runs the
# browser tests (Playwright drives the system binary; browser downloads are not used), Pango and
# the DejaVu fonts let WeasyPrint typeset the invoices' PDF.
.tools:
	@command -v msgfmt >/dev/null && command -v chromium >/dev/null \
	  && ldconfig -p | grep -q libpangoft2-1.0 && [ -d /usr/share/fonts/truetype/dejavu ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq gettext chromium libpango-1.0-0 \
	      libpangoft2-1.0-0 fonts-dejavu-core; \
	  else echo "Install gettext, chromium, libpango-1.0-0, libpangoft2-1.0-0 and fonts-dejavu-core (Debian: apt-get install ...)"; exit 1; fi; }

run: $(VENV)/.installed .env
	$(PY) manage.py migrate_schemas --noinput
	$(PY) manage.py demo --port $(PORT)
	# The task worker (spare schemas, console rollup) runs beside the server and stops with it.
	$(PY) manage.py db_worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  RELAIS_PUBLIC_PORT=$(PORT) $(PY) manage.py runserver $(PORT)

test: $(VENV)/.installed .env .tools lint typecheck pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy .

# The suite runs in one process per core (pytest-xdist; at most 4), each with its own test
# database (`test_<name>_gw0`, …), then, alone, the tests that restart the database server
# (they would cut the other processes' connections). `make pytest PYTEST_ARGS="…"` runs
# pytest once, in one process, with those arguments instead.
pytest: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(PY) manage.py makemigrations --check --dry-run
ifdef PYTEST_ARGS
	$(VENV)/bin/pytest $(PYTEST_ARGS)
else
	$(VENV)/bin/pytest --numprocesses=auto --maxprocesses=4 -m "not server_restart"
	$(VENV)/bin/pytest -m server_restart
endif

# Regenerate the translation catalogues after changing user-facing text.
messages: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(PY) manage.py makemessages -l en --no-obsolete --ignore='.venv/*' --ignore='.data/*' --ignore='bench/*'
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(PY) manage.py compilemessages --ignore='.venv/*'

bench: $(VENV)/.installed
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(PY) bench/routing.py
	$(PY) bench/search.py
	$(PY) bench/provisioning.py
	$(PY) bench/intake.py
	$(PY) bench/desk.py
	$(PY) bench/portal.py
	$(PY) bench/upgrade.py

# Hundreds of towns on one PostgreSQL (bench/scale.py), and Relais behind pgbouncer
# (bench/pooling.py, Debian's pgbouncer on loopback): long, not in CI.
bench-scale: $(VENV)/.installed
	$(PY) bench/scale.py
	@command -v pgbouncer >/dev/null || { apt-get update -qq && apt-get install -y -qq pgbouncer; }
	$(PY) bench/pooling.py

db-stop: $(VENV)/.installed
	$(PY) -c 'from pathlib import Path; from shared_config.embedded_db import stop_embedded_database as s; s(Path(".data"))'

# The production stack on loopback (deploy/smoke.py): PostgreSQL (DATABASE_URL's server, else the
# embedded one), the runbook's installation, gunicorn, db_worker and nginx with deploy/nginx.conf,
# driven by Host header for two towns and the base domain. Installs nginx when missing.
smoke: $(VENV)/.installed
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq nginx-light; \
	  else echo "Install nginx (Debian: apt-get install nginx-light)"; exit 1; fi; }
	$(PY) deploy/smoke.py
