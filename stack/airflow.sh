#!/usr/bin/env bash
# The local Airflow 3 for the UI, triggers and backfills: api-server (UI, REST and the
# Execution API that tasks talk to), scheduler and dag-processor, each its own process with
# its own PID file (`airflow standalone` would orphan its children on stop). Metadata in the
# local PostgreSQL (stack/postgres.sh, `make airflow-db`), LocalExecutor sized for two cores in
# stack/env.sh.
#   stack/airflow.sh start|stop|status|password
set -euo pipefail
# shellcheck source=stack/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# shellcheck source=stack/daemons.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemons.sh"

# PID files and process logs belong to one AIRFLOW_HOME, so a second Airflow with its own
# AIRFLOW_HOME and AIRFLOW_API_PORT (the live tests start one) never sees or stops this one.
RUN_DIR="$AIRFLOW_HOME/run"
PID_DIR="$RUN_DIR"
PID_PREFIX="airflow-"
LOG_DIR="$RUN_DIR"
STOP_TIMEOUT_S="${AIRFLOW_STOP_TIMEOUT_S:-30}"
# What every component's command line holds (daemons.sh's check against a reused PID).
AIRFLOW_CLASS=airflow
COMPONENTS=(api-server scheduler dag-processor log-server)
API_URL="http://127.0.0.1:$AIRFLOW_API_PORT"
PASSWORDS_FILE="$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
# One admin user for the local UI; its password is generated at the first start.
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-admin:admin}"

# The command of each component. The scheduler would start the task log server on every
# interface; log-server (stack/airflow_log_server.py) serves it on AIRFLOW_LOG_SERVER_HOST instead.
command_of() {
  case "$1" in
    scheduler) echo "airflow scheduler --skip-serve-logs" ;;
    log-server) echo "python $PROJECT_ROOT/stack/airflow_log_server.py" ;;
    *) echo "airflow $1" ;;
  esac
}

log() { echo "airflow: $*"; }
pid_of() { cat "$(pid_file "$1")" 2>/dev/null || true; }
component_running() { is_running "$1" "$AIRFLOW_CLASS"; }

# env.sh keeps an inherited execution API URL; one derived from another port (a shell that
# sourced env.sh before AIRFLOW_API_PORT changed) would send every task to another api-server.
check_execution_api_url() {
  case "$AIRFLOW__CORE__EXECUTION_API_SERVER_URL" in
    *":$AIRFLOW_API_PORT/"*) ;;
    *) die "AIRFLOW__CORE__EXECUTION_API_SERVER_URL=$AIRFLOW__CORE__EXECUTION_API_SERVER_URL does not use AIRFLOW_API_PORT=$AIRFLOW_API_PORT: tasks would talk to another api-server. Unset it (env.sh derives it from the port) or make them agree." ;;
  esac
}

admin_password() {
  python - "$PASSWORDS_FILE" <<'PY'
import json, sys
try:
    print(json.load(open(sys.argv[1])).get("admin", "?"))
except OSError:
    print("(not generated yet)")
PY
}

start() {
  check_execution_api_url
  require_metadata_db
  mkdir -p "$PID_DIR" "$LOG_DIR" "$AIRFLOW_HOME"
  airflow db migrate > "$LOG_DIR/airflow-db-migrate.log" 2>&1 \
    || die "airflow db migrate failed, see $LOG_DIR/airflow-db-migrate.log"
  for component in "${COMPONENTS[@]}"; do
    if component_running "$component"; then
      echo "airflow $component already running (pid $(pid_of "$component"))"
      continue
    fi
    # A component that died (SIGKILL, OOM killer) leaves its session behind: the scheduler's
    # LocalExecutor workers outlive it and hold its PostgreSQL socket (forked with it open), so
    # the server keeps its last transaction open, with the scheduler's critical-section advisory
    # lock and pool row locks: a new scheduler would then never queue a task again (it logs
    # "Critical section lock held by another Scheduler" at debug level only). End that session
    # first; the tasks it ran are reset by the new scheduler's orphan check (env.sh).
    stop_daemon_session "$component" "$AIRFLOW_CLASS"
    if [ "$component" = api-server ] && (exec 3<>"/dev/tcp/127.0.0.1/$AIRFLOW_API_PORT") 2>/dev/null; then
      die "port $AIRFLOW_API_PORT is taken by another process; set AIRFLOW_API_PORT to a free port"
    fi
    # Its own session: stop() then reaches every process it forked
    # (uvicorn, executor workers, task supervisors, their tasks and spark-submit).
    # shellcheck disable=SC2046  # the command's words (no spaces inside them)
    launch_daemon "$component" "$LOG_DIR/airflow-$component.log" $(command_of "$component")
    echo "started airflow $component (pid $(pid_of "$component"), log $LOG_DIR/airflow-$component.log)"
  done
  echo -n "waiting for the api-server at $API_URL "
  for _ in $(seq 1 90); do
    if curl -fsS "$API_URL/api/v2/monitor/health" > /dev/null 2>&1; then
      echo "up"
      # New DAG files appear after the dag-processor's refresh; make ours visible now.
      airflow dags reserialize > "$LOG_DIR/airflow-reserialize.log" 2>&1 || true
      status
      return 0
    fi
    component_running api-server || { echo; tail -n 30 "$LOG_DIR/airflow-api-server.log" >&2; die "the api-server exited"; }
    echo -n "."
    sleep 2
  done
  echo
  tail -n 30 "$LOG_DIR/airflow-api-server.log" >&2
  die "the api-server did not answer within 180 s"
}

stop() {
  local component
  for component in "${COMPONENTS[@]}"; do
    # TERM the component first (it stops its own workers cleanly), then whatever is left of
    # its session (daemons.sh).
    stop_daemon_session "$component" "$AIRFLOW_CLASS"
  done
}

status() {
  for component in "${COMPONENTS[@]}"; do
    if component_running "$component"; then echo "airflow $component: running (pid $(pid_of "$component"))"
    else echo "airflow $component: stopped"; fi
  done
  if component_running api-server; then
    echo "Airflow UI: $API_URL   user: admin   password: $(admin_password)"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  password) admin_password ;;
  *) echo "usage: $0 start|stop|status|password" >&2; exit 2 ;;
esac
