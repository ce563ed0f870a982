"""Panel data: a dataset whose unit of membership is the *entity* (a person with a sequence of rows).

A panel is a long table: one row per (entity, time) with an entity id column, a time (or order)
column, *static* attributes (constant within an entity: sex, year of birth) and *time-varying*
columns (wage, hours). Every privacy number of a panel audit is about entities, and every split
keeps all of an entity's rows on one side: :func:`split_panel` draws over entities with the one
split of :func:`synth_audit.datasets.split_units`.

Validation (:class:`PanelData`) refuses, with the source, the column and what to do:

- a missing entity or time column, or missing values in them;
- duplicate (entity, time) pairs;
- times that are not increasing within an entity (``sort=True`` sorts on purpose);
- entities with a single step (a sequence needs two; drop them or ``min_length=1``);
- a declared static column that changes within an entity.

Ragged lengths are allowed. :func:`check_disjoint` refuses an entity that is on two sides of a
split (the error a row-level split of a panel gets).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError, DataValidationError, format_names

__all__ = ["PanelData", "check_disjoint", "split_panel"]


def _ids_text(values: Sequence[Any], limit: int = 5) -> str:
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in list(values)[:limit])
    more = len(values) - limit
    return shown + (f" and {more} more" if more > 0 else "")


class PanelData:
    """A long table of sequences, indexed by entity (``unit = "entity"``).

    ``entity`` and ``time`` name the id and time/order columns. ``static`` lists the attributes
    constant within an entity and ``varying`` the time-varying columns; when both are None, every
    other column that is constant within every entity is static and the rest vary. ``source`` names
    the data in messages (a file path or "the train split"). Rows are kept sorted by entity (in
    order of first appearance) and time.
    """

    unit: ClassVar[str] = "entity"

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        entity: str,
        time: str,
        static: Sequence[str] | None = None,
        varying: Sequence[str] | None = None,
        source: str = "the panel",
        sort: bool = False,
        min_length: int = 2,
    ) -> None:
        if not isinstance(frame, pd.DataFrame):
            raise ConfigError(f"PanelData expects a pandas DataFrame. Got {type(frame).__name__}.")
        if isinstance(min_length, bool) or not isinstance(min_length, int) or min_length < 1:
            raise ConfigError(
                f"The 'min_length' parameter of PanelData must be an int >= 1. Got {min_length!r}."
            )
        frame = frame.rename(columns=str)
        cols = list(frame.columns)
        for role, name in (("entity", entity), ("time", time)):
            if name not in cols:
                raise DataValidationError(
                    f"{source}: the {role} column {name!r} is not in the data (columns: "
                    f"{format_names(cols)}). Name the column that identifies "
                    f"{'each person' if role == 'entity' else 'the order of their rows'} "
                    f"([data] {role} = ... in a study file)."
                )
            if frame[name].isna().any():
                bad = frame.index[frame[name].isna()][:5].tolist()
                raise DataValidationError(
                    f"{source}: the {role} column {name!r} has {int(frame[name].isna().sum())} "
                    f"missing value(s) (rows {bad}). Every row needs an entity and a time; drop "
                    "those rows or fill them."
                )
        if entity == time:
            raise ConfigError(
                f"{source}: the entity and time columns must differ; both are {entity!r}."
            )
        others = [c for c in cols if c not in (entity, time)]
        if not others:
            raise DataValidationError(
                f"{source}: besides the entity column {entity!r} and the time column {time!r} there "
                "is no column to audit. A panel needs at least one attribute or measurement."
            )
        dup = frame.duplicated([entity, time], keep=False)
        if dup.any():
            pairs = frame.loc[dup, [entity, time]].drop_duplicates().head(5)
            shown = ", ".join(f"({e!r}, {t!r})" for e, t in pairs.itertuples(index=False))
            raise DataValidationError(
                f"{source}: {int(frame.loc[dup, [entity, time]].drop_duplicates().shape[0])} "
                f"(entity, time) pair(s) of the columns {entity!r} and {time!r} occur more than "
                f"once, e.g. {shown}. An entity has one row per time; aggregate or drop the "
                "duplicates."
            )
        order = pd.Index(pd.unique(frame[entity]))
        pos = order.get_indexer(frame[entity])
        if sort:
            frame = (
                frame.assign(_pos=pos)
                .sort_values(["_pos", time], kind="stable")
                .drop(columns="_pos")
            )
        else:
            t = frame[time]
            same = frame[entity].to_numpy()[1:] == frame[entity].to_numpy()[:-1]
            contiguous = bool(np.all(np.diff(pos) >= 0))
            increasing = bool(np.all((t.to_numpy()[1:] > t.to_numpy()[:-1])[same]))
            if not (contiguous and increasing):
                bad_ent = [
                    e
                    for e, g in frame.groupby(entity, sort=False)[time]
                    if not g.is_monotonic_increasing
                ]
                what = (
                    f"times that do not increase within {len(bad_ent)} entit"
                    f"{'y' if len(bad_ent) == 1 else 'ies'} (e.g. {_ids_text(bad_ent)})"
                    if bad_ent
                    else "an entity's rows that are not contiguous"
                )
                raise DataValidationError(
                    f"{source}: the rows are not sorted by entity {entity!r} and time {time!r}: "
                    f"{what}. Sort the table by ({entity}, {time}), or pass sort=True."
                )
        frame = frame.reset_index(drop=True)
        lengths = frame.groupby(entity, sort=False).size()
        short = lengths[lengths < min_length]
        if len(short):
            raise DataValidationError(
                f"{source}: {len(short)} entit{'y has' if len(short) == 1 else 'ies have'} fewer "
                f"than {min_length} time steps (e.g. {_ids_text(list(short.index))}). A sequence "
                f"needs {min_length} steps; drop those entities, or lower min_length."
            )
        if static is None and varying is None:
            nuniq = frame.groupby(entity, sort=False)[others].nunique(dropna=False)
            static = [c for c in others if bool((nuniq[c] <= 1).all())]
            varying = [c for c in others if c not in static]
        else:
            static = list(static or [])
            varying = [c for c in others if c not in static] if varying is None else list(varying)
            named = static + varying
            unknown = [c for c in named if c not in others]
            if unknown:
                raise DataValidationError(
                    f"{source}: the static/varying column(s) {format_names(unknown)} are not in the "
                    f"data (usable columns: {format_names(others)}). Fix the column names."
                )
            both = set(static) & set(varying)
            if both:
                raise ConfigError(
                    f"{source}: the column(s) {format_names(both)} are declared both static and "
                    "time-varying. Declare each column once."
                )
            if static:
                nuniq = frame.groupby(entity, sort=False)[static].nunique(dropna=False)
                moving = [c for c in static if bool((nuniq[c] > 1).any())]
                if moving:
                    c = moving[0]
                    ex = list(nuniq.index[nuniq[c] > 1])
                    raise DataValidationError(
                        f"{source}: the static column(s) {format_names(moving)} change within an "
                        f"entity (e.g. {c!r} for entity {_ids_text(ex, 3)}). Declare them "
                        "time-varying, or fix the data."
                    )
        if not varying:
            raise DataValidationError(
                f"{source}: no column varies within an entity (static: {format_names(static)}). "
                "A panel needs a time-varying column; use a table audit for one row per person."
            )
        self.frame = frame[[entity, time, *static, *varying]]
        self.entity = entity
        self.time = time
        self.static = list(static)
        self.varying = list(varying)
        self.source = source
        self._ids = pd.Index(pd.unique(self.frame[entity]))

    # ---- construction --------------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | Path, *, entity: str, time: str, **kwargs: Any) -> PanelData:
        """Read a CSV or Parquet panel (messages name the file)."""
        from synth_audit.data import load_table

        p = Path(path)
        if not p.exists():
            raise DataValidationError(f"The panel file {str(p)!r} does not exist. Check the path.")
        return cls(load_table(p), entity=entity, time=time, source=str(p), **kwargs)

    def like(self, frame: pd.DataFrame, *, source: str, sort: bool = False) -> PanelData:
        """Another panel with this one's columns (a split, a release) validated the same way."""
        missing = [c for c in self.frame.columns if c not in frame.columns]
        if missing:
            raise DataValidationError(
                f"{source}: the column(s) {format_names(missing)} of the training panel are "
                f"missing. A release must have the training panel's columns "
                f"({format_names(self.frame.columns, limit=20)})."
            )
        return PanelData(
            frame[list(self.frame.columns)],
            entity=self.entity,
            time=self.time,
            static=self.static,
            varying=self.varying,
            source=source,
            sort=sort,
        )

    # ---- Dataset protocol ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ids)

    def unit_ids(self) -> Sequence[Hashable]:
        return list(self._ids)

    def take(self, idx: np.ndarray) -> PanelData:
        """The entities at positions ``idx`` (all their rows), in that order."""
        pick = self._ids[np.asarray(idx, dtype=np.int64)]
        rank = pd.Series(np.arange(len(pick)), index=pick)
        rows = self.frame[self.frame[self.entity].isin(pick)]
        rows = rows.assign(_r=rows[self.entity].map(rank)).sort_values(["_r", self.time])
        return self._same(rows.drop(columns="_r"))

    def fingerprint(self) -> dict[str, Any]:
        from synth_audit.data import fingerprint

        return {"unit": self.unit, "n_entities": len(self), **fingerprint(self.frame)}

    # ---- views ---------------------------------------------------------------------------------
    def _same(self, frame: pd.DataFrame) -> PanelData:
        out = object.__new__(PanelData)
        out.frame = frame.reset_index(drop=True)
        out.entity, out.time, out.source = self.entity, self.time, self.source
        out.static, out.varying = list(self.static), list(self.varying)
        out._ids = pd.Index(pd.unique(out.frame[self.entity]))
        return out

    def lengths(self) -> pd.Series:
        """Steps per entity (index: entity id)."""
        return self.frame.groupby(self.entity, sort=False).size()

    def statics(self) -> pd.DataFrame:
        """One row per entity with its static attributes (index: entity id)."""
        return self.frame.groupby(self.entity, sort=False)[self.static].first()

    def sequences(self) -> Iterator[tuple[Hashable, pd.DataFrame]]:
        """(entity id, its rows) in order."""
        yield from self.frame.groupby(self.entity, sort=False)

    def numeric_varying(self) -> list[str]:
        return [c for c in self.varying if pd.api.types.is_numeric_dtype(self.frame[c])]

    def with_ids(self, ids: Sequence[Hashable]) -> PanelData:
        """The same panel with entity ids replaced, position for position (a release's new ids)."""
        if len(ids) != len(self):
            raise ConfigError(f"with_ids needs {len(self)} ids. Got {len(ids)}.")
        mapping = dict(zip(self._ids, ids, strict=True))
        return self._same(self.frame.assign(**{self.entity: self.frame[self.entity].map(mapping)}))

    def __repr__(self) -> str:
        return (
            f"PanelData({len(self)} entities, {len(self.frame)} rows, entity={self.entity!r}, "
            f"time={self.time!r}, static={self.static}, varying={self.varying})"
        )


def check_disjoint(
    parts: Mapping[str, PanelData | pd.DataFrame], *, entity: str | None = None
) -> None:
    """Refuse an entity id that occurs in two parts (members and non-members, say).

    A row-level split of a panel puts one person's rows on both sides of the membership question;
    every risk measured across it is wrong, so it is an error, never a warning.
    """
    seen: dict[Hashable, str] = {}
    clashes: dict[tuple[str, str], list[Hashable]] = {}
    for name, part in parts.items():
        if isinstance(part, PanelData):
            ids = part.unit_ids()
            col = part.entity
        else:
            if entity is None or entity not in part.columns:
                raise ConfigError(f"check_disjoint needs the entity column name for {name!r}.")
            ids, col = list(pd.unique(part[entity])), entity
        for e in ids:
            if e in seen:
                clashes.setdefault((seen[e], name), []).append(e)
            else:
                seen[e] = name
        entity = col
    if clashes:
        (a, b), ids = next(iter(clashes.items()))
        n = sum(len(v) for v in clashes.values())
        raise DataValidationError(
            f"{n} entit{'y is' if n == 1 else 'ies are'} in both the {a} and the {b} data "
            f"(entity column {entity!r}, e.g. {_ids_text(ids)}): a row-level split would put one "
            "person's rows on both sides of the membership question. Split by entity "
            "([data] entity = ... in a study file, or split_panel)."
        )


def split_panel(
    panel: PanelData, sizes: Mapping[str, int], *, random_state: int
) -> dict[str, PanelData]:
    """Disjoint parts of ``panel`` with ``sizes`` counted in entities (see ``split_units``)."""
    from synth_audit.datasets import split_units

    parts = split_units(len(panel), dict(sizes), random_state=random_state)
    return {name: panel.take(idx) for name, idx in parts.items()}
