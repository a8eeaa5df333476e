#!/usr/bin/env bash
# A real HDFS on this machine, without Docker: one NameNode and one DataNode (or a small cluster
# of N DataNodes), each a plain java process running Apache Hadoop's jars (fetched from Maven
# Central by stack/hadoop/pom.xml) with the configuration in stack/hadoop/conf/.
#
#   stack/hdfs.sh fetch              download the jars (skipped when already complete)
#   stack/hdfs.sh start              fetch, format once, start the NameNode and one DataNode
#                                    (replication 1), wait until healthy, create the pipeline's
#                                    folders (idempotent)
#   stack/hdfs.sh start --datanodes N
#                                    the same with N DataNodes, replication min(N, 2); DataNode
#                                    I (1..N) keeps its blocks in hdfs/data (I=1) or hdfs/dataI
#                                    and binds HDFS_DATANODE_{,HTTP_,IPC_}PORT + 10*(I-1)
#   stack/hdfs.sh stop               stop every daemon (no error when not running)
#   stack/hdfs.sh status             which daemons run, and what the NameNode reports
#   stack/hdfs.sh stop-datanode [I]  stop only DataNode I (default 1; tests: a dead DataNode);
#                                    until start-datanode, a concurrent `start` waits (max 120 s)
#   stack/hdfs.sh start-datanode [I] start DataNode I again and wait until it is live
#   stack/hdfs.sh restart-datanode [I]  both of the above
#   stack/hdfs.sh fsck [PATH]        Hadoop's `hdfs fsck PATH` (default /) as the superuser
#   stack/hdfs.sh safemode enter|leave|get   `hdfs dfsadmin -safemode ...` as the superuser
#
# HDFS_DATANODE_DU_RESERVED (bytes, default 0): what each DataNode started now leaves free on its
# volume (dfs.datanode.du.reserved; a test fills the volume this way).
#
# Everything it writes lives under $RUNTIME_DIR: hadoop/lib (jars), hdfs/{name,data*} (the file
# system), logs/, pids/. The HDFS superuser is the OS user running this script; the pipeline's
# user ($PIPELINE_HDFS_USER) owns its own folders and nothing else.
set -euo pipefail

# shellcheck source=stack/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"  # dies with a clear message without Java 17
# shellcheck source=stack/daemons.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemons.sh"

HADOOP_STACK_DIR="$PROJECT_ROOT/stack/hadoop"
HADOOP_CONF_DIR="$HADOOP_STACK_DIR/conf"
HADOOP_LIB_DIR="${HADOOP_LIB_DIR:-$RUNTIME_DIR/hadoop/lib}"  # a second stack may share the jars
HDFS_DIR="$RUNTIME_DIR/hdfs"
LOG_DIR="$RUNTIME_DIR/logs"
PID_DIR="$RUNTIME_DIR/pids"
PID_PREFIX=""

NAMENODE_URL="http://127.0.0.1:$HDFS_NAMENODE_HTTP_PORT"
SUPERUSER="$(id -un)"  # the NameNode's superuser is the OS user that starts it
START_TIMEOUT_S="${HDFS_START_TIMEOUT_S:-90}"
# `stop-datanode` leaves a file behind: the DataNode is down on purpose (a test simulating a
# dead DataNode). A concurrent `start` (another test session's fixture) waits for the hold to end
# instead of reviving the DataNode under that test; a hold older than HOLD_MAX_S is ignored.
# One such file per DataNode: pids/datanode.stopped-on-purpose, pids/datanode2.stopped-on-purpose...
HOLD_MAX_S="${HDFS_DATANODE_HOLD_MAX_S:-120}"
STOP_TIMEOUT_S="${HDFS_STOP_TIMEOUT_S:-20}"

NAMENODE_CLASS=org.apache.hadoop.hdfs.server.namenode.NameNode
DATANODE_CLASS=org.apache.hadoop.hdfs.server.datanode.DataNode
# Ports each daemon binds (stack/env.sh; a second stack on other ports runs beside the first).
NAMENODE_PORTS=("$HDFS_NAMENODE_RPC_PORT" "$HDFS_NAMENODE_HTTP_PORT")
# How many DataNodes the last `start` asked for: status, stop and the health wait read it.
DATANODE_COUNT_FILE="$HDFS_DIR/datanodes"
DU_RESERVED="${HDFS_DATANODE_DU_RESERVED:-0}"

# DataNode I's name (PID and log files), data folder and ports. DataNode 1 is the single-node
# stack's DataNode, unchanged: name "datanode", folder hdfs/data, the HDFS_DATANODE_*_PORTs.
datanode_name() { member_name datanode "$1"; }
datanode_data_dir() { member_name "$HDFS_DIR/data" "$1"; }
datanode_ports() {  # "DATA HTTP IPC"
  local offset=$((10 * ($1 - 1)))
  echo "$((HDFS_DATANODE_PORT + offset)) $((HDFS_DATANODE_HTTP_PORT + offset)) $((HDFS_DATANODE_IPC_PORT + offset))"
}
datanode_hold_file() { echo "$PID_DIR/$(datanode_name "$1").stopped-on-purpose"; }
datanode_count() { member_count "$DATANODE_COUNT_FILE"; }
replication_for() { if [ "$1" -ge 2 ]; then echo 2; else echo 1; fi; }
require_datanode_index() {
  is_member_index "$1" "$(datanode_count)" \
    || die "no DataNode $1: this HDFS has $(datanode_count) (stack/hdfs.sh start --datanodes N)."
}

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
# Usage: [DATANODE_INDEX=I] hadoop_java_cmd NAME ARGS... ; the result is in the array
# HADOOP_JAVA_CMD. DATANODE_INDEX (default 1) picks the DataNode's folder and ports.
hadoop_java_cmd() {
  local name="$1" index="${DATANODE_INDEX:-1}" data_port http_port ipc_port; shift
  read -r data_port http_port ipc_port < <(datanode_ports "$index")
  HADOOP_JAVA_CMD=(
    "$JAVA_HOME/bin/java" -Dproc_"$name" -Xmx512m "${JPMS_OPTS[@]}"
    -cp "$HADOOP_CONF_DIR:$HADOOP_LIB_DIR/*"
    -Dlocal.hdfs.runtime.dir="$HDFS_DIR"
    -Dlocal.hdfs.rpc.port="$HDFS_NAMENODE_RPC_PORT"
    -Dlocal.hdfs.http.port="$HDFS_NAMENODE_HTTP_PORT"
    -Dlocal.hdfs.replication="$(replication_for "$(datanode_count)")"
    -Dlocal.hdfs.datanode.data.dir="$(datanode_data_dir "$index")"
    -Dlocal.hdfs.datanode.du.reserved="$DU_RESERVED"
    -Dlocal.hdfs.datanode.port="$data_port"
    -Dlocal.hdfs.datanode.http.port="$http_port"
    -Dlocal.hdfs.datanode.ipc.port="$ipc_port"
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

# Usage: start_datanode I ; checks its ports first.
start_datanode() {
  local name ports
  name="$(datanode_name "$1")"
  read -r -a ports < <(datanode_ports "$1")
  require_free_ports "$name" "$DATANODE_CLASS" "${ports[@]}"
  DATANODE_INDEX="$1" start_daemon "$name" "$DATANODE_CLASS"
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

# True when DataNode I is down on purpose (stop-datanode I, not yet start-datanode I).
is_held() { [ -f "$(datanode_hold_file "$1")" ]; }

# How many DataNodes should be live: all but those stopped on purpose.
expected_live() {
  local i count=0
  for ((i = 1; i <= $(datanode_count); i++)); do is_held "$i" || count=$((count + 1)); done
  echo "$count"
}

# Healthy = FSState Operational (not in safe mode) and every DataNode (datanode_count) live,
# except those stopped on purpose.
is_healthy() {
  local state live
  read -r state live _ _ < <(namenode_state) || return 1
  [ "$state" = "Operational" ] && [ "$live" -ge "$(expected_live)" ]
}

print_log_tails() {
  local name f i
  local names=(namenode)
  for ((i = 1; i <= $(datanode_count); i++)); do names+=("$(datanode_name "$i")"); done
  for name in "${names[@]}"; do
    for f in "$LOG_DIR/$name.out" "$LOG_DIR/$name.log"; do
      [ -s "$f" ] || continue
      echo "----- last lines of $f -----" >&2
      tail -n 30 "$f" >&2
    done
  done
}

# Waits (bounded) until the NameNode is out of safe mode with every DataNode live.
wait_until_healthy() {
  local deadline=$((SECONDS + START_TIMEOUT_S)) i
  until is_healthy; do
    if ! is_running namenode "$NAMENODE_CLASS"; then
      print_log_tails
      die "the NameNode exited during start-up (logs above)."
    fi
    for ((i = 1; i <= $(datanode_count); i++)); do
      if ! is_held "$i" && ! is_running "$(datanode_name "$i")" "$DATANODE_CLASS"; then
        print_log_tails
        die "DataNode $i exited during start-up (logs above)."
      fi
    done
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
  # Blocks of an older file system would make the DataNodes refuse the new cluster ID.
  rm -rf "$HDFS_DIR/name" "$HDFS_DIR"/data "$HDFS_DIR"/data[0-9]*
  mkdir -p "$HDFS_DIR" "$LOG_DIR"
  hadoop_java_cmd namenode-format "$NAMENODE_CLASS" -format -force -nonInteractive
  if ! "${HADOOP_JAVA_CMD[@]}" >>"$LOG_DIR/namenode-format.out" 2>&1 </dev/null; then
    tail -n 30 "$LOG_DIR/namenode-format.out" "$LOG_DIR/namenode-format.log" >&2 2>/dev/null || true
    die "formatting the NameNode failed (logs above)."
  fi
}

# Waits while a fresh `stop-datanode` hold exists (see datanode_hold_file); drops a stale one.
wait_for_datanode_hold() {
  local age told=no hold
  for hold in "$PID_DIR"/datanode*.stopped-on-purpose; do
    while [ -f "$hold" ]; do
      age=$(( $(date +%s) - $(stat -c %Y "$hold" 2>/dev/null || date +%s) ))
      if [ "$age" -ge "$HOLD_MAX_S" ]; then
        log "ignoring a DataNode hold from ${age}s ago (stop-datanode without start-datanode)"
        rm -f "$hold"
        break
      fi
      if [ "$told" = no ]; then
        log "a DataNode was stopped on purpose ${age}s ago (stack/hdfs.sh stop-datanode, e.g. by a test); waiting up to $((HOLD_MAX_S - age))s for start-datanode"
        told=yes
      fi
      sleep 1
    done
  done
}

any_datanode_running() {
  local pid_path
  for pid_path in "$PID_DIR"/datanode*.pid; do
    [ -e "$pid_path" ] && is_running "$(basename "$pid_path" .pid)" "$DATANODE_CLASS" && return 0
  done
  return 1
}

all_datanodes_running() { all_members_running datanode "$DATANODE_CLASS" "$(datanode_count)"; }

# Usage: cmd_start [--datanodes N]
cmd_start() {
  local count=1 i
  while [ $# -gt 0 ]; do
    case "$1" in
      --datanodes)
        [[ "${2:-}" =~ ^[1-9][0-9]?$ ]] || die "--datanodes needs a number from 1 to 99, got '${2:-}'."
        count="$2"; shift 2 ;;
      *) die "start: unknown option '$1' (usage: stack/hdfs.sh start [--datanodes N])" ;;
    esac
  done
  wait_for_datanode_hold
  if is_running namenode "$NAMENODE_CLASS" && [ "$(datanode_count)" = "$count" ] \
      && all_datanodes_running && is_healthy; then
    log "already running and healthy ($NAMENODE_URL, $count DataNode(s))"
    provision
    return 0
  fi
  if is_running namenode "$NAMENODE_CLASS" && [ "$(datanode_count)" != "$count" ]; then
    die "HDFS runs with $(datanode_count) DataNode(s), not $count: 'stack/hdfs.sh stop' first."
  fi
  require_free_ports namenode "$NAMENODE_CLASS" "${NAMENODE_PORTS[@]}"
  fetch_jars
  format_once
  mkdir -p "$HDFS_DIR"
  echo "$count" >"$DATANODE_COUNT_FILE"
  for ((i = 1; i <= count; i++)); do
    local ports
    read -r -a ports < <(datanode_ports "$i")
    require_free_ports "$(datanode_name "$i")" "$DATANODE_CLASS" "${ports[@]}"
  done
  local started=$SECONDS
  start_daemon namenode "$NAMENODE_CLASS"
  for ((i = 1; i <= count; i++)); do start_datanode "$i"; done
  wait_until_healthy
  log "healthy after $((SECONDS - started))s: hdfs://127.0.0.1:$HDFS_NAMENODE_RPC_PORT, $NAMENODE_URL ($count DataNode(s), replication $(replication_for "$count"))"
  provision
}

cmd_stop() {
  rm -f "$PID_DIR"/datanode*.stopped-on-purpose
  # DataNodes first, so they do not log a storm of failed heartbeats to a stopped NameNode.
  stop_members datanode "$DATANODE_CLASS"
  stop_daemon namenode "$NAMENODE_CLASS"
  log "stopped"
}

cmd_start_datanode() {
  local index="$1"
  require_datanode_index "$index"
  is_running namenode "$NAMENODE_CLASS" || die "the NameNode is not running: use 'stack/hdfs.sh start'."
  start_datanode "$index"
  rm -f "$(datanode_hold_file "$index")"  # after the PID file exists, so a waiting `start` sees it running
  wait_until_healthy
  # The NameNode may still count the DataNode's previous run as live (stopped less than ~15 s
  # ago): wait for the new one's own web server too, where WebHDFS redirects reads and writes.
  local http_port deadline=$((SECONDS + START_TIMEOUT_S))
  read -r _ http_port _ < <(datanode_ports "$index")
  until curl -sf --max-time 3 -o /dev/null \
      "http://127.0.0.1:$http_port/jmx?qry=Hadoop:service=DataNode,name=DataNodeInfo"; do
    is_running "$(datanode_name "$index")" "$DATANODE_CLASS" || { print_log_tails; die "DataNode $index exited during start-up (logs above)."; }
    [ "$SECONDS" -lt "$deadline" ] || die "DataNode $index's web server did not answer within ${START_TIMEOUT_S}s."
    sleep 0.5
  done
  log "DataNode $index live"
}

cmd_stop_datanode() {
  local index="$1"
  require_datanode_index "$index"
  mkdir -p "$PID_DIR"
  echo "stopped by stack/hdfs.sh stop-datanode $index at $(date -Is)" >"$(datanode_hold_file "$index")"
  stop_daemon "$(datanode_name "$index")" "$DATANODE_CLASS"
  log "DataNode $index stopped on purpose; the NameNode reports it dead after ~15-18 s. Undo: stack/hdfs.sh start-datanode $index"
}

# One of Hadoop's admin tools as the superuser: its output and exit status.
# Usage: admin_tool NAME CLASS ARGS...
admin_tool() {
  local name="$1" class="$2"; shift 2
  hadoop_java_cmd "$name" "$class" "$@"
  HADOOP_USER_NAME="$SUPERUSER" "${HADOOP_JAVA_CMD[@]}" 2>>"$LOG_DIR/$name.err"
}

cmd_status() {
  local name state live dead free rc=0 i
  if is_running namenode "$NAMENODE_CLASS"; then
    echo "namenode: running (pid $(cat "$(pid_file namenode)"))"
  else
    echo "namenode: not running"; rc=1
  fi
  for ((i = 1; i <= $(datanode_count); i++)); do
    name="$(datanode_name "$i")"
    if is_running "$name" "$DATANODE_CLASS"; then
      echo "$name: running (pid $(cat "$(pid_file "$name")"), ports $(datanode_ports "$i" | tr ' ' ,), data $(datanode_data_dir "$i"))"
    else
      echo "$name: not running"; rc=1
    fi
  done
  if read -r state live dead free < <(namenode_state); then
    echo "NameNode JMX: FSState=$state NumLiveDataNodes=$live NumDeadDataNodes=$dead CapacityRemaining=$((free / 1024 / 1024)) MiB"
    if [ "$state" != Operational ] || [ "$live" -lt "$(datanode_count)" ]; then rc=1; fi
  else
    echo "NameNode JMX: no answer at $NAMENODE_URL"; rc=1
  fi
  return "$rc"
}

case "${1:-}" in
  fetch)
    # Swapping the jars under running daemons would leave them on deleted files.
    if is_running namenode "$NAMENODE_CLASS" || any_datanode_running; then
      die "HDFS is running: 'stack/hdfs.sh stop' before fetching jars again."
    fi
    fetch_jars; log "jars ready in $HADOOP_LIB_DIR" ;;
  start) shift; cmd_start "$@" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  stop-datanode) cmd_stop_datanode "${2:-1}" ;;
  start-datanode) cmd_start_datanode "${2:-1}" ;;
  restart-datanode)
    require_datanode_index "${2:-1}"
    stop_daemon "$(datanode_name "${2:-1}")" "$DATANODE_CLASS"; cmd_start_datanode "${2:-1}" ;;
  # `hdfs fsck PATH`: exit status 0 healthy, 1 corrupt or missing blocks.
  fsck) admin_tool fsck org.apache.hadoop.hdfs.tools.DFSck "${2:-/}" ;;
  # `hdfs dfsadmin -safemode enter|leave|get` (tests: a NameNode in safe mode).
  safemode) admin_tool dfsadmin org.apache.hadoop.hdfs.tools.DFSAdmin -safemode "${2:-get}" ;;
  *) echo "usage: $0 {fetch|start [--datanodes N]|stop|status|stop-datanode [I]|start-datanode [I]|restart-datanode [I]|fsck [PATH]|safemode enter|leave|get}" >&2; exit 2 ;;
esac
