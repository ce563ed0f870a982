"""A study run of kind ``classifier``: train on ``train``, audit against ``control`` with reference
models from ``reference``; the report artefact and role-tagged rows like any other run.

The run's params are :class:`~synth_audit.models.target.ClassifierTarget`'s recipe, plus optional
audit settings prefixed ``audit_`` (kept out of the recipe):

``audit_attacks``         attack names (default: all of :data:`~synth_audit.models.attacks.ATTACKS`)
``audit_n_reference``     reference models (default 2; even when online)
``audit_reference_mode``  ``online`` (default), ``offline`` or ``none``
``audit_n_population``    RMIA's population records (default: a third of ``reference``, ≤ 500)
``audit_sensitive``       features for attribute inference (default none)
``audit_subgroups``       columns the attacks are broken down by (default none)

Frontier: utility ``model.test_accuracy``; risk ``membership.<attack>.tpr_at_0.01_fpr`` or
``"worst"`` (the largest ``auc_advantage`` or risk finding). Reference-model outputs are cached in
the store's fit cache (:class:`~synth_audit.models.attacks.StoreCache`), so a re-run or another
run with the same recipe, subsets and seeds reuses them.

The reference models are fit tasks on the study's executor (:func:`plan_classifier_fits`, what
``ClassifierTarget.plan_fits`` returns to the runner): they are fitted across the study's workers
before the run starts, and the run reads them from the cache (its summary's
``reference_cache_hits``; ``reference_fitted`` counts any it had to fit itself, e.g. under
``synth-audit worker``, which does not plan fits).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

AUDIT_PREFIX = "audit_"

__all__ = [
    "AUDIT_PREFIX",
    "execute_classifier_run",
    "plan_classifier_fits",
    "run_settings",
    "split_params",
]


def split_params(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(recipe params, audit settings without the prefix)."""
    recipe = {k: v for k, v in params.items() if not str(k).startswith(AUDIT_PREFIX)}
    audit = {
        str(k)[len(AUDIT_PREFIX) :]: v for k, v in params.items() if str(k).startswith(AUDIT_PREFIX)
    }
    return recipe, audit


_AUDIT_KEYS = ("attacks", "n_reference", "reference_mode", "n_population", "sensitive", "subgroups")
#: the child seeds audit_model draws from its random_state, in its order (the membership attacks'
#: seed is the first); plan_classifier_fits derives the reference models' seeds from it
_AUDIT_MODEL_SEEDS = ("membership", "risk_factors", "dp")


def _reference(data: Any) -> Any:
    return data.reference if len(data.reference) else None


def run_settings(spec: Any, run: Any, data: Any) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """(recipe params, audit settings, :class:`~synth_audit.models.attacks.MembershipSettings`) of
    a classifier run: what :func:`execute_classifier_run` audits with and
    :func:`plan_classifier_fits` plans the reference fits of."""
    from synth_audit.errors import ConfigError
    from synth_audit.models.attacks import ATTACKS, MembershipSettings

    recipe, audit = split_params(run.params)
    unknown = sorted(set(audit) - set(_AUDIT_KEYS))
    if unknown:
        raise ConfigError(
            f"Run {run.id}: unknown audit setting(s) {', '.join(AUDIT_PREFIX + u for u in unknown)}."
            " Known: audit_attacks, audit_n_reference, audit_reference_mode, audit_n_population, "
            "audit_sensitive, audit_subgroups."
        )
    mode = str(audit.get("reference_mode", "online" if len(data.reference) else "none"))
    attacks = tuple(audit.get("attacks") or ATTACKS)
    if mode == "offline" and "attacks" not in audit:
        attacks = tuple(a for a in ATTACKS if not a.startswith("lira_online"))
    n_pop = int(audit.get("n_population", max(10, min(500, len(data.reference) // 3))))
    settings = MembershipSettings(
        attacks=attacks,
        n_reference=int(audit.get("n_reference", 2)),
        reference_mode=mode,
        n_population=n_pop,
        confidence_level=spec.confidence_level,
    )
    return recipe, audit, settings


def plan_classifier_fits(st: Any, run: Any, data: Any = None) -> list[Any]:
    """The reference models of a classifier study run as fit tasks
    (:class:`~synth_audit.models.attacks.ReferenceFitTask`), for the study runner to make on its
    executor before the run: the same split, seeds and cache keys :func:`execute_classifier_run`
    looks up (:func:`~synth_audit.models.attacks.plan_reference_fits`), so the run finds every
    reference model in the store's fit cache. None when the run makes no reference models.

    The target is not fitted here: its recipe is the run's, with the classes its fit takes from
    the ``train`` split (the only part of the recipe that a fit fills in)."""
    from synth_audit.models.attacks import plan_reference_fits, reference_fit_tasks
    from synth_audit.models.features import split_label
    from synth_audit.models.target import ClassifierTarget
    from synth_audit.seeding import named_seeds
    from synth_audit.study.data import load_study_data
    from synth_audit.study.tasks import check_fingerprints, run_seeds, spec_of

    if run.study is None:
        return []
    spec = spec_of(st, run.study)
    data = load_study_data(spec) if data is None else data
    check_fingerprints(run, data)
    recipe, _, settings = run_settings(spec, run, data)
    if not settings.needs_reference:
        return []
    target = ClassifierTarget.from_config(run.generator, recipe)
    if target.get_params()["classes"] is None:  # as ClassifierTarget.fit sets them
        _, y = split_label(data.train, target.label, where="the training data")
        target.set_params(classes=sorted({v for v in y.tolist()}, key=str))
    seed = named_seeds(run_seeds(run.seed)["audit"], list(_AUDIT_MODEL_SEEDS))["membership"]
    plan = plan_reference_fits(
        target,
        data.train,
        data.control,
        _reference(data),
        settings=settings,
        random_state=seed,
    )
    return [] if plan is None else reference_fit_tasks(target, plan)


def execute_classifier_run(st: Any, run: Any, beat: Any) -> Any:
    import dataclasses

    import pandas as pd

    from synth_audit import __version__
    from synth_audit.errors import StoreError
    from synth_audit.frontier import run_risk
    from synth_audit.models.attacks import StoreCache
    from synth_audit.models.audit import audit_model
    from synth_audit.models.target import ClassifierTarget
    from synth_audit.study.data import load_study_data
    from synth_audit.study.provenance import worker_id
    from synth_audit.study.rows import membership_rows, report_rows
    from synth_audit.study.tasks import check_fingerprints, run_seeds, seed_index, spec_of

    assert run.study is not None
    spec = spec_of(st, run.study)
    seeds = run_seeds(run.seed)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    beat.update(0.01, "data")
    data = load_study_data(spec)
    check_fingerprints(run, data)
    timings["data"] = round(time.perf_counter() - t0, 3)

    recipe, audit, settings = run_settings(spec, run, data)
    t0 = time.perf_counter()
    beat.update(0.05, "fit")
    target = ClassifierTarget.from_config(run.generator, recipe)
    target.fit(data.train, random_state=seeds["fit"])
    timings["fit"] = round(time.perf_counter() - t0, 3)

    def progress(step: str, done: int, total: int) -> None:
        beat.update(0.1 + 0.8 * done / max(total, 1), f"audit: {step}")

    t0 = time.perf_counter()
    report = audit_model(
        target,
        members=data.train,
        nonmembers=data.control,
        reference=_reference(data),
        settings=settings,
        sensitive=list(audit.get("sensitive") or []),
        subgroups=list(audit.get("subgroups") or []),
        random_state=seeds["audit"],
        cache=StoreCache(st),
        progress=progress,
    )
    timings["audit"] = round(time.perf_counter() - t0, 3)
    report = dataclasses.replace(report, study=run.study, run_id=run.id)
    rows = report_rows(report)
    from synth_audit.membership import MembershipResult

    for name, d in report.membership.items():
        rows.extend(membership_rows(name, MembershipResult.from_dict(d)))
    beat.update(0.95, "artefacts")
    arts = [
        st.write_artefact(run.id, "report", pd.DataFrame({"report_json": [report.to_json()]})),
    ]
    by_metric = {r.metric: r for r in rows}
    risk = run_risk(by_metric, spec.frontier.risk)
    utility = by_metric.get(spec.frontier.utility)
    info = target.info()
    summary: dict[str, Any] = {
        "risk": None if risk is None else risk.value,
        "risk_ci_low": None if risk is None else risk.ci_low,
        "risk_ci_high": None if risk is None else risk.ci_high,
        "risk_attack": None if risk is None else risk.attack,
        "risk_definition": spec.frontier.risk,
        "utility": None if utility is None else utility.value,
        "utility_metric": spec.frontier.utility,
        "target": info.to_dict(),
        "seeds": seeds,
        "seed_index": seed_index(spec, run.seed),
        "n_warnings": len(report.all_warnings()),
        "worker": worker_id(),
        "worker_code_version": f"synth-audit {__version__}",
        "timings_s": {**timings, **dict(report.timings_s)},
        "membership_auc": {k: v["auc"] for k, v in report.membership.items()},
    }
    ref = dict(report.config.get("reference_models") or {})
    if ref.get("n_models"):
        # reference models read from the fit cache (made by the study's fit tasks, or by an
        # earlier run) and those this run fitted itself
        summary["reference_cache_hits"] = int(ref.get("cache_hits", 0))
        summary["reference_fitted"] = len(ref.get("fit_seconds") or [])
    if beat.lost:
        raise StoreError(f"The run lost its claim while executing: {beat.lost}")
    return summary, rows, arts
