"""The no-box membership attacks compute what their definitions say, exactly: DCR's distances are
brute-force Gower minima (missing values, categories and ordinal scales included) and DOMIAS's
kernel density is the exact Gaussian KDE."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp

from synth_audit.encoding import MixedEncoder
from synth_audit.membership.nobox import _dcr_scores, _gaussian_kde_log
from synth_audit.schema import infer_schema


def survey(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "scale_a": rng.integers(1, 6, n).astype(float),  # 5-point ordinal scales
            "scale_b": rng.integers(1, 8, n).astype(float),
            "region": rng.choice(["n", "s", "e", "w", "c"], n),
            "job": rng.choice([f"j{i}" for i in range(40)], n),
            "income": rng.lognormal(10, 1, n).round(-2),
            "age": rng.integers(18, 90, n).astype(float),
        }
    )
    for c in ("scale_a", "job", "income"):
        df.loc[rng.random(n) < 0.1, c] = np.nan
    return df


def brute_min(queries: pd.DataFrame, cands: pd.DataFrame, enc: MixedEncoder) -> np.ndarray:
    """min over candidates of the Gower distance, from the definition (ranges of ``enc``)."""
    q, c = enc.transform(queries), enc.transform(cands)
    return np.abs(q[:, None, :] - c[None, :, :]).sum(axis=2).min(axis=1) / enc.n_columns


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dcr_distances_are_brute_force_gower(seed: int) -> None:
    members, nonmembers, synthetic, reference = (
        survey(n, seed * 10 + i) for i, n in enumerate((60, 60, 150, 120))
    )
    # Exact ties are common on short scales: copy a few members into the release.
    synthetic.iloc[:5] = members.iloc[:5].to_numpy()
    schema = infer_schema(pd.concat([members, nonmembers], ignore_index=True))
    frames = {"members": members, "nonmembers": nonmembers, "synthetic": synthetic}
    queries = pd.concat([members, nonmembers], ignore_index=True)

    raw, stats = _dcr_scores(frames, schema, calibrated=False)
    # Gower ranges come from every frame the attack sees (its encoder is fitted on all of them).
    enc = MixedEncoder(schema).fit(list(frames.values()))
    d_syn = brute_min(queries, synthetic, enc)
    np.testing.assert_allclose(-raw, d_syn, atol=1e-12)
    assert stats["mean_dcr_synthetic"] == pytest.approx(d_syn.mean())
    assert np.sum(d_syn == 0) >= 5

    frames["reference"] = reference
    cal, _ = _dcr_scores(frames, schema, calibrated=True)
    enc = MixedEncoder(schema).fit(list(frames.values()))
    d_syn, d_ref = brute_min(queries, synthetic, enc), brute_min(queries, reference, enc)
    np.testing.assert_allclose(cal, np.log((d_ref + 1e-9) / (d_syn + 1e-9)), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("bandwidth", [0.05, 0.4, 2.0])
def test_kde_is_the_exact_gaussian_kde(bandwidth: float) -> None:
    rng = np.random.default_rng(3)
    fit = rng.normal(size=(700, 12))
    # Far-away queries underflow every kernel term; the log-sum-exp must still be exact.
    query = np.vstack([rng.normal(size=(300, 12)), fit[:20], 40.0 * rng.normal(size=(5, 12))])
    got = _gaussian_kde_log(fit, query, bandwidth)
    sq = ((query[:, None, :] - fit[None, :, :]) ** 2).sum(axis=2)
    d = fit.shape[1]
    norm = -math.log(len(fit)) - 0.5 * d * math.log(2 * math.pi * bandwidth**2)
    want = logsumexp(-sq / (2 * bandwidth**2), axis=1) + norm
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-8)
