"""docker-compose.yml and docker/: checked without a Docker engine.

What can go wrong before anything runs: an image tag that floats, a service off the shared
network, a connection pointing at a name or port no service has, a driver and a cluster on
different Spark or Python versions, a secret written into the file, a variable the user was never
told to set. `docker compose config` runs too when a compose CLI is there.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import pytest
import yaml

from include.ecommerce import settings
from include.ecommerce.partitions import Partition, hdfs_uri
from include.ecommerce.spark_submit import job_conf
from spark_jobs.contract import RAW_FILE_GLOBS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
EXTERNAL_NETWORK_FILE = ROOT / "docker" / "external-network.yml"
AIRFLOW_DOCKERFILE = ROOT / "docker" / "Dockerfile"
SPARK_DOCKERFILE = ROOT / "docker" / "spark.Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
LOCK = ROOT / "requirements.lock"

NETWORK = "data-engineering-network"
BUILT_AIRFLOW_IMAGE = "ecommerce-airflow:3.3.2-python3.12"
AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)

# Images this project builds, and what is in them. Update with the pins: the Spark version is
# the pyspark of requirements.lock, the Python minor the one of the FROM line.
BUILT_IMAGES: dict[str, dict[str, str]] = {
    "ecommerce-airflow:3.3.2-python3.12": {
        "dockerfile": "docker/Dockerfile",
        "spark": "4.3.0",
        "python": "3.12",
    },
    "ecommerce-spark:4.3.0-python3.12": {
        "dockerfile": "docker/spark.Dockerfile",
        "spark": "4.3.0",
        "python": "3.12",
    },
}
# Base images and the Python minor they carry (checked against the FROM lines).
BASE_IMAGE_PYTHON = {
    "apache/airflow:3.3.2-python3.12": "3.12",
    "python:3.12.13-slim-bookworm": "3.12",
}
EXACT_TAG = re.compile(r"^[a-z0-9./_-]+:[A-Za-z0-9_][A-Za-z0-9_.-]*$")
FLOATING_TAGS = {"latest", "stable", "lts", "edge", "nightly"}
# ${NAME}, ${NAME:-default}, ${NAME:?error}; not $${NAME}, which compose leaves to the container.
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict) -> dict[str, dict]:
    return compose["services"]


def _lock_pin(package: str) -> str:
    pins = re.findall(rf"^{re.escape(package)}==([^\s;]+)", LOCK.read_text(), flags=re.MULTILINE)
    assert len(pins) == 1, f"expected one pin of {package} in requirements.lock, found {pins}"
    return pins[0]


def _from_images(dockerfile: Path) -> list[str]:
    """The images of the FROM lines, in order (stage names dropped)."""
    return re.findall(r"^FROM\s+(\S+)", dockerfile.read_text(), flags=re.MULTILINE)


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _published_ports(service: dict) -> dict[int, int]:
    """host port -> container port, for the short "HOST:CONTAINER" syntax used here."""
    published = {}
    for entry in service.get("ports", []):
        host, container = str(entry).rsplit(":", 1)
        published[int(host.rsplit(":", 1)[-1])] = int(container)
    return published


def _listening_ports(service: dict) -> set[int]:
    """Container ports a service is known to listen on: published ones, its --port flags and
    the ports of its Hadoop ``*-address``/``*.address`` settings."""
    ports = set(_published_ports(service).values())
    for key, value in _environment(service).items():
        if re.search(r"[.-]address$", key) and re.search(r":\d+$", value):
            ports.add(int(value.rsplit(":", 1)[1]))
    command = service.get("command", [])
    for flag, value in itertools.pairwise(command):
        if flag in {"--port", "--webui-port"}:
            ports.add(int(value))
    return ports


def _service_by_host(services: dict[str, dict], host: str) -> dict:
    """Docker DNS resolves a service name (and its hostname, which we keep equal to it)."""
    for name, service in services.items():
        if host in {name, service.get("hostname")}:
            return service
    raise AssertionError(f"no service answers to host {host!r}; services: {sorted(services)}")


def _load_script(name: str) -> ModuleType:
    path = ROOT / "docker" / name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- The file itself ------------------------------------------------------------------------------


def test_compose_file_parses_with_the_expected_services(services: dict[str, dict]) -> None:
    expected = {
        "namenode",
        "datanode",
        "hdfs-init",
        "spark-master",
        "spark-worker",
        "postgres",
        "etl",
        *AIRFLOW_SERVICES,
    }
    assert expected <= set(services), f"missing: {sorted(expected - set(services))}"


def test_every_image_is_pinned_to_an_exact_tag(services: dict[str, dict]) -> None:
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name}: no image (a built service still names its tag)"
        assert EXACT_TAG.match(image), f"{name}: image {image!r} has no explicit tag"
        tag = image.rsplit(":", 1)[1]
        assert tag not in FLOATING_TAGS, f"{name}: floating tag {image!r}"
        if "build" not in service:
            # Pulled images: a version number, not only a major ("16", "3").
            assert re.match(r"^\d+\.\d+(\.\d+)?", tag), f"{name}: {image!r} is not an exact version"


def test_built_images_are_the_ones_in_the_table(services: dict[str, dict]) -> None:
    for name, service in services.items():
        if "build" in service:
            assert service["image"] in BUILT_IMAGES, (
                f"{name}: add {service['image']} to BUILT_IMAGES"
            )
            assert service["build"]["dockerfile"] == BUILT_IMAGES[service["image"]]["dockerfile"]
            assert service["build"]["context"] == "."


def test_dockerfile_base_images_are_pinned() -> None:
    for dockerfile in (AIRFLOW_DOCKERFILE, SPARK_DOCKERFILE):
        for image in _from_images(dockerfile):
            assert EXACT_TAG.match(image), f"{dockerfile.name}: FROM {image} has no tag"
            assert image.rsplit(":", 1)[1] not in FLOATING_TAGS, f"{dockerfile.name}: FROM {image}"


def test_every_service_is_on_the_shared_network(compose: dict, services: dict[str, dict]) -> None:
    assert compose["networks"][NETWORK]["name"] == NETWORK, "the network needs a fixed name"
    for name, service in services.items():
        assert NETWORK in service.get("networks", []), f"{name} is not on {NETWORK}"


def test_external_network_override_joins_the_same_network() -> None:
    override = yaml.safe_load(EXTERNAL_NETWORK_FILE.read_text())
    assert override["networks"][NETWORK] == {"name": NETWORK, "external": True}


def test_the_cluster_is_one_profile_and_airflow_does_not_depend_on_it(
    services: dict[str, dict],
) -> None:
    cluster = {"namenode", "datanode", "hdfs-init", "spark-master", "spark-worker"}
    for name in cluster:
        assert services[name].get("profiles") == ["cluster"], name
    for name in (*AIRFLOW_SERVICES, "postgres", "etl"):
        # With the profile off (an existing cluster), nothing may wait for a disabled service.
        assert not cluster & set(services[name].get("depends_on", {})), name
    assert "cluster" in ENV_EXAMPLE.read_text().split("COMPOSE_PROFILES=", 1)[1].splitlines()[0]


def test_host_ports(services: dict[str, dict]) -> None:
    assert _published_ports(services["namenode"]) == {9870: 9870}
    assert _published_ports(services["datanode"]) == {9864: 9864}
    assert _published_ports(services["spark-master"]) == {8081: 8081}
    assert _published_ports(services["airflow-apiserver"]) == {8080: 8080}
    hosts = [port for service in services.values() for port in _published_ports(service)]
    assert len(hosts) == len(set(hosts)), f"a host port is published twice: {sorted(hosts)}"


BIND_ADDRESS_DEFAULT = "${BIND_ADDRESS:-127.0.0.1}"
UNUSABLE_FROM_THE_HOST = {
    8020: "NameNode RPC: it hands out DataNode addresses the host cannot resolve",
    9866: "DataNode data transfer (hdfs:// block I/O)",
    9867: "DataNode IPC",
    7077: "Spark master: a host driver reaches neither HDFS nor is reached by the executors",
}


def test_every_published_port_binds_the_address_of_env(services: dict[str, dict]) -> None:
    """Docker publishes on every host interface unless told otherwise, past the host firewall."""
    published = 0
    for name, service in services.items():
        for entry in service.get("ports", []):
            assert isinstance(entry, str), f"{name}: use the short HOST_IP:HOST:CONTAINER form"
            parts = re.fullmatch(r"(\$\{[^}]*\}|[^:]*):(\d+):(\d+)", entry)
            assert parts, f"{name}: {entry!r} binds no address (all host interfaces)"
            address, host, container = parts.groups()
            assert address == BIND_ADDRESS_DEFAULT, f"{name}: {entry!r} binds {address!r}"
            assert int(host) not in UNUSABLE_FROM_THE_HOST, (
                f"{name} publishes {host}: {UNUSABLE_FROM_THE_HOST[int(host)]}"
            )
            assert int(container) not in UNUSABLE_FROM_THE_HOST, f"{name}: {entry}"
            published += 1
    assert published >= 4
    assert re.search(r"^# BIND_ADDRESS=127\.0\.0\.1\b", ENV_EXAMPLE.read_text(), re.MULTILINE)


def test_every_airflow_service_shares_the_api_and_jwt_secrets_of_env(
    services: dict[str, dict],
) -> None:
    """The api-server signs log requests to the scheduler's log server with [api] secret_key,
    and checks the task tokens the scheduler signs with the JWT secret: one value each, from
    .env, in every Airflow service (a random key per container breaks served logs)."""
    expected = {
        "AIRFLOW__API__SECRET_KEY": "${AIRFLOW_API_SECRET_KEY:?set AIRFLOW_API_SECRET_KEY in .env}",
        "AIRFLOW__API_AUTH__JWT_SECRET": "${AIRFLOW_JWT_SECRET:?set AIRFLOW_JWT_SECRET in .env}",
    }
    airflow_services = [
        name
        for name, service in services.items()
        if service.get("image") == BUILT_AIRFLOW_IMAGE and name != "etl"
    ]
    assert set(airflow_services) == set(AIRFLOW_SERVICES)
    for name in airflow_services:
        env = _environment(services[name])
        for key, value in expected.items():
            assert env.get(key) == value, f"{name}: {key}={env.get(key)!r}"
    example = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert example.get("AIRFLOW_API_SECRET_KEY") == ""
    assert example.get("AIRFLOW_JWT_SECRET") == ""


def test_hdfs_keeps_deleted_files_in_the_trash(services: dict[str, dict]) -> None:
    for name in ("namenode", "datanode", "hdfs-init"):
        interval = _environment(services[name]).get("CORE-SITE.XML_fs.trash.interval")
        assert interval and int(interval) > 0, f"{name}: fs.trash.interval={interval!r}"


# --- Names, ports and the DAG's connections agree ---------------------------------------------


def test_airflow_services_share_one_configuration(services: dict[str, dict]) -> None:
    reference = _environment(services["airflow-apiserver"])
    for name in AIRFLOW_SERVICES:
        env = _environment(services[name])
        for key in ("AIRFLOW_CONN_SPARK_DEFAULT", "AIRFLOW_CONN_WEBHDFS_DEFAULT"):
            assert env[key] == reference[key], f"{name}: {key} differs"
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert services[name]["image"] == BUILT_AIRFLOW_IMAGE


def test_variable_and_connection_names_are_the_ones_the_dag_reads(
    services: dict[str, dict],
) -> None:
    env = _environment(services["airflow-scheduler"])
    assert f"AIRFLOW_CONN_{settings.SPARK_CONN_ID.upper()}" in env
    assert f"AIRFLOW_CONN_{settings.WEBHDFS_CONN_ID.upper()}" in env
    for variable in (
        settings.HDFS_URI_VARIABLE,
        settings.LANDING_DIR_VARIABLE,
        settings.REPORTS_DIR_VARIABLE,
    ):
        assert f"AIRFLOW_VAR_{variable.upper()}" in env, variable


def test_spark_connection_resolves_to_the_spark_master(
    services: dict[str, dict], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Parsed by the Spark provider itself, as SparkSubmitOperator will."""
    conn = _environment(services["airflow-scheduler"])["AIRFLOW_CONN_SPARK_DEFAULT"]
    assert json.loads(conn)["conn_type"] == "spark"
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_CONN_SPARK_DEFAULT", conn)
    from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook

    hook = SparkSubmitHook(conn_id=settings.SPARK_CONN_ID)
    master = urlsplit(hook._connection["master"])
    assert (master.scheme, master.hostname, master.port) == ("spark", "spark-master", 7077)
    assert hook._connection["deploy_mode"] == "client"  # Python apps: no cluster mode standalone
    assert master.port in _listening_ports(_service_by_host(services, master.hostname))


def test_webhdfs_connection_points_at_the_namenode_http_port(services: dict[str, dict]) -> None:
    from airflow.models.connection import Connection

    conn = Connection(
        conn_id=settings.WEBHDFS_CONN_ID,
        uri=_environment(services["airflow-scheduler"])["AIRFLOW_CONN_WEBHDFS_DEFAULT"],
    )
    assert conn.conn_type == "webhdfs"
    assert conn.login == "airflow", "the HDFS user that owns the pipeline's folders"
    assert not conn.schema, "a schema breaks WebHDFSHook's URL"
    namenode = _service_by_host(services, conn.host)
    assert conn.port in _listening_ports(namenode)
    env = _environment(namenode)
    assert env["HDFS-SITE.XML_dfs.namenode.http-address"].endswith(f":{conn.port}")


def test_hdfs_uri_variable_is_the_namenode_rpc_address(services: dict[str, dict]) -> None:
    uri = urlsplit(_environment(services["airflow-scheduler"])["AIRFLOW_VAR_ECOMMERCE_HDFS_URI"])
    assert uri.scheme == "hdfs" and not uri.path.strip("/")
    namenode = _service_by_host(services, uri.hostname)
    env = _environment(namenode)
    assert env["CORE-SITE.XML_fs.defaultFS"] == f"hdfs://{uri.hostname}:{uri.port}"
    assert env["HDFS-SITE.XML_dfs.namenode.rpc-address"] == f"{uri.hostname}:{uri.port}"
    assert uri.port in _listening_ports(namenode)
    assert _environment(services["etl"])["ECOMMERCE_HDFS_URI"] == uri.geturl()


def test_datanode_advertises_a_name_the_network_resolves(services: dict[str, dict]) -> None:
    """WebHDFS redirects uploads to the DataNode by the name it registered with."""
    datanode = services["datanode"]
    name = _environment(datanode)["HDFS-SITE.XML_dfs.datanode.hostname"]
    assert name == "datanode" == datanode["hostname"]
    assert _environment(datanode)["HDFS-SITE.XML_dfs.datanode.http.address"].endswith(":9864")


def test_namenode_keeps_its_metadata_in_a_named_volume(
    compose: dict, services: dict[str, dict]
) -> None:
    for name, folder in (("namenode", "name"), ("datanode", "data")):
        mount = services[name]["volumes"][0]
        volume, target = mount.split(":")
        assert volume in compose["volumes"] and target == "/data", name
        env = _environment(services[name])
        assert env[f"HDFS-SITE.XML_dfs.{name}.{folder}.dir"] == f"file:///data/dfs/{folder}"
    # Formatted only when the folder does not exist, i.e. below the mount point, never on it.
    assert _environment(services["namenode"])["ENSURE_NAMENODE_DIR"] == "/data/dfs/name"


def test_hdfs_init_creates_the_pipeline_roots_for_airflow_without_777() -> None:
    script = (ROOT / "docker" / "hdfs-init.sh").read_text()
    roots = re.search(r"^PIPELINE_ROOTS=\((.*)\)$", script, flags=re.MULTILINE)
    assert roots and tuple(roots.group(1).split()) == settings.PIPELINE_ROOTS
    assert 'PIPELINE_HDFS_USER="${PIPELINE_HDFS_USER:-airflow}"' in script
    assert "chmod 755" in script
    commands = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))
    world_writable = re.search(r"chmod\s+(-R\s+)?([0-7]?[0-7][0-7][2367]\b|[oa]*\+\w*w)", commands)
    assert not world_writable, f"no world-writable folder: {world_writable}"
    # Replaced partitions go to the pipeline user's HDFS trash, under its home folder.
    assert 'PIPELINE_HOME="/user/$PIPELINE_HDFS_USER"' in script
    assert re.search(r"-chown \"\$PIPELINE_HDFS_USER\" .*\"\$PIPELINE_HOME\"", commands)


def test_healthchecks_use_the_namenode_jmx_and_the_spark_master_json(
    services: dict[str, dict],
) -> None:
    namenode_check = " ".join(services["namenode"]["healthcheck"]["test"])
    assert "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState" in namenode_check
    assert "/json/" in " ".join(services["spark-master"]["healthcheck"]["test"])
    for name in ("datanode", "spark-worker", "postgres", "airflow-apiserver", "airflow-scheduler"):
        assert "healthcheck" in services[name], name


# --- The etl one-shot ------------------------------------------------------------------------------


def test_etl_service_waits_then_submits(services: dict[str, dict]) -> None:
    etl = services["etl"]
    assert etl["profiles"] == ["etl"]
    assert etl["restart"] == "no"
    assert etl["entrypoint"][-1].endswith("docker/wait-for-cluster.sh")
    assert etl["command"][-1].endswith("docker/etl_submit.py")
    env = _environment(etl)
    assert env["PARTITION_DATE"] == "${PARTITION_DATE:-2026-02-14}"
    assert env["SPARK_MASTER_URL"] == "spark://spark-master:7077"
    assert env["HADOOP_USER_NAME"] == "airflow"
    assert int(env["WAIT_ATTEMPTS"]) > 0, "waiting must be bounded"


def test_wait_script_checks_jmx_and_spark_json_with_bounded_retries() -> None:
    script = (ROOT / "docker" / "wait-for-cluster.sh").read_text()
    assert "name=FSNamesystemState" in script and "NumLiveDataNodes" in script
    assert "/json/" in script and "aliveworkers" in script
    assert 'WAIT_ATTEMPTS="${WAIT_ATTEMPTS:-60}"' in script
    assert "exit 1" in script


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_wait_script_gives_up_when_nothing_answers() -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "docker" / "wait-for-cluster.sh"), "echo", "ran"],
        env={
            "PATH": "/usr/bin:/bin",
            "NAMENODE_HTTP_URL": "http://127.0.0.1:9",
            "NAMENODE_RPC_ADDRESS": "127.0.0.1:9",
            "SPARK_MASTER_UI_URL": "http://127.0.0.1:9",
            "SPARK_MASTER_ADDRESS": "127.0.0.1:9",
            "WAIT_ATTEMPTS": "2",
            "WAIT_INTERVAL_SECONDS": "0",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "ran" not in result.stdout
    assert "gave up after 2 attempts" in result.stderr
    assert "NameNode RPC 127.0.0.1:9 closed" in result.stderr


def test_etl_submits_the_job_cli_against_the_compose_cluster() -> None:
    etl_submit = _load_script("etl_submit.py")
    argv = etl_submit.spark_submit_argv(
        Partition.parse("2026-02-14"),
        hdfs_filesystem_uri="hdfs://namenode:8020",
        spark_master="spark://spark-master:7077",
        driver_host="10.0.0.5",
        py_files="/tmp/spark_jobs.zip",
    )
    assert argv[:3] == ["spark-submit", "--master", "spark://spark-master:7077"]
    assert argv[argv.index("--deploy-mode") + 1] == "client"
    job = argv.index(str(settings.SPARK_JOB_PATH))
    assert argv[job + 1 :] == [
        "--date",
        "2026-02-14",
        "--input",
        "hdfs://namenode:8020/user/data/raw/ecommerce/2026/02/14",
        "--output",
        "hdfs://namenode:8020/user/data/processed/ecommerce/2026/02/14",
        "--max-reject-ratio",
        str(settings.DEFAULT_MAX_REJECT_RATIO),
    ]
    assert "spark.driver.host=10.0.0.5" in argv
    assert argv[argv.index("--py-files") + 1] == "/tmp/spark_jobs.zip"


def test_etl_packages_spark_jobs_for_the_executors(tmp_path: Path) -> None:
    import zipfile

    archive = _load_script("etl_submit.py").package_spark_jobs(tmp_path)
    names = zipfile.ZipFile(archive).namelist()
    assert "spark_jobs/__init__.py" in names and "spark_jobs/contract.py" in names


# --- One spark-submit builder: the DAG, the benchmark and the one-shot agree ----------------------

DAGS_FOLDER = ROOT / "dags"
SAMPLE_DAY = Partition.parse("2026-02-14")


class _UploadXCom:
    """What upload_raw_logs pushes for a day (its keys: include/ecommerce/tasks.py), served to
    the spark_etl task's XCom references when Airflow renders its templates."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def xcom_pull(self, *, task_ids: str, key: str, **_: object) -> str:
        assert task_ids == "upload_raw_logs", task_ids
        return self.values[key]


def _dag_spark_submit_argv(
    partition: Partition, filesystem: str, connection: str, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """The command line the DAG's spark_etl task runs for ``partition``: the real DAG file, its
    templates rendered by Airflow, the command written by the Spark provider's hook."""
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv(f"AIRFLOW_CONN_{settings.SPARK_CONN_ID.upper()}", connection)
    dag = DagBag(dag_folder=str(DAGS_FOLDER)).dags["ecommerce_daily"]
    task = dag.get_task("spark_etl")
    upload = _UploadXCom(
        {
            "partition_date": partition.iso,
            "input_uri": hdfs_uri(filesystem, partition.raw_partition),
            "output_uri": hdfs_uri(filesystem, partition.processed_partition),
            "hdfs_user": "airflow",
        }
    )
    task.render_template_fields({"ti": upload, "params": dag.params.dump()})
    return task._get_hook()._build_spark_submit_command(task.application)


def _without(argv: list[str], option: str, value: str) -> list[str]:
    """``argv`` less one ``option value`` pair, which must be there."""
    pairs = [i for i in range(len(argv) - 1) if argv[i : i + 2] == [option, value]]
    assert len(pairs) == 1, f"{option} {value} not once in {argv}"
    return argv[: pairs[0]] + argv[pairs[0] + 2 :]


def test_the_dag_and_the_one_shot_submit_the_same_command_line(
    services: dict[str, dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the compose cluster, the one-shot runs the DAG's spark-submit plus only what a
    container started by `docker compose run` needs (its driver address, the zipped job)."""
    scheduler = _environment(services["airflow-scheduler"])
    filesystem = scheduler["AIRFLOW_VAR_ECOMMERCE_HDFS_URI"]
    dag_argv = _dag_spark_submit_argv(
        SAMPLE_DAY, filesystem, scheduler["AIRFLOW_CONN_SPARK_DEFAULT"], monkeypatch
    )
    etl_submit = _load_script("etl_submit.py")
    etl = _environment(services["etl"])
    one_shot = etl_submit.spark_submit_argv(
        SAMPLE_DAY,
        hdfs_filesystem_uri=etl["ECOMMERCE_HDFS_URI"],
        spark_master=etl["SPARK_MASTER_URL"],
        driver_host="10.0.0.5",
        py_files="/tmp/spark_jobs.zip",
    )
    for key, value in job_conf().items():
        assert f"{key}={value}" in dag_argv and f"{key}={value}" in one_shot, key
    stripped = _without(one_shot, "--py-files", "/tmp/spark_jobs.zip")
    for key, value in etl_submit.one_shot_conf("10.0.0.5").items():
        stripped = _without(stripped, "--conf", f"{key}={value}")
    assert stripped == dag_argv


def test_the_dag_and_the_benchmark_submit_the_same_command_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On the local stack (spark_default = local[*]), the benchmark's bare submit is the DAG's."""
    from benchmarks import engines, orchestration
    from benchmarks.bench_stack import Stack

    stack = Stack(
        hdfs_uri=settings.DEFAULT_HDFS_URI, webhdfs_url="http://127.0.0.1:9870", user="airflow"
    )
    dag_argv = _dag_spark_submit_argv(
        SAMPLE_DAY, stack.hdfs_uri, '{"conn_type": "spark", "host": "local[*]"}', monkeypatch
    )
    bench_argv = orchestration.bare_submit_command(
        stack, SAMPLE_DAY.partition_date, SAMPLE_DAY.processed_partition
    )
    assert bench_argv == dag_argv
    for key, value in job_conf().items():
        assert f"{key}={value}" in bench_argv, key
    # Every engine of the benchmark gets the job's driver settings too.
    naive = engines.spark_submit(ROOT / "benchmarks" / "naive_job.py")
    assert naive[:-1] == engines.spark_submit_options()


# --- docs/docker.md: the commands it gives work on the landing data we ship -----------------------

DOCKER_DOC = ROOT / "docs" / "docker.md"
ISO_DAY = r"(\d{4}-\d{2}-\d{2})"


def _doc_commands() -> list[str]:
    """The shell commands of docs/docker.md's bash blocks, continuation lines joined."""
    blocks = re.findall(r"```bash\n(.*?)```", DOCKER_DOC.read_text(), flags=re.DOTALL)
    return [
        line.strip()
        for block in blocks
        for line in block.replace("\\\n", " ").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def _days_asked_for(command: str, default_partition_date: str) -> list[dt.date]:
    """The partition days a documented command makes the pipeline process."""
    days: list[dt.date] = []
    backfill = re.search(rf"--from-date {ISO_DAY}\b.*--to-date {ISO_DAY}\b", command)
    if "backfill create" in command:
        assert backfill, f"a backfill without literal dates: {command}"
        first, last = (dt.date.fromisoformat(day) for day in backfill.groups())
        days += [first + dt.timedelta(n) for n in range((last - first).days + 1)]
    for pattern in (
        rf"--logical-date {ISO_DAY}",
        rf'"logical_date": "{ISO_DAY}',
        rf"PARTITION_DATE={ISO_DAY}",
    ):
        days += [dt.date.fromisoformat(day) for day in re.findall(pattern, command)]
    if re.search(r"run --rm etl\b", command) and "PARTITION_DATE=" not in command:
        days.append(dt.date.fromisoformat(default_partition_date))
    return days


def _has_landing_files(day: dt.date) -> bool:
    folder = Partition(day).local_folder(settings.DEFAULT_LANDING_DIR)
    return any(path.is_file() for glob in RAW_FILE_GLOBS for path in folder.glob(glob))


def test_docs_commands_only_ask_for_days_with_landing_data(services: dict[str, dict]) -> None:
    default = re.fullmatch(
        rf"\$\{{PARTITION_DATE:-{ISO_DAY}\}}", _environment(services["etl"])["PARTITION_DATE"]
    )
    assert default, "the etl one-shot's default day"
    asked = {command: _days_asked_for(command, default.group(1)) for command in _doc_commands()}
    assert sum(map(len, asked.values())) >= 8, f"found too few dated commands: {asked}"
    assert any("backfill create" in command for command in asked), "no backfill command found"
    for command, days in asked.items():
        missing = [day.isoformat() for day in days if not _has_landing_files(day)]
        assert not missing, f"docs/docker.md: `{command}` asks for {missing}: no landing files"


def test_docs_list_exited_one_shots_and_warn_about_the_first_scheduled_run() -> None:
    commands = _doc_commands()
    ps = [command for command in commands if re.match(r"docker compose ps\b", command)]
    assert ps and all(re.match(r"docker compose ps -a\b", command) for command in ps), (
        f"`docker compose ps` hides exited one-shots (hdfs-init, airflow-init): {ps}"
    )
    text = " ".join(DOCKER_DOC.read_text().split())
    assert "Unpausing also starts a run for yesterday" in text
    assert "What has been checked, and what only an engine can check" in text


# --- Images: the locked dependencies and one Python/Spark pair ------------------------------------


def test_airflow_dockerfile_installs_the_lock_and_copies_the_project() -> None:
    text = AIRFLOW_DOCKERFILE.read_text()
    assert "COPY --from=uv" in text and re.search(r"ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+", text)
    assert re.search(r"uv pip sync .*requirements\.lock", text), "install exactly the lock"
    assert "lock-excludes.txt" in text
    assert not re.search(r"pip install[^\n]*-r[^\n]*requirements\.lock", text), (
        "plain `pip install -r` resolves again and brings back what lock-excludes.txt leaves out"
    )
    for folder in ("dags", "spark_jobs", "include", "plugins"):
        assert re.search(rf"^COPY .*\b{folder}/ /opt/airflow/project/{folder}/$", text, re.M), (
            folder
        )
    assert "openjdk-17-jre-headless" in text
    ignore = (ROOT / "docker" / "Dockerfile.dockerignore").read_text().splitlines()
    for needed in ("!requirements.lock", "!dags/", "!spark_jobs/", "!include/", "!plugins/"):
        assert needed in ignore, f"the build context lacks {needed[1:]}"
    # Paths the compose file and the settings rely on.
    assert "AIRFLOW__CORE__DAGS_FOLDER=/opt/airflow/project/dags" in text
    assert "AIRFLOW__CORE__PLUGINS_FOLDER=/opt/airflow/project/plugins" in text
    assert "PYTHONPATH=/opt/airflow/project" in text


VENV_PYTHON_CHECK = re.compile(r"(/opt/venv/bin/python -c '[^']*') \"\$\{PYTHON_MINOR\}\"")


@pytest.mark.parametrize("image", sorted(BUILT_IMAGES))
def test_dockerfile_takes_the_base_images_python3_and_checks_its_version(image: str) -> None:
    """No guessed interpreter path (apache/airflow keeps Python under /usr/python/ since 3.0.6
    and links only python3, pip3... into /usr/local/bin): the venv comes from the image's own
    python3, and the build stops when its minor is not the one this project pairs with Spark."""
    facts = BUILT_IMAGES[image]
    text = (ROOT / facts["dockerfile"]).read_text()
    venv = re.findall(r"uv venv --python (\"[^\"]*\"|\S+)", text)
    assert venv == ['"$(command -v python3)"'], f"{facts['dockerfile']}: uv venv --python {venv}"
    assert not re.search(r"/usr/(local/)?(bin/)?python3\.\d+", text), (
        "a hard-coded interpreter path"
    )
    assert re.search(rf"^ARG PYTHON_MINOR={re.escape(facts['python'])}$", text, re.MULTILINE)
    check = VENV_PYTHON_CHECK.search(text)
    assert check, f"{facts['dockerfile']}: the venv's Python minor is not checked"
    # The build's own check, run here with this interpreter: it passes on a match, fails otherwise.
    command = check.group(1).replace("/opt/venv/bin/python", shlex.quote(sys.executable), 1)
    running = "{}.{}".format(*sys.version_info[:2])
    ok = subprocess.run(["bash", "-c", f"{command} {running}"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    wrong = subprocess.run(["bash", "-c", f"{command} 2.7"], capture_output=True, text=True)
    assert wrong.returncode != 0 and "not PYTHON_MINOR=2.7" in wrong.stderr


def test_spark_dockerfile_takes_spark_from_the_lock() -> None:
    text = SPARK_DOCKERFILE.read_text()
    assert re.search(r"grep -E '\^\(pyspark\|py4j\|", text), "pyspark and py4j come from the lock"
    assert "--no-deps" in text
    assert "openjdk-17-jre-headless" in text


@pytest.mark.parametrize("image", sorted(BUILT_IMAGES))
def test_python_and_spark_versions_agree_with_the_lock(image: str) -> None:
    facts = BUILT_IMAGES[image]
    assert facts["spark"] == _lock_pin("pyspark"), f"{image}: update BUILT_IMAGES with the pins"
    base = _from_images(ROOT / facts["dockerfile"])[-1]
    assert BASE_IMAGE_PYTHON[base] == facts["python"], f"{image}: FROM {base}"
    assert base.endswith(f"python{facts['python']}") or f":{facts['python']}." in base


def test_driver_and_executors_run_the_same_python() -> None:
    """PySpark refuses Python workers of another minor than the driver's; executors start the
    interpreter the driver names in PYSPARK_PYTHON, so the path must exist in both images."""
    minors = {facts["python"] for facts in BUILT_IMAGES.values()}
    sparks = {facts["spark"] for facts in BUILT_IMAGES.values()}
    assert len(minors) == 1 and len(sparks) == 1, BUILT_IMAGES
    for dockerfile in (AIRFLOW_DOCKERFILE, SPARK_DOCKERFILE):
        assert "PYSPARK_PYTHON=/opt/venv/bin/python" in dockerfile.read_text(), dockerfile.name
    python = minors.pop()
    requires = re.search(r'requires-python = ">=(\d+\.\d+)', (ROOT / "pyproject.toml").read_text())
    assert requires and tuple(map(int, python.split("."))) >= tuple(
        map(int, requires.group(1).split("."))
    )


# --- Secrets and .env.example ----------------------------------------------------------------


def _all_strings(node: object) -> list[tuple[str, str]]:
    """(key, value) for every scalar in the file, keys of mappings included."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict | list):
                found.extend(_all_strings(value))
            else:
                found.append((str(key), str(value)))
    elif isinstance(node, list):
        for item in node:
            found.extend(_all_strings(item) if isinstance(item, dict | list) else [("", str(item))])
    return found


def test_no_secret_is_written_in_the_compose_file(compose: dict) -> None:
    secret_key = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$", re.IGNORECASE)
    for key, value in _all_strings(compose):
        if secret_key.search(key) and not key.endswith("_FILE"):
            assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", value), f"{key} must come from .env"
        for password in re.findall(r"://[^:/@\s]+:([^@]+)@", value):
            assert password.startswith("${") and ":?" in password, f"{key}: inline password"


def _compose_variables(compose: dict) -> list[re.Match[str]]:
    """Interpolated variables in the file's values (comments are not read)."""
    return [
        match
        for key, value in _all_strings(compose)
        for text in (key, value)
        for match in VARIABLE.finditer(text)
    ]


def test_env_example_lists_every_variable_the_compose_file_needs(compose: dict) -> None:
    used = {match.group(1) for match in _compose_variables(compose)}
    example = ENV_EXAMPLE.read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    assert used <= listed, f"not in .env.example: {sorted(used - listed)}"


def test_required_secrets_have_no_usable_value_in_the_example(compose: dict) -> None:
    required = {match.group(1) for match in _compose_variables(compose) if match.group(2) == ":?"}
    assert required >= {
        "POSTGRES_PASSWORD",
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_API_SECRET_KEY",
    }
    values = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", ENV_EXAMPLE.read_text(), re.MULTILINE))
    for name in required:
        assert values.get(name) == "", f"{name}: leave it empty in .env.example (a placeholder)"


# --- docker compose config, when a compose CLI is available ------------------------------------


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, timeout=30, check=False
    )
    return [docker, "compose"] if probe.returncode == 0 else None


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("`docker compose version` fails here: no compose v2 CLI to run `config`")
    env_file = tmp_path / ".env"
    env_file.write_text(
        "COMPOSE_PROFILES=cluster,etl\nPOSTGRES_PASSWORD=x\nAIRFLOW_FERNET_KEY=x\n"
        "AIRFLOW_JWT_SECRET=x\nAIRFLOW_API_SECRET_KEY=x\nAIRFLOW_ADMIN_PASSWORD=x\n"
    )
    for files in (
        ["-f", str(COMPOSE_FILE)],
        ["-f", str(COMPOSE_FILE), "-f", str(EXTERNAL_NETWORK_FILE)],
    ):
        result = subprocess.run(
            [*command, "--env-file", str(env_file), *files, "config", "--quiet"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    missing = subprocess.run(
        [*command, "--env-file", "/dev/null", "-f", str(COMPOSE_FILE), "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode != 0 and "set POSTGRES_PASSWORD in .env" in missing.stderr
