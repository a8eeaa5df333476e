# The project's commands. Everything a fresh machine needs is installed from here:
#   make demo   set everything up and run the DAG for 2026-02-14, printing the report
#   make test   the whole test suite (starts the local HDFS it needs)
#   make stop   stop every service the project started
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.8
RUN := stack/run.sh
DEMO_DATE ?= 2026-02-14
PYTEST_ARGS ?=
BENCH_ARGS ?=
BENCH_SCALE_OUT_ARGS ?=

.PHONY: help venv lock browser hdfs-up hdfs-down spark-up spark-down postgres-install postgres-up \
        postgres-down airflow-db jvm-archive airflow-up airflow-down simulate backfill \
        demo test test-faults lint format bench bench-scale-out stop clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.synced: requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else "error: Python 3.11 or 3.12 is required (Airflow 3.3 and the HDFS provider need 3.11+), found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@# --compile-bytecode: every Airflow task, CLI call and Spark driver then imports .pyc files made
	@# once here. Without them, where PYTHONDONTWRITEBYTECODE is set, each process compiles the
	@# modules anew (importing Airflow, PySpark and matplotlib: 5.3 s instead of 2.8 s).
	$(VENV)/bin/uv pip sync --quiet --compile-bytecode --python $(VENV)/bin/python requirements-dev.lock
	@touch $@

venv: $(VENV)/.synced ## create .venv with the locked dependencies

lock: venv ## re-resolve requirements*.lock from pyproject.toml
	$(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 --excludes lock-excludes.txt -o requirements.lock -q
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --excludes lock-excludes.txt -o requirements-dev.lock -q

hdfs-up: venv ## start the local HDFS (NameNode + DataNode on 127.0.0.1)
	stack/hdfs.sh start

hdfs-down: ## stop the local HDFS
	stack/hdfs.sh stop

spark-up: venv ## start a local Spark standalone master and worker
	stack/spark-standalone.sh start

spark-down: ## stop the Spark standalone master and worker
	stack/spark-standalone.sh stop

# The local Airflow's metadata database: Debian's PostgreSQL server (installed here as root,
# like Chromium below), run by stack/postgres.sh from .runtime/postgres on 127.0.0.1.
postgres-install:
	@stack/postgres.sh install

postgres-up: postgres-install ## start the local PostgreSQL (Airflow's metadata database)
	@stack/postgres.sh start

postgres-down: ## stop the local PostgreSQL
	stack/postgres.sh stop

airflow-db: venv postgres-up
	@out=$$($(RUN) airflow db migrate 2>&1) \
	  || { echo "$$out" | tail -n 30 >&2; echo "error: airflow db migrate failed (output above)" >&2; exit 1; }

# Headless Chromium renders the HTML report in a test, and Selenium drives it (through Debian's
# chromium-driver) through the Airflow UI in the browser tests. Debian's packages; as root they
# are installed here, otherwise the message says what to run.
browser:
	@{ command -v chromium && command -v chromedriver; } > /dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
	    echo "installing Debian's chromium and chromium-driver for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver > /dev/null; \
	  else \
	    echo "error: the browser tests need Chromium and its driver: sudo apt-get install chromium chromium-driver" >&2; exit 1; \
	  fi; }

# A stand-in collector for the local stack: yesterday's day (UTC) with its _READY marker, in the
# landing folder the DAG reads, so the run the scheduler creates on unpause has its data.
SIMULATE_DATE ?= $(shell date -u -d yesterday +%F)
SIMULATE_ROWS ?= 2000
simulate: venv ## write yesterday's generated landing day (SIMULATE_DATE, SIMULATE_ROWS) with its _READY marker
	@$(RUN) bash -c 'python -m include.data.generate_logs --quiet --date $(SIMULATE_DATE) --rows $(SIMULATE_ROWS) \
	  --out "$${AIRFLOW_VAR_ECOMMERCE_LANDING_DIR:-include/data/landing}"' | sed 's/^/landing day written: /'

# The Spark job's driver JVM maps the classes it loaded last time instead of loading them again
# (include/ecommerce/jvm_archive.py): made once per JDK build and pyspark version, ~30 s.
jvm-archive: venv ## the Spark driver JVM's class-data-sharing archive in .runtime/jvm (faster job start)
	@$(RUN) python -m include.ecommerce.jvm_archive

airflow-up: hdfs-up airflow-db simulate jvm-archive ## start the Airflow UI, scheduler and dag-processor; print address and password
	stack/airflow.sh start

backfill: airflow-up ## run the DAG for FROM..TO (YYYY-MM-DD, inclusive), one day at a time, and follow it
	@[ -n "$(FROM)" ] && [ -n "$(TO)" ] || { echo "usage: make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD" >&2; exit 2; }
	@$(RUN) python -m include.ecommerce.backfill --from-date "$(FROM)" --to-date "$(TO)"

airflow-down: ## stop the local Airflow processes
	stack/airflow.sh stop

demo: hdfs-up airflow-db jvm-archive ## run the DAG for $(DEMO_DATE) with `airflow dags test` and print the report
	@stack/demo.sh $(DEMO_DATE)

# The fault tests (tests/integration/faults) included: a cluster of their own (3 DataNodes, 2 Spark
# workers, free ports, .runtime/faults), processes killed mid-run; they write
# docs/reliability-faults.md and the fault table of docs/reliability.md from their results.
test: hdfs-up airflow-db browser jvm-archive ## run the whole test suite, the fault tests included
	$(RUN) python -m pytest $(PYTEST_ARGS)

test-faults: venv airflow-db jvm-archive ## only the fault tests (about 15 minutes on a quiet machine)
	$(RUN) python -m pytest -m faults tests/integration/faults $(PYTEST_ARGS)

lint: venv ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv ## apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: hdfs-up airflow-db jvm-archive ## benchmarks, not part of make test (BENCH_ARGS="--big-day" adds the 20M-row day; "--sizes 500000 --repeats 1" is shorter)
	$(RUN) python -m benchmarks.run $(BENCH_ARGS)

# A cluster of its own (.runtime/scale-out, free ports); heavy: 14 days of 1M rows by default.
bench-scale-out: venv airflow-db jvm-archive ## 14-day backfill on the small cluster (BENCH_SCALE_OUT_ARGS="--days 4 --rows 300000")
	$(RUN) python -m benchmarks.scale_out $(BENCH_SCALE_OUT_ARGS)

stop: ## stop every service the project started
	-stack/airflow.sh stop
	-stack/spark-standalone.sh stop
	-stack/hdfs.sh stop
	-stack/postgres.sh stop

clean: stop ## stop everything and delete runtime data (HDFS contents, Airflow's database, logs)
	rm -rf .runtime reports
