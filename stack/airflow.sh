#!/usr/bin/env bash
# The local Airflow 3 for the UI, triggers and backfills: api-server (UI, REST and the
# Execution API that tasks talk to), scheduler and dag-processor, each its own process with
# its own PID file (`airflow standalone` would orphan its children on stop). SQLite metadata
# and LocalExecutor, sized for two cores in stack/env.sh.
#   stack/airflow.sh start|stop|status|password
set -euo pipefail
# shellcheck source=stack/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

PID_DIR="$RUNTIME_DIR/pids"
LOG_DIR="$RUNTIME_DIR/logs"
COMPONENTS=(api-server scheduler dag-processor)
API_URL="http://127.0.0.1:$AIRFLOW_API_PORT"
PASSWORDS_FILE="$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
# One admin user for the local UI; its password is generated at the first start.
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-admin:admin}"

pid_of() { cat "$PID_DIR/airflow-$1.pid" 2>/dev/null || true; }
is_running() { local pid; pid=$(pid_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

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
    nohup airflow "$component" > "$LOG_DIR/airflow-$component.log" 2>&1 &
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
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      # The airflow CLI forks workers (gunicorn/uvicorn, executor processes): stop the group.
      pkill -TERM -P "$pid" 2>/dev/null || true
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      pkill -KILL -P "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
      echo "stopped airflow $component"
    fi
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
