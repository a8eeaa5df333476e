#!/usr/bin/env bash
# A real single-node HDFS on this machine, without Docker: one NameNode and one DataNode, each a
# plain java process running Apache Hadoop's jars (fetched from Maven Central by
# stack/hadoop/pom.xml) with the configuration in stack/hadoop/conf/.
#
#   stack/hdfs.sh fetch              download the jars (skipped when already complete)
#   stack/hdfs.sh start              fetch, format once, start both daemons, wait until healthy,
#                                    create the pipeline's folders (idempotent)
#   stack/hdfs.sh stop               stop both daemons (no error when not running)
#   stack/hdfs.sh status             which daemons run, and what the NameNode reports
#   stack/hdfs.sh stop-datanode      stop only the DataNode (tests: a dead DataNode); until
#                                    start-datanode, a concurrent `start` waits (max 120 s)
#   stack/hdfs.sh start-datanode     start the DataNode again and wait until it is live
#   stack/hdfs.sh restart-datanode   both of the above
#
# Everything it writes lives under $RUNTIME_DIR: hadoop/lib (jars), hdfs/{name,data} (the file
# system), logs/, pids/. The HDFS superuser is the OS user running this script; the pipeline's
# user ($PIPELINE_HDFS_USER) owns its own folders and nothing else.
set -euo pipefail

# shellcheck source=stack/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"  # dies with a clear message without Java 17
# shellcheck source=stack/daemons.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemons.sh"

HADOOP_STACK_DIR="$PROJECT_ROOT/stack/hadoop"
HADOOP_CONF_DIR="$HADOOP_STACK_DIR/conf"
HADOOP_LIB_DIR="$RUNTIME_DIR/hadoop/lib"
HDFS_DIR="$RUNTIME_DIR/hdfs"
LOG_DIR="$RUNTIME_DIR/logs"
PID_DIR="$RUNTIME_DIR/pids"
PID_PREFIX=""

NAMENODE_URL="http://127.0.0.1:$HDFS_NAMENODE_HTTP_PORT"
SUPERUSER="$(id -un)"  # the NameNode's superuser is the OS user that starts it
START_TIMEOUT_S="${HDFS_START_TIMEOUT_S:-90}"
# `stop-datanode` leaves this file behind: the DataNode is down on purpose (a test simulating a
# dead DataNode). A concurrent `start` (another test session's fixture) waits for the hold to end
# instead of reviving the DataNode under that test; a hold older than HOLD_MAX_S is ignored.
DATANODE_HOLD_FILE="$RUNTIME_DIR/pids/datanode.stopped-on-purpose"
HOLD_MAX_S="${HDFS_DATANODE_HOLD_MAX_S:-120}"
STOP_TIMEOUT_S="${HDFS_STOP_TIMEOUT_S:-20}"

NAMENODE_CLASS=org.apache.hadoop.hdfs.server.namenode.NameNode
DATANODE_CLASS=org.apache.hadoop.hdfs.server.datanode.DataNode
# Ports each daemon binds (stack/env.sh; a second stack on other ports runs beside the first).
NAMENODE_PORTS=("$HDFS_NAMENODE_RPC_PORT" "$HDFS_NAMENODE_HTTP_PORT")
DATANODE_PORTS=("$HDFS_DATANODE_PORT" "$HDFS_DATANODE_HTTP_PORT" "$HDFS_DATANODE_IPC_PORT")

# What Hadoop's own launcher opens on JDK 17 (reflection into java.base for its RPC, metrics and
# the DataNode's direct buffers); without them some code paths fail with InaccessibleObjectException.
JPMS_OPTS=(
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.math=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.text=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.zip=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/sun.security.util=ALL-UNNAMED
  --add-opens=java.base/sun.security.x509=ALL-UNNAMED
)

# Folders the pipeline needs (they must agree with PIPELINE_ROOTS in include/ecommerce/settings.py;
# tests/integration/test_hdfs_stack.py checks that they do).
PIPELINE_ROOTS=(/user/data/raw/ecommerce /user/data/processed/ecommerce /user/data/reports/ecommerce)

log() { echo "hdfs: $*"; }

# --- Jars ------------------------------------------------------------------------------------

# The lib folder is complete when its stamp holds the hash of the pom that filled it.
fetch_jars() {
  local pom="$HADOOP_STACK_DIR/pom.xml" stamp="$HADOOP_LIB_DIR/.pom.sha256" want
  want="$(sha256sum "$pom" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  command -v mvn >/dev/null || die "Maven (mvn) is needed once to fetch the Hadoop jars (Debian: apt-get install maven)."
  log "fetching the Hadoop jars from Maven Central into $HADOOP_LIB_DIR ..."
  local staging="$HADOOP_LIB_DIR.partial" mvn_log="$LOG_DIR/hadoop-fetch.log"
  rm -rf "$staging"
  mkdir -p "$LOG_DIR"
  if ! mvn -q -B -f "$pom" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$staging" >"$mvn_log" 2>&1; then
    cat "$mvn_log" >&2
    die "mvn could not fetch the Hadoop jars (output above, also in $mvn_log)."
  fi
  echo "$want" > "$staging/.pom.sha256"
  rm -rf "$HADOOP_LIB_DIR"
  mv "$staging" "$HADOOP_LIB_DIR"
  log "$(find "$HADOOP_LIB_DIR" -name '*.jar' | wc -l) jars ready."
}

# --- Processes -------------------------------------------------------------------------------

# The java command line of a Hadoop main class: our conf folder first on the classpath, and the
# system properties the configuration files expand (see stack/hadoop/conf/core-site.xml).
# Usage: hadoop_java_cmd NAME ARGS... ; the result is in the array HADOOP_JAVA_CMD.
hadoop_java_cmd() {
  local name="$1"; shift
  HADOOP_JAVA_CMD=(
    "$JAVA_HOME/bin/java" -Dproc_"$name" -Xmx512m "${JPMS_OPTS[@]}"
    -cp "$HADOOP_CONF_DIR:$HADOOP_LIB_DIR/*"
    -Dlocal.hdfs.runtime.dir="$HDFS_DIR"
    -Dlocal.hdfs.rpc.port="$HDFS_NAMENODE_RPC_PORT"
    -Dlocal.hdfs.http.port="$HDFS_NAMENODE_HTTP_PORT"
    -Dlocal.hdfs.datanode.port="$HDFS_DATANODE_PORT"
    -Dlocal.hdfs.datanode.http.port="$HDFS_DATANODE_HTTP_PORT"
    -Dlocal.hdfs.datanode.ipc.port="$HDFS_DATANODE_IPC_PORT"
    -Dhadoop.log.dir="$LOG_DIR" -Dhadoop.log.file="$name.log"
    "$@"
  )
}

# Usage: start_daemon NAME CLASS ; returns at once, the daemon runs in the background.
start_daemon() {
  local name="$1" class="$2"
  if is_running "$name" "$class"; then
    return 0
  fi
  log "starting the $name (log: $LOG_DIR/$name.log)"
  hadoop_java_cmd "$name" "$class"
  launch_daemon "$name" "$LOG_DIR/$name.out" "${HADOOP_JAVA_CMD[@]}"
}

# --- Health ----------------------------------------------------------------------------------

# Prints "FSState NumLiveDataNodes NumDeadDataNodes CapacityRemaining" from the NameNode's JMX,
# or fails when the NameNode does not answer.
namenode_state() {
  curl -sS --fail --max-time 3 \
    "$NAMENODE_URL/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState" 2>/dev/null \
    | "$VENV/bin/python" -c '
import json, sys
try:  # empty answer or no bean yet (NameNode starting): no state
    bean = json.load(sys.stdin)["beans"][0]
    print(bean["FSState"], bean["NumLiveDataNodes"], bean["NumDeadDataNodes"], bean["CapacityRemaining"])
except (ValueError, LookupError):
    sys.exit(1)
'
}

# Healthy = FSState Operational (not in safe mode) and at least one live DataNode.
is_healthy() {
  local state live
  read -r state live _ _ < <(namenode_state) || return 1
  [ "$state" = "Operational" ] && [ "$live" -ge 1 ]
}

print_log_tails() {
  local name f
  for name in namenode datanode; do
    for f in "$LOG_DIR/$name.out" "$LOG_DIR/$name.log"; do
      [ -s "$f" ] || continue
      echo "----- last lines of $f -----" >&2
      tail -n 30 "$f" >&2
    done
  done
}

# Waits (bounded) until the NameNode is out of safe mode with a live DataNode.
wait_until_healthy() {
  local deadline=$((SECONDS + START_TIMEOUT_S))
  until is_healthy; do
    if ! is_running namenode "$NAMENODE_CLASS"; then
      print_log_tails
      die "the NameNode exited during start-up (logs above)."
    fi
    if ! is_running datanode "$DATANODE_CLASS"; then
      print_log_tails
      die "the DataNode exited during start-up (logs above)."
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      print_log_tails
      die "HDFS was not healthy within ${START_TIMEOUT_S}s (NameNode JMX: $(namenode_state || echo 'no answer'))."
    fi
    sleep 0.5
  done
}

# --- Folders ---------------------------------------------------------------------------------

# One WebHDFS call as the superuser: webhdfs METHOD OP PATH EXTRA_QUERY
webhdfs() {
  local method="$1" op="$2" path="$3" query="$4" body
  if ! body="$(curl -sS --max-time 10 --fail-with-body -X "$method" \
      "$NAMENODE_URL/webhdfs/v1$path?op=$op&user.name=$SUPERUSER$query" 2>&1)"; then
    die "WebHDFS $op $path failed: $body"
  fi
}

# mkdir -p, then owner and mode, whether the folder is new or not.
ensure_dir() {
  local path="$1" owner="$2" group="$3" mode="$4"
  webhdfs PUT MKDIRS "$path" "&permission=$mode"
  webhdfs PUT SETOWNER "$path" "&owner=$owner&group=$group"
  webhdfs PUT SETPERMISSION "$path" "&permission=$mode"
}

# The layout of a small real cluster: /tmp shared with the sticky bit (1777, like /tmp on
# Linux: everyone may create, only owners may delete); home folder for the pipeline's user; the
# data tree owned by the superuser, and only the pipeline's own roots owned by the pipeline user.
provision() {
  local root parent
  ensure_dir /tmp "$SUPERUSER" supergroup 1777
  ensure_dir /user "$SUPERUSER" supergroup 755
  ensure_dir "/user/$PIPELINE_HDFS_USER" "$PIPELINE_HDFS_USER" "$PIPELINE_HDFS_USER" 755
  ensure_dir /user/data "$SUPERUSER" supergroup 755
  for root in "${PIPELINE_ROOTS[@]}"; do
    parent="$(dirname "$root")"
    ensure_dir "$parent" "$SUPERUSER" supergroup 755
    ensure_dir "$root" "$PIPELINE_HDFS_USER" "$PIPELINE_HDFS_USER" 755
  done
  log "folders ready: ${PIPELINE_ROOTS[*]} owned by $PIPELINE_HDFS_USER (755); /tmp 1777"
}

# --- Commands --------------------------------------------------------------------------------

format_once() {
  if [ -f "$HDFS_DIR/name/current/VERSION" ]; then
    return 0
  fi
  log "formatting a new NameNode in $HDFS_DIR/name"
  # Blocks of an older file system would make the DataNode refuse the new cluster ID.
  rm -rf "$HDFS_DIR/name" "$HDFS_DIR/data"
  mkdir -p "$HDFS_DIR" "$LOG_DIR"
  hadoop_java_cmd namenode-format "$NAMENODE_CLASS" -format -force -nonInteractive
  if ! "${HADOOP_JAVA_CMD[@]}" >>"$LOG_DIR/namenode-format.out" 2>&1 </dev/null; then
    tail -n 30 "$LOG_DIR/namenode-format.out" "$LOG_DIR/namenode-format.log" >&2 2>/dev/null || true
    die "formatting the NameNode failed (logs above)."
  fi
}

# Waits while a fresh `stop-datanode` hold exists (see DATANODE_HOLD_FILE); drops a stale one.
wait_for_datanode_hold() {
  local age told=no
  while [ -f "$DATANODE_HOLD_FILE" ]; do
    age=$(( $(date +%s) - $(stat -c %Y "$DATANODE_HOLD_FILE" 2>/dev/null || date +%s) ))
    if [ "$age" -ge "$HOLD_MAX_S" ]; then
      log "ignoring a DataNode hold from ${age}s ago (stop-datanode without start-datanode)"
      rm -f "$DATANODE_HOLD_FILE"
      return 0
    fi
    if [ "$told" = no ]; then
      log "the DataNode was stopped on purpose ${age}s ago (stack/hdfs.sh stop-datanode, e.g. by a test); waiting up to $((HOLD_MAX_S - age))s for start-datanode"
      told=yes
    fi
    sleep 1
  done
}

cmd_start() {
  wait_for_datanode_hold
  if is_running namenode "$NAMENODE_CLASS" && is_running datanode "$DATANODE_CLASS" && is_healthy; then
    log "already running and healthy ($NAMENODE_URL)"
    provision
    return 0
  fi
  require_free_ports namenode "$NAMENODE_CLASS" "${NAMENODE_PORTS[@]}"
  require_free_ports datanode "$DATANODE_CLASS" "${DATANODE_PORTS[@]}"
  fetch_jars
  format_once
  local started=$SECONDS
  start_daemon namenode "$NAMENODE_CLASS"
  start_daemon datanode "$DATANODE_CLASS"
  wait_until_healthy
  log "healthy after $((SECONDS - started))s: hdfs://127.0.0.1:$HDFS_NAMENODE_RPC_PORT, $NAMENODE_URL"
  provision
}

cmd_stop() {
  rm -f "$DATANODE_HOLD_FILE"
  # DataNode first, so it does not log a storm of failed heartbeats to a stopped NameNode.
  stop_daemon datanode "$DATANODE_CLASS"
  stop_daemon namenode "$NAMENODE_CLASS"
  log "stopped"
}

cmd_start_datanode() {
  is_running namenode "$NAMENODE_CLASS" || die "the NameNode is not running: use 'stack/hdfs.sh start'."
  require_free_ports datanode "$DATANODE_CLASS" "${DATANODE_PORTS[@]}"
  start_daemon datanode "$DATANODE_CLASS"
  rm -f "$DATANODE_HOLD_FILE"  # after the PID file exists, so a waiting `start` sees it running
  wait_until_healthy
  log "DataNode live"
}

cmd_status() {
  local name class state live dead free rc=0
  for name in namenode datanode; do
    class="$NAMENODE_CLASS"; [ "$name" = datanode ] && class="$DATANODE_CLASS"
    if is_running "$name" "$class"; then
      echo "$name: running (pid $(cat "$(pid_file "$name")"))"
    else
      echo "$name: not running"; rc=1
    fi
  done
  if read -r state live dead free < <(namenode_state); then
    echo "NameNode JMX: FSState=$state NumLiveDataNodes=$live NumDeadDataNodes=$dead CapacityRemaining=$((free / 1024 / 1024)) MiB"
    if [ "$state" != Operational ] || [ "$live" -lt 1 ]; then rc=1; fi
  else
    echo "NameNode JMX: no answer at $NAMENODE_URL"; rc=1
  fi
  return "$rc"
}

case "${1:-}" in
  fetch)
    # Swapping the jars under running daemons would leave them on deleted files.
    if is_running namenode "$NAMENODE_CLASS" || is_running datanode "$DATANODE_CLASS"; then
      die "HDFS is running: 'stack/hdfs.sh stop' before fetching jars again."
    fi
    fetch_jars; log "jars ready in $HADOOP_LIB_DIR" ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  stop-datanode)
    mkdir -p "$PID_DIR"
    echo "stopped by stack/hdfs.sh stop-datanode at $(date -Is)" >"$DATANODE_HOLD_FILE"
    stop_daemon datanode "$DATANODE_CLASS"
    log "DataNode stopped on purpose; the NameNode reports it dead after ~15-18 s. Undo: stack/hdfs.sh start-datanode" ;;
  start-datanode) cmd_start_datanode ;;
  restart-datanode) stop_daemon datanode "$DATANODE_CLASS"; cmd_start_datanode ;;
  *) echo "usage: $0 {fetch|start|stop|status|restart-datanode|stop-datanode|start-datanode}" >&2; exit 2 ;;
esac
