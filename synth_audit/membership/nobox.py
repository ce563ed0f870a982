"""No-box membership inference: the attacker holds the synthetic release and real population records.

Threat model. The attacker has (a) the released synthetic table, (b) a *reference* sample: real
records from the same population that are neither the generator's training records nor the records
being judged, and (c) the records it wants to judge. Nothing else: no access to the generator. Each
attack scores known members (records of the generator's training set) and known non-members (real
records it never saw); the scores go to :meth:`MembershipResult.from_scores` (higher = "member").

Attacks, and exactly what they score:

``dcr`` (distance to closest record, Gower distance of :mod:`synth_audit.encoding`)
    Without a reference (``dcr_raw``): ``score(x) = -d_syn(x)``, minus the Gower distance from
    ``x`` to its closest synthetic record. With a reference (``dcr``, the default in
    :func:`run_nobox_attacks`) the score is calibrated by the population::

        score(x) = log((d_ref(x) + ε) / (d_syn(x) + ε)),   ε = 1e-9

    where ``d_ref`` is the distance to the closest *reference* record. A record that lies close to
    the release but is not unusually close to the population is suspicious; a record in a dense
    region, which any good release comes close to, is not. ε only guards 0/0: it is far below any
    distance between two distinct records, so an exact copy scores ``log(d_ref / ε)``, above every
    record the release did not copy.

    Why a ratio and not the difference ``d_ref - d_syn``: on a release that copies 1000 randhie
    records, the difference reached only AUC 0.89 and TPR 0.19 at 1 % FPR (copied records in dense
    regions have small ``d_ref`` and hence small differences, below non-members in sparse
    regions), while the ratio reached AUC 1.0 and TPR 1.0, and both agree on releases without
    leakage (AUC ≈ 0.5) and on partial leakage. Distances are scale-dependent; a ratio is not.

``domias`` (density ratio, van Breugel et al. 2023, "Membership Inference Attacks against
Synthetic Data through Overfitting Detection")
    ``score(x) = log p_syn(x) - log p_ref(x)``: a generator that overfits puts more density on its
    training records than the population has there. Densities are fitted on a numeric space built
    from the shared mixed-type embedding (:class:`~synth_audit.encoding.MixedEncoder`: numeric
    columns scaled to [0, 1], categories one-hot, missing values as their own coordinates) and
    whitened by a PCA fitted on synthetic ∪ reference (the attacker's data). Every component with
    real variance is kept by default (``n_components=None``): the fine-grained numeric columns,
    which tell a copied record from its neighbours, carry little variance and were the first to go
    when the space was cut to 10 dimensions.

    The default density is a Gaussian kernel density estimate with one isotropic bandwidth in the
    whitened space. The reference density stands for the population and gets the bandwidth that
    suits a density estimate of its size, Scott's rule ``h = n ** (-1 / (d + 4))``
    (``bandwidth="cv"``: cross-validated likelihood on the reference).
    The release's density gets ``synthetic_bandwidth_factor × h`` (default 0.25): sharper, so that
    mass a generator puts on or near individual training records is not smoothed away. The factor
    changes power, not calibration: on a release independent of the members, members and
    non-members are exchangeable and the AUC stays at 0.5 whatever the bandwidths.
    ``density="gmm"`` uses full-covariance Gaussian mixtures instead (seeded).

    Measured on randhie (1000 members, 1000 non-members, 1000 reference rows, 1000-row release;
    ``tests/test_membership_hardening.py``): AUC 0.51 on held-out people, 0.755 on ``leaky(0.5)``
    (about 0.75 is the ceiling: half the members are released), 0.99 on a copy, 0.97 on members
    whose numeric columns are jittered by 0.2 sd (calibrated DCR: 0.89). With one shared Scott
    bandwidth and 10 PCA dimensions it had scored 0.59 / 0.65 / 0.65 on the last three; each change
    alone gave half to three quarters of the gain. synthcity's KDE DOMIAS scores 0.73 / 0.97 on the same
    leaky / copy releases: it scores ``p_syn / (p_ref + 1e-10)`` on raw columns, where densities are
    far below 1e-10, so its score is the release's density alone.

    The KDE is computed exactly (blocks of squared distances and a log-sum-exp).
    ``sklearn.neighbors.KernelDensity`` was not: in 28 dimensions its tree search returned log
    densities tens of nats too high for points far from the data (checked against a brute-force
    sum in ``tests/test_membership_hardening.py``).

    The reference must have a realistic size. synthcity's DOMIAS benchmark defaults to 10 reference
    records, a known flaw: a density fitted on 10 points is mostly kernel, the ratio then measures
    the release's density alone, and the reported AUCs are not comparable across releases. Here a
    reference under ``MIN_REFERENCE_ROWS`` (500) rows gives a warning in the result.

All attacks are deterministic given their inputs (and the seed of the GMM). Inputs are coerced
with :func:`synth_audit.data.prepare_inputs` against one schema, so CSV and Parquet spellings of
the same value agree and missing values follow the encoder's rules (missing equals missing, missing
vs present is the maximal distance 1).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from synth_audit._logging import get_logger
from synth_audit.data import prepare_inputs
from synth_audit.encoding import MixedEncoder, nearest_gower
from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.membership.result import MembershipResult
from synth_audit.results import AuditWarning
from synth_audit.schema import Schema, infer_schema

__all__ = [
    "MIN_REFERENCE_ROWS",
    "NOBOX_ATTACKS",
    "dcr_mia",
    "domias_mia",
    "run_nobox_attacks",
]

_log = get_logger("membership.nobox")

MIN_REFERENCE_ROWS = 500
NOBOX_ATTACKS = ("dcr", "domias")
Density = Literal["kde", "gmm"]
Bandwidth = Literal["scott", "silverman", "cv"] | float
_CV_FACTORS = (0.25, 0.5, 0.75, 1.0, 1.5)
# The release's KDE bandwidth as a share of the reference's (see the module docstring). Measured on
# randhie (1000 members, non-members, reference rows and release rows), AUC and TPR at 1 % FPR on
# leaky(0.5) / copy / members jittered by 0.2 sd / by 0.5 sd:
#   0.25: 0.755 0.991 0.972 0.850, TPR 0.44 0.71 0.44 0.11
#   0.5:  0.753 0.981 0.968 0.870, TPR 0.18 0.32 0.34 0.19
#   1:    0.691 0.821 0.807 (shared bandwidth), TPR 0.06 0.07 0.08
# 0.25 is far stronger at low false-positive rates and within 0.02 AUC elsewhere.
_SYN_BANDWIDTH_FACTOR = 0.25
_DENSITIES = ("kde", "gmm")
# Guards the DCR ratio against 0/0; far below any Gower distance two distinct records have here
# (one dollar of income over a 29,238 range in 16 columns is 2e-6).
_DCR_EPS = 1e-9
# A log density below this is treated as this (keeps every score finite; e^-700 is 0 in float64).
_LOG_FLOOR = -700.0
# Entries of one block of the query × fit distance matrix in the exact KDE (32 MB of float64).
_KDE_BLOCK = 4_000_000


# --------------------------------------------------------------------------------------------------
# Shared helpers (also used by shadow.py and selection.py)
# --------------------------------------------------------------------------------------------------


def check_int(value: Any, name: str, owner: str, minimum: int) -> int:
    """An int ``>= minimum`` (bools refused) or a ConfigError in the scikit-learn form."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(
            f"The {name!r} parameter of {owner} must be an int >= {minimum}. Got {value!r}."
        )
    return int(value)


def check_seed(random_state: Any, owner: str) -> int | None:
    if random_state is None:
        return None
    if (
        isinstance(random_state, bool)
        or not isinstance(random_state, int | np.integer)
        or random_state < 0
    ):
        raise ConfigError(
            f"The 'random_state' parameter of {owner} must be an int >= 0 or None. "
            f"Got {random_state!r}."
        )
    return int(random_state)


def check_frame(df: Any, role: str, owner: str, *, min_rows: int = 1) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(
            f"{owner}: {role!r} must be a pandas DataFrame. Got {type(df).__name__}."
        )
    if len(df) < min_rows:
        raise DataValidationError(
            f"{owner}: {role!r} has {len(df)} row(s); at least {min_rows} are needed."
        )
    return df


def coerce_frames(
    frames: Mapping[str, pd.DataFrame], schema: Schema | None, owner: str
) -> tuple[dict[str, pd.DataFrame], Schema]:
    """Coerce every frame to ``schema`` (inferred from the first frame when None), same columns.

    Goes through :func:`synth_audit.data.prepare_inputs`, which takes three frames at a time; the
    first frame is the anchor of every call, so all frames get the same columns, order and kinds.
    Row positions are kept (the result has a fresh RangeIndex).
    """
    # prepare_inputs refuses single-row tables (an audit needs many records); a single target
    # record is legitimate here, so it is coerced as two copies of itself and cut back.
    # Positions, not labels: prepare_inputs (as of this writing) aligns on the index and would
    # turn the rows of a frame with a non-default index into NaN.
    singles = {role for role, df in frames.items() if len(df) == 1}
    items = [
        (r, (pd.concat([df, df]) if r in singles else df).reset_index(drop=True))
        for r, df in frames.items()
    ]
    if not items:
        return {}, schema if schema is not None else Schema(())
    anchor_role, anchor = items[0]
    if schema is None:
        schema = infer_schema(anchor.rename(columns=str))
    rest = items[1:]
    out: dict[str, pd.DataFrame] = {}
    if not rest:
        data = prepare_inputs(anchor, anchor, schema=schema, sources={"train": anchor_role})
        out[anchor_role] = data.train.iloc[:1] if anchor_role in singles else data.train
        return out, data.schema
    for i in range(0, len(rest), 2):
        pair = rest[i : i + 2]
        sources = {"train": anchor_role, "synthetic": pair[0][0]}
        control = None
        if len(pair) == 2:
            sources["control"] = pair[1][0]
            control = pair[1][1]
        data = prepare_inputs(
            anchor, pair[0][1], control, schema=schema, sources=sources, check_control=False
        )
        out[anchor_role] = data.train
        out[pair[0][0]] = data.synthetic
        if control is not None:
            assert data.control is not None
            out[pair[1][0]] = data.control
        schema = data.schema
    return {role: out[role].iloc[:1] if role in singles else out[role] for role, _ in items}, schema


def labelled_ids(members: pd.DataFrame, nonmembers: pd.DataFrame) -> list[str]:
    """Record ids ``"member:<index label>"`` and ``"nonmember:<index label>"``.

    Row positions stand in for the labels of a frame whose index has duplicates.
    """

    def labels(df: pd.DataFrame) -> list[Any]:
        return list(df.index) if df.index.is_unique else list(range(len(df)))

    return [f"member:{i}" for i in labels(members)] + [f"nonmember:{i}" for i in labels(nonmembers)]


def _check_confidence(confidence_level: Any, owner: str) -> float:
    try:
        value = float(confidence_level)
    except (TypeError, ValueError):
        value = math.nan
    if not 0.0 < value < 1.0:
        raise ConfigError(
            f"The 'confidence_level' parameter of {owner} must be a float strictly between 0 and 1. "
            f"Got {confidence_level!r}."
        )
    return value


def _with_warnings(result: MembershipResult, extra: Sequence[str]) -> MembershipResult:
    if not extra:
        return result
    typed = tuple(AuditWarning("membership", w) for w in extra)
    return dataclasses.replace(result, warnings=(*result.warnings, *typed))


def _reference_warning(n_reference: int, attack: str) -> list[str]:
    if n_reference >= MIN_REFERENCE_ROWS:
        return []
    return [
        f"The reference set has {n_reference} rows; the {attack} attack needs a realistic "
        f"reference sample (at least {MIN_REFERENCE_ROWS} real population records) to estimate "
        "what 'close' or 'dense' means in the population. With fewer, its AUC understates or "
        "misstates the risk (synthcity's default of 10 reference records is the known extreme). "
        "Pass more real records that were never used for training."
    ]


def _ensure_scores(frames: Mapping[str, pd.DataFrame], owner: str) -> None:
    for role in ("members", "nonmembers"):
        if len(frames[role]) == 0:
            raise DataValidationError(
                f"{owner}: {role!r} is empty; membership is measured on known members and known "
                "non-members, so both need records."
            )


# --------------------------------------------------------------------------------------------------
# DCR
# --------------------------------------------------------------------------------------------------


def _dcr_scores(
    frames: Mapping[str, pd.DataFrame], schema: Schema, calibrated: bool
) -> tuple[np.ndarray, dict[str, float]]:
    # The exact compiled Gower search (the DCR diagnostic's): no one-hot embedding, so a
    # high-cardinality or categorical-heavy table does not send a tree search into dozens of
    # dimensions (sklearn's KD-tree did not finish 100k x 100k in 14 minutes).
    enc = MixedEncoder(schema).fit(list(frames.values()))
    queries = pd.concat([frames["members"], frames["nonmembers"]], ignore_index=True)
    cols = enc.columns
    d_syn, _ = nearest_gower(queries, frames["synthetic"], enc, cols)
    scores = -d_syn
    stats: dict[str, float] = {"mean_dcr_synthetic": float(d_syn.mean())}
    if calibrated:
        d_ref, _ = nearest_gower(queries, frames["reference"], enc, cols)
        scores = np.log((d_ref + _DCR_EPS) / (d_syn + _DCR_EPS))
        stats["mean_dcr_reference"] = float(d_ref.mean())
    return scores, stats


def dcr_mia(
    *,
    synthetic: pd.DataFrame,
    members: pd.DataFrame,
    nonmembers: pd.DataFrame,
    schema: Schema | None = None,
    reference: pd.DataFrame | None = None,
    random_state: int | None = None,
    confidence_level: float = 0.95,
) -> MembershipResult:
    """Distance-to-closest-record membership attack on a synthetic release.

    ``score = -d_syn(x)`` without ``reference``; ``score = log((d_ref(x) + ε) / (d_syn(x) + ε))``
    with it, ε = 1e-9 (see the module docstring for why a ratio). Distances are Gower distances over ``schema.used`` (inferred from
    ``members`` when ``schema`` is None). ``random_state`` is recorded only: the attack is
    deterministic. Record ids are ``"member:<index label>"`` / ``"nonmember:<index label>"``.
    """
    owner = "dcr_mia"
    seed = check_seed(random_state, owner)
    conf = _check_confidence(confidence_level, owner)
    raw = {"members": members, "nonmembers": nonmembers, "synthetic": synthetic}
    if reference is not None:
        raw["reference"] = reference
    for role, df in raw.items():
        check_frame(df, role, owner)
    frames, schema = coerce_frames(raw, schema, owner)
    _ensure_scores(frames, owner)
    ids = labelled_ids(members, nonmembers)
    return _dcr_result(frames, schema, ids, seed, conf, calibrated=reference is not None)


def _dcr_result(
    frames: Mapping[str, pd.DataFrame],
    schema: Schema,
    ids: list[str],
    seed: int | None,
    conf: float,
    *,
    calibrated: bool,
    attack: str = "dcr",
) -> MembershipResult:
    scores, stats = _dcr_scores(frames, schema, calibrated)
    n1, n0 = len(frames["members"]), len(frames["nonmembers"])
    n_ref = len(frames["reference"]) if calibrated else 0
    params: dict[str, Any] = {
        "score": "log((d_ref + eps) / (d_syn + eps))" if calibrated else "-d_syn",
        "eps": _DCR_EPS if calibrated else None,
        "distance": "gower",
        "calibrated": calibrated,
        "columns": list(schema.used),
        "n_synthetic": len(frames["synthetic"]),
        "n_reference": n_ref,
        **stats,
    }
    result = MembershipResult.from_scores(
        scores,
        np.r_[np.ones(n1, dtype=np.int8), np.zeros(n0, dtype=np.int8)],
        attack=attack,
        target="synthetic release",
        record_ids=ids,
        confidence_level=conf,
        seed=seed,
        params=params,
    )
    return _with_warnings(result, _reference_warning(n_ref, "calibrated DCR") if calibrated else [])


# --------------------------------------------------------------------------------------------------
# DOMIAS
# --------------------------------------------------------------------------------------------------


def _bandwidth(rule: Bandwidth, ref: np.ndarray, syn: np.ndarray, seed: int) -> tuple[float, str]:
    """The reference density's bandwidth, in the whitened space (unit variance per dimension)."""
    n = min(len(ref), len(syn))
    d = ref.shape[1]
    if isinstance(rule, int | float) and not isinstance(rule, bool):
        return float(rule), "given"
    if rule == "scott":
        return float(n ** (-1.0 / (d + 4))), "scott"
    if rule == "silverman":
        return float((n * (d + 2) / 4.0) ** (-1.0 / (d + 4))), "silverman"
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.neighbors import KernelDensity

    h0 = n ** (-1.0 / (d + 4))
    grid = {"bandwidth": list(h0 * np.array(_CV_FACTORS))}
    folds = KFold(n_splits=5, shuffle=True, random_state=seed)
    search = GridSearchCV(KernelDensity(kernel="gaussian"), grid, cv=folds).fit(ref)
    return float(search.best_params_["bandwidth"]), "cv"


def _gaussian_kde_log(fit_on: np.ndarray, query: np.ndarray, bandwidth: float) -> np.ndarray:
    """Exact log density of a Gaussian KDE (isotropic, ``bandwidth`` in every dimension).

    What ``KernelDensity(bandwidth=h).fit(fit_on).score_samples(query)`` is meant to return,
    computed by blocks of squared distances and a log-sum-exp. The tree search of scikit-learn is
    slower in the tens of dimensions used here and, far from the data, not exact.
    """
    n, d = fit_on.shape
    h2 = float(bandwidth) ** 2
    log_norm = -math.log(n) - 0.5 * d * math.log(2 * math.pi * h2)
    fit_on = np.ascontiguousarray(fit_on, dtype=np.float64)
    # -|q - f|^2 / (2 h^2) = (2 q.f - |q|^2 - |f|^2) / (2 h^2): one BLAS product per block, the
    # rest in place (scipy's logsumexp made several copies of every block and took 80 % of the time).
    fit_sq = np.einsum("ij,ij->i", fit_on, fit_on)
    scale = 1.0 / (2.0 * h2)
    out = np.empty(len(query))
    step = max(1, _KDE_BLOCK // max(n, 1))
    for start in range(0, len(query), step):
        q = np.ascontiguousarray(query[start : start + step], dtype=np.float64)
        a = q @ fit_on.T
        a *= 2.0
        a -= np.einsum("ij,ij->i", q, q)[:, None]
        a -= fit_sq[None, :]
        np.minimum(a, 0.0, out=a)  # rounding can make a zero distance slightly negative
        a *= scale
        top = a.max(axis=1)
        a -= top[:, None]
        np.exp(a, out=a)
        out[start : start + step] = np.log(a.sum(axis=1)) + top + log_norm
    return out


def _log_density(
    fit_on: np.ndarray, query: np.ndarray, density: str, bandwidth: float, n_gmm: int, seed: int
) -> tuple[np.ndarray, dict[str, Any]]:
    if density == "kde":
        out = _gaussian_kde_log(fit_on, query, bandwidth)
        info: dict[str, Any] = {"bandwidth": float(bandwidth)}
    else:
        from sklearn.mixture import GaussianMixture

        k = max(1, min(n_gmm, len(fit_on) // 20))
        gmm = GaussianMixture(
            n_components=k, covariance_type="full", reg_covar=1e-4, random_state=seed
        ).fit(fit_on)
        out = gmm.score_samples(query)
        info = {"gmm_components": int(k)}
    out = np.where(np.isfinite(out), out, _LOG_FLOOR)
    return np.maximum(out, _LOG_FLOOR), info


def _density_space(
    frames: Mapping[str, pd.DataFrame], schema: Schema, n_components: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Queries, synthetic and reference in the whitened PCA space of the shared embedding.

    ``n_components=None`` keeps every component with real variance.
    """
    from sklearn.decomposition import PCA

    enc = MixedEncoder(schema).fit(list(frames.values()))
    order = ["members", "nonmembers", "synthetic", "reference"]
    emb = enc.transform(pd.concat([frames[r] for r in order], ignore_index=True))
    sizes = np.cumsum([0] + [len(frames[r]) for r in order])
    q = emb[: sizes[2]]
    syn = emb[sizes[2] : sizes[3]]
    ref = emb[sizes[3] :]
    attacker = np.vstack([syn, ref])
    # Drop constant coordinates, then keep components with real variance only.
    keep = attacker.std(axis=0) > 1e-12
    q, syn, ref, attacker = q[:, keep], syn[:, keep], ref[:, keep], attacker[:, keep]
    if attacker.shape[1] == 0:  # every record is identical: one flat dimension, scores all 0
        return np.zeros((len(q), 1)), np.zeros((len(syn), 1)), np.zeros((len(ref), 1)), 1
    d = int(min(n_components or attacker.shape[1], attacker.shape[1], len(attacker) - 1))
    pca = PCA(n_components=d, whiten=True, svd_solver="covariance_eigh").fit(attacker)
    var = pca.explained_variance_
    d = int(max(1, np.sum(var > 1e-10 * max(float(var.max()), 1e-300))))
    proj = pca.transform
    return proj(q)[:, :d], proj(syn)[:, :d], proj(ref)[:, :d], d


def domias_mia(
    *,
    synthetic: pd.DataFrame,
    members: pd.DataFrame,
    nonmembers: pd.DataFrame,
    reference: pd.DataFrame,
    schema: Schema | None = None,
    density: Density = "kde",
    bandwidth: Bandwidth = "scott",
    synthetic_bandwidth_factor: float = _SYN_BANDWIDTH_FACTOR,
    n_components: int | None = None,
    gmm_components: int = 10,
    random_state: int | None = None,
    confidence_level: float = 0.95,
) -> MembershipResult:
    """DOMIAS density-ratio membership attack: ``score = log p_syn(x) - log p_ref(x)``.

    Densities live in the whitened PCA space of the shared mixed-type embedding, PCA fitted on
    synthetic ∪ reference (the attacker's data); ``n_components`` caps its dimension (default
    None: every component with real variance).

    * ``density="kde"`` (default): exact Gaussian kernel density estimates. The reference's bandwidth
      ``h`` is ``bandwidth``: ``"scott"`` (default, ``n ** (-1 / (d + 4))``), ``"silverman"``,
      ``"cv"`` (5-fold likelihood cross-validation on the reference over Scott × 0.25 … 1.5,
      seeded) or a number; ``n`` is the smaller of the two set sizes. The release's bandwidth is
      ``synthetic_bandwidth_factor × h`` (default 0.25, in (0, 1]; 1 smooths both alike): the
      reference stands for the population and is smoothed as a density estimate of its size, the
      release is looked at more sharply so that mass it puts on or near training records shows.
      The factor changes the attack's power, not its calibration (see the module docstring).
    * ``density="gmm"``: a full-covariance Gaussian mixture of ``min(gmm_components, n // 20)``
      components for each density, seeded.

    Log densities are floored at -700 so every score is finite. The attack is deterministic for a
    given ``random_state`` (which only the "cv" and "gmm" options use).

    ``reference`` is required and should hold at least ``MIN_REFERENCE_ROWS`` (500) real records
    disjoint from members and non-members; a smaller one gives a warning in the result. (synthcity's
    DOMIAS benchmark defaults to 10 reference records; a density fitted on 10 points is mostly
    kernel, and the ratio then measures little but the release's own density.)
    """
    owner = "domias_mia"
    seed = check_seed(random_state, owner)
    conf = _check_confidence(confidence_level, owner)
    if reference is None:
        raise ConfigError(
            f"{owner} needs a 'reference' sample: real population records, disjoint from members "
            f"and non-members (at least {MIN_REFERENCE_ROWS} rows), to estimate the population "
            "density the release is compared with."
        )
    if density not in _DENSITIES:
        raise ConfigError(
            f"The 'density' parameter of {owner} must be one of 'kde', 'gmm'. Got {density!r}."
        )
    numeric_bw = (
        isinstance(bandwidth, int | float)
        and not isinstance(bandwidth, bool)
        and 0 < float(bandwidth) < math.inf
    )
    if not (numeric_bw or bandwidth in ("scott", "silverman", "cv")):
        raise ConfigError(
            f"The 'bandwidth' parameter of {owner} must be 'scott', 'silverman', 'cv' or a "
            f"positive float. Got {bandwidth!r}."
        )
    if n_components is not None:
        n_components = check_int(n_components, "n_components", owner, 1)
    factor = synthetic_bandwidth_factor
    if (
        isinstance(factor, bool)
        or not isinstance(factor, int | float)
        or not 0 < float(factor) <= 1
    ):
        raise ConfigError(
            f"The 'synthetic_bandwidth_factor' parameter of {owner} must be a float in (0, 1]. "
            f"Got {factor!r}."
        )
    gmm_components = check_int(gmm_components, "gmm_components", owner, 1)
    raw = {
        "members": members,
        "nonmembers": nonmembers,
        "synthetic": synthetic,
        "reference": reference,
    }
    for role, df in raw.items():
        check_frame(df, role, owner, min_rows=2)
    frames, schema = coerce_frames(raw, schema, owner)
    _ensure_scores(frames, owner)
    ids = labelled_ids(members, nonmembers)
    return _domias_result(
        frames,
        schema,
        ids,
        seed,
        conf,
        density,
        bandwidth,
        float(factor),
        n_components,
        gmm_components,
    )


def _domias_result(
    frames: Mapping[str, pd.DataFrame],
    schema: Schema,
    ids: list[str],
    seed: int | None,
    conf: float,
    density: str,
    bandwidth: Bandwidth,
    synthetic_bandwidth_factor: float,
    n_components: int | None,
    gmm_components: int,
) -> MembershipResult:
    q, syn, ref, dims = _density_space(frames, schema, n_components)
    seeds = [int(x) for x in np.random.SeedSequence(seed or 0).generate_state(3)]
    h, rule = _bandwidth(bandwidth, ref, syn, seeds[2]) if density == "kde" else (0.0, "")
    h_syn = synthetic_bandwidth_factor * h
    log_syn, info_syn = _log_density(syn, q, density, h_syn, gmm_components, seeds[0])
    log_ref, info_ref = _log_density(ref, q, density, h, gmm_components, seeds[1])
    n1, n0 = len(frames["members"]), len(frames["nonmembers"])
    n_ref = len(frames["reference"])
    params: dict[str, Any] = {
        "score": "log p_syn - log p_ref",
        "density": density,
        "space": "MixedEncoder embedding -> whitened PCA (fitted on synthetic + reference)",
        "dimensions": dims,
        "n_components": n_components,
        "bandwidth": h if density == "kde" else None,
        "bandwidth_rule": rule or None,
        "synthetic_bandwidth_factor": synthetic_bandwidth_factor if density == "kde" else None,
        "synthetic_density": info_syn,
        "reference_density": info_ref,
        "columns": list(schema.used),
        "n_synthetic": len(frames["synthetic"]),
        "n_reference": n_ref,
    }
    result = MembershipResult.from_scores(
        log_syn - log_ref,
        np.r_[np.ones(n1, dtype=np.int8), np.zeros(n0, dtype=np.int8)],
        attack="domias",
        target="synthetic release",
        record_ids=ids,
        confidence_level=conf,
        seed=seed,
        params=params,
    )
    return _with_warnings(result, _reference_warning(n_ref, "DOMIAS"))


# --------------------------------------------------------------------------------------------------
# Runner entry point
# --------------------------------------------------------------------------------------------------


def run_nobox_attacks(
    *,
    synthetic: pd.DataFrame,
    members: pd.DataFrame,
    nonmembers: pd.DataFrame,
    reference: pd.DataFrame,
    schema: Schema | None = None,
    attacks: Sequence[str] = NOBOX_ATTACKS,
    random_state: int | None = None,
    confidence_level: float = 0.95,
    baseline: bool = True,
) -> dict[str, MembershipResult]:
    """Run the no-box attacks on one release; ``{attack name: MembershipResult}``.

    ``attacks`` is a subset of ``("dcr", "domias")``, plus ``"dcr_raw"`` for the uncalibrated DCR
    (``-d_syn``). ``dcr`` here is calibrated with ``reference``. The frames are coerced once
    against ``schema``; each attack gets a child seed of ``random_state``
    (``SeedSequence(random_state).spawn``), recorded in its result.

    With ``baseline`` (the default) every result carries, beside it, the same attack with a
    stand-in release that never saw the members: a random half of ``reference`` plays the release
    and the other half the reference. What the attack reaches there is what the split and the
    population reveal without the release; an attack that does not beat it gets the
    ``not_better_than_baseline`` warning (:meth:`MembershipResult.with_baseline`).
    """
    owner = "run_nobox_attacks"
    seed = check_seed(random_state, owner)
    known = (*NOBOX_ATTACKS, "dcr_raw")
    if isinstance(attacks, str) or not isinstance(attacks, Sequence) or not attacks:
        raise ConfigError(
            f"The 'attacks' parameter of {owner} must be a non-empty list drawn from "
            f"{', '.join(repr(a) for a in known)}. Got {attacks!r}."
        )
    unknown = [a for a in attacks if a not in known]
    if unknown:
        raise ConfigError(
            f"The 'attacks' parameter of {owner} names unknown attack(s) "
            f"{', '.join(repr(a) for a in unknown)}. Known: {', '.join(repr(a) for a in known)}."
        )
    raw = {
        "members": members,
        "nonmembers": nonmembers,
        "synthetic": synthetic,
        "reference": reference,
    }
    for role, df in raw.items():
        check_frame(df, role, owner, min_rows=2)
    frames, schema = coerce_frames(raw, schema, owner)
    _ensure_scores(frames, owner)
    ids = labelled_ids(members, nonmembers)
    conf = _check_confidence(confidence_level, owner)
    children: list[int | None] = (
        [None] * len(attacks)
        if seed is None
        else [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(len(attacks))]
    )
    stand_in: dict[str, pd.DataFrame] | None = None
    ref = frames["reference"]
    if baseline and len(ref) >= 4:
        order = np.random.default_rng(seed).permutation(len(ref))
        half = len(ref) // 2
        stand_in = {
            **frames,
            "synthetic": ref.iloc[order[:half]].reset_index(drop=True),
            "reference": ref.iloc[order[half:]].reset_index(drop=True),
        }

    def one(name: str, fr: Mapping[str, pd.DataFrame], child: int | None) -> MembershipResult:
        if name == "domias":
            return _domias_result(
                fr, schema, ids, child, conf, "kde", "scott", _SYN_BANDWIDTH_FACTOR, None, 10
            )
        return _dcr_result(fr, schema, ids, child, conf, calibrated=name == "dcr", attack=name)

    out: dict[str, MembershipResult] = {}
    for name, child in zip(attacks, children, strict=True):
        out[name] = one(name, frames, child)
        if stand_in is not None:
            base = one(name, stand_in, child)
            base = dataclasses.replace(base, attack=f"{name} (baseline: no release)")
            out[name] = out[name].with_baseline(base)
        _log.debug("%s: AUC %.3f", name, out[name].auc)
    return out
