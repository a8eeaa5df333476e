#!/usr/bin/env bash
# One-shot HDFS setup, run by the `hdfs-init` service in the apache/hadoop image as the image's
# user `hadoop`, who started the NameNode and so is the HDFS superuser. Idempotent.
#
# Gives the pipeline's user (PIPELINE_HDFS_USER, default airflow) the three folders it writes,
# mode 755, and nothing else: no world-writable folder anywhere (the seed's chmod 777 is
# exactly what this replaces). The roots must agree with PIPELINE_ROOTS in
# include/ecommerce/settings.py (tests/compose checks that they do).
set -euo pipefail

PIPELINE_HDFS_USER="${PIPELINE_HDFS_USER:-airflow}"
NAMENODE_HTTP_URL="${NAMENODE_HTTP_URL:-http://namenode:9870}"
WAIT_ATTEMPTS="${WAIT_ATTEMPTS:-60}"
PIPELINE_ROOTS=(/user/data/raw/ecommerce /user/data/processed/ecommerce /user/data/reports/ecommerce)

log() { echo "hdfs-init: $*"; }

# Writes fail until a DataNode has registered: wait for it (bounded), not just for the port.
for attempt in $(seq 1 "$WAIT_ATTEMPTS"); do
  live="$(curl -fsS --max-time 5 "$NAMENODE_HTTP_URL/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState" 2>/dev/null \
    | grep -Eo '"NumLiveDataNodes" *: *[0-9]+' | grep -Eo '[0-9]+$' || true)"
  [ "${live:-0}" -ge 1 ] && break
  [ "$attempt" -eq "$WAIT_ATTEMPTS" ] && { log "no live DataNode after $attempt attempts"; exit 1; }
  log "waiting for a live DataNode ($attempt/$WAIT_ATTEMPTS)"
  sleep 5
done
timeout 300 hdfs dfsadmin -safemode wait

# The pipeline user's home holds its HDFS trash (.Trash): replaced partitions go there.
PIPELINE_HOME="/user/$PIPELINE_HDFS_USER"
hdfs dfs -mkdir -p "${PIPELINE_ROOTS[@]}" "$PIPELINE_HOME"
# Parents stay the superuser's, readable by all, writable by none else.
hdfs dfs -chmod 755 /user /user/data /user/data/raw /user/data/processed /user/data/reports
hdfs dfs -chown "$PIPELINE_HDFS_USER" "${PIPELINE_ROOTS[@]}" "$PIPELINE_HOME"
hdfs dfs -chmod 755 "${PIPELINE_ROOTS[@]}" "$PIPELINE_HOME"
hdfs dfs -ls -d /user/data/*/ecommerce "$PIPELINE_HOME"
log "done: ${PIPELINE_ROOTS[*]} and $PIPELINE_HOME (its trash) owned by $PIPELINE_HDFS_USER, mode 755"
