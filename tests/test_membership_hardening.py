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


# --------------------------------------------------------------------------------------------------
# Item 11: the DCR diagnostic says what its test shows
# --------------------------------------------------------------------------------------------------


def _audit(train: pd.DataFrame, synthetic: pd.DataFrame, control: pd.DataFrame, schema: Schema):  # type: ignore[no-untyped-def]
    from synth_audit.data import prepare_inputs

    return prepare_inputs(train, synthetic, control, schema=schema)


def test_dcr_on_people_the_generator_never_saw_does_not_claim_reproduction(
    randhie: dict[str, pd.DataFrame], schema: Schema
) -> None:
    """The issue's case: p ≈ 0.04 on a release with no copying at all. The release is 1500
    held-out people; train and control are a random re-split of train ∪ control (seed 110, one of
    12 tried, the one that crossed p < 0.05 as one in twenty does). Two of the held-out people
    equal a training record on every column, none a control record: real people coincide.

    Before: "The generator may reproduce training records." plus an ``exact_copies`` warning.
    Now: the milder ``dcr_small_excess`` (52.2 % against 50.0 %, p = 0.042, an excess of 4.5 %),
    which states the exact copies separately, and no claim of reproduction.
    """
    from synth_audit.diagnostics import dcr_diagnostic

    pool = pd.concat([randhie["train"], randhie["control"]], ignore_index=True)
    pool = pool.sample(frac=1.0, random_state=110)
    synthetic = randhie["holdout"].sample(1500, random_state=10)
    dcr = dcr_diagnostic(_audit(pool.iloc[:2000], synthetic, pool.iloc[2000:], schema))
    assert dcr is not None
    assert 0.02 < dcr.p_value < 0.05, dcr.p_value  # the situation of the issue
    assert (dcr.exact_copies_of_train, dcr.exact_copies_of_control) == (2, 0)
    codes = [w.code for w in dcr.warnings]
    assert codes == ["dcr_small_excess"], dcr.warnings
    message = dcr.warnings[0].message
    assert "reproduce training records" not in message.replace("does not show", "")
    assert "may reproduce" not in message
    for part in ("52.2 %", "50.0 %", "p = 0.042", "4.47 %", "2 synthetic records equal a training"):
        assert part in message, (part, message)


def test_dcr_near_copies_are_material_but_not_called_reproductions(
    randhie: dict[str, pd.DataFrame], schema: Schema
) -> None:
    """Half the release are training records with their numeric columns jittered by 0.2 sd (no
    exact copy), the rest held-out people: 72.7 % closer to train against 50 %, an excess of
    45.3 %. Material, but not a reproduction, and the message must not call it one."""
    from synth_audit.diagnostics import dcr_diagnostic

    rng = np.random.default_rng(3)
    train, control = randhie["train"], randhie["control"]
    near = train.sample(500, random_state=4).reset_index(drop=True)
    for c in schema.used:
        if schema.kind(c).is_numeric:
            near[c] = near[c] + rng.normal(0, 0.2 * train[c].std(), len(near))
    synthetic = pd.concat([near, randhie["holdout"].iloc[:500]], ignore_index=True)
    dcr = dcr_diagnostic(_audit(train, synthetic, control, schema))
    assert dcr is not None
    # One held-out person happens to equal a training record: chance, not copying.
    assert dcr.exact_copies_of_train <= 1
    assert [w.code for w in dcr.warnings] == ["dcr_closer_to_train"], dcr.warnings
    message = dcr.warnings[0].message
    assert "72.7 %" in message and "45.3 %" in message and "material" in message, message
    assert "places records near its training records" in message
    assert "The release reproduces" not in message and "may reproduce" not in message


def test_dcr_exact_copies_say_the_release_reproduces_training_records(
    randhie: dict[str, pd.DataFrame], schema: Schema
) -> None:
    """A fifth of the release copied from train: both warnings, and now the reproduction is
    named (before, ``exact_copies`` fired on 2 coincidences against 0 as well)."""
    from synth_audit.diagnostics import dcr_diagnostic

    train, control = randhie["train"], randhie["control"]
    synthetic = pd.concat(
        [train.sample(200, random_state=5), randhie["holdout"].iloc[:800]], ignore_index=True
    )
    dcr = dcr_diagnostic(_audit(train, synthetic, control, schema))
    assert dcr is not None
    assert dcr.exact_copies_of_train >= 200
    by_code = {w.code: w.message for w in dcr.warnings}
    assert set(by_code) == {"dcr_closer_to_train", "exact_copies"}, dcr.warnings
    assert by_code["exact_copies"].startswith("The release reproduces training records")
    assert (
        "The release reproduces training records (see exact_copies)"
        in by_code["dcr_closer_to_train"]
    )


@pytest.mark.parametrize(
    ("n", "share", "code"),
    [
        # 50,000 records, 50.5 % against 50 %: p ≈ 0.013, an excess of 1 %: detectable, harmless.
        (50_000, 0.505, "dcr_small_excess"),
        # 2,000 records, 53 %: p ≈ 0.004, an excess of 6 %: material.
        (2_000, 0.53, "dcr_closer_to_train"),
        # 2,000 records, 51 %: p ≈ 0.19: nothing to say.
        (2_000, 0.51, None),
    ],
)
def test_dcr_warning_weighs_the_size_of_the_excess(n: int, share: float, code: str | None) -> None:
    """Hand-checkable: excess = (share − expected) / (1 − expected) against 5 %, and
    significance from the same binomial test the diagnostic runs."""
    from scipy.stats import binomtest

    from synth_audit.diagnostics import dcr_warnings

    p = binomtest(round(share * n), n, 0.5, alternative="greater").pvalue
    warns = dcr_warnings(
        n_synthetic=n,
        share=share,
        expected=0.5,
        p_value=p,
        only_train_copies=0,
        only_control_copies=0,
        copies_of_train=0,
        copies_of_control=0,
    )
    assert [w.code for w in warns] == ([code] if code else []), (p, warns)
    if code:
        assert f"{2 * (share - 0.5) * 100:.{2 if share < 0.55 else 1}f} %" in warns[0].message
