"""One value object for every membership-inference attack: :class:`MembershipResult`.

An attack on any target (a synthetic release, a generator, a classifier, a language model, a
diffusion model) produces one score per record for known members (label 1) and known non-members
(label 0), higher meaning "more likely a member". :meth:`MembershipResult.from_scores` turns those
scores into the evidence every report, store and frontier uses, with the statistics of
:mod:`synth_audit.membership.stats`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from synth_audit.errors import ConfigError, DataValidationError, format_names
from synth_audit.membership.stats import (
    AucCiMethod,
    EpsilonBound,
    TprAtFpr,
    _check_confidence,
    _check_delta,
    _check_target_fpr,
    _roc_counts,
    _tpr_at_fpr_from_counts,
    auc_ci,
    check_scores_labels,
    downsample_roc,
    epsilon_lower_bound_from_scores,
)
from synth_audit.results import AuditWarning

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SCHEMA", "SCHEMA_VERSION", "MembershipResult", "RecordId", "per_record_frame"]

SCHEMA = "synth_audit.membership_result"
SCHEMA_VERSION = 2  # 2: typed warnings, unit, n_target_models, baseline (1 is still read)
UNITS = ("record", "entity", "document", "image", "canary")

RecordId = int | str | float
DEFAULT_FPRS: tuple[float, ...] = (0.001, 0.01, 0.1)
ROC_MAX_POINTS = 200


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _plain_id(value: Any) -> RecordId:
    """A record id as a JSON-safe scalar: ints and strings stay, numpy scalars become Python ones,
    anything else (dates, tuples, ...) becomes its ``str``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return str(value)


def _record_ids(record_ids: ArrayLike | Sequence[Any] | None, n: int, func: str) -> list[RecordId]:
    if record_ids is None:
        return list(range(n))
    ids_arr = np.asarray(record_ids, dtype=object)
    if ids_arr.ndim != 1 or ids_arr.shape[0] != n:
        raise DataValidationError(
            f"{func}: 'record_ids' must be 1-D with one id per score. Got shape {ids_arr.shape} "
            f"for {n} scores."
        )
    ids = [_plain_id(v) for v in ids_arr.tolist()]
    seen: set[RecordId] = set()
    dupes: set[RecordId] = set()
    for rid in ids:
        (dupes if rid in seen else seen).add(rid)
    if dupes:
        raise DataValidationError(
            f"{func}: 'record_ids' must be unique; {len(dupes)} id(s) occur more than once: "
            f"{format_names(dupes)}. Pass one id per record (e.g. the row index)."
        )
    return ids


def _jsonable(value: Any, where: str) -> Any:
    """Normalise attack params to plain JSON types so ``from_dict(to_dict(r)) == r`` holds."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(
                f"MembershipResult params: {where} is {value!r}; only finite numbers can be stored "
                "as JSON. Use None or a large finite value instead."
            )
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ConfigError(
                    f"MembershipResult params: keys must be strings; {where} has key {k!r} of type "
                    f"{type(k).__name__}."
                )
            out[k] = _jsonable(v, f"{where}[{k!r}]")
        return out
    if isinstance(value, list | tuple):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise ConfigError(
        f"MembershipResult params: {where} has type {type(value).__name__}, which cannot be stored "
        "as JSON. Use str, int, float, bool, None, lists or dicts of them."
    )


def _pct(confidence: float) -> str:
    return f"{confidence * 100:.4g} %"


def _fpr_key(fpr: float) -> str:
    return f"{fpr:g}"


# --------------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MembershipResult:
    """Evidence of membership leakage from one attack on one target.

    Fields: ``attack`` and ``target`` (names); ``auc`` with ``auc_ci`` (two-sided at
    ``confidence_level``, method ``auc_ci_method``); ``roc``, a downsampled ``(fpr, tpr)`` pair of
    tuples (at most 200 points, exact endpoints, dense at low FPR); ``tpr_at``, a dict
    target FPR → :class:`~synth_audit.membership.stats.TprAtFpr`; ``epsilon``, the empirical
    :class:`~synth_audit.membership.stats.EpsilonBound`; the counts; ``seed`` (recorded, not used:
    the scoring is deterministic); ``top_exposed``, ``(record_id, score, is_member)`` for the
    highest-scoring *members* (ties keep input order); ``warnings`` that every report shows;
    ``params``, the attack's settings (plain JSON values); ``unit``, what one score is about
    (record, entity, document, image, canary); ``n_target_models``, how many target models the
    scores were pooled over (LiRA/RMIA evaluations; their CIs assume independent draws);
    ``baseline``, the same statistics for a model-free or release-free attack on the same members
    and non-members (what an attacker learns without the target; see :meth:`with_baseline`).

    Build it with :meth:`from_scores`; store it with :meth:`to_dict` / :meth:`from_dict` (exact round
    trip) and compare runs with :meth:`summary`.
    """

    attack: str
    target: str
    auc: float
    auc_ci: tuple[float, float]
    roc: tuple[tuple[float, ...], tuple[float, ...]]
    tpr_at: dict[float, TprAtFpr]
    epsilon: EpsilonBound
    n_members: int
    n_nonmembers: int
    confidence_level: float
    seed: int | None = None
    top_exposed: tuple[tuple[RecordId, float, bool], ...] = ()
    warnings: tuple[AuditWarning, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    auc_ci_method: str = "newcombe"
    unit: str = "record"
    n_target_models: int = 1
    baseline: MembershipResult | None = None

    def __post_init__(self) -> None:
        # Warnings may be given as plain strings (older callers, version-1 files): they become
        # typed warnings with the generic code "membership".
        typed = tuple(
            w if isinstance(w, AuditWarning) else AuditWarning("membership", str(w))
            for w in self.warnings
        )
        object.__setattr__(self, "warnings", typed)
        if self.unit not in UNITS:
            raise ConfigError(
                f"The 'unit' of a MembershipResult must be one of {', '.join(map(repr, UNITS))}. "
                f"Got {self.unit!r}."
            )

    # ------------------------------------------------------------------------------------ build

    @classmethod
    def from_scores(
        cls,
        scores: ArrayLike,
        labels: ArrayLike,
        *,
        attack: str,
        target: str,
        record_ids: ArrayLike | Sequence[Any] | None = None,
        confidence_level: float = 0.95,
        seed: int | None = None,
        fprs: Sequence[float] = DEFAULT_FPRS,
        top_k: int = 20,
        params: Mapping[str, Any] | None = None,
        delta: float = 0.0,
        auc_ci_method: AucCiMethod = "newcombe",
        threshold_from: tuple[ArrayLike, ArrayLike] | None = None,
        unit: str = "record",
        n_target_models: int = 1,
    ) -> MembershipResult:
        """Score an attack: ``scores`` (higher = more likely a member) and ``labels`` (1 = member).

        ``record_ids`` default to positions 0..n-1. ``delta`` is the δ of the ε lower bound.
        ``threshold_from=(scores, labels)`` of a separate calibration split makes the ε bound's
        threshold independent of the evaluated scores (see
        :func:`~synth_audit.membership.stats.epsilon_lower_bound_from_scores`); without it the
        threshold is maximised on the same scores and the bound is optimistic.
        """
        func = "MembershipResult.from_scores"
        for name, value in (("attack", attack), ("target", target)):
            if not isinstance(value, str) or not value:
                raise ConfigError(
                    f"The {name!r} parameter of {func} must be a non-empty str. Got {value!r}."
                )
        conf = _check_confidence(confidence_level, func, "confidence_level")
        d = _check_delta(delta, func)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
            raise ConfigError(
                f"The 'seed' parameter of {func} must be an int or None. Got {seed!r} of type "
                f"{type(seed).__name__}."
            )
        if isinstance(top_k, bool) or not isinstance(top_k, int | np.integer) or top_k < 0:
            raise ConfigError(
                f"The 'top_k' parameter of {func} must be an int >= 0. Got {top_k!r}."
            )
        targets = [_check_target_fpr(f, func) for f in fprs]
        if len(set(targets)) != len(targets):
            raise ConfigError(f"The 'fprs' parameter of {func} has duplicates: {list(fprs)!r}.")
        clean_params = _jsonable(dict(params or {}), "params")
        if unit not in UNITS:
            raise ConfigError(
                f"The 'unit' parameter of {func} must be one of {', '.join(map(repr, UNITS))}. "
                f"Got {unit!r}."
            )
        if (
            isinstance(n_target_models, bool)
            or not isinstance(n_target_models, int | np.integer)
            or n_target_models < 1
        ):
            raise ConfigError(
                f"The 'n_target_models' parameter of {func} must be an int >= 1. Got "
                f"{n_target_models!r}."
            )

        s, m = check_scores_labels(scores, labels, func=func)
        ids = _record_ids(record_ids, s.size, func)
        n1 = int(m.sum())
        n0 = int(s.size - n1)

        a, lo, hi = auc_ci(s, m, conf, method=auc_ci_method)
        fps, tps, thresholds = _roc_counts(s, m)
        roc_f, roc_t = downsample_roc(fps / float(n0), tps / float(n1), ROC_MAX_POINTS)
        tpr_at = {t: _tpr_at_fpr_from_counts(fps, tps, thresholds, t, conf) for t in targets}
        eps = epsilon_lower_bound_from_scores(
            s, m, delta=d, confidence=conf, threshold_from=threshold_from
        )

        member_idx = np.flatnonzero(m)
        order = member_idx[np.argsort(-s[member_idx], kind="stable")][: int(top_k)]
        top = tuple((ids[i], float(s[i]), True) for i in order.tolist())

        warnings: list[AuditWarning] = []
        if lo <= 0.5 <= hi:
            warnings.append(
                AuditWarning(
                    "auc_ci_contains_half",
                    f"AUC CI [{lo:.3f}, {hi:.3f}] contains 0.5: no evidence of membership leakage "
                    f"at the {_pct(conf)} level.",
                )
            )
        elif hi < 0.5:
            warnings.append(
                AuditWarning(
                    "auc_below_half",
                    f"AUC CI [{lo:.3f}, {hi:.3f}] lies below 0.5: members score lower than "
                    "non-members. Check the attack's orientation (a higher score must mean "
                    "'member').",
                )
            )
        warnings.extend(
            AuditWarning("fpr_unresolvable", r.warning)
            for r in tpr_at.values()
            if r.warning is not None
        )
        if eps.saturated:
            warnings.append(
                AuditWarning(
                    "epsilon_saturated",
                    f"The ε lower bound ({eps.epsilon:.3g}) reached the largest value {n1} members "
                    f"and {n0} non-members can certify at {_pct(conf)}; more records are needed "
                    "to certify a larger ε.",
                )
            )

        return cls(
            attack=attack,
            target=target,
            auc=float(a),
            auc_ci=(float(lo), float(hi)),
            roc=(tuple(float(x) for x in roc_f), tuple(float(x) for x in roc_t)),
            tpr_at=tpr_at,
            epsilon=eps,
            n_members=n1,
            n_nonmembers=n0,
            confidence_level=conf,
            seed=None if seed is None else int(seed),
            top_exposed=top,
            warnings=tuple(warnings),
            params=clean_params,
            auc_ci_method=str(auc_ci_method),
            unit=unit,
            n_target_models=int(n_target_models),
        )

    def with_baseline(self, baseline: MembershipResult) -> MembershipResult:
        """This result with ``baseline`` beside it (same members and non-members, no target).

        Adds the warning ``not_better_than_baseline`` when the attack's AUC does not exceed the
        baseline's AUC CI: the attack then measures what the split reveals, not the target.
        """
        import dataclasses

        if (baseline.n_members, baseline.n_nonmembers) != (self.n_members, self.n_nonmembers):
            raise DataValidationError(
                f"The baseline of {self.attack!r} scores {baseline.n_members} members and "
                f"{baseline.n_nonmembers} non-members, the attack {self.n_members} and "
                f"{self.n_nonmembers}: a baseline must score the same records."
            )
        extra: tuple[AuditWarning, ...] = ()
        if self.auc <= baseline.auc_ci[1]:
            extra = (
                AuditWarning(
                    "not_better_than_baseline",
                    f"The attack's AUC ({self.auc:.3f}) is within the baseline's AUC CI "
                    f"[{baseline.auc_ci[0]:.3f}, {baseline.auc_ci[1]:.3f}] ({baseline.attack}): "
                    "it shows no more than an attacker learns without the target.",
                ),
            )
        plain = dataclasses.replace(baseline, baseline=None)
        return dataclasses.replace(self, baseline=plain, warnings=(*self.warnings, *extra))

    # ------------------------------------------------------------------------------------ store

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (plain ints, floats, strs, bools, lists; ``+inf`` thresholds as "inf")."""
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "attack": self.attack,
            "target": self.target,
            "auc": self.auc,
            "auc_ci": [self.auc_ci[0], self.auc_ci[1]],
            "auc_ci_method": self.auc_ci_method,
            "roc": {"fpr": list(self.roc[0]), "tpr": list(self.roc[1])},
            "tpr_at": [r.to_dict() for r in self.tpr_at.values()],
            "epsilon": self.epsilon.to_dict(),
            "n_members": self.n_members,
            "n_nonmembers": self.n_nonmembers,
            "confidence_level": self.confidence_level,
            "seed": self.seed,
            "top_exposed": [
                {"record_id": rid, "score": score, "is_member": member}
                for rid, score, member in self.top_exposed
            ],
            "warnings": [w.to_dict() for w in self.warnings],
            "params": _jsonable(self.params, "params"),
            "unit": self.unit,
            "n_target_models": self.n_target_models,
            "baseline": None if self.baseline is None else self.baseline.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MembershipResult:
        """Inverse of :meth:`to_dict`: ``from_dict(to_dict(r)) == r``."""
        version = d.get("schema_version")
        if d.get("schema") != SCHEMA or not isinstance(version, int) or version > SCHEMA_VERSION:
            raise DataValidationError(
                f"Cannot read a membership result with schema {d.get('schema')!r} version "
                f"{version!r}; this synth-audit reads {SCHEMA!r} up to version {SCHEMA_VERSION}. "
                "Upgrade synth-audit or re-run the attack."
            )
        try:
            tpr_at = {r.target_fpr: r for r in (TprAtFpr.from_dict(x) for x in d["tpr_at"])}
            return cls(
                attack=str(d["attack"]),
                target=str(d["target"]),
                auc=float(d["auc"]),
                auc_ci=(float(d["auc_ci"][0]), float(d["auc_ci"][1])),
                roc=(
                    tuple(float(x) for x in d["roc"]["fpr"]),
                    tuple(float(x) for x in d["roc"]["tpr"]),
                ),
                tpr_at=tpr_at,
                epsilon=EpsilonBound.from_dict(d["epsilon"]),
                n_members=int(d["n_members"]),
                n_nonmembers=int(d["n_nonmembers"]),
                confidence_level=float(d["confidence_level"]),
                seed=None if d.get("seed") is None else int(d["seed"]),
                top_exposed=tuple(
                    (_plain_id(x["record_id"]), float(x["score"]), bool(x["is_member"]))
                    for x in d.get("top_exposed", [])
                ),
                warnings=tuple(
                    AuditWarning.from_dict(w) if isinstance(w, Mapping) else str(w)  # type: ignore[misc]
                    for w in d.get("warnings", [])
                ),
                params=dict(d.get("params") or {}),
                auc_ci_method=str(d.get("auc_ci_method", "newcombe")),
                unit=str(d.get("unit", "record")),
                n_target_models=int(d.get("n_target_models", 1)),
                baseline=None if d.get("baseline") is None else cls.from_dict(d["baseline"]),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise DataValidationError(
                f"The stored membership result is incomplete or malformed ({type(exc).__name__}: "
                f"{exc}). Re-run the attack to regenerate it."
            ) from None

    # ------------------------------------------------------------------------------------ rows

    def rows(self, name: str | None = None) -> list[dict[str, Any]]:
        """Store rows (``ResultRow.from_dict`` form) named ``membership.<name>.<quantity>``.

        Each row's ``extra`` carries ``role`` (``risk`` or ``diagnostic``), ``direction`` and
        ``bounds``, so the frontier and reports need no knowledge of membership names:

        * ``auc_advantage`` (role ``risk``): 2·AUC − 1 clipped at 0, with the AUC CI mapped the same
          way; 0 is a coin flip, 1 a perfect attack. It is the risk a frontier ranks by;
        * ``auc``, ``tpr_at_<f>_fpr`` (with the realised FPR) and ``epsilon_lb`` (diagnostics).
        """
        key = name or self.attack
        n = int(self.n_members + self.n_nonmembers)
        counts = {"n_members": int(self.n_members), "n_nonmembers": int(self.n_nonmembers)}
        conf = self.confidence_level
        unit = {"unit": self.unit, "n_target_models": self.n_target_models}

        def row(
            metric: str,
            value: float | None,
            lo: float | None,
            hi: float | None,
            extra: dict[str, Any],
        ) -> dict[str, Any]:
            return {
                "metric": f"membership.{key}.{metric}",
                "value": value,
                "ci_low": lo,
                "ci_high": hi,
                "confidence_level": conf,
                "n": n,
                "counts": counts,
                "extra": {**extra, **unit},
            }

        def adv(a: float) -> float:
            return max(0.0, 2.0 * a - 1.0)

        out = [
            row(
                "auc_advantage",
                adv(self.auc),
                adv(self.auc_ci[0]),
                adv(self.auc_ci[1]),
                {
                    "role": "risk",
                    "direction": "lower_is_better",
                    "bounds": [0.0, 1.0],
                    "definition": "max(0, 2 * AUC - 1)",
                },
            ),
            row(
                "auc",
                self.auc,
                self.auc_ci[0],
                self.auc_ci[1],
                {
                    "role": "diagnostic",
                    "direction": "lower_is_better",
                    "bounds": [0.0, 1.0],
                    "ideal": 0.5,
                    "warnings": [w.code for w in self.warnings],
                    "seed": self.seed,
                },
            ),
        ]
        for fpr, r in self.tpr_at.items():
            out.append(
                row(
                    f"tpr_at_{_fpr_key(fpr)}_fpr",
                    r.tpr,
                    r.tpr_ci[0],
                    r.tpr_ci[1],
                    {
                        "role": "diagnostic",
                        "direction": "lower_is_better",
                        "bounds": [0.0, 1.0],
                        "ideal": fpr,
                        "realised_fpr": r.realised_fpr,
                        "target_fpr": fpr,
                    },
                )
            )
        out.append(
            row(
                "epsilon_lb",
                self.epsilon.epsilon,
                None,
                None,
                {
                    "role": "diagnostic",
                    "direction": "lower_is_better",
                    "bounds": [0.0, None],
                    "ceiling": self.epsilon.ceiling,
                },
            )
        )
        return out

    # ---------------------------------------------------------------------------------- headline

    def summary(self) -> dict[str, float | int | None]:
        """Flat dict of the headline numbers, for result stores and the frontier.

        Stable keys (``{f}`` is each target FPR formatted with ``:g``, by default ``0.001``,
        ``0.01`` and ``0.1``):

        * ``auc``, ``auc_ci_low``, ``auc_ci_high``
        * ``tpr_at_{f}_fpr``, ``tpr_at_{f}_fpr_ci_low``, ``tpr_at_{f}_fpr_ci_high``
        * ``realised_fpr_at_{f}`` (the FPR actually achieved, ≤ f)
        * ``epsilon_lb``, ``epsilon_ceiling``
        * ``n_members``, ``n_nonmembers``, ``confidence_level``
        """
        out: dict[str, float | int | None] = {
            "auc": self.auc,
            "auc_ci_low": self.auc_ci[0],
            "auc_ci_high": self.auc_ci[1],
        }
        for fpr, r in self.tpr_at.items():
            key = f"tpr_at_{_fpr_key(fpr)}_fpr"
            out[key] = r.tpr
            out[f"{key}_ci_low"] = r.tpr_ci[0]
            out[f"{key}_ci_high"] = r.tpr_ci[1]
            out[f"realised_fpr_at_{_fpr_key(fpr)}"] = r.realised_fpr
        out["epsilon_lb"] = self.epsilon.epsilon
        out["epsilon_ceiling"] = self.epsilon.ceiling
        out["n_members"] = self.n_members
        out["n_nonmembers"] = self.n_nonmembers
        out["confidence_level"] = self.confidence_level
        return out


# --------------------------------------------------------------------------------------------------
# Per-record artefact
# --------------------------------------------------------------------------------------------------


def per_record_frame(
    scores: ArrayLike,
    labels: ArrayLike,
    record_ids: ArrayLike | Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Per-record scores as a DataFrame (``record_id``, ``score``, ``is_member``, ``rank``).

    Rows keep the input order. ``rank`` is 1 for the highest score; tied scores share the smallest
    rank of their group ("min" ranking), so rank ``r`` means ``r - 1`` records scored strictly
    higher. Meant to be stored as a Parquet artefact next to the :class:`MembershipResult`.
    """
    import pandas as pd

    func = "per_record_frame"
    s, m = check_scores_labels(scores, labels, func=func)
    ids = _record_ids(record_ids, s.size, func)
    rank = sps.rankdata(-s, method="min").astype(np.int64)
    return pd.DataFrame(
        {
            "record_id": pd.Series(ids, dtype=object),
            "score": s,
            "is_member": m.astype(bool),
            "rank": rank,
        }
    )
