"""Attribute inference: can an attacker who knows some attributes of a real person infer a secret
attribute from the release?

Threat model (anonymeter): the attacker knows the auxiliary columns of a target, finds the closest
synthetic record on those columns and guesses that record's secret. A guess is correct when it equals
the true value (categorical, boolean; two missing values match), or for a numeric secret when it lies
within a tolerance:

* ``tolerance_mode="relative"``: ``|guess − true| ≤ tol · |true|`` (a true value of 0 needs an exact
  guess). anonymeter divides by the *guess* instead, so every negative guess counts as correct there;
  this is one of the deliberate differences listed in the README.
* ``tolerance_mode="range"``: ``|guess − true| ≤ tol · (max − min)`` of the column over all inputs.

The same attack on control records measures what the population reveals anyway; the baseline guesses
the secret of a random synthetic record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from synth_audit.attacks._common import (
    NAttacks,
    assemble,
    check_columns,
    check_n_attacks,
    pick_targets,
)
from synth_audit.data import AuditData
from synth_audit.encoding import MixedEncoder, _numeric_values, nearest_gower
from synth_audit.errors import ConfigError
from synth_audit.results import AttackResult

__all__ = ["correct_guesses", "inference_attack"]

OWNER = "InferenceAttack"
ToleranceMode = Literal["relative", "range"]


def correct_guesses(
    guesses: pd.Series | np.ndarray,
    truth: pd.Series | np.ndarray,
    *,
    numeric: bool,
    tolerance: float,
    mode: ToleranceMode,
    value_range: float,
) -> np.ndarray:
    """Boolean array: which guesses count as correct (see the module docstring)."""
    g = pd.Series(np.asarray(guesses, dtype=object))
    t = pd.Series(np.asarray(truth, dtype=object))
    both_missing = (g.isna() & t.isna()).to_numpy()
    if numeric:
        gv = pd.to_numeric(g, errors="coerce").to_numpy(dtype=float)
        tv = pd.to_numeric(t, errors="coerce").to_numpy(dtype=float)
        diff = np.abs(gv - tv)
        limit = (
            tolerance * np.abs(tv)
            if mode == "relative"
            else np.full_like(tv, tolerance * value_range)
        )
        with np.errstate(invalid="ignore"):
            ok = (diff <= limit) | (diff == 0)  # NaN comparisons are False
        return ok | both_missing
    eq = (g.astype(str) == t.astype(str)).to_numpy() & g.notna().to_numpy() & t.notna().to_numpy()
    return eq | both_missing


def inference_attack(
    data: AuditData,
    *,
    secret: str,
    aux_cols: Sequence[str] | None = None,
    n_attacks: NAttacks = "all",
    numeric_tolerance: float = 0.05,
    tolerance_mode: ToleranceMode = "relative",
    random_state: int | None = None,
    confidence_level: float = 0.95,
    encoder: MixedEncoder | None = None,
    n_jobs: int | None = None,
) -> AttackResult:
    """Infer ``secret`` from ``aux_cols`` (default: every other usable column)."""
    n_attacks = check_n_attacks(n_attacks, OWNER)
    if secret not in data.columns:
        raise ConfigError(
            f"The 'secret' parameter of {OWNER} names {secret!r}, which is not a usable column. "
            f"Usable columns: {', '.join(repr(c) for c in data.columns)}."
        )
    if aux_cols is None:
        aux = [c for c in data.columns if c != secret]
    else:
        aux = check_columns(list(aux_cols), data.columns, "aux_cols", OWNER)
    if secret in aux:
        raise ConfigError(
            f"The 'aux_cols' of {OWNER} must not contain the secret column {secret!r}."
        )
    if not aux:
        raise ConfigError(
            f"{OWNER} needs at least one auxiliary column besides the secret {secret!r}."
        )
    if not (isinstance(numeric_tolerance, int | float) and numeric_tolerance >= 0):
        raise ConfigError(
            f"The 'numeric_tolerance' parameter of {OWNER} must be a float >= 0. Got {numeric_tolerance!r}."
        )
    if tolerance_mode not in ("relative", "range"):
        raise ConfigError(
            f'The \'tolerance_mode\' parameter of {OWNER} must be "relative" or "range". '
            f"Got {tolerance_mode!r}."
        )

    rng = np.random.default_rng(random_state)
    frames = [data.train, data.synthetic] + ([data.control] if data.control is not None else [])
    enc = encoder or MixedEncoder(data.schema).fit(frames)
    numeric = data.schema.kind(secret).is_numeric
    value_range = 0.0
    if numeric:
        allv = np.concatenate([_numeric_values(f[secret]) for f in frames])
        finite = allv[np.isfinite(allv)]
        value_range = float(finite.max() - finite.min()) if finite.size else 0.0
    syn_secret = data.synthetic[secret].to_numpy(dtype=object)

    def judge(guess: np.ndarray, truth: pd.Series) -> np.ndarray:
        return correct_guesses(
            guess,
            truth,
            numeric=numeric,
            tolerance=numeric_tolerance,
            mode=tolerance_mode,
            value_range=value_range,
        )

    # Targets: training records (the attack) and control records (the control attack), searched in
    # one pass over the release.
    parts = [("train", data.train, pick_targets(len(data.train), n_attacks, rng))]
    base_rng = np.random.default_rng(rng.integers(2**63))
    base_idx = rng.integers(0, len(syn_secret), size=len(parts[0][2]))
    if data.control is not None:
        parts.append(("control", data.control, pick_targets(len(data.control), n_attacks, rng)))
    targets = pd.concat([df.iloc[rows] for _, df, rows in parts], ignore_index=True)
    dist, idx = nearest_gower(targets, data.synthetic, enc, aux, n_jobs=n_jobs)
    guess = syn_secret[idx]
    ok = judge(guess, targets[secret])
    roles = np.concatenate([np.full(len(rows), role, dtype=object) for role, _, rows in parts])
    per_record = pd.DataFrame(
        {
            "role": roles,
            "record": np.concatenate([rows for _, _, rows in parts]),
            "secret": secret,
            "guess": pd.Series(guess, dtype=object).astype(str),
            "truth": targets[secret].astype(str).to_numpy(),
            "correct": ok,
            "distance": dist,
            "neighbor": idx,
        }
    )
    is_train = roles == "train"
    ok_train = ok[is_train]
    n_total = len(ok_train)
    # Baseline: the secret of a random synthetic record, for the same number of training targets.
    base_rows = pick_targets(len(data.train), n_attacks, base_rng)
    ok_base = judge(syn_secret[base_idx], data.train[secret].iloc[base_rows])
    if data.control is not None:
        ok_ctrl = ok[~is_train]
        n_cs: float | None = float(ok_ctrl.sum())
        n_ct: int | None = len(ok_ctrl)
    else:
        n_cs = n_ct = None
    return assemble(
        attack=f"inference[{secret}]",
        engine="native",
        n_success=float(ok_train.sum()),
        n_total=n_total,
        n_baseline_success=float(ok_base.sum()),
        n_baseline_total=len(ok_base),
        n_control_success=n_cs,
        n_control_total=n_ct,
        confidence_level=confidence_level,
        seed=random_state,
        params={
            "secret": secret,
            "aux_cols": aux,
            "n_attacks": n_attacks,
            "numeric_secret": numeric,
            "numeric_tolerance": numeric_tolerance,
            "tolerance_mode": tolerance_mode,
        },
        per_record=per_record,
    )
