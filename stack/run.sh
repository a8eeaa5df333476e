#!/usr/bin/env bash
# Runs a command inside the project's environment (Java 17, venv, Airflow and Spark settings).
#   stack/run.sh airflow dags list
set -euo pipefail
# shellcheck source=stack/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
[ "${1:-}" != airflow ] || require_metadata_db
exec "$@"
