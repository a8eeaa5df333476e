#!/usr/bin/env bash
# One-shot Airflow setup, run by the `airflow-init` service before the other Airflow services:
# migrate the metadata database, then write SimpleAuthManager's passwords file so the admin
# logs in with the password from .env (AIRFLOW_ADMIN_PASSWORD) instead of a generated one.
# Idempotent: rerun on every `docker compose up`, so changing the password in .env takes effect.
set -euo pipefail

: "${AIRFLOW_ADMIN_PASSWORD:?set AIRFLOW_ADMIN_PASSWORD in .env}"
: "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:?}"

airflow db migrate

python - <<'PY'
import json
import os
from pathlib import Path

users = os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin")
admin = users.split(",")[0].split(":")[0].strip()
path = Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
path.parent.mkdir(parents=True, exist_ok=True)
path.write_text(json.dumps({admin: os.environ["AIRFLOW_ADMIN_PASSWORD"]}))
path.chmod(0o600)  # the api-server runs as the same user and rewrites it in place
print(f"airflow-init: password of {admin!r} written to {path}")
PY

airflow version
