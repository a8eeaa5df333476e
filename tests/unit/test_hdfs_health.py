import pytest

from include.ecommerce.hdfs_health import (
    HealthThresholds,
    NameNodeState,
    format_bytes,
    health_problems,
    namenode_http_addresses,
)

GIB = 1024**3


def state(**overrides) -> NameNodeState:
    figures = dict(
        address="http://127.0.0.1:9870",
        fs_state="Operational",
        live_datanodes=1,
        dead_datanodes=0,
        capacity_total=100 * GIB,
        capacity_remaining=50 * GIB,
        under_replicated_blocks=0,
    )
    figures.update(overrides)
    return NameNodeState(**figures)


THRESHOLDS = HealthThresholds(min_live_datanodes=1, min_free_bytes=GIB)


def test_healthy_namenode_has_no_problem():
    assert health_problems(state(), THRESHOLDS) == []


def test_each_failed_condition_is_named_with_its_numbers():
    problems = health_problems(
        state(fs_state="safeMode", live_datanodes=0, dead_datanodes=1, capacity_remaining=GIB // 2),
        THRESHOLDS,
    )
    assert problems == [
        "NameNode is not operational (FSState=safeMode, e.g. in safe mode)",
        "0 live DataNode(s), at least 1 required (1 dead)",
        "512.0 MiB free, at least 1.0 GiB required",
    ]


def test_jmx_bean_is_read():
    bean = {
        "FSState": "Operational",
        "NumLiveDataNodes": 3,
        "NumDeadDataNodes": 1,
        "CapacityTotal": 10,
        "CapacityRemaining": 4,
        "UnderReplicatedBlocks": 2,
    }
    parsed = NameNodeState.from_jmx("http://nn:9870", bean)
    assert (parsed.live_datanodes, parsed.dead_datanodes, parsed.capacity_remaining) == (3, 1, 4)


def test_addresses_of_a_ha_connection():
    assert namenode_http_addresses("nn1, nn2", 9870) == ["http://nn1:9870", "http://nn2:9870"]
    assert namenode_http_addresses("nn1", None, use_ssl=True) == ["https://nn1:9870"]
    with pytest.raises(ValueError, match="no host"):
        namenode_http_addresses("", 9870)


def test_thresholds_reject_nonsense():
    with pytest.raises(ValueError, match="min_live_datanodes"):
        HealthThresholds(min_live_datanodes=0, min_free_bytes=0)


def test_format_bytes():
    assert format_bytes(512) == "512 B"
    assert format_bytes(3 * GIB) == "3.0 GiB"
