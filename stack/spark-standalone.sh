#!/usr/bin/env bash
# A real Spark standalone cluster on this machine: one master and one worker (or N), all on
# 127.0.0.1, started from the pyspark wheel's own `spark-class` (the wheel has no start-master.sh).
#
#   stack/spark-standalone.sh start    start both (idempotent), wait until the worker registered
#   stack/spark-standalone.sh start --workers N
#                                      N workers, each 1 core and 1 GiB by default (so two fit
#                                      on 2 cores), worker I with web UI port
#                                      SPARK_WORKER_WEBUI_PORT + I - 1
#   stack/spark-standalone.sh stop     stop all by PID (no error when not running)
#   stack/spark-standalone.sh status   which daemons run, and what the master reports
#   stack/spark-standalone.sh stop-worker I | start-worker I   (fault tests: a lost worker)
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
SPARK_WORKER_CORES="${SPARK_WORKER_CORES:-}"    # default: 2 with one worker, 1 with N
SPARK_WORKER_MEMORY="${SPARK_WORKER_MEMORY:-}"  # default: 2g with one worker, 1g with N
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
WORKER_COUNT_FILE="$RUNTIME_DIR/spark/workers"  # how many workers the last `start` asked for

worker_name() { member_name worker "$1"; }
worker_webui_port() { echo $((SPARK_WORKER_WEBUI_PORT + $1 - 1)); }
worker_count() { member_count "$WORKER_COUNT_FILE"; }
require_worker_index() {
  is_member_index "$1" "$(worker_count)" \
    || die "no worker $1: this cluster has $(worker_count) (stack/spark-standalone.sh start --workers N)."
}

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
  tail -n 30 "$LOG_DIR/spark-master.out" "$LOG_DIR"/spark-worker*.out >&2 2>/dev/null || true
  die "$1 (logs above)."
}

all_workers_running() { all_members_running worker "$WORKER_CLASS" "$(worker_count)"; }

# Usage: start_worker I ; the master must be up.
start_worker() {
  local cores="$SPARK_WORKER_CORES" memory="$SPARK_WORKER_MEMORY"
  if [ "$(worker_count)" -ge 2 ]; then cores="${cores:-1}"; memory="${memory:-1g}"; fi
  [ -n "${SPARK_CLASS:-}" ] || SPARK_CLASS="$(spark_class)"
  start_daemon "$(worker_name "$1")" "$WORKER_CLASS" "$(worker_webui_port "$1")" "$MASTER_URL" \
    --host 127.0.0.1 --webui-port "$(worker_webui_port "$1")" \
    --cores "${cores:-2}" --memory "${memory:-2g}" --work-dir "$WORK_DIR"
}

# Waits (bounded) until the master counts every worker alive.
wait_for_workers() {
  local workers deadline=$((SECONDS + START_TIMEOUT_S)) i
  until workers="$(alive_workers)" && [ "$workers" -ge "$(worker_count)" ]; do
    is_running master "$MASTER_CLASS" || fail_start "the Spark master exited during start-up"
    for ((i = 1; i <= $(worker_count); i++)); do
      is_running "$(worker_name "$i")" "$WORKER_CLASS" || fail_start "Spark worker $i exited during start-up"
    done
    [ "$SECONDS" -lt "$deadline" ] || fail_start "not all $(worker_count) Spark worker(s) registered within ${START_TIMEOUT_S}s"
    sleep 0.5
  done
}

# Usage: cmd_start [--workers N]
cmd_start() {
  local workers count=1 i started=$SECONDS
  while [ $# -gt 0 ]; do
    case "$1" in
      --workers)
        [[ "${2:-}" =~ ^[1-9][0-9]?$ ]] || die "--workers needs a number from 1 to 99, got '${2:-}'."
        count="$2"; shift 2 ;;
      *) die "start: unknown option '$1' (usage: stack/spark-standalone.sh start [--workers N])" ;;
    esac
  done
  if is_running master "$MASTER_CLASS" && [ "$(worker_count)" = "$count" ] && all_workers_running \
      && workers="$(alive_workers)" && [ "$workers" -ge "$count" ]; then
    log "already running: $MASTER_URL ($workers worker(s), UI $MASTER_UI)"
    return 0
  fi
  if is_running master "$MASTER_CLASS" && [ "$(worker_count)" != "$count" ]; then
    die "the Spark cluster runs with $(worker_count) worker(s), not $count: 'stack/spark-standalone.sh stop' first."
  fi
  mkdir -p "$(dirname "$WORKER_COUNT_FILE")"
  echo "$count" >"$WORKER_COUNT_FILE"
  SPARK_CLASS="$(spark_class)"
  start_daemon master "$MASTER_CLASS" "$SPARK_MASTER_PORT $SPARK_MASTER_WEBUI_PORT" \
    --host 127.0.0.1 --port "$SPARK_MASTER_PORT" --webui-port "$SPARK_MASTER_WEBUI_PORT"
  for ((i = 1; i <= count; i++)); do start_worker "$i"; done
  wait_for_workers
  workers="$(alive_workers)"
  log "ready after $((SECONDS - started))s: $MASTER_URL ($workers worker(s), UI $MASTER_UI)"
}

cmd_stop() {
  stop_members worker "$WORKER_CLASS"
  stop_daemon master "$MASTER_CLASS"
  log "stopped"
}

cmd_status() {
  local rc=0 workers i name
  is_running master "$MASTER_CLASS" && echo "master: running (pid $(cat "$(pid_file master)"))" \
    || { echo "master: not running"; rc=1; }
  for ((i = 1; i <= $(worker_count); i++)); do
    name="$(worker_name "$i")"
    is_running "$name" "$WORKER_CLASS" \
      && echo "$name: running (pid $(cat "$(pid_file "$name")"), UI http://127.0.0.1:$(worker_webui_port "$i"))" \
      || { echo "$name: not running"; rc=1; }
  done
  if workers="$(alive_workers)"; then
    echo "master $MASTER_URL: $workers alive worker(s), UI $MASTER_UI"
    [ "$workers" -ge "$(worker_count)" ] || rc=1
  else
    echo "master UI: no answer at $MASTER_UI"; rc=1
  fi
  return "$rc"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  stop-worker)
    require_worker_index "${2:-}"; stop_daemon "$(worker_name "$2")" "$WORKER_CLASS" ;;
  start-worker)
    require_worker_index "${2:-}"
    is_running master "$MASTER_CLASS" || die "the Spark master is not running: use 'stack/spark-standalone.sh start'."
    start_worker "$2"; wait_for_workers; log "worker $2 registered" ;;
  *) echo "usage: $0 {start [--workers N]|stop|status|stop-worker I|start-worker I}" >&2; exit 2 ;;
esac
