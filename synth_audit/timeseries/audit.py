"""``evaluate_panel_release``: the audit of a synthetic panel, at the level of entities.

Every entity (train, control, reference, synthetic) becomes one row of entity features
(:func:`synth_audit.timeseries.features.entity_features`: static attributes plus sequence
summaries). Then:

- singling out, linkability and inference run through :func:`synth_audit.evaluate.evaluate_release`
  on those tables (train entities, control entities, synthetic entities), so each risk has its
  baseline, control and CI as for tables; per-record outcomes name entity ids;
- membership by distance (calibrated DCR) and by density ratio (DOMIAS) run through
  :func:`synth_audit.membership.nobox.run_nobox_attacks` on the same features (unit ``entity``,
  record ids ``member:<entity id>`` / ``nonmember:<entity id>``);
- the section ``timeseries_utility`` holds the panel utility findings (role utility,
  :mod:`synth_audit.timeseries.utility`) and ``sequences`` the sequence plots.

Feature columns constant over every entity of train, control and release (a slope of 1 for
experience that grows one year a year) are left out: they carry no information and would only
dilute the attacks' column choices; the section's ``data`` lists them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.config import AuditConfig, load_audit_config
from synth_audit.errors import ConfigError
from synth_audit.progress import ProgressCallback, silent
from synth_audit.report.model import AuditReport
from synth_audit.report.sections import make_section
from synth_audit.results import AttackResult, AuditWarning
from synth_audit.timeseries.features import entity_features
from synth_audit.timeseries.panel import PanelData, check_disjoint

__all__ = ["evaluate_panel_release", "panel_config"]


def panel_config(config: AuditConfig | Mapping[str, Any] | str | Path | None) -> AuditConfig:
    """The audit config of a panel audit: the table audit's, with the table utility metrics off
    unless ``[utility]`` is given (the panel's own utility section replaces them)."""
    if isinstance(config, AuditConfig):
        return config
    if config is None or isinstance(config, Mapping):
        raw = dict(config or {})
        raw.setdefault("utility", {"enabled": False})
        return AuditConfig.from_mapping(raw)
    return load_audit_config(config)


def _as_panel(x: PanelData | pd.DataFrame, like: PanelData, role: str) -> PanelData:
    if isinstance(x, PanelData):
        return x
    if isinstance(x, pd.DataFrame):
        return like.like(x, source=f"the {role} panel", sort=True)
    raise ConfigError(
        f"The {role!r} parameter of evaluate_panel_release must be a PanelData or a DataFrame. "
        f"Got {type(x).__name__}."
    )


def _entity_records(result: AttackResult, ids: Mapping[str, pd.Index]) -> AttackResult:
    """The result with per-record ``record`` positions replaced by entity ids."""
    per = result.per_record
    if per is None or not len(per) or "record" not in per:
        return result
    per = per.copy()
    per["record"] = [
        ids[str(role)][int(pos)] if str(role) in ids else pos
        for role, pos in zip(per["role"], per["record"], strict=True)
    ]
    return dataclasses.replace(result, per_record=per)


def evaluate_panel_release(
    *,
    train: PanelData,
    synthetic: PanelData | pd.DataFrame,
    control: PanelData | pd.DataFrame,
    reference: PanelData | pd.DataFrame | None = None,
    config: AuditConfig | Mapping[str, Any] | str | Path | None = None,
    membership: Sequence[str] = ("dcr", "domias"),
    target: Mapping[str, Any] | None = None,
    utility: bool = True,
    plots: bool = True,
    progress: ProgressCallback = silent,
) -> AuditReport:
    """Audit a synthetic panel against the real entities it was made from (see module doc).

    ``train`` (the members), ``control`` (real entities never used: the non-members) and
    ``reference`` (the attacker's own sample of the population, needed by the membership attacks;
    without it they are skipped with a warning) must have no entity in common. ``config`` is the
    table audit's configuration (``AuditConfig``, a mapping or a TOML path); its ``seed`` is the
    root of every seed used (the membership, utility and plot seeds are its
    ``SeedSequence`` children, recorded in the report). ``target`` is a ``TargetInfo.to_dict()``.
    """
    from synth_audit.evaluate import evaluate_release

    if not isinstance(train, PanelData):
        raise ConfigError(
            f"The 'train' parameter of evaluate_panel_release must be a PanelData. Got "
            f"{type(train).__name__}."
        )
    cfg = panel_config(config)
    synth = _as_panel(synthetic, train, "synthetic")
    ctrl = _as_panel(control, train, "control")
    ref = None if reference is None else _as_panel(reference, train, "reference")
    check_disjoint({"train": train, "control": ctrl, **({"reference": ref} if ref else {})})
    seeds = dict(
        zip(
            ("membership", "utility", "plots"),
            (int(s.generate_state(1)[0]) for s in np.random.SeedSequence(cfg.seed).spawn(3)),
            strict=True,
        )
    )
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    feats = {"train": entity_features(train), "control": entity_features(ctrl)}
    feats["synthetic"] = entity_features(synth)
    if ref is not None:
        feats["reference"] = entity_features(ref)
    pooled = pd.concat([feats["train"], feats["control"], feats["synthetic"]])
    constant = [c for c in pooled.columns if pooled[c].nunique(dropna=False) <= 1]
    feats = {k: v.drop(columns=constant) for k, v in feats.items()}
    timings["features"] = round(time.perf_counter() - t0, 4)

    report = evaluate_release(
        train=feats["train"],
        synthetic=feats["synthetic"],
        control=feats["control"],
        config=cfg,
        progress=progress,
    )
    ids = {"train": feats["train"].index, "control": feats["control"].index}
    attacks = {k: _entity_records(v, ids) for k, v in report.attacks.items()}
    inference = {k: _entity_records(v, ids) for k, v in report.inference.items()}

    warnings = list(report.warnings)
    results: dict[str, Any] = {}
    if membership:
        if ref is None:
            warnings.append(
                AuditWarning(
                    "membership_skipped",
                    "No reference panel was given, so the membership attacks (which compare the "
                    "release with the attacker's own sample of the population) were skipped. "
                    "Pass reference=... (a study's [split] reference).",
                )
            )
        else:
            from synth_audit.membership.nobox import run_nobox_attacks

            progress("membership", 0, 1)
            t = time.perf_counter()
            raw = run_nobox_attacks(
                synthetic=feats["synthetic"],
                members=feats["train"],
                nonmembers=feats["control"],
                reference=feats["reference"],
                attacks=list(membership),
                random_state=seeds["membership"],
                confidence_level=cfg.confidence_level,
            )
            for name, res in raw.items():
                base = res.baseline
                results[name] = dataclasses.replace(
                    res,
                    unit="entity",
                    baseline=None if base is None else dataclasses.replace(base, unit="entity"),
                )
            timings["membership"] = round(time.perf_counter() - t, 4)
            progress("membership", 1, 1)

    sections: dict[str, Any] = dict(report.sections)
    if utility:
        from synth_audit.timeseries.utility import panel_utility

        progress("timeseries utility", 0, 1)
        t = time.perf_counter()
        findings, tables = panel_utility(
            train=train,
            synthetic=synth,
            real=ctrl,
            random_state=seeds["utility"],
            confidence_level=cfg.confidence_level,
        )
        sections["timeseries_utility"] = make_section(
            "Time-series utility",
            "timeseries_utility",
            summary="How well the synthetic sequences stand in for real ones: marginals, temporal "
            "dependence (autocorrelation), whether a classifier tells them apart "
            "(discriminative) and whether a forecaster trained on them works on real sequences "
            "(predictive).",
            findings=findings,
            tables=tables,
            data={
                "seed": seeds["utility"],
                "n_entities": {
                    "train": len(train),
                    "control": len(ctrl),
                    "synthetic": len(synth),
                },
                "dropped_constant_features": constant,
            },
        )
        timings["timeseries_utility"] = round(time.perf_counter() - t, 4)
        progress("timeseries utility", 1, 1)
    if plots:
        from synth_audit.timeseries.plots import sequence_plots

        t = time.perf_counter()
        sections["sequences"] = make_section(
            "Sequences: real against synthetic",
            "sequences",
            summary="Random real (blue) and synthetic (orange) entities by step, with each "
            "side's mean.",
            images=sequence_plots(train, synth, random_state=seeds["plots"]),
            data={"seed": seeds["plots"]},
        )
        timings["sequence_plots"] = round(time.perf_counter() - t, 4)

    inputs = dict(report.inputs)
    for role, panel in (
        ("train", train),
        ("control", ctrl),
        ("synthetic", synth),
        ("reference", ref),
    ):
        if panel is not None:
            inputs[f"{role}_panel"] = {"source": panel.source, **panel.fingerprint()}
    config_dict = {
        **dict(report.config),
        "panel": {
            "entity": train.entity,
            "time": train.time,
            "static": list(train.static),
            "varying": list(train.varying),
            "membership": list(membership),
            "seeds": seeds,
        },
    }
    return dataclasses.replace(
        report,
        attacks=attacks,
        inference=inference,
        membership={name: res.to_dict() for name, res in results.items()},
        sections=sections,
        target=None if target is None else dict(target),
        warnings=tuple(warnings),
        inputs=inputs,
        config=config_dict,
        timings_s={**dict(report.timings_s), **timings},
    )
