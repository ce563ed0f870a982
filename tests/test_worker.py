"""``synth-audit worker`` processes on one store: two workers never claim the same run, and a worker
killed mid-run leaves its run to be marked failed once its heartbeat expires, after which the run
can be re-queued and done by another worker.

Real subprocesses on a real SQLite store, with a tiny study (100 training records) so each run takes
about a second.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from synth_audit import service
from synth_audit.store import Store, open_store
from synth_audit.study.spec import StudySpec, load_study

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[1]
HEARTBEAT_TIMEOUT_S = 6.0  # longer than the runner's 5 s heartbeat interval, as it must be

STUDY = """\
name = "tiny"
seed = 7
seeds = 5
[data]
path = "population.csv"
[split]
train = 100
control = 100
reference = 100
seed = 7
[[generators]]
name = "copy"
[[generators]]
name = "independent_marginals"
[singling_out]
n_attacks = 20
max_attempts = 5000
[linkability]
aux_cols = [["age", "yrs_married", "children"], ["educ", "occupation"]]
n_attacks = 50
[inference]
secrets = ["affairs"]
n_attacks = 50
[utility]
metrics = ["marginals"]
[membership]
attacks = ["dcr"]
"""


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[StudySpec, Store, Path]:
    pop = pd.read_csv(ROOT / "samples" / "fair" / "population.csv").head(400)
    pop.to_csv(tmp_path / "population.csv", index=False)
    (tmp_path / "study.toml").write_text(STUDY)
    spec = load_study(tmp_path / "study.toml")
    store_path = tmp_path / "store.sqlite"
    return spec, open_store(store_path), store_path


class Worker:
    """A ``synth-audit worker`` subprocess whose output lines are collected as they come."""

    def __init__(self, store: Path, *args: str, cwd: Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "COLUMNS": "300"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "synth_audit", "worker", "--store", str(store), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=cwd,
        )
        self.id = f"{socket.gethostname()}:{self.proc.pid}"
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        wait_until(
            lambda: any(text in line for line in self.lines), timeout, f"{text!r} in {self.output}"
        )

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(timeout=5)
        return code


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for w in started:
        w.stop()


def test_two_workers_never_claim_the_same_run(
    tiny: tuple[StudySpec, Store, Path], workers: list[Worker], tmp_path: Path
) -> None:
    spec, store, path = tiny
    a = Worker(path, "--poll", "0.1", cwd=tmp_path)
    b = Worker(path, "--poll", "0.1", cwd=tmp_path)
    workers += [a, b]
    # Both wait on the empty queue before any run exists, so they compete for every run.
    a.wait_for("waiting for runs")
    b.wait_for("waiting for runs")
    ids = [
        service.enqueue_run(store, spec, generator=g, seed_index=i)
        for g in ("copy", "independent_marginals")
        for i in range(5)
    ]
    assert len(set(ids)) == 10
    wait_until(
        lambda: (
            store.status_counts(spec.name)["done"] + store.status_counts(spec.name)["failed"] == 10
        ),
        180,
        "the ten runs to finish",
    )
    runs = {r.id: r for r in store.list_runs(study=spec.name)}
    assert {r.status for r in runs.values()} == {"done"}, {r.id: r.error for r in runs.values()}
    # The store records one worker per run, and it is one of the two.
    by_worker = Counter(r.worker_id for r in runs.values())
    assert set(by_worker) <= {a.id, b.id}, by_worker
    assert by_worker[a.id] >= 1 and by_worker[b.id] >= 1, by_worker
    for r in runs.values():
        assert r.summary["worker"] == r.worker_id  # the process that claimed it executed it
    # Each worker reports the runs it executed: every run exactly once across both.
    assert a.stop() in (0, 130) and b.stop() in (0, 130)
    reported = [
        line.split()[0]
        for w in (a, b)
        for line in w.lines
        if ": done in " in line or ": failed" in line
    ]
    assert Counter(reported) == Counter(ids), (a.output, b.output)
    for w in (a, b):
        mine = [line.split()[0] for line in w.lines if ": done in " in line]
        assert {runs[i].worker_id for i in mine} == {w.id}


def test_a_killed_worker_leaves_a_failed_run_that_can_be_requeued(
    tiny: tuple[StudySpec, Store, Path], workers: list[Worker], tmp_path: Path
) -> None:
    spec, store, path = tiny
    # gaussian_copula imports SDV when it first fits: a run of a few seconds, long enough to kill.
    run_id = service.enqueue_run(store, spec, generator="gaussian_copula", seed_index=0)
    a = Worker(path, "--poll", "0.1", cwd=tmp_path)
    workers.append(a)
    wait_until(lambda: store.get_run(run_id).status == "running", 60, "worker A to claim the run")
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(timeout=10)
    run = store.get_run(run_id)
    assert run.status == "running" and run.worker_id == a.id  # killed mid-run: nobody said so

    # A claimer with a heartbeat timeout marks it failed once its heartbeats are that old.
    last = run.heartbeat_at or run.started_at
    assert last is not None
    wait_until(
        lambda: (
            (pd.Timestamp.now(tz="UTC") - pd.Timestamp(last)).total_seconds()
            > HEARTBEAT_TIMEOUT_S + 0.5
        ),
        30,
        "the heartbeat to expire",
    )
    b = Worker(path, "--once", "--heartbeat-timeout", str(HEARTBEAT_TIMEOUT_S), cwd=tmp_path)
    workers.append(b)
    assert b.proc.wait(timeout=60) == 0, b.output
    run = store.get_run(run_id)
    assert run.status == "failed", run
    assert f"worker {a.id} stopped sending heartbeats" in (run.error or "")
    assert "0 run(s) executed" in b.output  # B only expired the run; it did not run it

    store.requeue_run(run_id)
    assert store.get_run(run_id).status == "queued"
    c = Worker(path, "--once", cwd=tmp_path)
    workers.append(c)
    assert c.proc.wait(timeout=120) == 0, c.output
    run = store.get_run(run_id)
    assert run.status == "done", run.error
    assert run.worker_id == c.id and run.error is None
    assert store.results_for(run_id)
