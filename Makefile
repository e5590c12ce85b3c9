# The two commands: `make run` (the whole platform with demo data) and `make test` (everything).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_PG_DIR ?= /tmp/liudong-test-pg
TEST_PG_PORT ?= 55432
export PYTHONWARNINGS := ignore

.PHONY: run cluster test unit integration install infra topology migrate keys deadletters clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs Python 3.11 ($(PYTHON))"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip<26"
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

## make run: RabbitMQ (installed/started if missing), topology, migrations, the four services,
## the gateway and Prometheus as supervised processes, and demo data; Ctrl-C stops everything.
## A second run reuses what is there.
run: $(STAMP)
	$(PY) deploy/local/run.py

## make cluster: a three-node RabbitMQ cluster on this machine (quorum queues on all three) and
## the platform on it with two replicas of every service; Ctrl-C stops everything.
cluster: $(STAMP)
	$(PY) deploy/local/cluster.py

infra: $(STAMP)
	$(PY) deploy/local/infra.py rabbitmq

## Declare every exchange and queue (before anything publishes).
topology: $(STAMP)
	$(PY) -m services.plumbing.topology

## Migrate every service database (and the gateway's); a separate step, never at start-up.
migrate: $(STAMP)
	$(PY) -m services.plumbing.migrate

## make test: unit tests, then integration and end-to-end tests against a real RabbitMQ and a
## throw-away PostgreSQL cluster that this target starts (and stops), and SQLite. Installs
## promtool, RabbitMQ, and Chromium with CJK and Tibetan fonts for the console's browser tests
## when missing (Debian, as root), like `make run`. The browser tests (Playwright driving
## Debian's chromium) run last, in a process of their own (no eventlet patching; conftest.py);
## screenshots go to var/test-output/console.
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) deploy/local/infra.py test-tools
	$(PY) deploy/local/infra.py rabbitmq
	$(PY) deploy/local/infra.py postgres-up $(TEST_PG_DIR) $(TEST_PG_PORT)
	LIUDONG_TEST_PG_URL=postgresql+psycopg2://postgres@127.0.0.1:$(TEST_PG_PORT)/postgres \
	  $(PY) -m pytest -q -ra services gateway tests --ignore=tests/browser; \
	  status=$$?; \
	  LIUDONG_BROWSER_TESTS=1 LIUDONG_TEST_PG_URL=postgresql+psycopg2://postgres@127.0.0.1:$(TEST_PG_PORT)/postgres \
	  $(PY) -m pytest -q -ra tests/browser || status=1; \
	  $(PY) deploy/local/infra.py postgres-down $(TEST_PG_DIR); exit $$status

## make bench: the platform against the naive nameko chain (bench/chain.py, issue 13) on a
## PostgreSQL cluster and a RabbitMQ vhost of its own; installs Debian's wrk when missing (root).
## About 5 minutes; never part of `make test`. BENCH_ARGS="--seconds 20" to change the load.
bench: $(STAMP)
	command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk; } \
	  || { echo "needs Debian's wrk: apt-get install wrk (as root)"; exit 1; }
	$(PY) deploy/local/infra.py rabbitmq
	$(PY) bench/chain.py $(BENCH_ARGS)

unit: $(STAMP)
	$(PY) -m pytest -q services gateway

clean:
	rm -rf var $(VENV) *.egg-info
