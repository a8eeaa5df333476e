"""Is HDFS fit to take a day of data? Read the NameNode's JMX and say exactly what is wrong.

The NameNode serves JMX on its HTTP address (the one WebHDFS uses), so the health check needs
no other connection than ``webhdfs_default``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

log = logging.getLogger(__name__)

FS_NAMESYSTEM_STATE = "Hadoop:service=NameNode,name=FSNamesystemState"
OPERATIONAL = "Operational"
SAFE_MODE_WAIT_SECONDS = 60.0
"""How long ``check_hdfs_health`` waits for a NameNode to leave safe mode before it gives up
(retryably): a restarted NameNode leaves it once its DataNodes reported their blocks."""
SAFE_MODE_POLL_SECONDS = 5.0


class HdfsUnhealthyError(RuntimeError):
    """HDFS answered, but one or more health conditions failed; the message lists each one.
    Not transient: the caller fails for good."""


class NameNodeInSafeModeError(RuntimeError):
    """The NameNode stayed in safe mode (read-only) for the whole wait. Transient, unlike
    ``HdfsUnhealthyError`` (deliberately not a subclass): a restarted NameNode leaves safe mode by
    itself, so the caller retries later."""


class NameNodeUnreachableError(RuntimeError):
    """No NameNode answered on any configured address."""


@dataclass(frozen=True)
class NameNodeState:
    """The figures of ``FSNamesystemState`` the pipeline cares about."""

    address: str
    fs_state: str
    live_datanodes: int
    dead_datanodes: int
    capacity_total: int
    capacity_remaining: int
    under_replicated_blocks: int

    @classmethod
    def from_jmx(cls, address: str, bean: dict) -> NameNodeState:
        return cls(
            address=address,
            fs_state=str(bean.get("FSState", "unknown")),
            live_datanodes=int(bean.get("NumLiveDataNodes", 0)),
            dead_datanodes=int(bean.get("NumDeadDataNodes", 0)),
            capacity_total=int(bean.get("CapacityTotal", 0)),
            capacity_remaining=int(bean.get("CapacityRemaining", 0)),
            under_replicated_blocks=int(bean.get("UnderReplicatedBlocks", 0)),
        )


@dataclass(frozen=True)
class HealthThresholds:
    min_live_datanodes: int
    min_free_bytes: int

    def __post_init__(self) -> None:
        if self.min_live_datanodes < 1:
            raise ValueError(f"min_live_datanodes must be >= 1, got {self.min_live_datanodes}")
        if self.min_free_bytes < 0:
            raise ValueError(f"min_free_bytes must be >= 0, got {self.min_free_bytes}")


def namenode_http_addresses(hosts: str, port: int | None, use_ssl: bool = False) -> list[str]:
    """``http://host:port`` for each host of a (possibly comma-separated, HA) connection host."""
    scheme = "https" if use_ssl else "http"
    names = [name.strip() for name in (hosts or "").split(",") if name.strip()]
    if not names:
        raise ValueError("the WebHDFS connection has no host")
    return [f"{scheme}://{name}:{port or 9870}" for name in names]


def fetch_namenode_state(addresses: list[str], timeout_seconds: float = 5.0) -> NameNodeState:
    """The state of the first NameNode that answers (an HA pair answers on its active one)."""
    failures = []
    for address in addresses:
        url = f"{address}/jmx"
        try:
            response = requests.get(
                url, params={"qry": FS_NAMESYSTEM_STATE}, timeout=timeout_seconds
            )
            response.raise_for_status()
            beans = response.json().get("beans", [])
        except (requests.RequestException, ValueError) as error:
            failures.append(f"{url}: {error}")
            continue
        if beans:
            return NameNodeState.from_jmx(address, beans[0])
        failures.append(f"{url}: no {FS_NAMESYSTEM_STATE} bean (is this a NameNode?)")
    raise NameNodeUnreachableError("no NameNode answered: " + "; ".join(failures))


def health_problems(state: NameNodeState, thresholds: HealthThresholds) -> list[str]:
    """Every failed condition, each with the figure and the threshold."""
    problems = []
    if state.fs_state != OPERATIONAL:
        problems.append(
            f"NameNode is not operational (FSState={state.fs_state}, e.g. in safe mode)"
        )
    if state.live_datanodes < thresholds.min_live_datanodes:
        problems.append(
            f"{state.live_datanodes} live DataNode(s), at least "
            f"{thresholds.min_live_datanodes} required ({state.dead_datanodes} dead)"
        )
    if state.capacity_remaining < thresholds.min_free_bytes:
        problems.append(
            f"{format_bytes(state.capacity_remaining)} free, at least "
            f"{format_bytes(thresholds.min_free_bytes)} required"
        )
    return problems


def check_hdfs_health(
    addresses: list[str],
    thresholds: HealthThresholds,
    safe_mode_wait_seconds: float = SAFE_MODE_WAIT_SECONDS,
    poll_seconds: float = SAFE_MODE_POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> NameNodeState:
    """Return the state when healthy; raise ``HdfsUnhealthyError`` naming each failed condition.

    A NameNode in safe mode (just restarted, or put there by an admin) is waited for, up to
    ``safe_mode_wait_seconds``; if it is still there, ``NameNodeInSafeModeError`` says so (the
    other problems are judged once it is out: a restarting NameNode also counts DataNodes as
    they register).
    """
    deadline = time.monotonic() + safe_mode_wait_seconds
    state = fetch_namenode_state(addresses)
    while state.fs_state != OPERATIONAL:
        problems = health_problems(state, thresholds)
        if time.monotonic() >= deadline:
            raise NameNodeInSafeModeError(
                f"HDFS at {state.address} is still in safe mode (FSState={state.fs_state}) after "
                f"waiting {safe_mode_wait_seconds:.0f} s: it accepts no writes until it leaves "
                "safe mode (a restarted NameNode does once its DataNodes reported their blocks; "
                "an admin's: hdfs dfsadmin -safemode leave). Retry later. Meanwhile: "
                + "; ".join(problems)
            )
        log.warning(
            "HDFS at %s is in safe mode (FSState=%s); waiting for it to leave: %s",
            state.address,
            state.fs_state,
            "; ".join(problems),
        )
        sleep(poll_seconds)
        state = fetch_namenode_state(addresses)
    problems = health_problems(state, thresholds)
    if problems:
        raise HdfsUnhealthyError(f"HDFS at {state.address} is unhealthy: " + "; ".join(problems))
    log.info(
        "HDFS at %s is healthy: %s, %d live DataNode(s), %s free of %s, %d under-replicated blocks",
        state.address,
        state.fs_state,
        state.live_datanodes,
        format_bytes(state.capacity_remaining),
        format_bytes(state.capacity_total),
        state.under_replicated_blocks,
    )
    return state


def format_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    raise AssertionError("unreachable")
