"""Which records to attack (the *challenge* records): a random sample, or the most vulnerable ones.

"Target" names the thing attacked (a release, a generator, a model: :mod:`synth_audit.targets`); the
records whose membership is tested are its challenges. ``TargetSelection`` / ``select_targets`` are
the deprecated names of :class:`ChallengeSelection` / :func:`select_challenges`.

Membership risk is not uniform. Records in sparse regions of the data (outliers) are the ones a
generator can only reproduce by memorising them, and the ones whose presence changes the release
most (Stadler et al. 2022; Meeus et al. 2023, "Achilles' heels"). An average-case AUC over random
records can therefore hide a real risk to a few people; an audit should also attack the outliers.

Isolation of a record = its mean Gower distance (the shared distance of
:mod:`synth_audit.encoding`) to its ``k`` nearest neighbours in the *population*, the union of
members, non-members and, when given, the reference sample; the record itself is not its own
neighbour (an exact duplicate of it is, at distance 0). ``strategy="vulnerable"`` takes the ``n``
most isolated members and the ``n`` most isolated non-members (equal numbers, so an AUC over them
is balanced); ``strategy="random"`` takes ``n`` of each uniformly without replacement, seeded.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from synth_audit.encoding import MixedEncoder, nearest_neighbors
from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.membership.nobox import check_frame, check_int, check_seed, coerce_frames
from synth_audit.schema import Schema

__all__ = [
    "STRATEGIES",
    "ChallengeSelection",
    "TargetSelection",
    "isolation_scores",
    "select_challenges",
    "select_targets",
]

Strategy = Literal["random", "vulnerable"]
STRATEGIES = ("random", "vulnerable")


@dataclass(frozen=True)
class ChallengeSelection:
    """Chosen challenge records as row *positions* (0-based, ``iloc``) into ``members`` and ``nonmembers``.

    ``member_isolation`` / ``nonmember_isolation`` hold the isolation (mean Gower distance to the
    ``k`` nearest population records) of each chosen record, in the same order. For
    ``strategy="vulnerable"`` the rows are sorted from most to least isolated; for ``"random"``
    they are in the order drawn.
    """

    members: np.ndarray
    nonmembers: np.ndarray
    member_isolation: np.ndarray
    nonmember_isolation: np.ndarray
    strategy: str
    k: int
    seed: int | None

    def to_dict(self) -> dict[str, object]:
        return {
            "members": [int(i) for i in self.members],
            "nonmembers": [int(i) for i in self.nonmembers],
            "member_isolation": [float(x) for x in self.member_isolation],
            "nonmember_isolation": [float(x) for x in self.nonmember_isolation],
            "strategy": self.strategy,
            "k": self.k,
            "seed": self.seed,
        }


def _isolation(
    frames: dict[str, pd.DataFrame], schema: Schema, k: int
) -> tuple[np.ndarray, np.ndarray]:
    population = pd.concat(list(frames.values()), ignore_index=True)
    enc = MixedEncoder(schema).fit([population])
    emb = enc.transform(population)
    kk = min(k + 1, len(population))
    dist, _ = nearest_neighbors(emb, emb, kk, n_columns=enc.n_columns)
    # Column 0 is the record itself (or an exact duplicate: the same distance, 0).
    iso = dist[:, 1:].mean(axis=1) if kk > 1 else np.zeros(len(population))
    n_m = len(frames["members"])
    n_n = len(frames["nonmembers"])
    return iso[:n_m], iso[n_m : n_m + n_n]


def isolation_scores(
    frame: pd.DataFrame,
    population: pd.DataFrame,
    *,
    schema: Schema | None = None,
    k: int = 5,
    exclude_self: bool = True,
) -> np.ndarray:
    """Mean Gower distance of each row of ``frame`` to its ``k`` nearest rows of ``population``.

    With ``exclude_self`` (default) ``frame``'s rows are taken to be rows of ``population``: each
    one's nearest neighbour (itself, at distance 0) is skipped. Use it to compare challenge
    selections.
    """
    owner = "isolation_scores"
    k = check_int(k, "k", owner, 1)
    check_frame(frame, "frame", owner)
    check_frame(population, "population", owner, min_rows=2)
    frames, schema = coerce_frames({"population": population, "frame": frame}, schema, owner)
    enc = MixedEncoder(schema).fit([frames["population"]])
    q, c = enc.transform_pair(frames["frame"], frames["population"])
    skip = 1 if exclude_self else 0
    kk = min(k + skip, len(population))
    dist, _ = nearest_neighbors(q, c, kk, n_columns=enc.n_columns)
    return np.asarray(dist[:, skip:].mean(axis=1), dtype=np.float64)


def select_challenges(
    members: pd.DataFrame,
    nonmembers: pd.DataFrame,
    *,
    n: int,
    strategy: Strategy = "random",
    schema: Schema | None = None,
    reference: pd.DataFrame | None = None,
    k: int = 5,
    random_state: int | None = None,
) -> ChallengeSelection:
    """Choose ``n`` members and ``n`` non-members to attack (see the module docstring).

    Returns row positions into ``members`` and ``nonmembers`` with their isolation. The
    population used for isolation is members ∪ non-members ∪ ``reference`` (when given); pass the
    reference so that "isolated" means isolated in the population, not only among the challenges.
    """
    owner = "select_challenges"
    n = check_int(n, "n", owner, 1)
    k = check_int(k, "k", owner, 1)
    seed = check_seed(random_state, owner)
    if strategy not in STRATEGIES:
        raise ConfigError(
            f"The 'strategy' parameter of {owner} must be one of 'random', 'vulnerable'. "
            f"Got {strategy!r}."
        )
    check_frame(members, "members", owner)
    check_frame(nonmembers, "nonmembers", owner)
    too_few = [
        f"{role} has {len(df)}"
        for role, df in (("members", members), ("nonmembers", nonmembers))
        if len(df) < n
    ]
    if too_few:
        raise DataValidationError(
            f"{owner}: n={n} challenge records of each class were asked for, but {' and '.join(too_few)} "
            "rows. Lower n or pass more records."
        )
    raw = {"members": members, "nonmembers": nonmembers}
    if reference is not None:
        check_frame(reference, "reference", owner)
        raw["reference"] = reference
    frames, schema = coerce_frames(raw, schema, owner)
    iso_m, iso_n = _isolation(frames, schema, k)
    if strategy == "random":
        rng = np.random.default_rng(seed)
        pick_m = rng.choice(len(members), size=n, replace=False)
        pick_n = rng.choice(len(nonmembers), size=n, replace=False)
    else:
        # Most isolated first; ties keep row order (stable sort on the negated isolation).
        pick_m = np.argsort(-iso_m, kind="stable")[:n]
        pick_n = np.argsort(-iso_n, kind="stable")[:n]
    return ChallengeSelection(
        members=pick_m.astype(np.int64),
        nonmembers=pick_n.astype(np.int64),
        member_isolation=iso_m[pick_m],
        nonmember_isolation=iso_n[pick_n],
        strategy=str(strategy),
        k=k,
        seed=seed,
    )


def select_targets(*args: Any, **kwargs: Any) -> ChallengeSelection:
    """Deprecated name of :func:`select_challenges` (the records attacked are challenges; a target
    is what is attacked)."""
    warnings.warn(
        "select_targets is deprecated; use select_challenges (same arguments).",
        DeprecationWarning,
        stacklevel=2,
    )
    return select_challenges(*args, **kwargs)


#: Deprecated name of :class:`ChallengeSelection`.
TargetSelection = ChallengeSelection
