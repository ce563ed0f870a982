"""Randomness made explicit: the one place that turns a seed into child seeds.

Every component takes ``random_state`` (an int, recorded in its results). Sub-steps get independent
child seeds from :class:`numpy.random.SeedSequence`: child ``i`` depends only on the root and ``i``,
so adding a step or a seed never changes the others. Stored studies depend on these values (run
keys and splits are golden-tested), so the derivations below never change.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synth_audit.errors import ConfigError

__all__ = ["check_seed", "child_seed", "named_seeds", "spawn_seeds"]

MAX_SEED = 2**32 - 1


def check_seed(value: object, owner: str, param: str = "random_state") -> int:
    """``value`` as a seed (an int in [0, 2**32 - 1]); a ConfigError in the usual form otherwise."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not 0 <= value <= MAX_SEED
    ):
        raise ConfigError(
            f"The {param!r} parameter of {owner} must be an int in [0, {MAX_SEED}]. Got {value!r}."
        )
    return int(value)


def spawn_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent child seeds of ``seed`` (``SeedSequence(seed).spawn(n)``, as ints)."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(int(seed)).spawn(n)]


def child_seed(seed: int, index: int) -> int:
    """Child ``index`` of ``seed``: the same as ``spawn_seeds(seed, n)[index]`` for any n > index."""
    child = np.random.SeedSequence(int(seed)).spawn(index + 1)[index]
    return int(child.generate_state(1)[0])


def named_seeds(seed: int, names: Sequence[str]) -> dict[str, int]:
    """Child seeds of ``seed`` by step name, in the order of ``names``."""
    return dict(zip(names, spawn_seeds(seed, len(names)), strict=True))
