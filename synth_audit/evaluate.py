"""``evaluate_release``: the whole audit of one synthetic release, as one call."""

from __future__ import annotations

import contextvars
import threading
import time
import warnings as py_warnings
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from synth_audit.attacks.inference import shared_neighbour_search
from synth_audit.audits import (
    DcrDiagnosticAudit,
    Inference,
    SinglingOut,
    audits_from_config,
    default_aux_split,
)
from synth_audit.config import AuditConfig, load_audit_config
from synth_audit.data import AuditData, load_table, prepare_inputs
from synth_audit.encoding import MixedEncoder
from synth_audit.errors import ConfigError, DataValidationError, format_names
from synth_audit.partition import partition_queries
from synth_audit.progress import ProgressCallback, silent
from synth_audit.report.model import AuditReport
from synth_audit.results import AttackResult, AuditWarning

__all__ = ["default_aux_split", "evaluate_release", "plan_steps"]

Table: TypeAlias = "pd.DataFrame | str | Path"


def _as_frame(x: Table | None, role: str) -> tuple[pd.DataFrame | None, str]:
    if x is None:
        return None, role
    if isinstance(x, pd.DataFrame):
        return x, role
    if not Path(x).exists():
        raise DataValidationError(
            f"The {role} file {str(x)!r} does not exist. Check the path given for --{role}."
        )
    return load_table(x), str(x)


def _secrets(cfg: AuditConfig, data: AuditData) -> list[str]:
    if cfg.inference.secrets == "all":
        return list(data.columns)
    _check_names(cfg.inference.secrets, data, "[inference] secrets", "--secrets")
    return list(cfg.inference.secrets)


def _check_names(names: Iterable[str], data: AuditData, key: str, flag: str | None) -> None:
    unknown = [n for n in names if n not in data.columns]
    if not unknown:
        return
    excluded = [n for n in unknown if n in data.schema.excluded]
    where = f"{key} (or {flag} on the command line)" if flag else key
    hint = (
        f" {format_names(excluded)} {'is' if len(excluded) == 1 else 'are'} excluded as an "
        f"identifier or free text; declare a kind in [columns] (--columns NAME=KIND) to use it."
        if excluded
        else ""
    )
    raise ConfigError(
        f"{where} names column(s) that are not usable: {format_names(unknown)}. "
        f"Usable columns: {format_names(data.columns, limit=40)}.{hint}"
    )


def _check_config_columns(cfg: AuditConfig, data: AuditData) -> None:
    """Every column the config names exists and is usable, checked before any attack runs."""
    if cfg.inference.enabled:
        _secrets(cfg, data)
        if cfg.inference.aux_cols is not None:
            _check_names(cfg.inference.aux_cols, data, "[inference] aux_cols", None)
    if cfg.linkability.enabled and cfg.linkability.aux_cols is not None:
        _check_names(
            [c for part in cfg.linkability.aux_cols for c in part],
            data,
            "[linkability] aux_cols",
            "--aux-cols",
        )
    if cfg.utility.target is not None:
        _check_names([cfg.utility.target], data, "[utility] target", "--target")


def plan_steps(cfg: AuditConfig, data: AuditData) -> list[str]:
    steps = []
    if cfg.singling_out.enabled:
        steps += [f"singling_out_{m}" for m in cfg.singling_out.modes]
    if cfg.linkability.enabled:
        steps.append("linkability")
    if cfg.inference.enabled:
        steps += [f"inference[{s}]" for s in _secrets(cfg, data)]
    if cfg.diagnostics.dcr and data.control is not None:
        steps.append("dcr")
    if cfg.utility.enabled:
        steps.append("utility")
    return steps


def evaluate_release(
    *,
    train: Table,
    synthetic: Table,
    control: Table | None = None,
    config: AuditConfig | Mapping[str, Any] | str | Path | None = None,
    progress: ProgressCallback = silent,
    no_control: bool = False,
    executor: Executor | None = None,
) -> AuditReport:
    """Audit a synthetic release against the real data it was made from.

    ``train``, ``synthetic`` and ``control`` are DataFrames or paths (CSV/Parquet). ``config`` is an
    :class:`AuditConfig`, a mapping with the same keys as ``audit.toml``, or the path of one.
    Same inputs and seed give the same numbers.

    ``control`` (real records of the same population never used for the release) is required: a
    risk is the attack's success on training records beyond the control attack's success on them.
    ``no_control=True`` runs without one on purpose; each risk is then the raw attack success rate
    and the report carries a ``no_control`` warning. Numeric warnings of numpy and the libraries
    used are not shown: the report's typed warnings say what matters.

    ``executor`` (a local process pool or a Dask client executor, see
    :func:`synth_audit.executors.make_executor`) spreads the per-record attacks over its workers:
    their neighbour searches are split over the query records as tasks
    (:mod:`synth_audit.partition`). The numbers are identical to those of an audit without one.
    """
    if control is None and not no_control:
        raise ConfigError(
            "No control set was given. A control set is real records from the same population that "
            "were never used to make the release; risks are measured against it. Pass control=... "
            "(--control PATH on the command line), or no_control=True (--no-control) to audit "
            "without one, knowing that each risk is then the raw attack success rate."
        )
    if control is not None and no_control:
        raise ConfigError(
            "Both a control set and no_control=True (--no-control) were given; pass one of them."
        )
    with np.errstate(all="ignore"), py_warnings.catch_warnings():
        py_warnings.simplefilter("ignore")
        return _evaluate(
            train=train,
            synthetic=synthetic,
            control=control,
            config=config,
            progress=progress,
            executor=executor,
        )


def _timed_run(audit: Any, data: AuditData, kw: Mapping[str, Any]) -> tuple[Any, float]:
    """An audit run as an executor task: its finding and its own run time."""
    t0 = time.perf_counter()
    return audit.run(data, **kw), time.perf_counter() - t0


def _run_audits(
    audits: Mapping[str, Any],
    run: Callable[[str, Callable[[], Any]], Any],
    data: AuditData,
    cfg: AuditConfig,
    encoder: MixedEncoder,
    attacks: dict[str, AttackResult],
    inference: dict[str, AttackResult],
    executor: Executor | None = None,
    timings: dict[str, float] | None = None,
) -> Any:
    """Runs each audit through ``run`` (timing and progress); fills ``attacks`` and ``inference``
    and returns the DCR diagnostic's finding (None without one).

    With an ``executor``, the singling-out audits (no neighbour search to split) are submitted to
    it at once, each whole, so they run beside the split searches of the other audits; their
    timings are then their own run time, not the wait for them."""
    dcr = None
    kw = {
        "random_state": cfg.seed,
        "confidence_level": cfg.confidence_level,
        "encoder": encoder,
        "n_jobs": cfg.n_jobs,
    }
    ahead = {
        step: executor.submit(_timed_run, audit, data, kw)
        for step, audit in audits.items()
        if executor is not None and isinstance(audit, SinglingOut)
    }
    found: dict[str, Any] = {}

    def run_lane(steps: list[str]) -> None:
        for step in steps:
            found[step] = run(step, partial(audits[step].run, data, **kw))

    # The audits in this process, then the findings of those submitted ahead.
    lanes = _lanes([s for s in audits if s not in ahead], audits)
    if executor is None or len(lanes) < 2:
        for lane in lanes:
            run_lane(lane)
    else:
        # With an executor, linkability, the inference secrets and the DCR diagnostic go on at
        # once, each from its own thread here (the context copied: the shared inference search
        # and the partition are context variables), so that the executor's workers search for one
        # while this process prepares or finishes another. Each search is deterministic, so the
        # findings are those of the audits run one after the other.
        with ThreadPoolExecutor(len(lanes), thread_name_prefix="synth-audit-lane") as pool:
            futures = [
                pool.submit(contextvars.copy_context().run, run_lane, lane) for lane in lanes
            ]
            for fut in futures:
                fut.result()
    for step in ahead:
        finding, seconds = run(step, ahead[step].result)
        found[step] = finding
        if timings is not None:
            timings[step] = round(seconds, 4)
    for step, audit in audits.items():  # the findings keep the audits' order
        finding = found[step]
        if isinstance(audit, Inference):
            inference[audit.secret] = finding
        elif isinstance(audit, DcrDiagnosticAudit):
            dcr = finding
        else:
            attacks[step] = finding
    _reorder(attacks, audits)  # back in the audits' order
    if timings is not None:
        _reorder(timings, audits)
    return dcr


def _lanes(steps: list[str], audits: Mapping[str, Any]) -> list[list[str]]:
    """``steps`` in lanes that may run at once: every inference secret in one lane (in order: the
    first computes the search the others share), every other audit in a lane of its own."""
    lanes: list[list[str]] = []
    inference_lane: list[str] | None = None
    for step in steps:
        if isinstance(audits[step], Inference):
            if inference_lane is None:
                inference_lane = []
                lanes.append(inference_lane)
            inference_lane.append(step)
        else:
            lanes.append([step])
    return lanes


def _reorder(found: dict[str, Any], order: Mapping[str, Any]) -> None:
    """``found`` in place: the keys of ``order`` first, in that order, then the others."""
    got = dict(found)
    found.clear()
    found.update({k: got[k] for k in order if k in got})
    found.update({k: v for k, v in got.items() if k not in found})


def _evaluate(
    *,
    train: Table,
    synthetic: Table,
    control: Table | None,
    config: AuditConfig | Mapping[str, Any] | str | Path | None,
    progress: ProgressCallback,
    executor: Executor | None = None,
) -> AuditReport:
    from synth_audit import __version__

    if isinstance(config, AuditConfig):
        cfg = config
    elif isinstance(config, Mapping):
        cfg = AuditConfig.from_mapping(dict(config))
    else:
        cfg = load_audit_config(config)

    tr, tr_src = _as_frame(train, "train")
    sy, sy_src = _as_frame(synthetic, "synthetic")
    ct, ct_src = _as_frame(control, "control")
    assert tr is not None and sy is not None
    data = prepare_inputs(
        tr,
        sy,
        ct,
        column_kinds=cfg.columns,
        sources={"train": tr_src, "synthetic": sy_src, "control": ct_src},
    )
    _check_config_columns(cfg, data)
    frames = [data.train, data.synthetic] + ([data.control] if data.control is not None else [])
    encoder = MixedEncoder(data.schema).fit(frames)
    steps = plan_steps(cfg, data)
    total = len(steps)
    timings: dict[str, float] = {}
    attacks: dict[str, AttackResult] = {}
    inference: dict[str, AttackResult] = {}
    done = 0
    lock = threading.Lock()  # with an executor, audits run from several threads at once

    def run(step: str, fn: Callable[[], Any]) -> Any:
        nonlocal done
        with lock:
            progress(step, done, total)
        t0 = time.perf_counter()
        out = fn()
        with lock:
            timings[step] = round(time.perf_counter() - t0, 4)
            done += 1
            progress(step, done, total)
        return out

    secrets = _secrets(cfg, data) if cfg.inference.enabled else []
    audits = audits_from_config(cfg, data, secrets)
    # Several secrets: one neighbour search serves them all (identical results, see
    # synth_audit.attacks.inference.shared_neighbour_search).
    shared: AbstractContextManager[None] = (
        shared_neighbour_search() if len(secrets) >= 3 else nullcontext()
    )
    with shared, partition_queries(executor):
        dcr = _run_audits(audits, run, data, cfg, encoder, attacks, inference, executor, timings)

    utility: dict[str, dict[str, Any]] = {}
    utility_score = None
    warnings = list(data.warnings)
    if cfg.utility.enabled:
        from metrics import compute_utility
        from metrics import utility_score as _utility_score

        if data.control is None and "ml_efficacy" in cfg.utility.metrics:
            metric_names = tuple(m for m in cfg.utility.metrics if m != "ml_efficacy")
            warnings.append(
                AuditWarning(
                    "utility_skipped", "ML efficacy needs a control set to test on; skipped."
                )
            )
        else:
            metric_names = tuple(cfg.utility.metrics)
        # The library is silent (warnings are off in evaluate_release): a skipped metric is
        # reported as a typed warning below.
        results = run(
            "utility",
            partial(
                compute_utility,
                data.train,
                data.synthetic,
                data.control,
                schema=data.schema,
                metrics=metric_names,
                target=cfg.utility.target,
                random_state=cfg.seed,
            ),
        )
        warnings.extend(getattr(results, "skipped", ()))
        utility = {k: v.to_dict() for k, v in results.items()}
        utility_score = _utility_score(results) if results else None

    inputs = {
        role: {"source": data.sources.get(role, role), **fp}
        for role, fp in data.fingerprints.items()
    }
    sections: dict[str, Any] = {}
    if (
        cfg.anonymity is not None
    ):  # [anonymity]: exact k / ℓ / t of the release and the training data
        from synth_audit.anonymity import anonymity_section, measure_anonymity

        a = cfg.anonymity
        kw = {"quasi_identifiers": a.quasi_identifiers, "sensitive": a.sensitive, "k": a.k}
        kw |= {"ell": a.l, "t": a.t}
        t0 = time.perf_counter()
        sections["anonymity"] = anonymity_section(
            measure_anonymity(data.synthetic, table="release", **kw),  # type: ignore[arg-type]
            measure_anonymity(data.train, table="training", **kw),  # type: ignore[arg-type]
        )
        timings["anonymity"] = round(time.perf_counter() - t0, 4)
    return AuditReport(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tool_version=__version__,
        seed=cfg.seed,
        config=cfg.to_dict(),
        inputs=inputs,
        schema=data.schema,
        attacks=attacks,
        inference=inference,
        dcr=dcr,
        utility=utility,
        utility_score=utility_score,
        warnings=tuple(warnings),
        timings_s=timings,
        sections=sections,
    )
