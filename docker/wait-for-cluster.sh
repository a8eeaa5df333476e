#!/usr/bin/env bash
# Wait until HDFS and the Spark master answer, then run the given command (or just return).
#
#   wait-for-cluster.sh [command ...]
#
# Ready means: the NameNode's RPC port accepts connections and its JMX says FSState=Operational
# (out of safe mode) with at least one live DataNode; the Spark master's RPC port accepts
# connections and its UI JSON says ALIVE with at least one alive worker. Waiting is bounded:
# WAIT_ATTEMPTS tries, WAIT_INTERVAL_SECONDS apart; then it fails naming what was not ready.
set -euo pipefail

NAMENODE_HTTP_URL="${NAMENODE_HTTP_URL:-http://namenode:9870}"
NAMENODE_RPC_ADDRESS="${NAMENODE_RPC_ADDRESS:-namenode:8020}"
SPARK_MASTER_UI_URL="${SPARK_MASTER_UI_URL:-http://spark-master:8081}"
SPARK_MASTER_ADDRESS="${SPARK_MASTER_ADDRESS:-spark-master:7077}"
WAIT_ATTEMPTS="${WAIT_ATTEMPTS:-60}"
WAIT_INTERVAL_SECONDS="${WAIT_INTERVAL_SECONDS:-5}"

log() { echo "wait-for-cluster: $*" >&2; }

# tcp_open host:port -> success when something accepts a TCP connection there (bash's /dev/tcp).
tcp_open() {
  local host="${1%:*}" port="${1##*:}"
  timeout 3 bash -c "exec 3<>/dev/tcp/${host}/${port}" 2>/dev/null
}

# json_number NAME < json -> the integer value of "NAME" : N (Hadoop and Spark pretty-print JSON).
json_number() {
  grep -Eo "\"$1\" *: *[0-9]+" | grep -Eo '[0-9]+$' | head -n 1
}

hdfs_problem() {
  local jmx live
  tcp_open "$NAMENODE_RPC_ADDRESS" || { echo "NameNode RPC $NAMENODE_RPC_ADDRESS closed"; return; }
  jmx="$(curl -fsS --max-time 5 "$NAMENODE_HTTP_URL/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState" 2>/dev/null)" \
    || { echo "NameNode JMX $NAMENODE_HTTP_URL not answering"; return; }
  echo "$jmx" | grep -Eq '"FSState" *: *"Operational"' || { echo "NameNode in safe mode"; return; }
  live="$(echo "$jmx" | json_number NumLiveDataNodes)"
  [ "${live:-0}" -ge 1 ] || { echo "no live DataNode yet"; return; }
}

spark_problem() {
  local state workers
  tcp_open "$SPARK_MASTER_ADDRESS" || { echo "Spark master $SPARK_MASTER_ADDRESS closed"; return; }
  state="$(curl -fsS --max-time 5 "$SPARK_MASTER_UI_URL/json/" 2>/dev/null)" \
    || { echo "Spark master UI $SPARK_MASTER_UI_URL not answering"; return; }
  echo "$state" | grep -Eq '"status" *: *"ALIVE"' || { echo "Spark master not ALIVE"; return; }
  workers="$(echo "$state" | json_number aliveworkers)"
  [ "${workers:-0}" -ge 1 ] || { echo "no alive Spark worker yet"; return; }
}

attempt=1
while :; do
  problems="$(hdfs_problem; spark_problem)"
  if [ -z "$problems" ]; then
    log "HDFS ($NAMENODE_RPC_ADDRESS) and Spark ($SPARK_MASTER_ADDRESS) are ready"
    break
  fi
  if [ "$attempt" -ge "$WAIT_ATTEMPTS" ]; then
    log "gave up after $attempt attempts ($WAIT_INTERVAL_SECONDS s apart):"
    echo "$problems" | sed 's/^/  - /' >&2
    exit 1
  fi
  log "attempt $attempt/$WAIT_ATTEMPTS: $(echo "$problems" | paste -sd ';' -); retrying in ${WAIT_INTERVAL_SECONDS}s"
  attempt=$((attempt + 1))
  sleep "$WAIT_INTERVAL_SECONDS"
done

if [ "$#" -gt 0 ]; then
  exec "$@"
fi
