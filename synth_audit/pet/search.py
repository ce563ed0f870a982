"""PET search: Optuna's ask-and-tell over a target's parameters, every trial a stored study run.

A search is a study (:mod:`synth_audit.study`) whose runs are the trials. Each batch of
``[search] batch`` trials is asked from a seeded Optuna sampler (TPE for one objective, NSGA-II for
two; a constraint goes to the sampler's ``constraints_func``), recorded as runs with the same run
keys a study run with those parameters has (:func:`synth_audit.study.runner.record_runs`), executed
in parallel on the study executor (:func:`~synth_audit.study.runner.execute_pending`), read back
from the store and told. Runs appear in ``runs``, the frontier and the app as they finish.

Resuming after a kill: the sampler is seeded, and the loop asks and tells in the same batches every
time, so a new call asks the same parameters again; their runs are found in the store (done ones are
reused, never re-run; interrupted ones are re-queued by the runner) and the values told are the
stored ones. Same seeds, same trials, same recommendation.

Noise: after the budget, the candidates near the front (:func:`synth_audit.pet.recommend.candidates`)
are re-run with ``confirm_seeds`` seeds (seed indices ``0..confirm_seeds-1``, so the trial's own
runs count) and :func:`synth_audit.pet.recommend.recommend` picks from the seed means.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from synth_audit._logging import get_logger
from synth_audit.frontier import run_risk
from synth_audit.pet.spec import ObjectiveSpec, SearchSpec
from synth_audit.progress import ProgressCallback, silent
from synth_audit.store import Store, make_run_key
from synth_audit.study.runner import execute_pending, record_runs
from synth_audit.study.spec import RunSpec, child_seed

__all__ = ["SearchOutcome", "Trial", "metric_value", "run_search", "trial_runs"]

_log = get_logger(__name__)


@dataclass
class Trial:
    """One trial: the searched parameters, its runs (one per seed) and what was told."""

    number: int
    params: dict[str, Any]
    run_ids: list[str]
    state: str  # "complete" | "failed"
    values: list[float] | None = None
    constraint: float | None = None
    error: str | None = None

    @property
    def feasible(self) -> bool:
        return self.state == "complete" and (self.constraint is None or self.constraint <= 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "params": dict(self.params),
            "run_ids": list(self.run_ids),
            "state": self.state,
            "values": None if self.values is None else list(self.values),
            "constraint": self.constraint,
            "error": self.error,
        }


@dataclass
class SearchOutcome:
    study: str
    sampler: str
    trials: list[Trial] = field(default_factory=list)
    recommendation: dict[str, Any] | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    reused_runs: int = 0
    executed_runs: int = 0
    seconds: float = 0.0
    stopped_by: str = "trials"

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "sampler": self.sampler,
            "trials": [t.to_dict() for t in self.trials],
            "candidates": list(self.candidates),
            "recommendation": self.recommendation,
            "reused_runs": self.reused_runs,
            "executed_runs": self.executed_runs,
            "seconds": self.seconds,
            "stopped_by": self.stopped_by,
        }


# --------------------------------------------------------------------------------------------------
# Values from stored rows
# --------------------------------------------------------------------------------------------------


def metric_value(results: Mapping[str, Any], metric: str, stat: str) -> float | None:
    """``stat`` (value, ci_low, ci_high) of ``metric`` in a run's results (``"worst"``: the largest
    risk row, :func:`synth_audit.frontier.run_risk`). A missing CI bound falls back to the value."""
    if metric == "worst":
        r = run_risk(results, "worst")
        if r is None:
            return None
        v = {"value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high}[stat]
        return r.value if v is None else float(v)
    row = results.get(metric)
    if row is None:
        return None
    value = getattr(row, "value", None)
    v = getattr(row, stat, None) if stat != "value" else value
    v = value if v is None else v
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def _run_results(store: Store, run_id: str) -> dict[str, Any]:
    return {r.metric: r for r in store.results_for(run_id)}


def seed_values(store: Store, run_ids: list[str], metric: str, stat: str) -> list[float | None]:
    """``metric_value`` of each run (one per seed)."""
    return [metric_value(_run_results(store, rid), metric, stat) for rid in run_ids]


def _mean(xs: list[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    if not vals or len(vals) < len(xs):
        return None
    return sum(vals) / len(vals)


# --------------------------------------------------------------------------------------------------
# Runs of a trial
# --------------------------------------------------------------------------------------------------


def trial_runs(spec: SearchSpec, params: Mapping[str, Any], n_seeds: int) -> list[RunSpec]:
    """The runs of a trial with ``params`` (searched values), seed indices ``0..n_seeds-1``: the
    same run keys as a study run of the target with those parameters (:func:`study.spec.expand`)."""
    study = spec.study
    g = study.generators[0]
    full = {**g.params, **dict(params)}
    keyed = g.name if g.kind == "tabular_generator" else f"{g.kind}:{g.name}"
    out = []
    for i in range(n_seeds):
        s = child_seed(study.seed, i)
        key = make_run_key(study=study.name, generator=keyed, params=full, seed=s)
        out.append(RunSpec(study.name, g.name, full, i, s, key, g.kind))
    return out


def _execute(
    spec: SearchSpec,
    runs: list[RunSpec],
    *,
    store: Store,
    executor: Executor,
    outcome: SearchOutcome,
) -> dict[str, str]:
    """Record and execute ``runs``; returns ``{run_key: run_id}``."""
    ids = record_runs(spec.study, store=store, runs=runs)
    res = execute_pending(spec.study, ids, store=store, executor=executor)
    outcome.reused_runs += res.already_done
    outcome.executed_runs += len(res.done) + len(res.failed)
    if res.broken:
        from synth_audit.errors import SynthAuditError

        raise SynthAuditError(
            f"The executor broke during the search ({res.broken}); run the same command again to "
            "resume: finished trials are reused."
        )
    return {r.run_key: rid for rid, r in ids.items()}


# --------------------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------------------


def _make_sampler(spec: SearchSpec, n_trials: int) -> Any:
    import optuna

    # A constraint is given to the sampler with Trial.set_constraint (Optuna 5; the samplers'
    # constraints_func is deprecated there).
    s = spec.search
    if s.sampler_name == "nsga2":
        return optuna.samplers.NSGAIISampler(
            seed=s.seed, population_size=max(4, min(20, n_trials // 4))
        )
    return optuna.samplers.TPESampler(
        seed=s.seed,
        n_startup_trials=max(2, min(10, n_trials // 3)),
        constant_liar=s.batch > 1,
        multivariate=len(s.params) > 1,
    )


def _suggest(trial: Any, spec: SearchSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, ps in spec.search.params.items():
        if ps.type == "float":
            assert ps.low is not None and ps.high is not None
            v: Any = trial.suggest_float(name, ps.low, ps.high, log=ps.log)
        elif ps.type == "int":
            assert ps.low is not None and ps.high is not None
            v = trial.suggest_int(name, int(ps.low), int(ps.high), log=ps.log)
        else:
            v = trial.suggest_categorical(name, ps.choices)
        out[name] = ps.round(v)
    return out


def objective_values(
    store: Store, run_ids: list[str], objectives: list[ObjectiveSpec]
) -> list[float | None]:
    return [_mean(seed_values(store, run_ids, o.metric, o.stat)) for o in objectives]


def run_search(
    spec: SearchSpec,
    *,
    store: Store,
    executor: Executor,
    trials: int | None = None,
    time_budget_s: float | None = None,
    progress: ProgressCallback = silent,
    on_trial: Callable[[Trial], None] | None = None,
) -> SearchOutcome:
    """Run (or resume) the search; returns its trials, the confirmed candidates and the
    recommendation. ``trials``/``time_budget_s`` override the file's budget."""
    import optuna

    from synth_audit.pet.recommend import candidates, confirm_and_recommend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t0 = time.perf_counter()
    s = spec.search
    n_trials = int(trials if trials is not None else s.trials)
    budget = time_budget_s if time_budget_s is not None else s.time_budget_s
    directions = [o.direction for o in s.objectives]
    ostudy = optuna.create_study(directions=directions, sampler=_make_sampler(spec, n_trials))
    outcome = SearchOutcome(study=spec.study.name, sampler=s.sampler_name)
    record_runs(spec.study, store=store, runs=[])  # the study itself, checked against the store
    for point in s.start:  # asked first, in order (the same on every resume)
        ostudy.enqueue_trial(dict(point), skip_if_exists=False)
    progress("trials", 0, n_trials)
    while len(outcome.trials) < n_trials:
        if budget is not None and time.perf_counter() - t0 > budget:
            outcome.stopped_by = "time"
            break
        k = min(s.batch, n_trials - len(outcome.trials))
        asked = [ostudy.ask() for _ in range(k)]
        params = [_suggest(t, spec) for t in asked]
        runs = [trial_runs(spec, p, s.seeds) for p in params]
        keys = _execute(
            spec, [r for rs in runs for r in rs], store=store, executor=executor, outcome=outcome
        )
        for t, p, rs in zip(asked, params, runs, strict=True):
            run_ids = [keys[r.run_key] for r in rs]
            recs = [store.get_run(rid) for rid in run_ids]
            failed = [r for r in recs if r.status != "done"]
            values = objective_values(store, run_ids, list(s.objectives))
            trial = Trial(number=t.number, params=p, run_ids=run_ids, state="complete")
            if failed or any(v is None for v in values):
                trial.state = "failed"
                trial.error = (
                    failed[0].error or failed[0].status
                    if failed
                    else "an objective's result is missing from the trial's runs"
                )
                ostudy.tell(t, state=optuna.trial.TrialState.FAIL)
            else:
                trial.values = [float(v) for v in values if v is not None]
                if s.constraint is not None:
                    c = _mean(seed_values(store, run_ids, s.constraint.metric, s.constraint.stat))
                    trial.constraint = math.inf if c is None else c - s.constraint.max
                    t.set_constraint("risk", trial.constraint)
                ostudy.tell(t, trial.values)
            outcome.trials.append(trial)
            if on_trial is not None:
                on_trial(trial)
            progress("trials", len(outcome.trials), n_trials)
    cands = candidates(spec, outcome.trials)
    outcome.candidates, outcome.recommendation = confirm_and_recommend(
        spec,
        cands,
        store=store,
        run=lambda runs: _execute(spec, runs, store=store, executor=executor, outcome=outcome),
        progress=progress,
    )
    outcome.seconds = round(time.perf_counter() - t0, 3)
    return outcome
