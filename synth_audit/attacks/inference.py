"""Attribute inference: can an attacker who knows some attributes of a real person infer a secret
attribute from the release?

Threat model (anonymeter): the attacker knows the auxiliary columns of a target, finds the closest
synthetic record on those columns and guesses that record's secret. A guess is correct when it equals
the true value (categorical, boolean; two missing values match), or for a numeric (or date) secret
when it lies within a tolerance:

* ``tolerance_mode="iqr"`` (the default, with ``numeric_tolerance=0.1``):
  ``|guess − true| ≤ tol · IQR``, the interquartile range of the secret in the *training* data (its
  standard deviation when the IQR is 0; an exact match when both are 0). The allowed error is a
  fixed fraction of how much people differ on the column, whatever its origin: a year near 1990 is
  judged within ±2.5 years when the years span 1950-2000 (IQR 25), an age within ±3 years (IQR 30),
  and a small count such as family size (IQR 2) needs the exact value, since 0.2 is below the step
  between integers. For a normal column a random guess is then correct about 8 % of the time. It
  depends on train only, so every release of the same training data is judged by the same rule.
* ``tolerance_mode="relative"``: ``|guess − true| ≤ tol · |true|`` (a true value of 0 needs an exact
  guess). This was the default before; it is wrong for columns far from 0 relative to their spread
  (years, dates, index values): 5 % of 1990 is ±99 years, so every guess succeeds. anonymeter
  divides by the *guess* instead, so every negative guess counts as correct there; this is one of
  the deliberate differences listed in the README.
* ``tolerance_mode="range"``: ``|guess − true| ≤ tol · (max − min)`` of the column over all inputs.

Dates and datetimes are compared as seconds since the epoch.

When the naive baseline (the secret of a random synthetic record) counts as correct for more than
:data:`BASELINE_TOO_STRONG` (half) of the training targets, the tolerance is wider than the typical
distance between two people's values (the median ``|X − Y|``), so "correct" no longer means "learned
this person's value": the result carries a ``baseline_too_strong`` warning naming the tolerance.

The same attack on control records measures what the population reveals anyway; the baseline guesses
the secret of a random synthetic record.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

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
from synth_audit.encoding import (
    MixedEncoder,
    _numeric_values,
    nearest_gower,
    nearest_gower_multi,
)
from synth_audit.errors import ConfigError
from synth_audit.results import AttackResult, AuditWarning
from synth_audit.schema import ColumnKind

__all__ = [
    "BASELINE_TOO_STRONG",
    "correct_guesses",
    "inference_attack",
    "shared_neighbour_search",
    "tolerance_scale",
]

OWNER = "InferenceAttack"
ToleranceMode = Literal["iqr", "relative", "range"]
TOLERANCE_MODES: tuple[str, ...] = ("iqr", "relative", "range")
#: Share of correct naive guesses above which a numeric secret's criterion is meaningless.
BASELINE_TOO_STRONG = 0.5


_SHARED: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar(
    "synth_audit_shared_neighbour_search", default=None
)


@contextmanager
def shared_neighbour_search() -> Iterator[None]:
    """Inside this block, inference attacks with the default auxiliary columns (every column but
    the secret) on the same data, encoder and targets share one neighbour search for all secrets
    (:func:`~synth_audit.encoding.nearest_gower_multi`), computed at the first of them and kept
    until the block ends. The neighbours are the ones each attack finds alone (the same canonical
    ties), so the results are identical; only the time differs. ``evaluate_release`` uses it when
    several secrets are attacked."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def _search(
    data: AuditData,
    targets: pd.DataFrame,
    rows: list[np.ndarray],
    enc: MixedEncoder,
    secret: str,
    aux: list[str],
    n_jobs: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest synthetic record of each target on ``aux``: from the shared search when one is
    active and ``aux`` is every column but the secret, else searched for this secret alone."""
    cache = _SHARED.get()
    cols = list(data.columns)
    if cache is None or aux != [c for c in cols if c != secret]:
        return nearest_gower(targets, data.synthetic, enc, aux, n_jobs=n_jobs)
    key = (id(data), id(enc), tuple(r.tobytes() for r in rows))
    if key not in cache:
        cache.clear()  # one search at a time: a new key means other data or targets
        dist, idx = nearest_gower_multi(targets, data.synthetic, enc, cols, n_jobs=n_jobs)
        cache[key] = (data, enc, dist, idx)  # holding data and enc keeps their ids valid
    _, _, dist, idx = cache[key]
    j = cols.index(secret)
    return dist[:, j], idx[:, j]


def correct_guesses(
    guesses: pd.Series | np.ndarray,
    truth: pd.Series | np.ndarray,
    *,
    numeric: bool,
    tolerance: float,
    mode: ToleranceMode,
    value_range: float,
) -> np.ndarray:
    """Boolean array: which guesses count as correct (see the module docstring).

    ``value_range`` is the scale the tolerance multiplies in the ``"range"`` and ``"iqr"`` modes
    (see :func:`tolerance_scale`); ``"relative"`` ignores it.
    """
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
            else np.full_like(tv, tolerance * value_range)  # "range" and "iqr": a fixed width
        )
        with np.errstate(invalid="ignore"):
            ok = (diff <= limit) | (diff == 0)  # NaN comparisons are False
        return ok | both_missing
    eq = (g.astype(str) == t.astype(str)).to_numpy() & g.notna().to_numpy() & t.notna().to_numpy()
    return eq | both_missing


def tolerance_scale(train_values: np.ndarray, all_values: np.ndarray, mode: str) -> float:
    """The width the tolerance multiplies: IQR of train (std when 0) for ``"iqr"``, the range of all
    inputs for ``"range"``, 0 for ``"relative"`` (whose width is per target)."""
    if mode == "range":
        finite = all_values[np.isfinite(all_values)]
        return float(finite.max() - finite.min()) if finite.size else 0.0
    if mode == "iqr":
        finite = train_values[np.isfinite(train_values)]
        if finite.size == 0:
            return 0.0
        q1, q3 = np.percentile(finite, [25, 75])
        iqr = float(q3 - q1)
        return iqr if iqr > 0 else float(np.std(finite))
    return 0.0


def _describe_tolerance(tol: float, mode: str, scale: float, is_datetime: bool) -> str:
    if mode == "relative":
        return f"within {tol:g} × |true value| of the true value"
    width = f"{tol * scale:.4g}" + (" seconds" if is_datetime else "")
    base = "the column's interquartile range in train" if mode == "iqr" else "the column's range"
    return f"within {tol:g} × {base} (±{width}) of the true value"


def inference_attack(
    data: AuditData,
    *,
    secret: str,
    aux_cols: Sequence[str] | None = None,
    n_attacks: NAttacks = "all",
    numeric_tolerance: float = 0.1,
    tolerance_mode: ToleranceMode = "iqr",
    random_state: int | None = None,
    confidence_level: float = 0.95,
    encoder: MixedEncoder | None = None,
    n_jobs: int | None = None,
) -> AttackResult:
    """Infer ``secret`` from ``aux_cols`` (default: every other usable column).

    ``n_attacks`` is ``"all"`` or at most the number of training records. Numeric secrets are judged
    with ``numeric_tolerance`` in ``tolerance_mode`` (module docstring; default: within 0.1 × the
    secret's interquartile range in train).
    """
    n_attacks = check_n_attacks(n_attacks, OWNER, len(data.train))
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
    if tolerance_mode not in TOLERANCE_MODES:
        raise ConfigError(
            f'The \'tolerance_mode\' parameter of {OWNER} must be "iqr", "relative" or "range". '
            f"Got {tolerance_mode!r}."
        )

    rng = np.random.default_rng(random_state)
    frames = [data.train, data.synthetic] + ([data.control] if data.control is not None else [])
    enc = encoder or MixedEncoder(data.schema).fit(frames)
    numeric = data.schema.kind(secret).is_numeric
    is_datetime = data.schema.kind(secret) is ColumnKind.DATETIME
    value_range = 0.0
    if numeric:
        allv = np.concatenate([_numeric_values(f[secret]) for f in frames])
        value_range = tolerance_scale(_numeric_values(data.train[secret]), allv, tolerance_mode)
    syn_secret = data.synthetic[secret].to_numpy(dtype=object)
    # Numeric and date secrets are judged on numbers (dates: seconds since the epoch).
    syn_judged = _numeric_values(data.synthetic[secret]) if numeric else syn_secret

    def judge(guess: np.ndarray, truth: pd.Series) -> np.ndarray:
        return correct_guesses(
            guess,
            _numeric_values(truth) if numeric else truth,
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
    dist, idx = _search(
        data, targets, [rows for _, _, rows in parts], enc, secret, list(aux), n_jobs
    )
    guess = syn_secret[idx]
    ok = judge(syn_judged[idx], targets[secret])
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
    ok_base = judge(syn_judged[base_idx], data.train[secret].iloc[base_rows])
    extra: list[AuditWarning] = []
    rule = None
    if numeric:
        rule = _describe_tolerance(numeric_tolerance, tolerance_mode, value_range, is_datetime)
        base_share = float(ok_base.mean()) if ok_base.size else 0.0
        if base_share > BASELINE_TOO_STRONG:
            extra.append(
                AuditWarning(
                    "baseline_too_strong",
                    f"A naive guess (the {secret!r} of a random synthetic record) counts as correct "
                    f"for {base_share:.0%} of training records, because a guess is correct when "
                    f"{rule} (numeric_tolerance = {numeric_tolerance:g}, tolerance_mode = "
                    f"{tolerance_mode!r}). The tolerance is wider than the typical difference "
                    f"between two people, so this criterion says little about {secret!r}. Lower "
                    f'[inference] numeric_tolerance or use tolerance_mode = "iqr".',
                )
            )
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
            "tolerance_abs": (
                numeric_tolerance * value_range
                if numeric and tolerance_mode != "relative"
                else None
            ),
            "tolerance_rule": rule,
        },
        per_record=per_record,
        extra_warnings=extra,
        what="inference attacks",
    )
