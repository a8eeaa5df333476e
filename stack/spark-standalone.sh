#!/usr/bin/env bash
# A real Spark standalone cluster on this machine: one master and one worker, both on 127.0.0.1,
# started from the pyspark wheel's own `spark-class` (the wheel has no start-master.sh).
#
#   stack/spark-standalone.sh start    start both (idempotent), wait until the worker registered
#   stack/spark-standalone.sh stop     stop both by PID (no error when not running)
#   stack/spark-standalone.sh status   which daemons run, and what the master reports
#
# Submit with: spark-submit --master spark://127.0.0.1:$SPARK_MASTER_PORT app.py
# (Python apps run in client deploy mode: a standalone master cannot host a Python driver.)
# Master web UI on 8081 and worker UI on 8082: Airflow's api-server has 8080.
set -euo pipefail

# shellcheck source=stack/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"  # dies with a clear message without Java 17
# shellcheck source=stack/daemons.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemons.sh"

SPARK_MASTER_WEBUI_PORT="${SPARK_MASTER_WEBUI_PORT:-8081}"
SPARK_WORKER_WEBUI_PORT="${SPARK_WORKER_WEBUI_PORT:-8082}"
SPARK_WORKER_CORES="${SPARK_WORKER_CORES:-2}"
SPARK_WORKER_MEMORY="${SPARK_WORKER_MEMORY:-2g}"
START_TIMEOUT_S="${SPARK_START_TIMEOUT_S:-60}"
STOP_TIMEOUT_S="${SPARK_STOP_TIMEOUT_S:-20}"

MASTER_URL="spark://127.0.0.1:$SPARK_MASTER_PORT"
MASTER_UI="http://127.0.0.1:$SPARK_MASTER_WEBUI_PORT"
MASTER_CLASS=org.apache.spark.deploy.master.Master
WORKER_CLASS=org.apache.spark.deploy.worker.Worker
LOG_DIR="$RUNTIME_DIR/logs"
PID_DIR="$RUNTIME_DIR/pids"
PID_PREFIX="spark-"
WORK_DIR="$RUNTIME_DIR/spark/work"  # executors' scratch and app logs (default: inside the wheel)

log() { echo "spark: $*"; }

spark_class() {
  local pyspark_dir
  pyspark_dir="$("$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')" \
    || die "pyspark is not installed in $VENV."
  echo "$pyspark_dir/bin/spark-class"
}

# Usage: start_daemon NAME CLASS "PORT..." ARGS... ; the ports are checked to be free first.
start_daemon() {
  local name="$1" class="$2" ports="$3"; shift 3
  is_running "$name" "$class" && return 0
  # shellcheck disable=SC2086  # the ports are a space-separated list
  require_free_ports "$name" "$class" $ports
  mkdir -p "$WORK_DIR"
  log "starting the $name (log: $LOG_DIR/spark-$name.out)"
  launch_daemon "$name" "$LOG_DIR/spark-$name.out" "$SPARK_CLASS" "$class" "$@"
}

# Prints the number of ALIVE workers the master knows, or fails when it does not answer.
alive_workers() {
  curl -sS --fail --max-time 3 "$MASTER_UI/json/" 2>/dev/null \
    | "$VENV/bin/python" -c '
import json, sys
try:
    print(json.load(sys.stdin)["aliveworkers"])
except (ValueError, LookupError):
    sys.exit(1)
'
}

fail_start() {
  tail -n 30 "$LOG_DIR/spark-master.out" "$LOG_DIR/spark-worker.out" >&2 2>/dev/null || true
  die "$1 (logs above)."
}

cmd_start() {
  local workers deadline started=$SECONDS
  if is_running master "$MASTER_CLASS" && is_running worker "$WORKER_CLASS" \
      && workers="$(alive_workers)" && [ "$workers" -ge 1 ]; then
    log "already running: $MASTER_URL ($workers worker(s), UI $MASTER_UI)"
    return 0
  fi
  SPARK_CLASS="$(spark_class)"
  start_daemon master "$MASTER_CLASS" "$SPARK_MASTER_PORT $SPARK_MASTER_WEBUI_PORT" \
    --host 127.0.0.1 --port "$SPARK_MASTER_PORT" --webui-port "$SPARK_MASTER_WEBUI_PORT"
  start_daemon worker "$WORKER_CLASS" "$SPARK_WORKER_WEBUI_PORT" "$MASTER_URL" \
    --host 127.0.0.1 --webui-port "$SPARK_WORKER_WEBUI_PORT" \
    --cores "$SPARK_WORKER_CORES" --memory "$SPARK_WORKER_MEMORY" --work-dir "$WORK_DIR"
  deadline=$((SECONDS + START_TIMEOUT_S))
  until workers="$(alive_workers)" && [ "$workers" -ge 1 ]; do
    is_running master "$MASTER_CLASS" || fail_start "the Spark master exited during start-up"
    is_running worker "$WORKER_CLASS" || fail_start "the Spark worker exited during start-up"
    [ "$SECONDS" -lt "$deadline" ] || fail_start "no Spark worker registered within ${START_TIMEOUT_S}s"
    sleep 0.5
  done
  log "ready after $((SECONDS - started))s: $MASTER_URL ($workers worker(s), UI $MASTER_UI)"
}

cmd_stop() {
  stop_daemon worker "$WORKER_CLASS"
  stop_daemon master "$MASTER_CLASS"
  log "stopped"
}

cmd_status() {
  local rc=0 workers
  is_running master "$MASTER_CLASS" && echo "master: running (pid $(cat "$(pid_file master)"))" \
    || { echo "master: not running"; rc=1; }
  is_running worker "$WORKER_CLASS" && echo "worker: running (pid $(cat "$(pid_file worker)"))" \
    || { echo "worker: not running"; rc=1; }
  if workers="$(alive_workers)"; then
    echo "master $MASTER_URL: $workers alive worker(s), UI $MASTER_UI"
    [ "$workers" -ge 1 ] || rc=1
  else
    echo "master UI: no answer at $MASTER_UI"; rc=1
  fi
  return "$rc"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 {start|stop|status}" >&2; exit 2 ;;
esac
