"""End to end in a real browser: ``synth-audit app`` and ``synth-audit worker`` on a temporary store,
driven by Playwright (Python, sync API) in Debian's chromium.

The flows: upload the sample files and run an evaluation (results and a report download); tune a
generator twice and see the new point on the frontier; click a frontier point and see that run; open
the run history. Screenshots of every step are saved in the test's output directory
(``tmp_path``), named ``NN-<step>.png``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "randhie"
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
    "--disable-gpu",
]
RESULT_TIMEOUT_MS = 150_000

if not Path(CHROMIUM).is_file():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the "
        "browser tests",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the playwright Python package is missing: pip install playwright",
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app (no embedded worker) and one separate worker on a fresh store."""
    work = tmp_path_factory.mktemp("e2e-store")
    store = work / "store.sqlite"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SYNTH_AUDIT_HOME": str(work), "OMP_NUM_THREADS": "1"}
    cli = [sys.executable, "-m", "synth_audit"]
    app_log = (work / "app.log").open("wb")
    worker_log = (work / "worker.log").open("wb")
    app = subprocess.Popen(
        [*cli, "app", "--store", str(store), "--port", str(port), "--workers", "0"],
        env=env,
        stdout=app_log,
        stderr=subprocess.STDOUT,
        cwd=work,
    )
    worker = subprocess.Popen(
        [*cli, "worker", "--store", str(store), "--poll", "0.5"],
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
        cwd=work,
    )
    try:
        deadline = time.monotonic() + 120
        while not _healthy(url):
            if app.poll() is not None:
                pytest.fail(
                    f"the app exited with {app.returncode}: {(work / 'app.log').read_text()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not become healthy: {(work / 'app.log').read_text()}")
            time.sleep(0.5)
        yield {"url": url, "store": store, "work": work, "app": app, "worker": worker}
    finally:
        _stop(app)
        _stop(worker)
        app_log.close()
        worker_log.close()


@pytest.fixture(scope="module")
def browser(server: dict[str, Any]) -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, server: dict[str, Any], tmp_path: Path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        with failure_shot(pg, tmp_path):
            yield pg
    finally:
        context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


class Shots:
    """Full-height screenshots, numbered in the order taken, in the test's output directory."""

    def __init__(self, page: Any, out: Path) -> None:
        self.page, self.out, self.n = page, out, 0

    def __call__(self, name: str) -> Path:
        self.n += 1
        path = self.out / f"{self.n:02d}-{name}.png"
        height = self.page.evaluate(
            "() => Math.max(...Array.from(document.querySelectorAll('section, div'))"
            ".map(e => e.scrollHeight || 0), document.body.scrollHeight)"
        )
        self.page.set_viewport_size({"width": 1400, "height": int(min(max(height, 1000), 6000))})
        self.page.wait_for_timeout(400)
        self.page.screenshot(path=str(path), full_page=True)
        self.page.set_viewport_size({"width": 1400, "height": 1000})
        keep = os.environ.get("SYNTH_AUDIT_E2E_SHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)
        return path


@contextlib.contextmanager
def failure_shot(page: Any, out: Path) -> Iterator[None]:
    """On failure, keep a screenshot of the page as it was (``failure.png``)."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(out / "failure.png"), full_page=True)
        raise


def _no_exception_box(page: Any) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, "a traceback reached the page"


def _wait_idle(page: Any) -> None:
    """Wait until the script run that the last interaction started has finished."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        timeout=60_000
    )


def _choose(page: Any, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label``; wait for the rerun."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    _wait_idle(page)


def test_evaluate_uploaded_release(page: Any, server: dict[str, Any], tmp_path: Path) -> None:
    shot = Shots(page, tmp_path)
    page.goto(server["url"] + "/")
    page.get_by_role("heading", name="Evaluate a release").wait_for()
    page.get_by_text("Upload files", exact=True).click()
    uploaders = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    uploaders.first.wait_for(state="attached")
    assert uploaders.count() == 3
    for i, role in enumerate(("train", "synthetic", "control")):
        uploaders.nth(i).set_input_files(str(SAMPLES / f"{role}.csv"))
        page.get_by_text("2,000 rows × 16 columns").nth(i).wait_for()
    page.get_by_role("button", name="Run the evaluation").wait_for()
    _wait_idle(page)
    shot("evaluate-uploaded")
    page.get_by_role("button", name="Run the evaluation").click()
    done = page.get_by_text("Highest risk").or_(page.get_by_text("The evaluation failed"))
    done.first.wait_for(timeout=RESULT_TIMEOUT_MS)
    failed = page.get_by_text("The evaluation failed")
    if failed.count():
        shot("evaluate-failed")
        pytest.fail(
            "the worker failed the evaluation: "
            + failed.first.inner_text()
            + " (is the release_evaluation dispatch in synth_audit.study.runner._execute?)"
        )
    page.get_by_role("heading", name="The three anonymisation criteria").wait_for()
    page.get_by_role("heading", name="Most exposed records").wait_for()
    page.get_by_role("heading", name="Utility").wait_for()
    _wait_idle(page)
    _no_exception_box(page)
    shot("evaluate-results")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download report.json").click()
    report = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
    assert report["schema_version"] == "1.2"
    assert set(report["attacks"]) >= {"singling_out_multivariate", "linkability", "inference"}
    # uploads carry no audit.toml: every usable column is a secret in turn (the default)
    assert len(report["attacks"]["inference"]) == 16
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download report.html").click()
    assert "<!DOCTYPE html>" in Path(dl.value.path()).read_text(encoding="utf-8")


def test_bad_upload_shows_a_message(page: Any, server: dict[str, Any], tmp_path: Path) -> None:
    shot = Shots(page, tmp_path)
    page.goto(server["url"] + "/")
    page.get_by_text("Upload files", exact=True).click()
    bad = tmp_path / "synthetic.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" * 20)
    uploaders = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    uploaders.first.wait_for(state="attached")
    uploaders.nth(1).set_input_files(str(bad))
    page.get_by_text("could not be read as CSV").wait_for()
    _no_exception_box(page)
    shot("evaluate-bad-upload")


def test_tune_then_frontier_click(page: Any, server: dict[str, Any], tmp_path: Path) -> None:
    shot = Shots(page, tmp_path)
    page.goto(server["url"] + "/tune")
    page.get_by_role("heading", name="Tune a generator").wait_for()
    _choose(page, "Dataset", "randhie")
    for generator in ("copy", "independent_marginals"):
        _choose(page, "Generator", generator)
        page.get_by_text(f"{generator} has no parameters to tune.").wait_for()
        page.get_by_role("button", name="Queue the run").click()
        page.get_by_text("It is the ringed point below").wait_for(timeout=RESULT_TIMEOUT_MS)
        page.get_by_text(f"{generator}: risk").wait_for()
    page.locator(
        '[data-testid="stVegaLiteChart"] svg g.mark-symbol.role-mark path'
    ).first.wait_for()
    _wait_idle(page)
    _no_exception_box(page)
    shot("tune-frontier")
    assert (
        page.locator('[data-testid="stVegaLiteChart"] svg g.mark-symbol.role-mark path').count()
        >= 2
    )

    page.get_by_role("link", name="Frontier").click()
    page.get_by_role("heading", name="Frontier", exact=True).wait_for()
    points = page.locator('[data-testid="stVegaLiteChart"] svg g.mark-symbol.role-mark path')
    points.first.wait_for()
    assert points.count() == 2
    _wait_idle(page)
    shot("frontier")
    target = points.filter(has=None).nth(0)
    label = target.get_attribute("aria-label") or ""
    target.click()
    page.get_by_text("Parameters and provenance").wait_for(timeout=30_000)
    _wait_idle(page)
    _no_exception_box(page)
    heading = page.get_by_role("heading", name="Run ").first.inner_text()
    expected = "copy" if "copy" in label else "independent_marginals"
    assert expected in heading, (label, heading)
    shot("frontier-point-selected")


def test_runs_history(page: Any, server: dict[str, Any], tmp_path: Path) -> None:
    shot = Shots(page, tmp_path)
    page.goto(server["url"] + "/runs")
    page.get_by_role("heading", name="Runs", exact=True).wait_for()
    page.get_by_text("run(s) match").wait_for()
    _choose(page, "Status", "done")
    from synth_audit.store import open_store

    n_done = open_store(server["store"]).count_runs(status="done")
    assert n_done >= 2
    page.get_by_text(f"{n_done} run(s) match").wait_for()
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Show run").first
    box.click()
    page.get_by_role("option").filter(has_text="independent_marginals").first.click()
    page.get_by_text("Parameters and provenance").wait_for()
    page.get_by_role("button", name="Download report.html").wait_for()
    _wait_idle(page)
    _no_exception_box(page)
    shot("runs")


VIEW_HEADINGS = {
    "": "Evaluate a release",
    "evaluate": "Evaluate a release",
    "tune": "Tune a generator",
    "frontier": "Frontier",
    "runs": "Runs",
}


def test_direct_links_open_every_view_without_touching_the_network(
    browser: Any, server: dict[str, Any], tmp_path: Path
) -> None:
    """Item 19: /evaluate (and every other view's path) opens that view, with no "Page not found"
    pop-up; the page fetches nothing from any host but the app's own (the favicon was an SVG from
    fonts.gstatic.com)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    requested: list[str] = []
    context.on("request", lambda req: requested.append(req.url))
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    shot = Shots(pg, tmp_path)
    try:
        with failure_shot(pg, tmp_path):
            for path, heading in VIEW_HEADINGS.items():
                pg.goto(f"{server['url']}/{path}")
                pg.get_by_role("heading", name=heading, exact=True).wait_for()
                _wait_idle(pg)
                pg.wait_for_timeout(500)
                assert pg.get_by_text("Page not found").count() == 0, path
                assert pg.get_by_role("dialog").count() == 0, path
                _no_exception_box(pg)
                icon = pg.locator("link[rel='shortcut icon']").get_attribute("href") or ""
                assert icon.startswith("data:image/svg+xml"), (path, icon)
                if path == "evaluate":
                    shot("direct-link-evaluate")
    finally:
        context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"
    own = urllib.parse.urlsplit(server["url"]).netloc
    outside = sorted(
        {
            u
            for u in requested
            if urllib.parse.urlsplit(u).scheme in ("http", "https", "ws", "wss")
            and urllib.parse.urlsplit(u).netloc != own
        }
    )
    assert len(requested) > 10  # the recording worked: the page loaded its scripts
    assert not outside, f"the app fetched from other hosts: {outside}"
