"""Utility of a panel release: how well synthetic sequences stand in for real ones.

Each metric is a :func:`synth_audit.report.sections.finding` with role ``utility``, a direction
and bounds:

``marginals``         mean over columns of ``1 - KS statistic`` (numeric) or ``1 - total
                      variation distance`` (categorical) between the real and synthetic values
                      (static attributes over entities, time-varying columns over all rows);
                      higher is better, in [0, 1]. The per-column values are a table.
``autocorrelation``   ``1 - mean |acf_real(k) - acf_syn(k)| / 2`` over numeric time-varying
                      columns and lags k = 1..3 (fewer for short sequences), where ``acf(k)`` is
                      the lag-k autocorrelation of the column pooled over entities (deviations
                      from the column's overall mean, products of values k steps apart within one
                      entity); higher is better, in [0, 1].
``discriminative``    ``|accuracy - 0.5|`` of a random-forest classifier telling real from
                      synthetic entities (5-fold cross-validated, equal numbers of each) on the
                      entity features plus the first 16 steps of every numeric time-varying
                      column; lower is better, in [0, 0.5], with a Clopper-Pearson interval.
                      The real side is ``real`` (pass real entities the generator never saw: a
                      copied training entity would be recognised by its twin in the other folds,
                      pushing the accuracy *below* 0.5 and the score up).
``indistinguishability``  ``1 - 2 × discriminative`` (higher is better, in [0, 1]): the same
                      number for a frontier's utility axis, which reads higher as better.
``predictive``        one-step forecast: a ridge regression trained on synthetic sequences predicts
                      every numeric time-varying column at step t+1 from the values at step t and
                      the static attributes; tested on ``real``. The score is the mean absolute
                      error over columns, each divided by the column's standard deviation in
                      ``real`` (lower is better, in [0, ∞)). ``predictive_real`` (evidence) is the
                      same model trained on ``train``: what real data reaches.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synth_audit.report.sections import finding, table
from synth_audit.timeseries.features import entity_features
from synth_audit.timeseries.panel import PanelData

__all__ = [
    "autocorrelation",
    "autocorrelation_similarity",
    "discriminative_score",
    "marginal_similarity",
    "panel_utility",
    "predictive_score",
]

MAX_STEPS = 16
MAX_LAG = 3


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.sort(a[~np.isnan(a)]), np.sort(b[~np.isnan(b)])
    if not len(a) or not len(b):
        return 1.0
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


def _tv(a: pd.Series, b: pd.Series) -> float:
    pa = a.astype(str).value_counts(normalize=True)
    pb = b.astype(str).value_counts(normalize=True)
    return float(0.5 * pa.subtract(pb, fill_value=0.0).abs().sum())


def marginal_similarity(real: PanelData, synthetic: PanelData) -> dict[str, float]:
    """``{column: similarity in [0, 1]}`` (see the module docstring)."""
    out: dict[str, float] = {}
    rs, ss = real.statics(), synthetic.statics()
    for c in real.static:
        out[c] = _col_similarity(rs[c], ss[c])
    for c in real.varying:
        out[c] = _col_similarity(real.frame[c], synthetic.frame[c])
    return out


def _col_similarity(a: pd.Series, b: pd.Series) -> float:
    if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
        return 1.0 - _ks(a.to_numpy(dtype=float), b.to_numpy(dtype=float))
    return 1.0 - _tv(a, b)


def autocorrelation(panel: PanelData, column: str, lags: int = MAX_LAG) -> np.ndarray:
    """Pooled lag-1..``lags`` autocorrelations of ``column`` (NaN where no pair exists)."""
    x = panel.frame[column].to_numpy(dtype=float)
    ent = panel.frame[panel.entity].to_numpy()
    dev = x - np.nanmean(x)
    var = np.nanmean(dev * dev)
    out = np.full(lags, np.nan)
    for k in range(1, lags + 1):
        same = ent[k:] == ent[:-k]
        prod = (dev[k:] * dev[:-k])[same]
        prod = prod[~np.isnan(prod)]
        if len(prod) and var > 0:
            out[k - 1] = float(np.clip(prod.mean() / var, -1.0, 1.0))
    return out


def autocorrelation_similarity(
    real: PanelData, synthetic: PanelData
) -> tuple[float | None, dict[str, float]]:
    """``(overall, {column: similarity})``: ``1 - mean |Δacf| / 2`` (see the module docstring)."""
    lags = max(1, min(MAX_LAG, int(real.lengths().max()) - 1))
    per: dict[str, float] = {}
    for c in real.numeric_varying():
        a, b = autocorrelation(real, c, lags), autocorrelation(synthetic, c, lags)
        ok = ~(np.isnan(a) | np.isnan(b))
        if ok.any():
            per[c] = float(1.0 - np.mean(np.abs(a[ok] - b[ok])) / 2.0)
    return (float(np.mean(list(per.values()))) if per else None), per


def _sequence_matrix(panel: PanelData, features: pd.DataFrame) -> pd.DataFrame:
    """Entity features plus the first MAX_STEPS values of each numeric varying column."""
    cols = panel.numeric_varying()
    f = panel.frame
    step = f.groupby(panel.entity, sort=False).cumcount()
    keep = f[step < MAX_STEPS].assign(_step=step[step < MAX_STEPS])
    wide = keep.pivot(index=panel.entity, columns="_step", values=cols)
    wide.columns = [f"{c}@{k}" for c, k in wide.columns]
    return features.join(wide)


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s):
            out[c] = s.astype(float)
        else:
            out[c] = s.astype("category").cat.codes.astype(float).where(s.notna())
    return pd.DataFrame(out, index=frame.index)


def discriminative_score(
    real: PanelData,
    synthetic: PanelData,
    *,
    random_state: int | None = None,
    confidence_level: float = 0.95,
) -> dict[str, Any]:
    """``{"value", "ci", "accuracy", "n"}``: ``|CV accuracy - 0.5|`` (see the module docstring)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from synth_audit.membership.stats import clopper_pearson

    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(random_state).spawn(3)]
    n = min(len(real), len(synthetic))
    rng = np.random.default_rng(seeds[0])
    r = real.take(rng.permutation(len(real))[:n])
    s = synthetic.take(rng.permutation(len(synthetic))[:n])
    xr = _sequence_matrix(r, entity_features(r)).reset_index(drop=True)
    xs = _sequence_matrix(s, entity_features(s)).reset_index(drop=True)
    x = _numeric(pd.concat([xr, xs], ignore_index=True))
    y = np.r_[np.ones(n, dtype=int), np.zeros(n, dtype=int)]
    # A random forest on one thread: gradient boosting's OpenMP threads took 5-10x longer on a
    # busy 2-core machine for the same accuracy on these small tables.
    clf = RandomForestClassifier(
        n_estimators=60, min_samples_leaf=2, n_jobs=1, random_state=seeds[1] % 2**32
    )
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seeds[2] % 2**32)
    pred = cross_val_predict(clf, x, y, cv=folds)
    correct = int((pred == y).sum())
    total = len(y)
    acc = correct / total
    lo, hi = (float(v) for v in clopper_pearson(correct, total, confidence_level))
    if lo <= 0.5 <= hi:
        ci = (0.0, max(abs(lo - 0.5), abs(hi - 0.5)))
    else:
        ci = (min(abs(lo - 0.5), abs(hi - 0.5)), max(abs(lo - 0.5), abs(hi - 0.5)))
    return {"value": abs(acc - 0.5), "ci": ci, "accuracy": acc, "n": total}


def _one_step(panel: PanelData) -> tuple[np.ndarray, np.ndarray]:
    cols = panel.numeric_varying()
    f = panel.frame
    ent = f[panel.entity].to_numpy()
    static = _numeric(f[panel.static]).to_numpy() if panel.static else np.zeros((len(f), 0))
    v = f[cols].to_numpy(dtype=float)
    same = ent[1:] == ent[:-1]
    x = np.hstack([v[:-1], static[:-1]])[same]
    y = v[1:][same]
    ok = ~(np.isnan(x).any(axis=1) | np.isnan(y).any(axis=1))
    return x[ok], y[ok]


def predictive_score(train_on: PanelData, test_on: PanelData) -> float | None:
    """Mean over columns of MAE / sd(test) of a ridge one-step forecaster (see module doc)."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    xa, ya = _one_step(train_on)
    xb, yb = _one_step(test_on)
    if len(xa) < 2 or len(xb) < 2:
        return None
    model = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(xa, ya)
    # One target column gives 1-D predictions: reshape, or the difference would broadcast.
    err = np.abs(np.asarray(model.predict(xb)).reshape(yb.shape) - yb).mean(axis=0)
    sd = yb.std(axis=0)
    sd[sd == 0] = 1.0
    return float(np.mean(err / sd))


def panel_utility(
    *,
    train: PanelData,
    synthetic: PanelData,
    real: PanelData | None = None,
    random_state: int | None = None,
    confidence_level: float = 0.95,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(findings, tables)`` of the ``timeseries_utility`` section.

    ``real`` is the held-out real panel the discriminative and predictive scores test on (the
    control entities); without it, ``train``.
    """
    real = train if real is None else real
    marg = marginal_similarity(train, synthetic)
    acf, acf_per = autocorrelation_similarity(train, synthetic)
    disc = discriminative_score(
        real, synthetic, random_state=random_state, confidence_level=confidence_level
    )
    pred = predictive_score(synthetic, real)
    pred_real = predictive_score(train, real) if real is not train else None
    findings = [
        finding(
            "marginals",
            float(np.mean(list(marg.values()))),
            role="utility",
            direction="higher_is_better",
            bounds=(0.0, 1.0),
            reading="mean over columns of 1 - KS statistic (numeric) or 1 - total variation "
            "distance (categorical); 1 = identical distributions",
        ),
        finding(
            "autocorrelation",
            acf,
            role="utility",
            direction="higher_is_better",
            bounds=(0.0, 1.0),
            reading="1 - mean |lag-k autocorrelation difference| / 2 over numeric time-varying "
            "columns; 1 = the same temporal dependence",
        ),
        finding(
            "discriminative",
            disc["value"],
            role="utility",
            ci=disc["ci"],
            confidence_level=confidence_level,
            direction="lower_is_better",
            bounds=(0.0, 0.5),
            reading=f"|accuracy - 0.5| of a classifier telling {disc['n'] // 2} real from as many "
            f"synthetic entities (accuracy {disc['accuracy']:.3f}); 0 = indistinguishable",
        ),
        finding(
            "indistinguishability",
            1.0 - 2.0 * disc["value"],
            role="utility",
            ci=(1.0 - 2.0 * disc["ci"][1], 1.0 - 2.0 * disc["ci"][0]),
            confidence_level=confidence_level,
            direction="higher_is_better",
            bounds=(0.0, 1.0),
            reading="1 - 2 x the discriminative score: 1 = a classifier cannot tell synthetic "
            "from real entities, 0 = it always can (a frontier's utility axis, higher is better)",
        ),
        finding(
            "predictive",
            pred,
            role="utility",
            direction="lower_is_better",
            bounds=(0.0, float("inf")),
            reading="mean absolute error (in standard deviations) of a one-step forecaster "
            "trained on synthetic, tested on real sequences",
        ),
    ]
    if pred_real is not None:
        findings.append(
            finding(
                "predictive_real",
                pred_real,
                role="evidence",
                direction="lower_is_better",
                bounds=(0.0, float("inf")),
                reading="the same forecaster trained on the real training sequences (what the "
                "predictive score is to be compared with)",
            )
        )
    tables = [
        table(
            "Per-column similarity",
            ["column", "kind", "marginal similarity", "autocorrelation similarity"],
            [
                [
                    c,
                    "static" if c in train.static else "time-varying",
                    round(v, 4),
                    None if c not in acf_per else round(acf_per[c], 4),
                ]
                for c, v in marg.items()
            ],
        )
    ]
    return findings, tables
