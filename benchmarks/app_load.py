"""How long each view of the app takes to load with many runs in the store.

Fills a temporary store with ``--runs`` runs (default 1,000) in the randhie demo study, with the result
rows of a real run (one ``copy`` run is executed first, then its results are replicated with noise:
about 30 metrics per run) and a mix of statuses (90 % done, 5 % failed, 5 % queued), plus a release
evaluation. Then it times each view's first render:

``AppTest, cold cache``
    a new session renders the view after ``st.cache_data`` was cleared (the first visit after a
    run finished, or after the server started, once the modules are imported);
``AppTest, warm cache``
    a new session renders the view again (what the next visitor sees);
``browser`` (with ``--browser``)
    ``synth-audit app`` serves the store and Playwright (Debian's chromium) opens the view's URL in
    a new tab (which also starts Streamlit's frontend), and by a click in the sidebar of an open
    app; the time until the view's title is shown, the script has finished and, on the views with
    a frontier chart, the chart is drawn.

Each figure is the median of ``--repeat`` renders; the very first page a fresh server renders
(imports of pandas, scipy, SQLAlchemy, Altair) is shown separately. Target: every view under 2 s.

    python benchmarks/app_load.py [--runs 1000] [--repeat 3] [--browser]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app" / "streamlit_app.py"
VIEWS = {
    "evaluate": "Evaluate a release",
    "tune": "Tune a generator",
    "frontier": "Frontier",
    "runs": "Runs",
}
TARGET_S = 2.0


def fill(store_url: str, n_runs: int, seed: int = 0) -> dict[str, Any]:
    """A store with ``n_runs`` runs of the randhie demo study (results copied from a real run)."""
    from synth_audit import service
    from synth_audit.store import ResultRow, RunStatus, make_run_key
    from synth_audit.study.runner import code_version, execute_claimed_run

    rng = random.Random(seed)
    store = service.open_app_store(store_url)
    t0 = time.perf_counter()
    real = service.enqueue_tuning_run(store, "randhie", "copy", {}, seed_index=0)
    execute_claimed_run(store, store.start_run(real, "bench"))
    template = store.results_for(real)
    spec = service.tuning_spec("randhie")
    fps = store.get_run(real).data_fingerprints
    t_real = time.perf_counter() - t0
    generators = ["gaussian_copula", "ctgan", "independent_marginals", "tvae", "privbayes"]
    t0 = time.perf_counter()
    for i in range(n_runs - 1):
        gen = generators[i % len(generators)]
        params: dict[str, Any] = {}
        if gen in ("ctgan", "tvae"):
            params = {"epochs": 10 + 10 * (i % 30)}
        elif gen == "privbayes":
            params = {"epsilon": round(0.1 * (1 + i % 50), 1)}
        elif gen == "gaussian_copula":
            params = {"default_distribution": ["norm", "beta", "uniform"][i % 3]}
        key = make_run_key(study=spec.name, generator=gen, params=params, seed=i)
        u = rng.random()
        status: RunStatus = "queued" if u < 0.05 else "running"
        rid = store.add_run(
            study=spec.name,
            run_key=key,
            generator=gen,
            params=params,
            seed=i,
            code_version=code_version(),
            data_fingerprints=fps,
            status=status,
        )
        if status == "queued":
            continue
        if u < 0.10:
            store.fail_run(rid, f"GeneratorFitError: {gen} did not converge (run {i})")
            continue
        scale = rng.uniform(0.02, 1.0)
        rows = []
        for r in template:
            if r.value is None:
                rows.append(r)
                continue
            f = scale if r.metric.endswith(".risk") else rng.uniform(0.6, 1.0)
            value = r.value * f
            rows.append(
                ResultRow(
                    r.metric,
                    value,
                    None if r.ci_low is None else r.ci_low * f,
                    None if r.ci_high is None else min(1.0, r.ci_high * f),
                    r.confidence_level,
                    r.n,
                    r.counts,
                    r.extra,
                )
            )
        by = {r.metric: r for r in rows}
        risk = max((r for r in rows if r.metric.endswith(".risk")), key=lambda r: r.value or 0)
        store.finish_run(
            rid,
            results=rows,
            summary={
                "risk": risk.value,
                "risk_ci_low": risk.ci_low,
                "risk_ci_high": risk.ci_high,
                "risk_attack": risk.metric.removesuffix(".risk"),
                "risk_definition": "worst",
                "utility": by["utility.score"].value,
                "utility_metric": "utility.score",
                "seconds": rng.uniform(2, 60),
                "seed_index": None,
            },
        )
    t_fill = time.perf_counter() - t0
    return {
        "runs": store.count_runs(),
        "results": sum(1 for _ in template) * store.count_runs(status="done"),
        "seconds_real_run": t_real,
        "seconds_fill": t_fill,
        "status": store.status_counts(),
    }


def time_apptest(repeat: int) -> dict[str, dict[str, float]]:
    """Median first-render time of each view in new AppTest sessions (cold and warm cache)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    out: dict[str, dict[str, float]] = {v: {} for v in VIEWS}

    def render(view: str) -> float:
        at = AppTest.from_file(str(APP), default_timeout=120)
        if view == "evaluate":
            t0 = time.perf_counter()
            at.run()
        else:
            at.run()
            at.switch_page(f"views/{view}.py")
            t0 = time.perf_counter()
            at.run()
        elapsed = time.perf_counter() - t0
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, [e.value for e in at.error]
        assert at.title[0].value == VIEWS[view]
        return elapsed

    for view in VIEWS:
        cold, warm = [], []
        for _ in range(repeat):
            st.cache_data.clear()
            cold.append(render(view))
            warm.append(render(view))
        out[view]["cold cache"] = statistics.median(cold)
        out[view]["warm cache"] = statistics.median(warm)
    return out


def time_browser(store_url: str, repeat: int, shots: Path | None = None) -> dict[str, float]:
    """Median time for the view's URL to show its title with the script finished (and, on the
    views with a frontier chart, the chart's points drawn), in chromium."""
    import socket

    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "synth_audit",
            "app",
            "--store",
            store_url,
            "--port",
            str(port),
            "--workers",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    out: dict[str, float] = {}
    args_runs = os.environ.get("APP_LOAD_RUNS", "")
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the app did not start") from None
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                headless=True,
                args=[
                    "--no-sandbox",
                    "--disable-background-networking",
                    "--disable-component-update",
                ],
            )
            idle = '[data-testid="stApp"][data-test-script-state="notRunning"]'

            # The chart is drawn (SVG up to 250 points, else a canvas): wait for its marks.
            points = (
                '[data-testid="stVegaLiteChart"] svg g.mark-symbol.role-mark path, '
                '[data-testid="stVegaLiteChart"] canvas'
            )

            def ready(page: Any, view: str) -> None:
                page.get_by_role("heading", name=VIEWS[view], exact=True).wait_for(timeout=60_000)
                page.wait_for_timeout(50)
                page.locator(idle).wait_for(timeout=60_000)
                if view in ("tune", "frontier"):
                    page.locator(points).first.wait_for(timeout=60_000)

            def load(view: str, shot: bool = False) -> float:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                t0 = time.perf_counter()
                page.goto(url + ("/" if view == "evaluate" else f"/{view}"))
                ready(page, view)
                elapsed = time.perf_counter() - t0
                if shot and shots is not None:
                    page.set_viewport_size({"width": 1400, "height": 2200})
                    page.wait_for_timeout(1000)
                    page.screenshot(path=str(shots / f"{view}-{args_runs}-runs.png"))
                page.close()
                return elapsed

            out["first"] = load("evaluate")  # the server's first session pays the imports
            for view in VIEWS:
                out[view] = statistics.median(load(view) for _ in range(repeat))
                load(view, shot=True)
            # Moving between views in an open app (a click in the sidebar): no frontend start-up.
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url + "/")
            ready(page, "evaluate")
            clicks: dict[str, list[float]] = {v: [] for v in VIEWS}
            for _ in range(repeat):
                for view in ("runs", "frontier", "tune", "evaluate"):
                    t0 = time.perf_counter()
                    page.locator('[data-testid="stSidebarNav"]').get_by_text(
                        VIEWS[view], exact=True
                    ).click()
                    ready(page, view)
                    clicks[view].append(time.perf_counter() - t0)
            for view, times in clicks.items():
                out[f"{view} (click)"] = statistics.median(times)
            page.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--browser", action="store_true", help="also time the views in chromium")
    parser.add_argument(
        "--shots", type=Path, default=None, metavar="DIR", help="with --browser: save screenshots"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store_url = str(Path(tmp) / "store.sqlite")
        os.environ["SYNTH_AUDIT_STORE"] = store_url
        os.environ["SYNTH_AUDIT_HOME"] = tmp
        info = fill(store_url, args.runs)
        print(
            f"store: {info['runs']:,} runs {info['status']}, about {info['results']:,} result rows; "
            f"filled in {info['seconds_fill']:.1f} s (one real run: {info['seconds_real_run']:.1f} s)"
        )
        apptest = time_apptest(args.repeat)
        os.environ["APP_LOAD_RUNS"] = str(args.runs)
        browser = time_browser(store_url, args.repeat, args.shots) if args.browser else {}
    if browser:
        print(f"browser, the server's very first page (imports included): {browser['first']:.2f} s")
    head = f"{'view':<10} {'AppTest, cold cache':>20} {'AppTest, warm cache':>20}"
    if browser:
        head += f" {'browser, new tab':>17} {'browser, sidebar click':>23}"
    print(head)
    worst = 0.0
    for view in VIEWS:
        cold, warm = apptest[view]["cold cache"], apptest[view]["warm cache"]
        line = f"{view:<10} {cold:>19.2f}s {warm:>19.2f}s"
        worst = max(worst, cold, warm)
        if browser:
            line += f" {browser[view]:>16.2f}s {browser[view + ' (click)']:>22.2f}s"
            worst = max(worst, browser[view + " (click)"])
        print(line)
    verdict = "meets" if worst < TARGET_S else "MISSES"
    print(
        f"slowest: {worst:.2f} s; {verdict} the {TARGET_S:.0f} s target (median of {args.repeat})"
    )


if __name__ == "__main__":
    main()
