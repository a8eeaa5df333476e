"""The local Airflow listens on loopback only, like the local HDFS and Spark.

Seen before the fix (``ss -ltnp`` after ``make airflow-up``): the api-server on ``0.0.0.0:8080``
and the scheduler's task log server on ``0.0.0.0:8793`` and ``[::]:8793``. A real Airflow is
started with ``stack/airflow.sh start`` (``live_airflow.running_airflow``); the kernel's socket
tables (``/proc/net/tcp``, ``/proc/net/tcp6``, what ``ss`` reads) then say where its two ports
listen. The log server must also still do its job: answer a request signed the way the
api-server signs it.
"""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

import pytest
import requests

from stack.live_airflow import RUN_SH, running_airflow

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

TCP_LISTEN = "0A"


def _address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """A /proc/net/tcp{,6} address: 32-bit words in host (little-endian) byte order."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(words)


def listening_addresses(port: int) -> set[str]:
    """Every local address a TCP socket listens on at ``port`` (IPv4 and IPv6)."""
    found = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            hex_address, hex_port = local.split(":")
            if state == TCP_LISTEN and int(hex_port, 16) == port:
                found.add(str(_address(hex_address)))
    return found


def test_proc_net_tcp_parsing_matches_a_socket_we_open() -> None:
    """The parser itself, on sockets whose addresses we know."""
    import socket

    with socket.socket() as loopback, socket.socket() as anywhere:
        loopback.bind(("127.0.0.1", 0))
        loopback.listen()
        anywhere.bind(("0.0.0.0", 0))
        anywhere.listen()
        assert listening_addresses(loopback.getsockname()[1]) == {"127.0.0.1"}
        assert listening_addresses(anywhere.getsockname()[1]) == {"0.0.0.0"}


def test_api_server_and_log_server_listen_on_loopback_only(tmp_path: Path) -> None:
    with running_airflow(tmp_path) as airflow:
        ports = {
            "api-server": int(airflow.env["AIRFLOW_API_PORT"]),
            "log server": int(airflow.env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"]),
        }
        for name, port in ports.items():
            addresses = listening_addresses(port)
            assert addresses, (
                f"nothing listens on the {name}'s port {port}\n{airflow.diagnostics()}"
            )
            assert all(ipaddress.ip_address(a).is_loopback for a in addresses), (
                f"the {name} listens on {sorted(addresses)} (port {port}), not on loopback only"
            )

        assert requests.get(f"{airflow.api_url}/api/v2/monitor/health", timeout=30).ok
        # Tasks record the log server's address as their hostname: where the api-server asks.
        hostname = airflow.cli("config", "get-value", "core", "hostname_callable")
        assert hostname.stdout.strip().endswith("log_server_host"), hostname.stdout
        # Unsigned: refused. Signed as the api-server signs (its [api] secret_key): accepted, and
        # the file is merely absent (404), so logs of running tasks reach the UI.
        url = f"http://127.0.0.1:{ports['log server']}/log/no-such-task.log"
        assert requests.get(url, timeout=30).status_code == 403
        signed = subprocess.run(
            [
                str(RUN_SH),
                "python",
                "-c",
                "import sys\n"
                "from airflow.utils.log.file_task_handler import _fetch_logs_from_service\n"
                "print(_fetch_logs_from_service(sys.argv[1], 'no-such-task.log').status_code)",
                url,
            ],
            env=airflow.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert signed.stdout.strip().splitlines()[-1:] == ["404"], signed.stdout + signed.stderr
