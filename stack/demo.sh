#!/usr/bin/env bash
# `make demo`: run ecommerce_daily for one date with `airflow dags test` (no scheduler needed),
# then show how each task ended and the report. Airflow's full log goes to a file, not the
# terminal.   stack/demo.sh [YYYY-MM-DD]
set -euo pipefail
# shellcheck source=stack/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

require_metadata_db
DAY="${1:-2026-02-14}"

# `airflow dags test` records its run with the logical date as start date: in the database the
# UI shows, the Runs tab would say the demo run started on 2026-02-14 and lasted months. The
# demo gets an Airflow home and a database of its own on the local PostgreSQL server instead
# (`airflow_demo`, made once and kept for the next demo).
DEMO_DB=airflow_demo
"$PROJECT_ROOT/stack/postgres.sh" list-dbs | grep -qx "\s*$DEMO_DB\s*" \
  || "$PROJECT_ROOT/stack/postgres.sh" create-db "$DEMO_DB" > /dev/null
AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="$("$PROJECT_ROOT/stack/postgres.sh" url "$DEMO_DB")"
export AIRFLOW_HOME="$RUNTIME_DIR/airflow-demo"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN METADATA_DB_AIRFLOW_HOME="$AIRFLOW_HOME"
mkdir -p "$AIRFLOW_HOME"
airflow db migrate > "$AIRFLOW_HOME/db-migrate.log" 2>&1 \
  || die "airflow db migrate of the demo's database failed, see $AIRFLOW_HOME/db-migrate.log"
LOG="$RUNTIME_DIR/logs/demo-$DAY.log"
mkdir -p "$(dirname "$LOG")"

echo "Running the DAG ecommerce_daily for $DAY with 'airflow dags test' (about a minute)."
echo "Airflow's full log: $LOG"
started=$SECONDS
airflow dags test ecommerce_daily "$DAY" > "$LOG" 2>&1 || true
finished=$(grep -m1 "DagRun Finished" "$LOG" || true)
run_id=$(sed -n 's/.*run_id=\([^,]*\),.*/\1/p' <<< "$finished")

if [ -n "$run_id" ]; then
  echo
  airflow tasks states-for-dag-run ecommerce_daily "$run_id" 2> /dev/null \
    | grep -vE "^\s*$|warning" || true
fi
echo "(took $((SECONDS - started)) s)"
echo

if grep -q "state=success" <<< "$finished"; then
  python -m include.ecommerce.show_report "$DAY"
else
  echo "error: the run for $DAY did not succeed; the failing task said:" >&2
  grep -E "AirflowFailException|ecommerce_daily failed for" "$LOG" | tail -n 3 >&2 \
    || tail -n 30 "$LOG" >&2
  exit 1
fi
