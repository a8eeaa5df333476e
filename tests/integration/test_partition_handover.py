"""A day is never lost or half-replaced: the handover rule (spark_jobs/handover.py) on the real
local HDFS, with faults injected, two real jobs on one day, and a refused rerun over a
published day. Each scenario records its result for docs/reliability.md (tests/integration/
reliability.py) after its own assertions hold."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from include.ecommerce.upload import (
    WebHdfsFiles,
    landing_files,
    late_days,
    replace_partition,
)
from spark_jobs import contract, handover
from tests.integration.reliability import record
from tests.integration.test_etl_job import (
    HEADER,
    JOB_TIMEOUT_S,
    SAMPLE_DATE,
    SAMPLE_DAY,
    JobRun,
    expected_sample_tables,
    job_command,
    job_env,
    read_hdfs_table,
)

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CRASH_TIMEOUT_S = 240
STEPS = ("staged", "aside", "renamed", "trashed")


# --- helpers ---------------------------------------------------------------------------------


def rows(version: str, count: int = 3) -> str:
    return "".join(f"{version} row {n}\n" for n in range(count))


def folder_texts(client, folder: str) -> dict[str, str]:
    texts = {}
    for name in client.list(folder):
        with client.read(f"{folder}/{name}") as reader:
            texts[name] = reader.read().decode()
    return texts


def trash_copies(client, user: str, parent: str) -> list[dict[str, str]]:
    """Every copy of a folder of ``parent`` in the user's trash (any checkpoint)."""
    trash = f"/user/{user}/.Trash"
    copies = []
    for checkpoint in client.list(trash) if client.status(trash, strict=False) else []:
        below = f"{trash}/{checkpoint}{parent}"
        if client.status(below, strict=False) is None:
            continue
        for name in client.list(below):
            if client.status(f"{below}/{name}")["type"] == "DIRECTORY":
                copies.append(folder_texts(client, f"{below}/{name}"))
    return copies


def run_writer(hdfs, side: str, partition: str, files: dict[str, str], die_after: str | None):
    target = hdfs.uri + partition if side == "jvm" else partition
    command = [
        sys.executable,
        "-m",
        "tests.integration.handover_crash",
        "--side",
        side,
        "--partition",
        target,
        "--webhdfs",
        hdfs.webhdfs_url,
        "--user",
        hdfs.user,
        *(arg for name, text in files.items() for arg in ("--file", f"{name}={text}")),
    ]
    if die_after:
        command += ["--die-after", die_after]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=CRASH_TIMEOUT_S,
        check=False,
        cwd=PROJECT_ROOT,
        env=job_env({"HADOOP_USER_NAME": hdfs.user}),
    )


def rows_missing(version: dict[str, str], places: list[dict[str, str]]) -> int:
    """Rows of ``version`` found in none of ``places`` (the partition, the trash copies)."""
    return sum(
        text.count("\n")
        for name, text in version.items()
        if not any(place.get(name) == text for place in places)
    )


# --- a crash at each step of the swap, on both sides --------------------------------------------


@pytest.mark.parametrize("side", ["webhdfs", "jvm"])
@pytest.mark.parametrize("step", STEPS)
def test_a_writer_killed_after_each_step_then_a_rerun_recovers(hdfs, hdfs_scratch, side, step):
    parent = f"{hdfs_scratch}/p/2026/02"
    partition = f"{parent}/14"
    client = hdfs.client
    v1, v2, v3 = (
        {"a.csv": rows("v1"), "b.csv": rows("v1b")},
        {"a.csv": rows("v2")},
        {"a.csv": rows("v3"), "c.csv": rows("v3c")},
    )
    first = run_writer(hdfs, "webhdfs", partition, v1, None)
    assert first.returncode == 0, first.stderr

    crashed = run_writer(hdfs, side, partition, v2, step)
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    names = client.list(parent)
    assert f"{handover.LEASE_PREFIX}14" in names  # killed: the lease was never released
    if step == "aside":  # the one moment without a partition: the old one is beside it
        assert client.status(partition, strict=False) is None
        (aside,) = [n for n in names if n.startswith(handover.ASIDE_PREFIX)]
        assert folder_texts(client, f"{parent}/{aside}") == v1
        during = "partition moved aside (no published partition until recovery)"
    else:
        published = folder_texts(client, partition)
        assert published == (v1 if step == "staged" else v2)
        during = f"published partition stayed {'old' if step == 'staged' else 'new'} and complete"

    rerun = run_writer(hdfs, side, partition, v3, None)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "taking over the stale lease" in rerun.stderr
    assert folder_texts(client, partition) == v3
    assert client.list(parent) == ["14"]  # no lease, staging or aside folder left
    trashed = trash_copies(client, hdfs.user, parent)
    lost = rows_missing(v1, trashed)
    if step in ("renamed", "trashed"):  # v2 was published for a while: recoverable too
        lost += rows_missing(v2, trashed)
    assert lost == 0, trashed
    record(
        f"writer ({side}) killed after '{step}'",
        f"kill -9 of the {'job-side (Hadoop FileSystem)' if side == 'jvm' else 'upload-side (WebHDFS)'} "
        f"writer right after the swap step '{step}'",
        f"{during}; the rerun took over the dead writer's lease, recovered and published; "
        "earlier versions are in the HDFS trash",
        lost,
        f"test_a_writer_killed_after_each_step_then_a_rerun_recovers[{step}-{side}]",
    )


# --- the lease ---------------------------------------------------------------------------------


def test_a_second_writer_fails_naming_the_live_holder(hdfs, hdfs_scratch):
    partition = f"{hdfs_scratch}/p/2026/02/14"
    files = WebHdfsFiles(hdfs.client)
    holder = handover.new_record(handover.new_writer_id("run_A"), "run_A")
    with handover.acquire(files, partition, holder, wait_s=0):
        second = handover.new_record(handover.new_writer_id("run_B"), "run_B")
        with pytest.raises(handover.LeaseHeldError) as raised:
            handover.acquire(files, partition, second, wait_s=0.5, poll_s=0.1)
        message = str(raised.value)
        assert holder.writer_id in message and "run run_A" in message
        assert f"pid {holder.pid}" in message
    assert hdfs.client.list(f"{hdfs_scratch}/p/2026/02") == []  # released
    record(
        "second writer, no wait",
        "a second writer asks for a day whose lease a live writer holds (wait 0.5 s)",
        f"LeaseHeldError naming the holder's writer id, run, host and pid: {message}",
        0,
        "test_a_second_writer_fails_naming_the_live_holder",
    )


def test_an_expired_lease_of_another_host_is_taken_over_and_a_fresh_one_is_not(hdfs, hdfs_scratch):
    partition = f"{hdfs_scratch}/p/2026/02/14"
    files = WebHdfsFiles(hdfs.client)
    lease_file = handover.lease_path(partition)
    now = time.time()
    elsewhere = handover.LeaseRecord("w-other", "r", "another-host", 1, None, now, now + 3600)
    files.mkdirs(f"{hdfs_scratch}/p/2026/02")
    assert files.create_exclusive(lease_file, elsewhere.to_json())
    me = handover.new_record(handover.new_writer_id("me"), "me")
    with pytest.raises(handover.LeaseHeldError, match="another-host"):
        handover.acquire(files, partition, me, wait_s=0.2, poll_s=0.1)
    hdfs.client.delete(lease_file)
    expired = handover.LeaseRecord("w-other", "r", "another-host", 1, None, now - 9, now - 1)
    assert files.create_exclusive(lease_file, expired.to_json())
    with handover.acquire(files, partition, me, wait_s=0) as lease:
        lease.check()


def test_a_lease_file_not_yet_written_is_not_taken_over_at_once(hdfs, hdfs_scratch, monkeypatch):
    partition = f"{hdfs_scratch}/p/2026/02/14"
    files = WebHdfsFiles(hdfs.client)
    files.mkdirs(f"{hdfs_scratch}/p/2026/02")
    assert files.create_exclusive(handover.lease_path(partition), "")  # created, not written
    me = handover.new_record(handover.new_writer_id("me"), "me")
    with pytest.raises(handover.LeaseHeldError, match="another writer"):
        handover.acquire(files, partition, me, wait_s=0.3, poll_s=0.1)
    monkeypatch.setattr(handover, "UNREADABLE_LEASE_GRACE_S", 0.0)  # ... until it stays so
    with handover.acquire(files, partition, me, wait_s=0) as lease:
        lease.check()


# --- two real jobs on the same day ----------------------------------------------------------


@pytest.fixture(scope="module")
def two_jobs(hdfs, tmp_path_factory):
    """The sample day uploaded by the real upload, then two real jobs on it, the second started
    as soon as the first holds the day (its lease file exists)."""
    root = hdfs.scratch_dir()
    raw = f"{root}/raw/ecommerce/2026/02/14"
    processed = f"{root}/processed/ecommerce/2026/02/14"
    replace_partition(hdfs.client, landing_files(SAMPLE_DAY), raw)
    env = job_env({"HADOOP_USER_NAME": hdfs.user})
    command = job_command(SAMPLE_DATE, hdfs.uri + raw, hdfs.uri + processed)
    first = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while hdfs.client.status(handover.lease_path(raw), strict=False) is None:
        assert first.poll() is None, "the first job ended before taking the lease"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    second = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    runs = []
    for process in (first, second):
        stdout, stderr = process.communicate(timeout=JOB_TIMEOUT_S)
        runs.append(JobRun(process.returncode, stdout, stderr))
    yield root, raw, processed, runs
    hdfs.client.delete(root, recursive=True)


def core_tables(client, processed: str) -> dict[str, list[dict]]:
    return {t.name: read_hdfs_table(client, f"{processed}/{t.name}") for t in contract.CORE_TABLES}


def test_two_jobs_on_one_day_the_second_waits_and_one_complete_output_stands(hdfs, two_jobs):
    _, raw, processed, (first, second) = two_jobs
    assert first.returncode == 0, first.stderr[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    # The driver's Python output reaches spark-submit's stdout (ecommerce_etl.report_error).
    said = second.stdout + second.stderr
    assert "waiting up to" in said and "held by writer" in said
    assert contract.SUCCESS_MARKER in hdfs.client.list(processed)
    assert core_tables(hdfs.client, processed) == expected_sample_tables()
    assert hdfs.client.list(processed.rsplit("/", 1)[0]) == ["14"]
    assert hdfs.client.list(raw.rsplit("/", 1)[0]) == ["14"]  # no lease left on raw either
    record(
        "two jobs on one day",
        "a second spark-submit of the same day started while the first held it",
        "the second waited for the first's lease, then replaced the day whole; one complete "
        "output, identical tables",
        0,
        "test_two_jobs_on_one_day_the_second_waits_and_one_complete_output_stands",
    )


def file_checksums(client, folder: str) -> dict[str, str]:
    sums = {}
    for path, _dirs, names in client.walk(folder):
        for name in names:
            with client.read(f"{path}/{name}") as reader:
                sums[f"{path}/{name}"] = hashlib.sha256(reader.read()).hexdigest()
    return sums


def test_a_rerun_over_the_threshold_leaves_the_published_day_byte_for_byte(
    hdfs, two_jobs, tmp_path
):
    _, raw, processed, runs = two_jobs
    assert all(run.returncode == 0 for run in runs)
    before = file_checksums(hdfs.client, processed)
    events_before = sum(row["count"] for row in core_tables(hdfs.client, processed)["funnel"])
    landing = tmp_path / "2026/02/14"
    landing.mkdir(parents=True)
    sample = (SAMPLE_DAY / "ecommerce_logs.csv").read_text()
    bad = "".join(f"2026-02-14 10:00:00,{n},s1,refund,p1,books,1.00,1\n" for n in range(10))
    (landing / "ecommerce_logs.csv").write_text(sample + bad)
    replace_partition(hdfs.client, landing_files(landing), raw)

    completed = subprocess.run(
        job_command(SAMPLE_DATE, hdfs.uri + raw, hdfs.uri + processed),
        capture_output=True,
        text=True,
        timeout=JOB_TIMEOUT_S,
        env=job_env({"HADOOP_USER_NAME": hdfs.user}),
    )
    assert completed.returncode == contract.JOB_EXIT_TOO_MANY_REJECTS, completed.stderr[-3000:]
    (line,) = [x for x in completed.stderr.splitlines() if x.startswith("error:")]
    assert "the published day is unchanged" in line
    attempt = handover.path_part(line.rsplit("rejected rows and quality of this attempt: ", 1)[1])
    assert attempt.startswith(handover.attempt_path(processed, ""))
    assert len(read_hdfs_table(hdfs.client, f"{attempt}/{contract.REJECTED.name}")) == 10
    after = file_checksums(hdfs.client, processed)
    assert after == before
    events_after = sum(row["count"] for row in core_tables(hdfs.client, processed)["funnel"])
    record(
        "rerun over the reject threshold",
        "the day rerun on input with 10 of 25 rows invalid (threshold 5 %), on top of the "
        "published day",
        "exit 3; the published partition, _SUCCESS and tables byte-for-byte unchanged "
        f"({len(after)} files); rejected rows and quality in {handover.ATTEMPTS_PREFIX}14/<writer>",
        events_before - events_after,
        "test_a_rerun_over_the_threshold_leaves_the_published_day_byte_for_byte",
    )


# --- raw: history, odd names, late data ----------------------------------------------------------


def uploaded_day(hdfs, hdfs_scratch: str, tmp_path: Path, files: dict[str, str]):
    """A landing folder holding ``files``, uploaded once to a scratch raw partition."""
    raw = f"{hdfs_scratch}/raw/2026/02/14"
    landing = tmp_path / "2026/02/14"
    landing.mkdir(parents=True)
    for name, text in files.items():
        (landing / name).write_text(text)
    replace_partition(hdfs.client, landing_files(landing), raw)
    return raw, landing


def test_landing_lost_a_file_the_raw_file_stays_recoverable(hdfs, hdfs_scratch, tmp_path, caplog):
    files = {"a.csv": HEADER + rows("a"), "b.csv": HEADER + rows("b", 5)}
    raw, landing = uploaded_day(hdfs, hdfs_scratch, tmp_path, files)
    (landing / "b.csv").unlink()

    with caplog.at_level(logging.INFO, logger="include.ecommerce.upload"):
        result = replace_partition(hdfs.client, landing_files(landing), raw)

    b_size = len(HEADER + rows("b", 5))
    assert f"removed b.csv ({b_size} bytes)" in caplog.text
    assert dict(result.changes.removed) == {"b.csv": b_size}
    assert "b.csv" not in hdfs.client.list(raw)
    assert result.trashed is not None
    with hdfs.client.read(f"{result.trashed}/b.csv") as reader:
        recovered = reader.read().decode()
    assert recovered == HEADER + rows("b", 5)
    record(
        "landing lost a file",
        "a landing file deleted, then the day uploaded again",
        f"upload log: 'removed b.csv ({b_size} bytes)'; the previous raw partition, b.csv "
        "included, is in the HDFS trash",
        0 if recovered == HEADER + rows("b", 5) else 5,
        "test_landing_lost_a_file_the_raw_file_stays_recoverable",
    )


def test_odd_landing_names_are_named_and_not_uploaded(hdfs, hdfs_scratch, tmp_path, caplog):
    odd = ["_late.csv", ".part.csv", "EXTRA.CSV", "day.csv.part", "notes.txt"]
    with caplog.at_level(logging.WARNING, logger="include.ecommerce.upload"):
        raw, landing = uploaded_day(
            hdfs,
            hdfs_scratch,
            tmp_path,
            {n: HEADER + rows(n) for n in ["ecommerce_logs.csv", *odd]},
        )
    for name in odd:
        assert f"not uploaded: {landing / name}: " in caplog.text
    assert "upper-case extension" in caplog.text
    assert sorted(hdfs.client.list(raw)) == [handover.MANIFEST_NAME, "ecommerce_logs.csv"]
    record(
        "odd landing names",
        "landing holds _late.csv, .part.csv, EXTRA.CSV, day.csv.part, notes.txt next to the "
        "day's file",
        "each named with its reason in the upload log (warning), none uploaded; the job reads "
        "every file that was uploaded",
        0,
        "test_odd_landing_names_are_named_and_not_uploaded",
    )


def test_a_late_file_is_detected(hdfs, hdfs_scratch, tmp_path):
    raw, landing = uploaded_day(hdfs, hdfs_scratch, tmp_path, {"a.csv": HEADER + rows("a")})
    days = [("2026-02-14", landing, raw), ("2026-02-13", tmp_path / "2026/02/13", raw + "x")]
    assert late_days(hdfs.client, days) == []

    (landing / "late.csv").write_text(HEADER + rows("late", 4))
    (landing / "a.csv").write_text(HEADER + rows("a", 4))
    (late,) = late_days(hdfs.client, days)
    assert late.partition_date == "2026-02-14"
    assert set(late.changes.added) == {"late.csv"} and set(late.changes.replaced) == {"a.csv"}
    assert "added late.csv" in late.describe() and "replaced a.csv" in late.describe()
    record(
        "late file",
        "a file landed (and another changed) for a day after it was uploaded",
        "the next run's upload compares the last 7 days' landing with their manifests and flags "
        "the day in its log (LATE DATA) and in the report",
        0,
        "test_a_late_file_is_detected",
    )


def test_the_job_reads_raw_under_the_lease_so_an_upload_waits(hdfs, hdfs_scratch, tmp_path):
    """The raw partition is held while a writer reads it: an upload gives up naming it."""
    raw, landing = uploaded_day(hdfs, hdfs_scratch, tmp_path, {"a.csv": HEADER + rows("a")})
    reader = handover.new_record(handover.new_writer_id("job"), "run_reading")
    with handover.acquire(WebHdfsFiles(hdfs.client), raw, reader, wait_s=0):
        (landing / "a.csv").write_text(HEADER + rows("new"))
        with pytest.raises(handover.LeaseHeldError, match="run run_reading"):
            replace_partition(hdfs.client, landing_files(landing), raw, wait_s=0.5)
        assert folder_texts(hdfs.client, raw)["a.csv"] == HEADER + rows("a")
    record(
        "upload while the job reads raw",
        "another run's upload of the same day while a job holds the raw partition",
        "the upload waited, then failed naming the reading run (the task retries); raw unchanged",
        0,
        "test_the_job_reads_raw_under_the_lease_so_an_upload_waits",
    )


def test_the_upload_holds_raw_for_its_runs_job_which_adopts_it(hdfs, hdfs_scratch, tmp_path):
    """From the upload until the job of the same run has read the day, no other run replaces
    it; the job of that run (and a retry of that run's upload) adopts the lease at once."""
    landing = tmp_path / "2026/02/14"
    landing.mkdir(parents=True)
    (landing / "a.csv").write_text(HEADER + rows("a"))
    raw = f"{hdfs_scratch}/raw/2026/02/14"
    replace_partition(hdfs.client, landing_files(landing), raw, run_id="run_A", hand_over=True)
    assert handover.lease_path(raw).rsplit("/", 1)[1] in hdfs.client.list(raw.rsplit("/", 1)[0])

    (landing / "a.csv").write_text(HEADER + rows("b"))
    with pytest.raises(handover.LeaseHeldError, match="run run_A: its upload handed the day"):
        replace_partition(hdfs.client, landing_files(landing), raw, run_id="run_B", wait_s=0.5)
    assert folder_texts(hdfs.client, raw)["a.csv"] == HEADER + rows("a")

    job = handover.new_record(handover.new_writer_id("run_A"), "run_A")
    files = WebHdfsFiles(hdfs.client)
    with handover.acquire(files, raw, job, wait_s=0, adopt_run_id="run_A") as lease:
        lease.check()  # the job of run_A holds it now
    replace_partition(hdfs.client, landing_files(landing), raw, run_id="run_B", wait_s=0)
    assert folder_texts(hdfs.client, raw)["a.csv"] == HEADER + rows("b")
    assert hdfs.client.list(raw.rsplit("/", 1)[0]) == ["14"]
    record(
        "another run's upload between upload and job",
        "run B uploads the day after run A's upload and before run A's job has read it",
        "run B's upload waited and failed naming run A's hand-over (its task retries); run A's "
        "job adopted the lease and read what A uploaded; B replaced the day after A's job",
        0,
        "test_the_upload_holds_raw_for_its_runs_job_which_adopts_it",
    )
