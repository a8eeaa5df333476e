"""The job's pure input checks: which files are input, what is wrong with a header."""

from __future__ import annotations

import pytest

from spark_jobs import contract, storage

HEADER = ",".join(contract.RAW_COLUMNS)


@pytest.mark.parametrize(
    ("name", "is_input"),
    [
        ("ecommerce_logs.csv", True),
        ("ecommerce_logs-01.csv.gz", True),
        ("notes.txt", False),
        ("ecommerce_logs.csv.bz2", False),
        ("_SUCCESS", False),
        (".ecommerce_logs.csv.crc", False),
        ("_tmp.csv", False),
    ],
)
def test_input_files_are_the_contract_globs_minus_hidden_files(name, is_input):
    assert storage.is_input_name(name) is is_input


@pytest.mark.parametrize(
    "line", [HEADER, HEADER + "\r", "\ufeff" + HEADER, '"' + HEADER.replace(",", '","') + '"']
)
def test_the_contract_header_passes_with_bom_crlf_or_quotes(line):
    assert storage.header_problem(line) is None


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (None, "empty file (no header line)"),
        (HEADER.replace(",", ";"), "fields are separated by ';', expected ','"),
        (HEADER.replace(",", "\t"), "fields are separated by a tab, expected ','"),
        (HEADER.replace(",price", ""), "header lacks the contract column(s) price"),
        ("a,b,c", "header lacks the contract column(s) timestamp, user_id, session_id"),
        (HEADER + ",extra", "header does not match the contract"),
        (HEADER.replace("user_id,session_id", "session_id,user_id"), "does not match"),
        ("2026-02-14 09:00:15,101,s1001,view,p001,electronics,299.99,1", "lacks"),
    ],
)
def test_header_problems_are_named(line, problem):
    assert problem in storage.header_problem(line)


def test_the_jobs_hdfs_client_waits_like_the_datanodes_webhdfs_client():
    """The close-wait of the HDFS client has two homes: stack/hadoop/conf/hdfs-site.xml (the
    DataNodes' WebHDFS client: uploads, leases, reports) and settings.SPARK_JOB_CONF (the Spark
    job's client, which reads no project hdfs-site.xml). They say the same."""
    import xml.etree.ElementTree as ElementTree

    from include.ecommerce import settings
    from tests.unit.spark_frames import PROJECT_ROOT

    site = PROJECT_ROOT / "stack/hadoop/conf/hdfs-site.xml"
    properties = {
        prop.findtext("name"): prop.findtext("value")
        for prop in ElementTree.parse(site).getroot().iter("property")
    }
    prefix = "dfs.client.block.write.locateFollowingBlock."
    job = {
        key.removeprefix("spark.hadoop."): value
        for key, value in settings.SPARK_JOB_CONF.items()
        if key.startswith(f"spark.hadoop.{prefix}")
    }
    assert len(job) == 2
    assert {key: properties.get(key) for key in job} == job
