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

# PID files and process logs belong to one AIRFLOW_HOME, so a second Airflow with its own
# AIRFLOW_HOME and AIRFLOW_API_PORT (the live tests start one) never sees or stops this one.
RUN_DIR="$AIRFLOW_HOME/run"
PID_DIR="$RUN_DIR"
LOG_DIR="$RUN_DIR"
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

pid_of() { cat "$PID_DIR/airflow-$1.pid" 2>/dev/null || true; }
# Alive and still an airflow process (a stale PID file may name a reused PID).
is_running() {
  local pid; pid=$(pid_of "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ps -o args= -p "$pid" 2>/dev/null | grep -q airflow
}

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
    if is_running "$component"; then
      echo "airflow $component already running (pid $(pid_of "$component"))"
      continue
    fi
    if [ "$component" = api-server ] && (exec 3<>"/dev/tcp/127.0.0.1/$AIRFLOW_API_PORT") 2>/dev/null; then
      die "port $AIRFLOW_API_PORT is taken by another process; set AIRFLOW_API_PORT to a free port"
    fi
    # Its own session: stop() then reaches every process it forked
    # (uvicorn, executor workers, task supervisors, their tasks and spark-submit).
    # shellcheck disable=SC2046  # the command's words (no spaces inside them)
    setsid nohup $(command_of "$component") > "$LOG_DIR/airflow-$component.log" 2>&1 < /dev/null &
    echo $! > "$PID_DIR/airflow-$component.pid"
    echo "started airflow $component (pid $!, log $LOG_DIR/airflow-$component.log)"
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
    is_running api-server || { echo; tail -n 30 "$LOG_DIR/airflow-api-server.log" >&2; die "the api-server exited"; }
    echo -n "."
    sleep 2
  done
  echo
  tail -n 30 "$LOG_DIR/airflow-api-server.log" >&2
  die "the api-server did not answer within 180 s"
}

stop() {
  for component in "${COMPONENTS[@]}"; do
    local pid
    pid=$(pid_of "$component")
    [ -n "$pid" ] || continue
    # Started with setsid: the component leads a session whose ID is its PID, holding everything
    # it forked, also task processes (each in a process group of its own) and their
    # spark-submit. TERM the component first (it stops its own workers cleanly), then whatever
    # is left of the session, also after a crash of the component itself.
    if is_running "$component"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
    if ps -o args= -s "$pid" 2>/dev/null | grep -q airflow; then
      pkill -TERM -s "$pid" 2>/dev/null || true
      for _ in $(seq 1 5); do pgrep -s "$pid" > /dev/null || break; sleep 1; done
      pkill -KILL -s "$pid" 2>/dev/null || true
    fi
    echo "stopped airflow $component"
    rm -f "$PID_DIR/airflow-$component.pid"
  done
}

status() {
  for component in "${COMPONENTS[@]}"; do
    if is_running "$component"; then echo "airflow $component: running (pid $(pid_of "$component"))"
    else echo "airflow $component: stopped"; fi
  done
  if is_running api-server; then
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
