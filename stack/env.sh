# shellcheck shell=bash
# Sourced by every script of the local stack (and by the Makefile through stack/run.sh):
# where things live, which Java runs Hadoop and Spark, and how Airflow finds the project.
# Every value may be overridden from the environment.

PROJECT_ROOT="${PROJECT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
RUNTIME_DIR="${RUNTIME_DIR:-$PROJECT_ROOT/.runtime}"
VENV="${VENV:-$PROJECT_ROOT/.venv}"
export PROJECT_ROOT RUNTIME_DIR VENV

die() { echo "error: $*" >&2; exit 1; }

# --- Java 17 -------------------------------------------------------------------------------
# Hadoop 3.5 and Spark 4.3 are built and tested on Java 17; newer JDKs (this machine also has a
# Temurin 25) break Hadoop's security code. Use $JAVA_HOME when it is a 17, else look for one.
java_major() {  # prints the major version of the java binary in $1/bin
  "$1/bin/java" -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print v[1]; exit}'
}
select_java17() {
  local candidate
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && [ "$(java_major "$JAVA_HOME")" = "17" ]; then
    return 0
  fi
  # JAVA17_CANDIDATES: where to look (tests point it elsewhere to see the error).
  for candidate in ${JAVA17_CANDIDATES:-/usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 /usr/lib/jvm/java-17-openjdk /usr/lib/jvm/*17*}; do
    if [ -x "$candidate/bin/java" ] && [ "$(java_major "$candidate")" = "17" ]; then
      JAVA_HOME="$candidate"
      return 0
    fi
  done
  die "Java 17 is required for Hadoop and Spark, but none was found (JAVA_HOME='${JAVA_HOME:-}'). Install it (Debian: apt-get install openjdk-17-jdk-headless) or set JAVA_HOME to a JDK 17."
}
select_java17
export JAVA_HOME
export PATH="$VENV/bin:$JAVA_HOME/bin:$PATH"

# --- Spark ---------------------------------------------------------------------------------
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
export PYSPARK_PYTHON="${PYSPARK_PYTHON:-$VENV/bin/python}"
export PYSPARK_DRIVER_PYTHON="${PYSPARK_DRIVER_PYTHON:-$VENV/bin/python}"

# --- Ports of the local stack (must agree with include/ecommerce/settings.py) ---------------
export HDFS_NAMENODE_RPC_PORT="${HDFS_NAMENODE_RPC_PORT:-8020}"
export HDFS_NAMENODE_HTTP_PORT="${HDFS_NAMENODE_HTTP_PORT:-9870}"
export HDFS_DATANODE_PORT="${HDFS_DATANODE_PORT:-9866}"
export HDFS_DATANODE_HTTP_PORT="${HDFS_DATANODE_HTTP_PORT:-9864}"
export HDFS_DATANODE_IPC_PORT="${HDFS_DATANODE_IPC_PORT:-9867}"
export SPARK_MASTER_PORT="${SPARK_MASTER_PORT:-7077}"
export AIRFLOW_API_PORT="${AIRFLOW_API_PORT:-8080}"
export POSTGRES_PORT="${POSTGRES_PORT:-15432}"  # not 5432: a system PostgreSQL may have that

# The HDFS user the pipeline writes as: it owns /user/data/*; it is not the HDFS superuser.
export PIPELINE_HDFS_USER="${PIPELINE_HDFS_USER:-airflow}"

# --- Airflow (local; metadata in the local PostgreSQL of stack/postgres.sh) -----------------
export AIRFLOW_HOME="${AIRFLOW_HOME:-$RUNTIME_DIR/airflow}"
# The metadata database. The local Airflow (AIRFLOW_HOME=$RUNTIME_DIR/airflow) uses database
# `airflow` of the local server, whose password stack/postgres.sh generates at its first start.
# A database belongs to one AIRFLOW_HOME: METADATA_DB_AIRFLOW_HOME records which, so a process
# with another AIRFLOW_HOME (a test's throwaway Airflow) never inherits or defaults to the
# developer's database. Whoever sets AIRFLOW__DATABASE__SQL_ALCHEMY_CONN for another
# AIRFLOW_HOME sets METADATA_DB_AIRFLOW_HOME with it.
export METADATA_DB_PASSWORD_FILE="$RUNTIME_DIR/postgres/password"
if [ -z "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-}" ]; then
  if [ -s "$METADATA_DB_PASSWORD_FILE" ] && [ "$AIRFLOW_HOME" = "$RUNTIME_DIR/airflow" ]; then
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="postgresql+psycopg2://airflow:$(cat "$METADATA_DB_PASSWORD_FILE")@127.0.0.1:$POSTGRES_PORT/airflow"
    export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN
    export METADATA_DB_AIRFLOW_HOME="$AIRFLOW_HOME"
  fi
elif [ "${METADATA_DB_AIRFLOW_HOME:-}" != "$AIRFLOW_HOME" ]; then
  die "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN is inherited from another Airflow (METADATA_DB_AIRFLOW_HOME='${METADATA_DB_AIRFLOW_HOME:-}', this AIRFLOW_HOME='$AIRFLOW_HOME'): give this Airflow its own database (stack/postgres.sh create-db NAME; stack/postgres.sh url NAME) and set METADATA_DB_AIRFLOW_HOME=$AIRFLOW_HOME with it."
fi
# Airflow commands need it (never a silent SQLite file in AIRFLOW_HOME).
require_metadata_db() {
  [ -n "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-}" ] \
    || die "no metadata database for AIRFLOW_HOME=$AIRFLOW_HOME: for the local Airflow ($RUNTIME_DIR/airflow) run 'make airflow-db' (it starts PostgreSQL with stack/postgres.sh and migrates the database); for another AIRFLOW_HOME set AIRFLOW__DATABASE__SQL_ALCHEMY_CONN and METADATA_DB_AIRFLOW_HOME (stack/postgres.sh create-db NAME; stack/postgres.sh url NAME)."
}
export AIRFLOW__CORE__DAGS_FOLDER="${AIRFLOW__CORE__DAGS_FOLDER:-$PROJECT_ROOT/dags}"
# plugins/ecommerce_reports.py: the api-server serves the reports behind generate_report's link.
export AIRFLOW__CORE__PLUGINS_FOLDER="${AIRFLOW__CORE__PLUGINS_FOLDER:-$PROJECT_ROOT/plugins}"
export AIRFLOW__CORE__LOAD_EXAMPLES="${AIRFLOW__CORE__LOAD_EXAMPLES:-False}"
export AIRFLOW__CORE__EXECUTOR="${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}"
# Two cores: a handful of task processes, not Airflow's default 32.
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
export AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG="${AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG:-4}"
export AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL="${AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL:-5}"
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="${AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL:-10}"
# After a scheduler died, its running tasks are orphans: its successor resets them (they run
# again, without using a retry) once the dead scheduler's heartbeat is 30 s old
# ([scheduler] scheduler_health_check_threshold), checking every 30 s instead of 300; a task
# whose own heartbeat stopped is failed (and retried) after 120 s instead of 300.
export AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL="${AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL:-30}"
export AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT="${AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT:-120}"
export AIRFLOW__API__PORT="$AIRFLOW_API_PORT"
# Loopback only, like HDFS and Spark: the api-server, and the task log server, which
# stack/airflow.sh runs on this address (stack/airflow_log_server.py); tasks record it as their
# hostname, so the api-server fetches their logs there.
export AIRFLOW__API__HOST="${AIRFLOW__API__HOST:-127.0.0.1}"
export AIRFLOW_LOG_SERVER_HOST="${AIRFLOW_LOG_SERVER_HOST:-127.0.0.1}"
export AIRFLOW__CORE__HOSTNAME_CALLABLE="${AIRFLOW__CORE__HOSTNAME_CALLABLE:-stack.airflow_log_server.log_server_host}"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="${AIRFLOW__CORE__EXECUTION_API_SERVER_URL:-http://127.0.0.1:$AIRFLOW_API_PORT/execution/}"
export AIRFLOW__API__BASE_URL="${AIRFLOW__API__BASE_URL:-http://127.0.0.1:$AIRFLOW_API_PORT}"
# (A JSON default cannot sit inside ${VAR:-...}: its first '}' would end the expansion.)
local_spark_connection='{"conn_type": "spark", "host": "local[*]"}'
export AIRFLOW_CONN_SPARK_DEFAULT="${AIRFLOW_CONN_SPARK_DEFAULT:-$local_spark_connection}"
export AIRFLOW_CONN_WEBHDFS_DEFAULT="${AIRFLOW_CONN_WEBHDFS_DEFAULT:-webhdfs://$PIPELINE_HDFS_USER@127.0.0.1:$HDFS_NAMENODE_HTTP_PORT}"
export AIRFLOW_VAR_ECOMMERCE_HDFS_URI="${AIRFLOW_VAR_ECOMMERCE_HDFS_URI:-hdfs://127.0.0.1:$HDFS_NAMENODE_RPC_PORT}"
export PYTHONPATH="$PROJECT_ROOT${PYTHONPATH:+:$PYTHONPATH}"
