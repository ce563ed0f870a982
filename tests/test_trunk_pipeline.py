"""Shadow studies keep every worker busy: a run is submitted as soon as its own fits are done,
while other runs' fits are still waiting, not after the last fit of the study.

Shown without timing: the executor holds the second run's fits until a run has been submitted (or
gives up after a timeout and records it), so a runner that waits for every fit before the first
run fails the test instead of passing by luck.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from synth_audit.store import open_store
from synth_audit.study.fits import run_fit_task
from synth_audit.study.runner import execute_run, run_study
from synth_audit.study.spec import study_from_mapping

ROOT = Path(__file__).resolve().parents[1]
FAIR = ROOT / "samples" / "fair" / "population.csv"
FITS_PER_RUN = 1 * (4 + 2)  # challenges x (shadow + evaluation releases)


class GatedExecutor(Executor):
    """One worker thread; fit tasks after the first run's wait until a run has been submitted."""

    def __init__(self, fits_per_run: int, timeout_s: float = 30.0) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.fits_per_run, self.timeout_s = fits_per_run, timeout_s
        self.n_fits = 0
        self.run_submitted = threading.Event()
        self.events: list[str] = []
        self.timed_out = 0
        self._lock = threading.Lock()

    def _gated(self, fn: Any) -> Any:
        def wait_then(*args: Any, **kwargs: Any) -> Any:
            if not self.run_submitted.wait(self.timeout_s):
                with self._lock:
                    self.timed_out += 1
            return fn(*args, **kwargs)

        return wait_then

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:  # type: ignore[override]
        with self._lock:
            if fn is run_fit_task:
                self.n_fits += 1
                self.events.append(f"fit {self.n_fits}")
                if self.n_fits > self.fits_per_run:
                    fn = self._gated(fn)
            elif fn is execute_run:
                self.events.append(f"run after {self.n_fits} fits submitted")
                self.run_submitted.set()
        return self.pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)


@pytest.mark.slow
def test_a_run_starts_while_other_runs_fits_are_still_waiting(tmp_path: Path) -> None:
    spec = study_from_mapping(
        {
            "name": "pipeline",
            "seed": 7,
            "seeds": 2,
            "data": {"path": str(FAIR)},
            "split": {"train": 200, "control": 200, "reference": 300, "seed": 3},
            "generators": [{"name": "copy"}],
            "singling_out": {"enabled": False},
            "linkability": {"enabled": False},
            "inference": {"enabled": False},
            "utility": {"enabled": False},
            "diagnostics": {"dcr": False},
            "membership": {
                "attacks": [],
                "shadow": {
                    "n_challenges": 1,
                    "n_shadow": 4,
                    "n_eval": 2,
                    "train_size": 50,
                    "classifier": "logistic",
                },
            },
        }
    )
    store = open_store(tmp_path / "store.sqlite")
    ex = GatedExecutor(FITS_PER_RUN)
    try:
        out = run_study(spec, store=store, executor=ex)
    finally:
        ex.shutdown()
    assert out.complete, out.failed
    assert ex.timed_out == 0, ex.events  # the second run's fits did not wait for a run in vain
    assert ex.n_fits == 2 * FITS_PER_RUN and len(store.list_fits()) == 2 * FITS_PER_RUN
    first_run = next(i for i, e in enumerate(ex.events) if e.startswith("run"))
    assert first_run < len(ex.events) - 1  # submitted before the study's last task
    for rid in out.done:
        auc = {r.metric: r.value for r in store.results_for(rid)}["membership.shadow.auc"]
        assert auc is not None
