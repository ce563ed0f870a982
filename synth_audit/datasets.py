"""Datasets indexed by their *unit of membership*, and one split over units for every modality.

A person is the unit a privacy claim is about. In a table of one row per person the unit is the
record; in a panel it is the entity (all its rows); in a corpus the document; in an image set the
image. Every split (members, non-members, reference, holdout) is drawn over units, so a person is
never on both sides of a membership question.

:class:`Dataset` is the protocol; :class:`TableData` the table implementation (one row per unit).
:func:`split_units` is the one split: it draws the same permutation that
:func:`synth_audit.data.split_frame` draws, so studies split through either give identical parts
(the golden split test holds both to it).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError, DataValidationError

__all__ = ["UNITS", "Dataset", "TableData", "split_units"]

UNITS = ("record", "entity", "document", "image")


@runtime_checkable
class Dataset(Protocol):
    """Data indexed by its unit of membership."""

    unit: ClassVar[str]

    def __len__(self) -> int: ...

    def unit_ids(self) -> Sequence[Hashable]: ...

    def take(self, idx: np.ndarray) -> Self: ...

    def fingerprint(self) -> dict[str, Any]: ...


class TableData:
    """A table whose rows are the units (one row per person).

    ``ids`` names a column that identifies each row's person (kept out of the audited columns by the
    schema); without it, unit ids are positions 0..n-1.
    """

    unit: ClassVar[str] = "record"

    def __init__(self, frame: pd.DataFrame, *, ids: str | None = None) -> None:
        if not isinstance(frame, pd.DataFrame):
            raise ConfigError(f"TableData expects a pandas DataFrame. Got {type(frame).__name__}.")
        if ids is not None:
            if ids not in frame.columns:
                raise DataValidationError(
                    f"The id column {ids!r} is not in the table (columns: "
                    f"{', '.join(map(repr, map(str, frame.columns[:8])))}...)."
                )
            dup = frame[ids].duplicated()
            if dup.any():
                raise DataValidationError(
                    f"The id column {ids!r} repeats {int(dup.sum())} value(s), e.g. "
                    f"{frame.loc[dup, ids].iloc[0]!r}: a table dataset needs one row per person. "
                    "Use a panel dataset for several rows per person, or keep one row each."
                )
        self.frame = frame.reset_index(drop=True)
        self.ids = ids

    def __len__(self) -> int:
        return len(self.frame)

    def unit_ids(self) -> Sequence[Hashable]:
        if self.ids is None:
            return list(range(len(self.frame)))
        return list(self.frame[self.ids])

    def take(self, idx: np.ndarray) -> TableData:
        return type(self)(self.frame.iloc[np.asarray(idx, dtype=np.int64)], ids=self.ids)

    def fingerprint(self) -> dict[str, Any]:
        from synth_audit.data import fingerprint

        return {"unit": self.unit, **fingerprint(self.frame)}


def split_units(
    n_units: int, sizes: Mapping[str, int], *, random_state: int
) -> dict[str, np.ndarray]:
    """Disjoint random sets of unit positions of the given sizes, in the order of ``sizes``.

    ``sizes`` maps part names (``members``, ``nonmembers``, ``reference``, ``holdout``, or a study's
    ``train``/``control``/...) to counts. The permutation is ``default_rng(random_state)``'s over
    ``n_units``, sliced in order: the same parts :func:`synth_audit.data.split_frame` gives.
    """
    if isinstance(n_units, bool) or not isinstance(n_units, int | np.integer) or n_units < 0:
        raise ConfigError(
            f"The 'n_units' parameter of split_units must be an int >= 0. Got {n_units!r}."
        )
    bad = {
        k: v
        for k, v in sizes.items()
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0
    }
    if bad:
        raise ConfigError(
            "The 'sizes' parameter of split_units must map part names to ints >= 0. Got "
            + ", ".join(f"{k}={v!r}" for k, v in bad.items())
            + "."
        )
    total = int(sum(sizes.values()))
    if total > n_units:
        raise DataValidationError(
            f"The split asks for {total} units ({', '.join(f'{k}={v}' for k, v in sizes.items())}) "
            f"but the data has {n_units}. Reduce the sizes."
        )
    order = np.random.default_rng(random_state).permutation(int(n_units))
    out: dict[str, np.ndarray] = {}
    start = 0
    for name, n in sizes.items():
        out[name] = order[start : start + int(n)]
        start += int(n)
    return out
