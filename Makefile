# One command for each habit. `make run` and `make test` set everything up themselves.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format audit bench setup system-deps demo-data compose-check clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

system-deps:
	@bash scripts/system-deps.sh

demo-data: setup
	$(PY) manage.py migrate --no-input
	$(PY) manage.py createcachetable
	$(PY) manage.py seed_demo

# The demo: SQLite, no Redis; Celery worker and beat on the file-based broker, under honcho.
# Ctrl-C stops the web server, the worker and beat together.
run: demo-data
	DEMO_MODE=1 HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/honcho -f Procfile.dev start

test: setup system-deps
	$(VENV)/bin/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/djlint templates programmes accounts mentoring matching surveys evaluation privacy --lint

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	$(VENV)/bin/djlint templates programmes accounts mentoring matching surveys evaluation privacy --reformat

# Known vulnerabilities in the installed, pinned packages (PyPI's advisory data; it says
# how many it could really check, and AUDIT_STRICT=1 fails on any it could not), and
# high-severity findings in our own code.
audit: setup
	$(PY) scripts/audit_dependencies.py
	$(VENV)/bin/bandit -q -r config programmes mentoring matching surveys evaluation accounts demo privacy -lll

compose-check:
	ENV_FILE=.env.example docker-compose -f docker-compose.yml --env-file .env.example config --quiet

bench: setup
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(PY) bench/matching.py
	$(PY) bench/pdf.py
	$(PY) bench/surveys.py
	$(PY) bench/export.py
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/mentoring_bench_cohort} $(PY) bench/cohort_report.py
	$(PY) bench/run.py

clean:
	rm -rf var staticfiles
