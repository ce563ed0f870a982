"""Membership attacks on a classifier: signal attacks, LiRA and RMIA with cached reference models.

Members and non-members come from one random split of one pool (the caller's). Every attack gives
a :class:`~synth_audit.membership.MembershipResult` with TPR at 0.1 %, 1 % and 10 % FPR, the most
exposed records and, beside it, a **baseline**: a model-free attacker (logistic regression on the
records' features and labels, cross-validated on the same members and non-members) that shows what
the split alone reveals.

Reference models (LiRA, RMIA) are clones of the target (its ``refit``) trained on

* ``offline``: random halves of the attacker's reference pool (never a challenge record);
* ``online``: complementary halves of the challenge records and the reference pool, in pairs, so
  each challenge record is "in" exactly half of the models (LiRA online needs both sides; the
  offline attacks and RMIA then use each record's "out" models).

A random sample of the reference pool (``n_population``) is held aside from every model: RMIA's
population records ``z``. Each reference model's per-record outputs (true-label probability and
logit-scaled confidence on the challenge and ``z`` records) are cached by key: the SHA-256 of the
recipe (target kind, parameters), the training subset (row hashes, in order), the seed and the
evaluated records (see :class:`OutputCache`, :func:`reference_key`). Fits run on ``executor`` (any
``concurrent.futures.Executor``) or inline; a study plans them before its runs
(:func:`plan_reference_fits`, one :class:`ReferenceFitTask` per model, with the keys the run
looks up) and makes them on its executor, so its runs find them cached.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd

from synth_audit._logging import get_logger
from synth_audit.errors import ConfigError, DataValidationError, format_names
from synth_audit.membership import MembershipResult
from synth_audit.models.features import class_index
from synth_audit.models.lira import lira_scores
from synth_audit.models.rmia import rmia_scores
from synth_audit.models.signals import compute_signal, logit_confidence
from synth_audit.results import AuditWarning
from synth_audit.seeding import named_seeds, spawn_seeds

__all__ = [
    "ATTACKS",
    "DirCache",
    "MembershipOutcome",
    "MembershipSettings",
    "OutputCache",
    "ReferenceFitTask",
    "ReferencePlan",
    "StoreCache",
    "plan_reference_fits",
    "plan_reference_models",
    "reference_fit_tasks",
    "reference_key",
    "run_membership",
]

_log = get_logger(__name__)

SIGNAL_ATTACKS = ("loss", "confidence", "entropy", "modified_entropy")
REFERENCE_ATTACKS = (
    "lira_online",
    "lira_online_global",
    "lira_offline",
    "lira_offline_global",
    "rmia",
)
ATTACKS = SIGNAL_ATTACKS + REFERENCE_ATTACKS
MODES = ("online", "offline", "none")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class MembershipSettings:
    """What to run: ``attacks`` (names from :data:`ATTACKS`), ``n_reference`` models
    (``reference_mode`` online/offline/none), RMIA's ``rmia_gamma`` and ``rmia_a``, the number of
    population records ``n_population`` held aside for RMIA, ``top_k`` exposed records."""

    attacks: tuple[str, ...] = ATTACKS
    n_reference: int = 4
    reference_mode: str = "online"
    rmia_gamma: float = 2.0
    rmia_a: float = 0.3
    n_population: int = 500
    confidence_level: float = 0.95
    top_k: int = 20

    def __post_init__(self) -> None:
        problems = []
        unknown = [a for a in self.attacks if a not in ATTACKS]
        if unknown:
            problems.append(
                f"'attacks' has unknown name(s) {format_names(unknown)}; known: "
                f"{', '.join(ATTACKS)}"
            )
        if self.reference_mode not in MODES:
            problems.append(
                f"'reference_mode' must be one of {', '.join(MODES)}; got {self.reference_mode!r}"
            )
        if not isinstance(self.n_reference, int) or self.n_reference < 1:
            problems.append(f"'n_reference' must be an int >= 1; got {self.n_reference!r}")
        elif self.reference_mode == "online" and self.n_reference % 2:
            problems.append(
                f"'n_reference' must be even with reference_mode = 'online' (models come in "
                f"complementary pairs); got {self.n_reference}"
            )
        if self.reference_mode == "offline" and any(
            a.startswith("lira_online") for a in self.attacks
        ):
            problems.append(
                "LiRA online needs models trained on the challenge records: use reference_mode = "
                "'online', or drop lira_online and lira_online_global from 'attacks'"
            )
        if not isinstance(self.n_population, int) or self.n_population < 10:
            problems.append(f"'n_population' must be an int >= 10; got {self.n_population!r}")
        if problems:
            raise ConfigError(
                "The membership settings have problems:\n" + "\n".join(f"  - {p}" for p in problems)
            )

    @property
    def needs_reference(self) -> bool:
        return self.reference_mode != "none" and any(a in REFERENCE_ATTACKS for a in self.attacks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "attacks": list(self.attacks),
            "n_reference": self.n_reference,
            "reference_mode": self.reference_mode,
            "rmia_gamma": self.rmia_gamma,
            "rmia_a": self.rmia_a,
            "n_population": self.n_population,
            "confidence_level": self.confidence_level,
            "top_k": self.top_k,
        }


# --------------------------------------------------------------------------------------------------
# Caches of reference-model outputs
# --------------------------------------------------------------------------------------------------


class OutputCache(Protocol):
    """Per-record outputs of reference models by key (64 hex digits)."""

    def get(self, key: str) -> pd.DataFrame | None: ...

    def put(
        self,
        key: str,
        frame: pd.DataFrame,
        *,
        recipe: Mapping[str, Any],
        seed: int,
        fit_seconds: float | None = None,
    ) -> None: ...


class DirCache:
    """Parquet files ``<key>.parquet`` in a directory (the CLI's and Python's cache)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def get(self, key: str) -> pd.DataFrame | None:
        f = self.path / f"{key}.parquet"
        if not f.is_file():
            return None
        try:
            return pd.read_parquet(f)
        except Exception:  # a damaged file is refitted
            _log.warning("damaged reference cache file %s; refitting", f)
            return None

    def put(
        self,
        key: str,
        frame: pd.DataFrame,
        *,
        recipe: Mapping[str, Any],
        seed: int,
        fit_seconds: float | None = None,
    ) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.path / f".{key}.tmp.parquet"
        frame.to_parquet(tmp, index=False)
        tmp.replace(self.path / f"{key}.parquet")


class StoreCache:
    """The study store's fit cache (:meth:`Store.put_fit`): the outputs frame is the 'sample'."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def get(self, key: str) -> pd.DataFrame | None:
        if self.store.get_fit(key) is None:
            return None
        try:
            return self.store.read_fit(key)  # type: ignore[no-any-return]
        except Exception:
            return None

    def put(
        self,
        key: str,
        frame: pd.DataFrame,
        *,
        recipe: Mapping[str, Any],
        seed: int,
        fit_seconds: float | None = None,
    ) -> None:
        from synth_audit.study.provenance import worker_id

        self.store.put_fit(
            key,
            recipe=dict(recipe),
            subset_hash=str(recipe.get("subset", "")),
            seed=int(seed),
            sample_seed=0,
            sample=frame,
            worker_id=worker_id(),
            fit_seconds=fit_seconds,
        )


def _row_hash(frame: pd.DataFrame) -> str:
    h = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False).to_numpy()
    return hashlib.sha256(h.tobytes()).hexdigest()


def _recipe(target: Any) -> dict[str, Any]:
    params = {}
    for k, v in target.get_params().items():
        if k == "estimator":
            params[k] = {"class": type(v).__name__, "params": repr(v.get_params())}
        else:
            params[k] = v
    info = target.info()
    # "pets" is what the target's own fit did to its data (counts, accuracies), not its recipe:
    # the reference models apply the PETs to their own subsets, and a plan made before the target
    # is fitted (a study's fit tasks) must give the same keys
    described = {k: v for k, v in info.params.items() if k != "pets"}
    return {"kind": target.kind, "name": info.name, "params": params, "info": described}


def reference_key(recipe: Mapping[str, Any], subset_hash: str, seed: int, eval_hash: str) -> str:
    """The cache key of one reference model's outputs: SHA-256 of the recipe (:func:`_recipe`),
    the training subset's row hash, the fit seed and the evaluated records' row hash."""
    return hashlib.sha256(
        json.dumps(
            {"recipe": recipe, "subset": subset_hash, "seed": seed, "eval": eval_hash},
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()


# --------------------------------------------------------------------------------------------------
# Reference models
# --------------------------------------------------------------------------------------------------


def _outputs(model: Any, frame: pd.DataFrame, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = model.predict_proba(frame)
    return p[np.arange(y.size), y], logit_confidence(p, y)


def _fit_reference(
    target: Any, train: pd.DataFrame, evaluate: pd.DataFrame, y: np.ndarray, seed: int
) -> tuple[pd.DataFrame, float]:
    """Top-level (picklable) task: fit a clone on ``train``, return outputs on ``evaluate``."""
    t0 = time.perf_counter()
    model = target.clone().fit(train, random_state=seed)
    p_true, phi = _outputs(model, evaluate, y)
    return pd.DataFrame({"p_true": p_true, "phi": phi}), time.perf_counter() - t0


@dataclass
class ReferenceOutputs:
    p_true: np.ndarray  # (R, n + m): challenge records then z
    phi: np.ndarray
    in_mask: np.ndarray  # (R, n): challenge records only
    n_challenge: int
    fit_seconds: list[float] = field(default_factory=list)
    cache_hits: int = 0


def _plan_subsets(
    n_challenge: int, n_pool: int, n_reference: int, mode: str, seed: int
) -> list[np.ndarray]:
    """Training subsets as indices into [challenge records..., reference pool...]."""
    rng = np.random.default_rng(seed)
    subsets: list[np.ndarray] = []
    if mode == "offline":
        for _ in range(n_reference):
            pick = rng.permutation(n_pool)[: n_pool // 2]
            subsets.append(n_challenge + np.sort(pick))
        return subsets
    n = n_challenge + n_pool
    for _ in range(n_reference // 2):
        perm = rng.permutation(n)
        subsets.append(np.sort(perm[: n // 2]))
        subsets.append(np.sort(perm[n // 2 :]))
    return subsets


@dataclass(frozen=True, eq=False)
class ReferenceFit:
    """One planned reference model: the rows it trains on (``train``, in fit order; ``subset``
    their indices into [challenge records..., reference pool...]), its fit ``seed``, the row hash
    of ``train`` and its cache ``key`` (:func:`reference_key`)."""

    subset: np.ndarray
    train: pd.DataFrame
    seed: int
    subset_hash: str
    key: str


@dataclass(frozen=True, eq=False)
class ReferencePlan:
    """Every reference model of one audit (:func:`plan_reference_models`): the ``recipe``
    (:func:`_recipe`), the evaluated records (``evaluate``: the challenge records, then RMIA's
    population ``z``) with their class indices ``y_eval``, and the ``fits``."""

    recipe: dict[str, Any]
    evaluate: pd.DataFrame
    y_eval: np.ndarray
    n_challenge: int
    fits: list[ReferenceFit]

    def stored_recipe(self, fit: ReferenceFit) -> dict[str, Any]:
        """What a cache records as the fit's recipe: :attr:`recipe` with the subset hash."""
        return {**self.recipe, "subset": fit.subset_hash}


def plan_reference_models(
    target: Any,
    challenge: pd.DataFrame,
    pool: pd.DataFrame,
    population: pd.DataFrame,
    y_eval: np.ndarray,
    *,
    settings: MembershipSettings,
    seed: int,
) -> ReferencePlan:
    """The reference models :func:`fit_reference_models` uses (same subsets, seeds and keys)."""
    n = len(challenge)
    everything = pd.concat([challenge, pool], ignore_index=True)
    evaluate = pd.concat([challenge, population], ignore_index=True)
    subsets = _plan_subsets(n, len(pool), settings.n_reference, settings.reference_mode, seed)
    seeds = spawn_seeds(seed, len(subsets))
    recipe = _recipe(target)
    eval_hash = _row_hash(evaluate)
    fits = []
    for idx, s in zip(subsets, seeds, strict=True):
        train = everything.iloc[idx]
        subset_hash = _row_hash(train)
        key = reference_key(recipe, subset_hash, s, eval_hash)
        fits.append(ReferenceFit(idx, train, s, subset_hash, key))
    return ReferencePlan(recipe, evaluate, np.asarray(y_eval), n, fits)


def fit_reference_models(
    target: Any,
    challenge: pd.DataFrame,
    pool: pd.DataFrame,
    population: pd.DataFrame,
    y_eval: np.ndarray,
    *,
    settings: MembershipSettings,
    seed: int,
    executor: Executor | None = None,
    cache: OutputCache | None = None,
    progress: Progress | None = None,
) -> ReferenceOutputs:
    """Train (or read from ``cache``) the reference models and collect their outputs."""
    plan = plan_reference_models(
        target, challenge, pool, population, y_eval, settings=settings, seed=seed
    )
    n = plan.n_challenge
    evaluate = plan.evaluate
    in_mask = np.zeros((len(plan.fits), n), dtype=bool)
    results: list[pd.DataFrame | None] = [None] * len(plan.fits)
    pending: list[int] = []
    hits = 0
    for r, f in enumerate(plan.fits):
        in_mask[r, f.subset[f.subset < n]] = True
        got = cache.get(f.key) if cache is not None else None
        if got is not None and len(got) == len(evaluate):
            results[r] = got
            hits += 1
        else:
            pending.append(r)
    times: list[float] = []
    done = hits
    total = len(plan.fits)
    if progress is not None:
        progress("reference models", done, total)

    def record(r: int, frame: pd.DataFrame, secs: float) -> None:
        nonlocal done
        results[r] = frame
        times.append(secs)
        if cache is not None:
            f = plan.fits[r]
            cache.put(f.key, frame, recipe=plan.stored_recipe(f), seed=f.seed, fit_seconds=secs)
        done += 1
        if progress is not None:
            progress("reference models", done, total)

    if executor is None:
        for r in pending:
            f = plan.fits[r]
            frame, secs = _fit_reference(target, f.train, evaluate, plan.y_eval, f.seed)
            record(r, frame, secs)
    else:
        futures = {
            r: executor.submit(
                _fit_reference,
                target,
                plan.fits[r].train,
                evaluate,
                plan.y_eval,
                plan.fits[r].seed,
            )
            for r in pending
        }
        for r, fut in futures.items():
            frame, secs = fut.result()
            record(r, frame, secs)
    p_true = np.vstack([np.asarray(f["p_true"], dtype=float) for f in results if f is not None])
    phi = np.vstack([np.asarray(f["phi"], dtype=float) for f in results if f is not None])
    return ReferenceOutputs(p_true, phi, in_mask, n, times, hits)


@dataclass(frozen=True, eq=False)
class ReferenceFitTask:
    """One reference model of a classifier study run as a fit task on the study's executor
    (:func:`synth_audit.study.fits.run_fit_task`): rebuild the recipe target ``name``/``params``,
    fit a clone on ``train`` with ``seed`` and cache its outputs on ``evaluate`` (labels
    ``y_eval``) in the store's fit cache under :meth:`key`, exactly as the run itself would
    (:class:`StoreCache`). Picklable: plain data only."""

    cache_key: str
    name: str
    seed: int
    params: Mapping[str, Any] = field(repr=False)
    train: pd.DataFrame = field(repr=False)
    evaluate: pd.DataFrame = field(repr=False)
    y_eval: np.ndarray = field(repr=False)
    recipe: Mapping[str, Any] = field(repr=False)

    #: What one fit occupies: one thread, no GPU (passed to Dask as ``resources=``).
    resources: ClassVar[Mapping[str, int]] = {"threads": 1, "gpus": 0}

    def key(self) -> str:
        return self.cache_key

    def run(self, store: Any) -> None:
        """Fit and cache (what the study's executor runs)."""
        from synth_audit.models.target import ClassifierTarget

        target = ClassifierTarget(name=self.name, **dict(self.params))
        frame, secs = _fit_reference(target, self.train, self.evaluate, self.y_eval, self.seed)
        StoreCache(store).put(
            self.cache_key, frame, recipe=self.recipe, seed=self.seed, fit_seconds=secs
        )


def reference_fit_tasks(target: Any, plan: ReferencePlan) -> list[ReferenceFitTask]:
    """The fit tasks of ``plan`` for a recipe target (one that rebuilds from its params)."""
    params = target.get_params()
    if "estimator" in params or getattr(target, "_train_fn", None) is not None:
        raise ConfigError(
            "Reference fit tasks rebuild the target from its recipe; a handed-over estimator or "
            "training function is fitted in the audit itself."
        )
    return [
        ReferenceFitTask(
            cache_key=f.key,
            name=target.info().name,
            seed=int(f.seed),
            params=params,
            train=f.train,
            evaluate=plan.evaluate,
            y_eval=plan.y_eval,
            recipe=plan.stored_recipe(f),
        )
        for f in plan.fits
    ]


# --------------------------------------------------------------------------------------------------
# Baseline
# --------------------------------------------------------------------------------------------------


def baseline_scores(challenge: pd.DataFrame, labels: np.ndarray, seed: int) -> np.ndarray:
    """A model-free attacker: logistic regression on the records' features (label included)
    predicting membership, scored out of fold (5-fold cross-validation)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from synth_audit.models.features import TabularEncoder

    X = TabularEncoder().fit_transform(challenge)
    out = np.zeros(len(challenge))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed % (2**32 - 1))
    for tr, te in folds.split(X, labels):
        clf = LogisticRegression(max_iter=500).fit(X[tr], labels[tr])
        out[te] = clf.predict_proba(X[te])[:, 1]
    return out


# --------------------------------------------------------------------------------------------------
# The attacks
# --------------------------------------------------------------------------------------------------


def _features_only(target: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """The records without an id column that stored probabilities are looked up by (an id says
    nothing about a person, but may say which file a record came from)."""
    backend = getattr(target, "_backend", None)
    id_col = getattr(backend, "id_column", None)
    return frame.drop(columns=[id_col]) if id_col in frame.columns else frame


@dataclass
class MembershipOutcome:
    """Every attack's result, with the per-record scores the risk factors and DP sections read."""

    results: dict[str, MembershipResult]
    scores: dict[str, np.ndarray]
    labels: np.ndarray
    record_ids: list[str]
    challenge: pd.DataFrame
    seeds: dict[str, int]
    timings_s: dict[str, float]
    reference: dict[str, Any]


def _labels_index(target: Any, frame: pd.DataFrame, where: str) -> np.ndarray:
    y = class_index(frame[target.label], target.classes)
    bad = frame[target.label][y < 0]
    if len(bad):
        raise DataValidationError(
            f"{where}: the label column {target.label!r} holds value(s) "
            f"{format_names(bad.astype(str).unique())} that the model does not know (its classes: "
            f"{format_names(target.classes)}). Remove those records or give the model's classes."
        )
    return y


_RUN_SEEDS = ("reference", "population", "baseline")


def _reference_large_enough(reference: pd.DataFrame | None, st: MembershipSettings) -> bool:
    return reference is not None and len(reference) >= st.n_population + 10


def _population_split(
    reference: pd.DataFrame, st: MembershipSettings, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(RMIA's population records, the pool reference models train on) of ``reference``."""
    order = np.random.default_rng(seed).permutation(len(reference))
    population = reference.iloc[np.sort(order[: st.n_population])].reset_index(drop=True)
    pool = reference.iloc[np.sort(order[st.n_population :])].reset_index(drop=True)
    return population, pool


def plan_reference_fits(
    target: Any,
    members: pd.DataFrame,
    nonmembers: pd.DataFrame,
    reference: pd.DataFrame | None,
    *,
    settings: MembershipSettings | None = None,
    random_state: int = 0,
) -> ReferencePlan | None:
    """The reference models :func:`run_membership` with the same arguments looks up in its cache
    (same population split, subsets, seeds and keys), or None when it makes none (no reference
    attack, ``reference_mode = 'none'``, or a reference sample it would refuse).

    ``target`` need not be fitted, but must know its :attr:`classes` and be the recipe it will be
    once fitted (its ``get_params()`` as after ``fit``)."""
    st = settings or MembershipSettings()
    wants_ref = [a for a in st.attacks if a in REFERENCE_ATTACKS]
    if not (wants_ref and st.needs_reference) or not _reference_large_enough(reference, st):
        return None
    assert reference is not None
    seeds = named_seeds(random_state, list(_RUN_SEEDS))
    challenge = pd.concat([members, nonmembers], ignore_index=True)
    y = _labels_index(target, challenge, "The members and non-members")
    population, pool = _population_split(reference, st, seeds["population"])
    yz = _labels_index(target, population, "The population sample")
    return plan_reference_models(
        target, challenge, pool, population, np.r_[y, yz], settings=st, seed=seeds["reference"]
    )


def run_membership(
    target: Any,
    members: pd.DataFrame,
    nonmembers: pd.DataFrame,
    reference: pd.DataFrame | None,
    *,
    settings: MembershipSettings | None = None,
    random_state: int = 0,
    executor: Executor | None = None,
    cache: OutputCache | None = None,
    progress: Progress | None = None,
    target_name: str | None = None,
) -> MembershipOutcome:
    """Run ``settings.attacks`` against the fitted ``target``; see the module's docstring."""
    from synth_audit.targets import Capability, require

    st = settings or MembershipSettings()
    seeds = named_seeds(random_state, list(_RUN_SEEDS))
    timings: dict[str, float] = {}
    name = target_name or target.info().name
    require(target, [Capability.PREDICT_PROBA], who="The membership attacks")
    if len(members) < 5 or len(nonmembers) < 5:
        raise DataValidationError(
            f"The membership attacks need at least 5 members and 5 non-members; got "
            f"{len(members)} and {len(nonmembers)}. Give larger splits."
        )
    challenge = pd.concat([members, nonmembers], ignore_index=True)
    labels = np.r_[np.ones(len(members), dtype=int), np.zeros(len(nonmembers), dtype=int)]
    ids = [f"member:{i}" for i in range(len(members))] + [
        f"nonmember:{i}" for i in range(len(nonmembers))
    ]
    y = _labels_index(target, challenge, "The members and non-members")

    t0 = time.perf_counter()
    p = target.predict_proba(challenge)
    scores: dict[str, np.ndarray] = {}
    for a in st.attacks:
        if a in SIGNAL_ATTACKS:
            scores[a] = compute_signal(a, p, y)
    timings["signals"] = round(time.perf_counter() - t0, 3)

    ref_info: dict[str, Any] = {"mode": "none", "n_models": 0}
    wants_ref = [a for a in st.attacks if a in REFERENCE_ATTACKS]
    if wants_ref and st.needs_reference:
        require(target, [Capability.REFIT], who="LiRA and RMIA (reference models)")
        if not _reference_large_enough(reference, st):
            raise DataValidationError(
                f"LiRA and RMIA need a reference sample of more than n_population = "
                f"{st.n_population} records (+10 to train reference models on); got "
                f"{0 if reference is None else len(reference)}. Give a larger reference sample "
                "or lower n_population."
            )
        assert reference is not None
        population, pool = _population_split(reference, st, seeds["population"])
        yz = _labels_index(target, population, "The population sample")
        t0 = time.perf_counter()
        ref = fit_reference_models(
            target,
            challenge,
            pool,
            population,
            np.r_[y, yz],
            settings=st,
            seed=seeds["reference"],
            executor=executor,
            cache=cache,
            progress=progress,
        )
        timings["reference_models"] = round(time.perf_counter() - t0, 3)
        n = len(challenge)
        phi_t = logit_confidence(p, y)
        for a in wants_ref:
            if a.startswith("lira"):
                scores[a] = lira_scores(
                    phi_t,
                    ref.phi[:, :n],
                    ref.in_mask,
                    online=a.startswith("lira_online"),
                    global_variance=a.endswith("_global"),
                )
        if "rmia" in wants_ref:
            pz = target.predict_proba(population)[np.arange(len(yz)), yz]
            scores["rmia"] = rmia_scores(
                p[np.arange(n), y],
                ref.p_true[:, :n],
                ~ref.in_mask,
                pz,
                ref.p_true[:, n:],
                gamma=st.rmia_gamma,
                a=st.rmia_a,
            )
        ref_info = {
            "mode": st.reference_mode,
            "n_models": int(ref.p_true.shape[0]),
            "n_population": len(population),
            "n_pool": len(pool),
            "cache_hits": int(ref.cache_hits),
            "fit_seconds": [round(s, 3) for s in ref.fit_seconds],
            "min_side": int(
                min(
                    (~ref.in_mask).sum(axis=0).min(),
                    ref.in_mask.sum(axis=0).min() if st.reference_mode == "online" else 2,
                )
            ),
        }
    elif wants_ref:
        _log.info("reference attacks %s skipped: reference_mode = 'none'", wants_ref)

    t0 = time.perf_counter()
    base = MembershipResult.from_scores(
        baseline_scores(_features_only(target, challenge), labels, seeds["baseline"]),
        labels,
        attack="features_only",
        target=name,
        record_ids=ids,
        confidence_level=st.confidence_level,
        seed=seeds["baseline"],
        top_k=st.top_k,
        params={"model": "logistic regression on features and label", "cv_folds": 5},
    )
    results: dict[str, MembershipResult] = {}
    for a, s in scores.items():
        params: dict[str, Any] = {"signal": a}
        if a.startswith("lira"):
            params = {
                "online": a.startswith("lira_online"),
                "variance": "global" if a.endswith("_global") else "per_example",
                "n_reference": ref_info["n_models"],
            }
        elif a == "rmia":
            params = {
                "gamma": st.rmia_gamma,
                "a": st.rmia_a,
                "n_reference": ref_info["n_models"],
                "n_population": ref_info["n_population"],
            }
        res = MembershipResult.from_scores(
            s,
            labels,
            attack=a,
            target=name,
            record_ids=ids,
            confidence_level=st.confidence_level,
            seed=random_state,
            top_k=st.top_k,
            params=params,
            unit="record",
            n_target_models=1,
        )
        if a in ("lira_online", "lira_offline") and ref_info.get("min_side", 2) < 2:
            import dataclasses

            res = dataclasses.replace(
                res,
                warnings=(
                    *res.warnings,
                    AuditWarning(
                        "few_reference_models",
                        f"Some records have fewer than 2 reference models on one side "
                        f"({ref_info['n_models']} models in all): their per-example variance is "
                        "a floor, not an estimate. Read the _global variant, or use more "
                        "reference models.",
                    ),
                ),
            )
        results[a] = res.with_baseline(base)
    timings["scoring"] = round(time.perf_counter() - t0, 3)
    return MembershipOutcome(results, scores, labels, ids, challenge, seeds, timings, ref_info)


def check_attack_names(names: Sequence[str]) -> None:
    unknown = [a for a in names if a not in ATTACKS]
    if unknown:
        raise ConfigError(
            f"Unknown attack(s) {format_names(unknown)}; known: {', '.join(ATTACKS)}."
        )
