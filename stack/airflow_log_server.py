"""Airflow's task log server for the local stack, listening on AIRFLOW_LOG_SERVER_HOST only.

The api-server shows a running task's log by asking the log server of the machine the task runs
on (``http://<task hostname>:<[logging] worker_log_server_port>/log/...``, signed with
``[api] secret_key``). ``airflow scheduler`` starts that server itself, on every interface
(``0.0.0.0`` and ``[::]``): Airflow 3.3 has no setting for its address. So stack/airflow.sh
starts the scheduler with ``--skip-serve-logs`` and this server in its place, on
``AIRFLOW_LOG_SERVER_HOST`` (127.0.0.1 by default, stack/env.sh), and env.sh makes
``log_server_host`` Airflow's ``[core] hostname_callable``: tasks record that address as their
hostname, which is where the api-server then fetches their logs.

    python stack/airflow_log_server.py      (stack/airflow.sh does this)
"""

from __future__ import annotations

import os

DEFAULT_HOST = "127.0.0.1"


def log_server_host() -> str:
    """The address the log server listens on; Airflow's ``hostname_callable`` on this stack."""
    return os.environ.get("AIRFLOW_LOG_SERVER_HOST") or DEFAULT_HOST


def main() -> None:
    import uvicorn
    from airflow.configuration import conf
    from setproctitle import setproctitle

    setproctitle("airflow serve-logs (stack/airflow_log_server.py)")
    # The same application and options as airflow.utils.serve_logs.core.serve_logs, but a host.
    uvicorn.run(
        "airflow.utils.serve_logs.log_server:get_app",
        host=log_server_host(),
        port=conf.getint("logging", "worker_log_server_port"),
        log_level=conf.get("logging", "uvicorn_logging_level", fallback="info").lower(),
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
