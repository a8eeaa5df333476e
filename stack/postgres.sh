#!/usr/bin/env bash
# The local Airflow's metadata database: a real PostgreSQL server from Debian's package, run from
# this project's own data folder on 127.0.0.1 (SQLite locks under a scheduler plus a backfill).
#
#   stack/postgres.sh install        install Debian's postgresql as root when no supported server
#                                    is on the machine (the way `make browser` installs Chromium)
#   stack/postgres.sh start          initialise once, start, wait until it accepts connections,
#                                    create the role and database `airflow` (idempotent)
#   stack/postgres.sh stop           stop the server (no error when not running)
#   stack/postgres.sh status         running or not, and where
#   stack/postgres.sh url [DB]       the SQLAlchemy URL of database DB (default: airflow)
#   stack/postgres.sh create-db DB   a new empty database DB owned by `airflow` (test harnesses:
#                                    one per throwaway Airflow); fails if DB exists
#   stack/postgres.sh drop-db DB     drop DB, closing its connections (no error when absent)
#   stack/postgres.sh list-dbs       the databases, one a line
#
# Everything lives under $RUNTIME_DIR/postgres: data/ (the cluster), run/ (its Unix socket),
# password (the `airflow` role's generated password, mode 600). Clients connect over TCP to
# 127.0.0.1:$POSTGRES_PORT with that password (scram-sha-256); administration goes through the
# Unix socket in run/, a folder only the server's OS user can enter.
#
# PostgreSQL refuses to run as root: as root, the server and the admin commands run as Debian's
# `postgres` user (created by the package), which therefore needs to be able to enter the
# project folder (o+x on each parent, the default for folders under /work, /home or /tmp).
set -euo pipefail
# shellcheck source=stack/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

PG_DIR="$RUNTIME_DIR/postgres"
PG_DATA="$PG_DIR/data"
PG_SOCKET_DIR="$PG_DIR/run"
PG_PASSWORD_FILE="$METADATA_DB_PASSWORD_FILE"  # stack/env.sh reads it for Airflow's URL
LOG_DIR="$RUNTIME_DIR/logs"
PG_LOG="$LOG_DIR/postgres.log"
# Airflow 3 is tested with PostgreSQL 13 to 17; Debian 12 ships 15, Debian 13 ships 17.
SUPPORTED_MAJORS=(17 16 15 14 13)
START_TIMEOUT_S="${POSTGRES_START_TIMEOUT_S:-60}"
APP_ROLE=airflow
APP_DB=airflow

log() { echo "postgres: $*"; }

# The bin folder of the newest supported server on this machine ($POSTGRES_BIN_DIR wins), or "".
find_bin_dir() {
  local major
  if [ -n "${POSTGRES_BIN_DIR:-}" ]; then
    [ -x "$POSTGRES_BIN_DIR/pg_ctl" ] || die "POSTGRES_BIN_DIR=$POSTGRES_BIN_DIR holds no pg_ctl."
    echo "$POSTGRES_BIN_DIR"
    return 0
  fi
  for major in "${SUPPORTED_MAJORS[@]}"; do
    if [ -x "/usr/lib/postgresql/$major/bin/pg_ctl" ]; then
      echo "/usr/lib/postgresql/$major/bin"
      return 0
    fi
  done
  echo ""
}

require_bin_dir() {
  PG_BIN="$(find_bin_dir)"
  [ -n "$PG_BIN" ] || die "no PostgreSQL server ${SUPPORTED_MAJORS[*]} found in /usr/lib/postgresql/<major>/bin. Install it: 'make postgres-install' as root (Debian: apt-get install postgresql), or set POSTGRES_BIN_DIR to a server's bin folder."
}

# The OS user the server runs as: this user, or `postgres` when this is root.
server_user() {
  if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi
}

# Runs a command as the server's OS user.
as_server_user() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# psql as the cluster's superuser through the Unix socket (no password: only the server's OS
# user can enter the socket folder). Usage: admin_sql DB SQL
admin_sql() {
  as_server_user "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$POSTGRES_PORT" \
    -U postgres -d "$1" -tA -c "$2"
}

is_running() {
  [ -n "$(find_bin_dir)" ] && [ -f "$PG_DATA/postmaster.pid" ] || return 1
  PG_BIN="$(find_bin_dir)"
  as_server_user "$PG_BIN/pg_ctl" status -D "$PG_DATA" > /dev/null 2>&1
}

accepts_connections() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT" -t 2
}

cmd_install() {
  if [ -n "$(find_bin_dir)" ]; then
    : # found: nothing to do
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed and this is not root: sudo apt-get install postgresql (or: sudo make postgres-install)"
  command -v apt-get > /dev/null || die "PostgreSQL is not installed and apt-get is missing: install a PostgreSQL ${SUPPORTED_MAJORS[*]} server and set POSTGRES_BIN_DIR to its bin folder."
  log "installing Debian's postgresql (the local Airflow's metadata database)"
  # The package would also create and start a system-wide cluster on port 5432 that this project
  # does not use and `make stop` would not stop: forbid service starts during the install
  # (policy-rc.d, Debian's mechanism for this), unless the machine already has a policy.
  local policy=/usr/sbin/policy-rc.d own_policy=no
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    own_policy=yes
  fi
  local rc=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql > /dev/null; } || rc=$?
  [ "$own_policy" = no ] || rm -f "$policy"
  [ "$rc" = 0 ] || die "apt-get install postgresql failed (exit $rc)"
  [ -n "$(find_bin_dir)" ] || die "postgresql installed, but no server ${SUPPORTED_MAJORS[*]} in /usr/lib/postgresql: set POSTGRES_BIN_DIR"
  log "installed: $(find_bin_dir)"
}

# A folder the server's OS user owns; fails clearly when it cannot even reach it.
prepare_folders() {
  mkdir -p "$PG_DIR" "$LOG_DIR"
  chmod 711 "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PG_DATA" "$PG_SOCKET_DIR"
    chown postgres: "$PG_DATA" "$PG_SOCKET_DIR"
    touch "$PG_LOG"; chown postgres: "$PG_LOG"
    if ! runuser -u postgres -- test -w "$PG_DATA"; then
      die "the OS user 'postgres' cannot reach $PG_DATA (PostgreSQL does not run as root, so it runs as 'postgres'): let it enter each parent folder (chmod o+x), or set RUNTIME_DIR to a folder it can reach."
    fi
  else
    mkdir -p "$PG_DATA" "$PG_SOCKET_DIR"
  fi
  chmod 700 "$PG_DATA" "$PG_SOCKET_DIR"
}

# initdb once: superuser `postgres` (socket only), every TCP client with a password.
init_once() {
  [ -f "$PG_DATA/PG_VERSION" ] && return 0
  log "initialising a new cluster in $PG_DATA"
  if [ ! -s "$PG_PASSWORD_FILE" ]; then
    (umask 077; head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' > "$PG_PASSWORD_FILE")
  fi
  as_server_user "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 > "$LOG_DIR/postgres-initdb.log" 2>&1 \
    || { cat "$LOG_DIR/postgres-initdb.log" >&2; die "initdb failed (output above)"; }
  # Only loopback, only this project's socket folder; a small server for a small machine.
  cat >> "$PG_DATA/postgresql.conf" <<EOF

# --- stack/postgres.sh ---
listen_addresses = '127.0.0.1'
port = $POSTGRES_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
max_connections = 200
shared_buffers = 128MB
fsync = on
EOF
}

create_app_role_and_db() {
  local password exists
  password="$(cat "$PG_PASSWORD_FILE")"
  exists="$(admin_sql postgres "SELECT 1 FROM pg_roles WHERE rolname = '$APP_ROLE'")"
  if [ "$exists" != 1 ]; then
    admin_sql postgres "CREATE ROLE $APP_ROLE LOGIN CREATEDB PASSWORD '$password'"
  else
    admin_sql postgres "ALTER ROLE $APP_ROLE LOGIN CREATEDB PASSWORD '$password'"
  fi
  exists="$(admin_sql postgres "SELECT 1 FROM pg_database WHERE datname = '$APP_DB'")"
  [ "$exists" = 1 ] || admin_sql postgres "CREATE DATABASE $APP_DB OWNER $APP_ROLE"
}

cmd_start() {
  require_bin_dir
  if is_running && accepts_connections; then
    log "already running on 127.0.0.1:$POSTGRES_PORT"
    return 0
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$POSTGRES_PORT") 2>/dev/null; then
    die "port $POSTGRES_PORT is taken by another process: set POSTGRES_PORT to a free port"
  fi
  prepare_folders
  init_once
  local started=$SECONDS
  # -w waits until the server accepts connections (bounded by -t).
  as_server_user "$PG_BIN/pg_ctl" start -w -t "$START_TIMEOUT_S" -D "$PG_DATA" -l "$PG_LOG" \
    -o "-p $POSTGRES_PORT" > /dev/null \
    || { tail -n 30 "$PG_LOG" >&2; die "PostgreSQL did not start (log above, $PG_LOG)"; }
  accepts_connections || { tail -n 30 "$PG_LOG" >&2; die "PostgreSQL does not accept connections on 127.0.0.1:$POSTGRES_PORT"; }
  create_app_role_and_db
  log "ready after $((SECONDS - started))s: 127.0.0.1:$POSTGRES_PORT (PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), data $PG_DATA)"
}

cmd_stop() {
  if ! is_running; then
    return 0
  fi
  as_server_user "$PG_BIN/pg_ctl" stop -w -m fast -D "$PG_DATA" > /dev/null
  log "stopped"
}

cmd_status() {
  if is_running && accepts_connections; then
    echo "postgres: running on 127.0.0.1:$POSTGRES_PORT (data $PG_DATA)"
  else
    echo "postgres: not running"
    return 1
  fi
}

# Database names come from test harnesses: keep them to plain identifiers.
check_db_name() {
  [[ "$1" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "database name '$1' is not a plain lower-case identifier"
}

cmd_url() {
  local db="${1:-$APP_DB}"
  check_db_name "$db"
  [ -s "$PG_PASSWORD_FILE" ] || die "no password in $PG_PASSWORD_FILE: run 'stack/postgres.sh start' first"
  echo "postgresql+psycopg2://$APP_ROLE:$(cat "$PG_PASSWORD_FILE")@127.0.0.1:$POSTGRES_PORT/$db"
}

cmd_create_db() {
  local db="${1:?usage: create-db DB}"
  check_db_name "$db"
  require_bin_dir
  is_running || die "PostgreSQL is not running: stack/postgres.sh start"
  admin_sql postgres "CREATE DATABASE $db OWNER $APP_ROLE"
}

cmd_drop_db() {
  local db="${1:?usage: drop-db DB}"
  check_db_name "$db"
  [ "$db" != "$APP_DB" ] || die "refusing to drop the local Airflow's own database '$APP_DB' (make clean removes everything)"
  require_bin_dir
  is_running || return 0
  admin_sql postgres "DROP DATABASE IF EXISTS $db WITH (FORCE)"
}

cmd_list_dbs() {
  require_bin_dir
  is_running || die "PostgreSQL is not running: stack/postgres.sh start"
  admin_sql postgres "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname"
}

case "${1:-}" in
  list-dbs) cmd_list_dbs ;;
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  url) cmd_url "${2:-}" ;;
  create-db) cmd_create_db "${2:-}" ;;
  drop-db) cmd_drop_db "${2:-}" ;;
  *) echo "usage: $0 {install|start|stop|status|url [DB]|create-db DB|drop-db DB|list-dbs}" >&2; exit 2 ;;
esac
