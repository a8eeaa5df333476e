# Background daemons tracked by PID files: shared by stack/hdfs.sh, stack/spark-standalone.sh and
# stack/airflow.sh.
#
# Sourced after env.sh (for die) by a script that sets PID_DIR, STOP_TIMEOUT_S and PID_PREFIX
# (put before each daemon's name in its PID file name; may be empty) and defines log.

pid_file() { echo "$PID_DIR/${PID_PREFIX}$1.pid"; }

# True when NAME's PID file names a live process whose command line holds CLASS (so a reused PID
# is not taken for the daemon).
is_running() {
  local name="$1" class="$2" pid cmdline
  [ -f "$(pid_file "$name")" ] || return 1
  pid="$(cat "$(pid_file "$name")")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  cmdline="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$class"* ]]
}

# Refuses to start NAME, when it is not running already, while one of its ports is held by
# another process. Usage: require_free_ports NAME CLASS PORT...
require_free_ports() {
  local name="$1" class="$2" port holder; shift 2
  is_running "$name" "$class" && return 0
  for port in "$@"; do
    holder="$(ss -Hltnp "sport = :$port" 2>/dev/null || true)"
    if [ -n "$holder" ]; then
      die "cannot start the $name ($class): port $port is already in use by another process:
$holder
Stop that process (a leftover daemon without a PID file: kill it by its PID)."
    fi
  done
}

# Runs COMMAND... as NAME's daemon, appending its output to LOG_FILE, and records its PID.
# setsid: its own session, so a Ctrl-C in the caller's terminal does not reach it. COMMAND must
# end in the JVM itself (setsid does not fork here, spark-class ends with `exec java`), so $! is
# the daemon. All three standard streams are detached, so a caller reading our output (pytest's
# subprocess.run) does not wait for the daemon. Usage: launch_daemon NAME LOG_FILE COMMAND...
launch_daemon() {
  local name="$1" log_file="$2"; shift 2
  mkdir -p "$PID_DIR" "$(dirname "$log_file")"
  setsid nohup "$@" >>"$log_file" 2>&1 </dev/null &
  echo "$!" >"$(pid_file "$name")"
}

# TERM, wait up to STOP_TIMEOUT_S, then KILL. No error when it is not running.
stop_daemon() {
  local name="$1" class="$2" pid ticks=0
  if ! is_running "$name" "$class"; then
    rm -f "$(pid_file "$name")"
    return 0
  fi
  pid="$(cat "$(pid_file "$name")")"
  log "stopping the $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$ticks" -ge "$((STOP_TIMEOUT_S * 10))" ]; then
      log "the $name did not stop within ${STOP_TIMEOUT_S}s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    ticks=$((ticks + 1))
  done
  rm -f "$(pid_file "$name")"
}

# stop_daemon, then whatever is left of the daemon's session: launch_daemon's setsid made the
# daemon the leader of a session holding everything it forked (Airflow's task processes, each in
# a process group of its own, and their spark-submit), also after a crash of the daemon itself.
# Only a session that still holds a CLASS process is ended (a stale PID may name another session).
stop_daemon_session() {
  local name="$1" class="$2" pid
  pid="$(cat "$(pid_file "$name")" 2>/dev/null || true)"
  stop_daemon "$name" "$class"
  [ -n "$pid" ] || return 0
  if ps -o args= -s "$pid" 2>/dev/null | grep -q -- "$class"; then
    log "ending what is left of the $name's session $pid"
    pkill -TERM -s "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5; do pgrep -s "$pid" > /dev/null || break; sleep 1; done
    pkill -KILL -s "$pid" 2>/dev/null || true
  fi
}

# Numbered members of a group (HDFS DataNodes, Spark workers): member 1 keeps the single-node
# stack's name (BASE), member I is BASE<I>; how many the last `start` asked for is kept in a
# count file (1 when absent or garbled).
member_name() { if [ "$2" = 1 ]; then echo "$1"; else echo "$1$2"; fi; }  # member_name BASE I
member_count() {  # member_count COUNT_FILE
  local count
  count="$(cat "$1" 2>/dev/null || echo 1)"
  [[ "$count" =~ ^[1-9][0-9]*$ ]] || count=1
  echo "$count"
}

# True when I is a member's number: 1..COUNT. Usage: is_member_index I COUNT
is_member_index() { [[ "$1" =~ ^[1-9][0-9]*$ ]] && [ "$1" -le "$2" ]; }

# True when members 1..COUNT all run. Usage: all_members_running BASE CLASS COUNT
all_members_running() {
  local base="$1" class="$2" count="$3" i
  for ((i = 1; i <= count; i++)); do
    is_running "$(member_name "$base" "$i")" "$class" || return 1
  done
}

# Stops every member with a PID file, also those of an earlier, larger `start`.
# Usage: stop_members BASE CLASS
stop_members() {
  local base="$1" class="$2" pid_path name
  for pid_path in "$PID_DIR/${PID_PREFIX}$base"*.pid; do
    [ -e "$pid_path" ] || continue
    name="$(basename "$pid_path" .pid)"
    stop_daemon "${name#"$PID_PREFIX"}" "$class"
  done
}
