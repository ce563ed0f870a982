"""Issue 7, items 11 and 12: the DCR diagnostic says what its test shows; DOMIAS is at least as
strong as synthcity's DOMIAS on the same data.

Data: the randhie sample (conftest). ``train`` / ``control`` / ``holdout`` are disjoint sets of
persons, one record per person.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from generators import make_generator
from synth_audit.membership.nobox import domias_mia, run_nobox_attacks
from synth_audit.schema import Schema, infer_schema

N = 1000  # members, non-members, reference rows and release rows in the DOMIAS comparison


@pytest.fixture(scope="module")
def schema(randhie: dict[str, pd.DataFrame]) -> Schema:
    return infer_schema(randhie["train"], {"site": "categorical"})


# --------------------------------------------------------------------------------------------------
# Item 12: DOMIAS against synthcity's DOMIAS
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthcity_domias(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """synthcity's DOMIAS (KDE variant: its BNAF variant does not run on current torch).

    Imported once per module (the import takes ~20 s). Its result cache is off and its workspace
    is a temporary folder, so nothing is read back from an earlier run.
    """
    pytest.importorskip("synthcity")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from synthcity.metrics.eval_privacy import DomiasMIAKDE
        from synthcity.plugins.core.dataloader import GenericDataLoader

    workspace = tmp_path_factory.mktemp("synthcity")

    def auc(
        members: pd.DataFrame,
        nonmembers: pd.DataFrame,
        reference: pd.DataFrame,
        synthetic: pd.DataFrame,
    ) -> float:
        frames = _numeric_codes([members, nonmembers, reference, synthetic])
        m, nm, ref, syn = frames
        assert len(nm) == len(ref)  # synthcity takes both from X_gt: the first and last halves
        evaluator = DomiasMIAKDE(use_cache=False, workspace=Path(workspace))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = evaluator.evaluate(
                GenericDataLoader(pd.concat([nm, ref], ignore_index=True)),  # X_gt
                GenericDataLoader(syn),  # the release
                GenericDataLoader(m),  # X_train: the members
                GenericDataLoader(syn),  # X_ref_syn (used by the BNAF variant only)
                reference_size=len(ref),
            )
        return float(out["aucroc"])

    return auc


def _numeric_codes(frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """What synthcity's KDE needs: every column numeric, no missing value.

    Categories become integer codes (one code table for all frames); the few missing values of
    randhie (3 in ``decision_maker_educ``) become the column's median over all frames.
    """
    joined = pd.concat(frames, ignore_index=True)
    cat_cols = [c for c in joined.columns if joined[c].dtype == object or c == "site"]
    tables = {
        c: {v: i for i, v in enumerate(sorted(joined[c].dropna().astype(str).unique()))}
        for c in cat_cols
    }
    out = []
    for f in frames:
        g = f.reset_index(drop=True).copy()
        for c, table in tables.items():
            g[c] = g[c].astype(str).map(table)
        out.append(g.astype(float))
    median = pd.concat(out, ignore_index=True).median()
    return [g.fillna(median) for g in out]


def _releases(data: dict[str, pd.DataFrame], schema: Schema) -> dict[str, pd.DataFrame]:
    members = data["train"].iloc[:N]
    holdout = data["holdout"].iloc[N:]  # the leaky generator's non-member rows
    out = {}
    for name, fraction in (("independent", 0.0), ("leaky(0.5)", 0.5), ("copy", 1.0)):
        gen = make_generator("leaky", fraction=fraction).fit(
            members, schema=schema, random_state=1, holdout=holdout
        )
        out[name] = gen.sample(N, random_state=2)
    return out


def test_domias_is_at_least_as_strong_as_synthcity(
    randhie: dict[str, pd.DataFrame], schema: Schema, synthcity_domias: Any
) -> None:
    """Same members (1000 training rows), non-members (1000 control rows), reference (1000
    held-out people) and releases for both implementations.

    Measured (AUC): synthcity 0.515 / 0.732 / 0.969 on the independent / leaky(0.5) / copy
    releases. Before this fix ours scored 0.505 / 0.593 / 0.654 (PCA to 10 dimensions, one shared
    bandwidth); now 0.512 / 0.755 / 0.991. At 1 % FPR ours finds 44 % / 71 % of the members
    (synthcity's score, recomputed outside its API: 4 % / 9 %). The best any score can reach on leaky(0.5) is about
    0.75: 500 of the 1000 members are released.

    Tolerance: one standard error of our AUC (a quarter of the width of its 95 % CI, about 0.011
    on leaky(0.5), 0.003 on the copy). Both AUCs are computed on the same records, so their
    difference is less noisy than either; a shortfall beyond one standard error is a real one.

    Why synthcity's numbers are what they are: its KDE DOMIAS scores ``p_syn / (p_ref + 1e-10)``
    on the raw columns, where densities are ~1e-17 (income is in dollars), so the 1e-10 swamps
    ``p_ref`` and its score is the release's density alone. That is a strong copy detector and a
    fair bar to clear, but it is not the density ratio of the DOMIAS paper.
    """
    members = randhie["train"].iloc[:N]
    nonmembers = randhie["control"].iloc[:N]
    reference = randhie["holdout"].iloc[:N]
    releases = _releases(randhie, schema)
    ours = {
        name: domias_mia(
            synthetic=syn,
            members=members,
            nonmembers=nonmembers,
            reference=reference,
            schema=schema,
            random_state=0,
        )
        for name, syn in releases.items()
    }
    theirs = {
        name: synthcity_domias(members, nonmembers, reference, syn)
        for name, syn in releases.items()
        if name != "independent"
    }
    summary = {k: (round(ours[k].auc, 3), round(v, 3)) for k, v in theirs.items()}
    for name, their_auc in theirs.items():
        res = ours[name]
        tolerance = (res.auc_ci[1] - res.auc_ci[0]) / 4
        assert res.auc >= their_auc - tolerance, (name, summary, tolerance)
    # A release of held-out people carries no membership signal: its AUC CI contains 0.5.
    low, high = ours["independent"].auc_ci
    assert low <= 0.5 <= high, (low, high)
    # And the leak is found at all: both leaky releases clearly above chance.
    assert ours["leaky(0.5)"].auc_ci[0] > 0.65 and ours["copy"].auc_ci[0] > 0.9, summary


def test_domias_finds_near_copies_that_are_not_exact(
    randhie: dict[str, pd.DataFrame], schema: Schema
) -> None:
    """Local overfitting without exact copies: every member released with its numeric columns
    jittered by 20 % of the column's standard deviation (categories kept). The density ratio is
    made for this; with one bandwidth shared by both densities and 10 PCA dimensions it reached
    AUC 0.645, now 0.972 (calibrated DCR: 0.894)."""
    rng = np.random.default_rng(0)
    members = randhie["train"].iloc[:N]
    nonmembers = randhie["control"].iloc[:N]
    reference = randhie["holdout"].iloc[:N]
    synthetic = members.reset_index(drop=True).copy()
    pooled = pd.concat([members, reference])
    for c in schema.used:
        if schema.kind(c).is_numeric:
            synthetic[c] = synthetic[c] + rng.normal(0, 0.2 * pooled[c].std(), len(synthetic))
    out = run_nobox_attacks(
        synthetic=synthetic,
        members=members,
        nonmembers=nonmembers,
        reference=reference,
        schema=schema,
        random_state=0,
    )
    assert out["domias"].auc_ci[0] > 0.9, out["domias"].auc_ci
    assert out["domias"].auc >= out["dcr"].auc - 0.01, (out["domias"].auc, out["dcr"].auc)


def test_kde_log_density_is_exact() -> None:
    """The KDE behind DOMIAS against a brute-force log-sum-exp over every pair, in 28 dimensions
    (randhie's whitened space), for exact copies, near points and points far from the data, where
    scikit-learn's tree search (``KernelDensity``) was off by tens of nats."""
    from scipy.special import logsumexp

    from synth_audit.membership.nobox import _gaussian_kde_log

    rng = np.random.default_rng(0)
    fit = rng.normal(size=(700, 28))
    query = np.vstack([fit[:20], fit[20:40] + 0.01, rng.normal(size=(20, 28)), 3 + fit[40:60]])
    for h in (0.1, 0.4, 0.8):
        sq = ((query[:, None, :] - fit[None, :, :]) ** 2).sum(axis=2)
        brute = logsumexp(-sq / (2 * h * h), axis=1) - np.log(700) - 14 * np.log(2 * np.pi * h * h)
        np.testing.assert_allclose(_gaussian_kde_log(fit, query, h), brute, rtol=1e-9, atol=1e-9)
