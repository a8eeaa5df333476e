"""The Airflow UI and the daily schedule as users meet them, on one live Airflow.

One Airflow (``live_airflow.running_airflow``) serves the whole module, with the scheduler's
cron schedule ON (the other live tests switch it off): unpausing the DAG makes the scheduler
create yesterday's run, as on a fresh machine. Its landing folder holds the project's February
days and yesterday's generated day with its ``_READY`` marker; today's day lands while a run
waits for it. The browser tests drive Debian's headless Chromium through Selenium and
chromium-driver: log in, read the DAG's docs, trigger from the form, watch the run turn green,
open the HTML report from the run. A failing browser test leaves a screenshot in
``.runtime/logs/ui-tests/`` (printed); passing ones leave the pictures docs/ui.md shows there
too (copied to ``docs/ui/`` when ``UI_SCREENSHOTS_TO_DOCS=1``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from include.data.generate_logs import write_day
from include.ecommerce.partitions import Partition
from stack.live_airflow import PROJECT_ROOT, LiveAirflow, running_airflow

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOTS = PROJECT_ROOT / ".runtime" / "logs" / "ui-tests"
DOCS_PICTURES = PROJECT_ROOT / "docs" / "ui"
RUN_TIMEOUT_S = 600  # two shared cores: a run is ~1 min alone, several when queued
UI_TIMEOUT_S = 60
POKE_SECONDS = 20  # at 5 s, a busy scheduler saw the previous poke end after re-queueing the next
LANDS_AFTER_S = 30
DAY_ROWS = 300
FORM_DAY = Partition.parse("2026-02-14")
PARAM_DAY = Partition.parse("2026-02-11")


def utc_today() -> date:
    return datetime.now(UTC).date()


def wait_until(condition: Callable[[], Any], timeout_s: float, what: str, poll_s: float = 2) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:.0f} s: {what}")
        time.sleep(poll_s)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    (root / "2026").mkdir()
    (root / "2026" / "02").symlink_to(PROJECT_ROOT / "include" / "data" / "landing" / "2026" / "02")
    write_day(utc_today() - timedelta(days=1), DAY_ROWS, root)  # what `make simulate` does
    return root


@pytest.fixture(scope="module")
def airflow(request, hdfs, landing, tmp_path_factory) -> Iterator[LiveAirflow]:
    extra_env = {
        "AIRFLOW_VAR_ECOMMERCE_LANDING_DIR": str(landing),
        "AIRFLOW_VAR_ECOMMERCE_REPORTS_DIR": str(tmp_path_factory.mktemp("reports")),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "True",
        "AIRFLOW_VAR_ECOMMERCE_LANDING_POKE_SECONDS": str(POKE_SECONDS),
    }
    failed_before = request.session.testsfailed
    with running_airflow(tmp_path_factory.mktemp("ui-airflow"), extra_env) as live:
        yield live
        if request.session.testsfailed > failed_before:
            print(f"\n=== live Airflow log tails (home {live.home}) ===\n{live.diagnostics(60)}")


def run_to_success(airflow: LiveAirflow, run_id: str) -> dict[str, Any]:
    run = airflow.wait_for_run(run_id, RUN_TIMEOUT_S)
    assert run["state"] == "success", airflow.explain_run(run_id)
    return run


# --- the schedule -------------------------------------------------------------------------------


def test_unpausing_makes_the_scheduler_run_yesterday_and_it_succeeds(airflow):
    yesterday = utc_today() - timedelta(days=1)
    runs = wait_until(
        lambda: airflow.dag_runs(run_type="scheduled"), 180, "the scheduler created a run"
    )
    assert [run["logical_date"][:10] for run in runs] == [yesterday.isoformat()], runs
    run_to_success(airflow, runs[0]["dag_run_id"])


def test_a_run_waits_for_its_landing_day_and_succeeds_once_it_lands(airflow, landing):
    today = Partition(utc_today())  # deadline: tomorrow 06:00 UTC, always ahead
    run_id = airflow.trigger(logical_date=f"{today.iso}T00:00:00Z")
    started = time.monotonic()
    wait_until(
        lambda: airflow.task_states(run_id).get("wait_for_landing_day") == "up_for_reschedule",
        RUN_TIMEOUT_S,
        f"wait_for_landing_day of {run_id} waiting (up_for_reschedule)",
    )
    time.sleep(max(0.0, LANDS_AFTER_S - (time.monotonic() - started)))
    assert airflow.dag_run(run_id)["state"] == "running", airflow.explain_run(run_id)
    write_day(today.partition_date, DAY_ROWS, landing)  # the files, then _READY

    run_to_success(airflow, run_id)
    sensor = airflow.task_instances(run_id)["wait_for_landing_day"]
    assert sensor["try_number"] == 1, airflow.explain_run(run_id)  # waiting is not failing
    log = airflow.task_log(run_id, "wait_for_landing_day", sensor["try_number"])
    assert f"waiting for {landing}/{today.subpath}/_READY" in log
    assert f"{landing}/{today.subpath} is ready" in log


# --- the UI in a browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(airflow) -> Iterator[Any]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.fail("the browser tests need Debian's chromium and chromium-driver: make browser")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    try:
        UI(driver, airflow).log_in()
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def ui(request, browser, airflow) -> Iterator[UI]:
    page = UI(browser, airflow)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        path = page.screenshot(f"FAILED-{request.node.name}")
        print(f"\nscreenshot of the failure: {path}\npage: {browser.current_url}")


class UI:
    """The pages a person uses, found the way a person finds them (labels, texts)."""

    def __init__(self, driver: Any, airflow: LiveAirflow) -> None:
        self.driver = driver
        self.airflow = airflow

    def find(self, xpath: str, timeout_s: float = UI_TIMEOUT_S) -> Any:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.wait import WebDriverWait

        return WebDriverWait(self.driver, timeout_s).until(
            expected_conditions.visibility_of_element_located((By.XPATH, xpath)),
            f"no visible element {xpath} on {self.driver.current_url}",
        )

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        if os.environ.get("UI_SCREENSHOTS_TO_DOCS") == "1" and not name.startswith("FAILED"):
            DOCS_PICTURES.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, DOCS_PICTURES / path.name)
        return path

    def open(self, path: str) -> None:
        """Open a page as the user logged in by the ``browser`` fixture."""
        self.driver.get(f"{self.airflow.api_url}{path}")

    def log_in(self) -> None:
        """Log in on the login page itself.

        Not on the redirect from a page: the app sends a visitor without a session to the login
        page from its script, after the page has loaded, so a check of the address right after
        loading it can come too early (it did once in CI: the test then waited on the login page).
        """
        from selenium.webdriver.common.keys import Keys

        self.driver.get(f"{self.airflow.api_url}/auth/login")
        self.find("//input[@name='username']").send_keys("admin")
        self.find("//input[@name='password']").send_keys(self.airflow.admin_password() + Keys.ENTER)
        wait_until(lambda: "/auth/login" not in self.driver.current_url, UI_TIMEOUT_S, "log in")

    def set_text(self, element: Any, text: str) -> None:
        from selenium.webdriver.common.keys import Keys

        element.send_keys(Keys.CONTROL, "a")
        element.send_keys(Keys.BACKSPACE)
        element.send_keys(text)

    def open_trigger_form(self) -> Any:
        self.open("/dags/ecommerce_daily")
        self.find("//button[@aria-label='Trigger Dag']").click()
        return self.find("//div[@role='dialog'][.//*[contains(., 'Run Parameters')]]")

    def submit_trigger_form(self) -> str:
        """Click the form's Trigger; the ID of the run it created (the newest manual one)."""
        known = {run["dag_run_id"] for run in self.airflow.dag_runs(run_type="manual")}
        self.find("//div[@role='dialog']//button[normalize-space()='Trigger']").click()
        created = wait_until(
            lambda: [r for r in self.airflow.dag_runs(run_type="manual") if r["dag_run_id"] not in known],
            UI_TIMEOUT_S,
            "the form created a run",
        )  # fmt: skip
        assert len(created) == 1, created
        return created[0]["dag_run_id"]

    def run_page(self, run_id: str) -> str:
        return f"/dags/ecommerce_daily/runs/{quote(run_id, safe='')}"

    def watch_run_turn_green(self, run_id: str, picture: str | None = None) -> None:
        run_to_success(self.airflow, run_id)
        self.open(self.run_page(run_id))
        self.find("//*[normalize-space()='success' or normalize-space()='Success']")
        if picture:
            self.screenshot(picture)


def test_the_dag_page_shows_its_documentation(ui):
    ui.open("/dags/ecommerce_daily")
    ui.find("//*[normalize-space()='wait_for_landing_day']")
    ui.screenshot("dag-page")
    ui.find("//button[@aria-label='Dag Docs']").click()
    docs = ui.find("//div[@role='dialog'][.//*[contains(., 'Which day?')]]")
    assert "wait_for_landing_day" in docs.text
    assert "_READY" in docs.text
    ui.screenshot("dag-docs")


def test_the_trigger_form_offers_the_params_with_their_descriptions(ui):
    form = ui.open_trigger_form()
    ui.screenshot("trigger-form")
    for text in (
        "partition_date",
        "YYYY-MM-DD. Only for runs without a logical date, or to override it.",
        "max_reject_ratio",
        "Share of rejected raw rows above which the day is not published.",
        "landing_deadline_hours",
    ):
        assert text in form.text, f"{text!r} not in the trigger form:\n{form.text}"


@pytest.fixture(scope="module")
def form_run() -> dict[str, str]:
    """The run the form triggered with a logical date (the report test opens its report)."""
    return {}


def test_trigger_from_the_form_with_a_logical_date(ui, form_run):
    ui.open_trigger_form()
    ui.find("//*[@data-testid='datetime-input']").click()
    ui.set_text(ui.find("//input[@placeholder='YYYY/MM/DD']"), FORM_DAY.iso.replace("-", "/"))
    ui.set_text(ui.find("//input[@placeholder='HH:mm']"), "00:00")
    ui.find("//div[@role='dialog']//*[normalize-space()='Logical Date']").click()  # close picker
    run_id = ui.submit_trigger_form()

    run = ui.airflow.dag_run(run_id)
    assert run["logical_date"].startswith(FORM_DAY.iso), run
    ui.watch_run_turn_green(run_id, picture="green-run")
    assert f"report for {FORM_DAY.iso}" in ui.airflow.task_log(run_id, "generate_report")
    form_run["run_id"] = run_id


def test_trigger_from_the_form_without_a_logical_date_with_the_partition_date(ui):
    ui.open_trigger_form()
    ui.find("//*[@data-testid='datetime-input']").click()
    ui.find("//button[@aria-label='Clear start date']").click()
    ui.find("//div[@role='dialog']//*[normalize-space()='Logical Date']").click()
    # A date field: typed in the browser's locale order (en-US: month, day, year).
    field = ui.find("//input[@name='element_partition_date']")
    field.send_keys(PARAM_DAY.partition_date.strftime("%m%d%Y"))
    run_id = ui.submit_trigger_form()

    run = ui.airflow.dag_run(run_id)
    assert run["logical_date"] is None, run
    assert run["conf"].get("partition_date") == PARAM_DAY.iso, run
    ui.watch_run_turn_green(run_id)
    assert f"report for {PARAM_DAY.iso}" in ui.airflow.task_log(run_id, "generate_report")


def test_the_html_report_opens_from_the_run(ui, form_run):
    assert "run_id" in form_run, "needs the run of test_trigger_from_the_form_with_a_logical_date"
    ui.open(f"{ui.run_page(form_run['run_id'])}/tasks/generate_report")
    # The log's last lines give the report's address, as a link.
    ui.find(f"//a[contains(@href, '/ecommerce-reports/{FORM_DAY.subpath}/report.html')]")
    ui.screenshot("report-log")
    ui.find("//a[normalize-space()='Details']").click()
    link = ui.find("//a[normalize-space()='HTML report']")  # under "Extra Links"
    ui.screenshot("report-link")
    href = link.get_attribute("href")
    assert href.endswith(f"/ecommerce-reports/{FORM_DAY.subpath}/report.html"), href
    ui.driver.get(href)  # the link opens a new tab; same address, same session cookie
    ui.find(f"//h1[contains(., 'E-commerce daily report - {FORM_DAY.iso}')]")
    ui.screenshot("report")
    assert requests.get(href, timeout=30).status_code == 401  # not without logging in


# --- make backfill ------------------------------------------------------------------------------


def test_make_backfill_follows_each_day_and_names_the_failed_one(airflow):
    """2026-02-16 has data; 2026-02-17 has none and is long past, so its run fails at once."""
    result = subprocess.run(
        [str(PROJECT_ROOT / "stack" / "run.sh"), "python", "-m", "include.ecommerce.backfill",
         "--from-date", "2026-02-16", "--to-date", "2026-02-17"],
        cwd=PROJECT_ROOT, env=airflow.env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("backfill ") and "2 day(s) 2026-02-16 .. 2026-02-17" in lines[0]
    finished = [line.split()[:2] for line in lines if line[:10] in ("2026-02-16", "2026-02-17")]
    assert ["2026-02-16", "success"] in finished, output
    assert ["2026-02-17", "failed"] in finished, output
    assert lines[-1].startswith("1 day(s) failed: 2026-02-17 ("), output
    runs = airflow.dag_runs(run_type="backfill")
    assert sorted(run["logical_date"][:10] for run in runs) == ["2026-02-16", "2026-02-17"]
