"""``evaluate_release``: the whole audit of one synthetic release, as one call."""

from __future__ import annotations

import time
import warnings as py_warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd

from synth_audit.attacks import inference_attack, linkability_attack, singling_out_attack
from synth_audit.attacks.anonymeter_engine import (
    anonymeter_inference,
    anonymeter_linkability,
    anonymeter_singling_out,
)
from synth_audit.config import AuditConfig, load_audit_config
from synth_audit.data import AuditData, load_table, prepare_inputs
from synth_audit.diagnostics import dcr_diagnostic
from synth_audit.encoding import MixedEncoder
from synth_audit.errors import ConfigError, DataValidationError
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


def default_aux_split(columns: list[str]) -> list[list[str]]:
    """Default attacker knowledge for linkability: the usable columns split in two halves."""
    half = max(1, len(columns) // 2)
    return [columns[:half], columns[half:]]


def _secrets(cfg: AuditConfig, data: AuditData) -> list[str]:
    if cfg.inference.secrets == "all":
        return list(data.columns)
    unknown = [s for s in cfg.inference.secrets if s not in data.columns]
    if unknown:
        raise ConfigError(
            f"[inference] secrets names column(s) that are not usable: {', '.join(map(repr, unknown))}. "
            f"Usable columns: {', '.join(map(repr, data.columns))}."
        )
    return list(cfg.inference.secrets)


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
) -> AuditReport:
    """Audit a synthetic release against the real data it was made from.

    ``train``, ``synthetic`` and ``control`` are DataFrames or paths (CSV/Parquet). ``config`` is an
    :class:`AuditConfig`, a mapping with the same keys as ``audit.toml``, or the path of one.
    Same inputs and seed give the same numbers.
    """
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
    frames = [data.train, data.synthetic] + ([data.control] if data.control is not None else [])
    encoder = MixedEncoder(data.schema).fit(frames)
    steps = plan_steps(cfg, data)
    total = len(steps)
    timings: dict[str, float] = {}
    attacks: dict[str, AttackResult] = {}
    inference: dict[str, AttackResult] = {}
    conf = cfg.confidence_level
    native = cfg.engine == "native"
    done = 0

    def run(step: str, fn: Callable[[], Any]) -> Any:
        nonlocal done
        progress(step, done, total)
        t0 = time.perf_counter()
        out = fn()
        timings[step] = round(time.perf_counter() - t0, 4)
        done += 1
        progress(step, done, total)
        return out

    so = cfg.singling_out
    if so.enabled:
        so_fn = singling_out_attack if native else anonymeter_singling_out
        for mode in so.modes:
            n_cols = min(so.n_cols, len(data.columns))
            attacks[f"singling_out_{mode}"] = run(
                f"singling_out_{mode}",
                partial(
                    so_fn,
                    data,
                    mode=mode,
                    n_attacks=so.n_attacks,
                    n_cols=n_cols,
                    max_attempts=so.max_attempts,
                    random_state=cfg.seed,
                    confidence_level=conf,
                ),
            )
    lk = cfg.linkability
    if lk.enabled:
        if len(data.columns) < 2:
            raise ConfigError(
                "Linkability needs at least two usable columns; disable [linkability]."
            )
        aux = lk.aux_cols or default_aux_split(data.columns)
        if native:
            attacks["linkability"] = run(
                "linkability",
                lambda: linkability_attack(
                    data,
                    aux_cols=aux,
                    n_neighbors=lk.n_neighbors,
                    n_attacks=lk.n_attacks,
                    random_state=cfg.seed,
                    confidence_level=conf,
                    encoder=encoder,
                    n_jobs=cfg.n_jobs,
                ),
            )
        else:
            attacks["linkability"] = run(
                "linkability",
                lambda: anonymeter_linkability(
                    data,
                    aux_cols=aux,
                    n_neighbors=lk.n_neighbors,
                    n_attacks=lk.n_attacks,
                    random_state=cfg.seed,
                    confidence_level=conf,
                    n_jobs=cfg.n_jobs,
                ),
            )
    inf = cfg.inference
    if inf.enabled:
        for secret in _secrets(cfg, data):
            aux_cols = None if inf.aux_cols is None else [c for c in inf.aux_cols if c != secret]
            fn: Callable[[], AttackResult]
            if native:
                fn = partial(
                    inference_attack,
                    data,
                    secret=secret,
                    aux_cols=aux_cols,
                    n_attacks=inf.n_attacks,
                    numeric_tolerance=inf.numeric_tolerance,
                    tolerance_mode=inf.tolerance_mode,
                    random_state=cfg.seed,
                    confidence_level=conf,
                    encoder=encoder,
                    n_jobs=cfg.n_jobs,
                )
            else:
                fn = partial(
                    anonymeter_inference,
                    data,
                    secret=secret,
                    aux_cols=aux_cols,
                    n_attacks=inf.n_attacks,
                    random_state=cfg.seed,
                    confidence_level=conf,
                    n_jobs=cfg.n_jobs,
                )
            inference[secret] = run(f"inference[{secret}]", fn)

    dcr = None
    if cfg.diagnostics.dcr and data.control is not None:
        dcr = run(
            "dcr",
            partial(
                dcr_diagnostic, data, confidence_level=conf, encoder=encoder, n_jobs=cfg.n_jobs
            ),
        )

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
        with py_warnings.catch_warnings():
            # The library is silent: a skipped metric is reported as a typed warning below.
            py_warnings.simplefilter("ignore")
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
    )
