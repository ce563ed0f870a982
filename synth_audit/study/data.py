"""A study's data: one population file split into train / control / reference / holdout.

The split, with ``seed = split.seed``:

1. read the file (CSV or Parquet);
2. with ``group_by``: keep one row per group, chosen at random (child seed 0 of the split seed), so
   a person with several rows (a panel) is one record and never on both sides of the split;
3. draw disjoint random subsets (child seed 1) of the sizes given: ``train`` (the generator's
   training data: the members), ``control`` (never used: the non-members of the membership attacks
   and the control attacks of singling out, linkability and inference), ``reference`` (the
   attacker's own sample of the population, used by the no-box membership attacks and shadow
   models), and ``holdout``: the rows left over (at most ``split.holdout``). The holdout is what
   a generator that needs real non-training records gets (the ``leaky`` calibration baseline): it
   is disjoint from control, so a leaky release never contains the non-members it is tested
   against, and from reference, so the attacker's population sample is not in the release either;
4. drop the ``drop`` columns from every part.

With ``[data] entity`` (a panel: several rows per person) the unit of the split is the entity: step 2
is skipped and step 3 draws whole entities (:func:`synth_audit.datasets.split_units` over the
distinct entity ids, in order of first appearance), so ``[split]`` sizes count entities and every
row of an entity is in one part. Within a part, entities are in the order drawn and an entity's rows
in file order, or sorted by ``[data] time`` when given. ``entity`` and ``group_by`` exclude each
other.

Every part gets a fingerprint (:func:`synth_audit.data.fingerprint`) that each run records, so a
study re-run on a changed file is refused instead of mixing old and new numbers.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synth_audit.data import fingerprint, load_table, split_frame
from synth_audit.errors import DataValidationError, SynthAuditError, format_names
from synth_audit.seeding import spawn_seeds

if TYPE_CHECKING:
    from synth_audit.study.spec import StudySpec

__all__ = ["StudyData", "check_study_data", "clear_cache", "load_study_data"]

PARTS = ("train", "control", "reference", "holdout")
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class StudyData:
    """The four parts (``reference``/``holdout`` may be empty) and their fingerprints."""

    train: pd.DataFrame
    control: pd.DataFrame
    reference: pd.DataFrame
    holdout: pd.DataFrame
    fingerprints: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: the unit of the split: ``"entity"`` (``[data] entity``: whole entities per part) or
    #: ``"record"`` (one row per person, with or without ``group_by``)
    unit: str = "record"

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.train.columns]


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _child_seeds(seed: int, n: int) -> list[int]:
    return spawn_seeds(seed, n)


def _units(df: pd.DataFrame, group_by: str | None, seed: int) -> pd.DataFrame:
    """One random row per group (all rows without ``group_by``), in file order."""
    if group_by is None:
        return df.reset_index(drop=True)
    order = np.random.default_rng(seed).permutation(len(df))
    picked = df.iloc[order].drop_duplicates(subset=[group_by], keep="first")
    return picked.sort_index().reset_index(drop=True)


def _read(spec: StudySpec) -> pd.DataFrame:
    path = spec.data_path
    try:
        return load_table(path)
    except DataValidationError as exc:
        raise DataValidationError(f"[data] path: {exc}") from None


def _sizes(spec: StudySpec, n_units: int) -> dict[str, int]:
    sizes = {"train": spec.split.train, "control": spec.split.control}
    if spec.split.reference:
        sizes["reference"] = spec.split.reference
    used = sum(sizes.values())
    if used > n_units:
        if spec.data.entity is not None:
            what = f"{n_units} entities (distinct values of {spec.data.entity!r})"
        elif spec.data.group_by is not None:
            what = f"{n_units} groups (one row per {spec.data.group_by!r})"
        else:
            what = f"{n_units} rows"
        raise DataValidationError(
            f"[split]: train + control + reference = {used}, but {spec.data_path.name} has "
            f"{what}. Reduce the sizes."
        )
    rest = n_units - used
    if spec.split.holdout is not None:
        rest = min(rest, spec.split.holdout)
    if rest:
        sizes["holdout"] = rest
    return sizes


def _entity_parts(spec: StudySpec, df: pd.DataFrame, seed: int) -> dict[str, pd.DataFrame]:
    """Whole entities per part: :func:`synth_audit.datasets.split_units` over the distinct entity
    ids (in order of first appearance in the file); each part holds every row of its entities,
    entities in the order drawn, rows in file order (or by ``time``) within an entity."""
    from synth_audit.datasets import split_units

    entity = spec.data.entity
    assert entity is not None
    codes, uniques = pd.factorize(df[entity], use_na_sentinel=False)
    picked = split_units(len(uniques), _sizes(spec, len(uniques)), random_state=seed)
    parts: dict[str, pd.DataFrame] = {}
    for name, idx in picked.items():
        rank = np.full(len(uniques), -1, dtype=np.int64)
        rank[idx] = np.arange(len(idx))
        row_rank = rank[codes]
        keep = np.flatnonzero(row_rank >= 0)
        part = df.iloc[keep].assign(_sa_rank=row_rank[keep], _sa_pos=keep)
        order = (
            ["_sa_rank", spec.data.time, "_sa_pos"] if spec.data.time else ["_sa_rank", "_sa_pos"]
        )
        part = part.sort_values(order, kind="stable")
        parts[name] = part.drop(columns=["_sa_rank", "_sa_pos"]).reset_index(drop=True)
    return parts


def _split(spec: StudySpec, df: pd.DataFrame) -> StudyData:
    s_units, s_split = _child_seeds(spec.split.seed, 2)
    if spec.data.entity is not None:
        parts = _entity_parts(spec, df, s_split)
        columns = list(df.columns)
        empty = df.iloc[:0]
    else:
        units = _units(df, spec.data.group_by, s_units)
        parts = split_frame(units, _sizes(spec, len(units)), random_state=s_split)
        columns = list(units.columns)
        empty = units.iloc[:0]
    drop = [c for c in spec.data.drop if c in columns]
    out: dict[str, pd.DataFrame] = {}
    for name in PARTS:
        part = parts.get(name, empty)
        out[name] = part.drop(columns=drop).reset_index(drop=True)
    fps: dict[str, Mapping[str, Any]] = {
        "source": {
            "path": str(spec.data_path),
            "sha256": _file_sha256(spec.data_path),
            "n_rows": len(df),
        }
    }
    fps.update({name: fingerprint(out[name]) for name in PARTS})
    return StudyData(fingerprints=fps, unit=spec.data.unit, **out)


_cache: dict[tuple[Any, ...], StudyData] = {}
_lock = threading.Lock()


def _cache_key(spec: StudySpec) -> tuple[Any, ...]:
    p = spec.data_path
    try:
        st = p.stat()
        stamp: tuple[Any, ...] = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = ()
    return (
        str(p),
        stamp,
        spec.data.model_dump_json(),
        spec.split.model_dump_json(),
    )


def load_study_data(spec: StudySpec) -> StudyData:
    """The study's split, cached per process (keyed by the file's path, mtime and size and the
    data/split settings): a worker running many runs of a study reads and splits the file once."""
    key = _cache_key(spec)
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    problems = check_study_data(spec)
    if problems:
        raise DataValidationError(
            f"The data of study {spec.name!r} cannot be used: " + " ".join(problems)
        )
    data = _split(spec, _read(spec))
    with _lock:
        if len(_cache) > 8:
            _cache.clear()
        _cache[key] = data
    return data


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _missing(names: list[str], columns: list[str]) -> list[str]:
    return [n for n in names if n not in columns]


def check_study_data(spec: StudySpec) -> list[str]:
    """Every problem of the spec against its data file (empty when it can be run), each message
    starting with its TOML location."""
    try:
        df = _read(spec)
    except SynthAuditError as exc:
        return [str(exc)]
    problems: list[str] = []
    src = spec.data_path.name
    columns = [str(c) for c in df.columns]
    shown = format_names(columns)
    g = spec.data.group_by
    if g is not None and g not in columns:
        problems.append(f"[data] group_by: column {g!r} is not in {src} (its columns: {shown}).")
    for key in ("entity", "time"):
        col = getattr(spec.data, key)
        if col is not None and col not in columns:
            problems.append(
                f"[data] {key}: column {col!r} is not in {src} (its columns: {shown}). Name the "
                f"column that {'identifies an entity' if key == 'entity' else 'orders its rows'}."
            )
    bad_drop = _missing(spec.data.drop, columns)
    if bad_drop:
        problems.append(
            f"[data] drop: column(s) {format_names(bad_drop)} are not in {src} (its columns: {shown})."
        )
    kept = [c for c in columns if c not in spec.data.drop]
    usable = format_names(kept)

    def check(where: str, names: list[str]) -> None:
        bad = _missing(names, kept)
        if bad:
            problems.append(
                f"{where}: column(s) {format_names(bad)} are not in the study's data "
                f"(columns after [data] drop: {usable})."
            )

    check("[columns]", list(spec.columns))
    if spec.linkability.enabled and spec.linkability.aux_cols:
        check("[linkability] aux_cols", [c for cols in spec.linkability.aux_cols for c in cols])
    if spec.inference.enabled:
        if isinstance(spec.inference.secrets, list):
            check("[inference] secrets", spec.inference.secrets)
        if spec.inference.aux_cols:
            check("[inference] aux_cols", spec.inference.aux_cols)
    if spec.utility.enabled and spec.utility.target is not None:
        check("[utility] target", [spec.utility.target])
    if spec.anonymity is not None:
        check("[anonymity] quasi_identifiers", spec.anonymity.quasi_identifiers)
        check("[anonymity] sensitive", spec.anonymity.sensitive)

    from synth_audit.study.spec import frontier_problems

    problems.extend(frontier_problems(spec, kept))

    mem = spec.membership
    needs_reference = mem.enabled and (bool(mem.attacks) or mem.shadow is not None)
    if needs_reference and spec.split.reference < 2:
        problems.append(
            "[split] reference: the membership attacks need the attacker's reference sample of the "
            "population; set reference (e.g. as large as control), or set [membership] enabled = "
            "false."
        )
    if mem.enabled and mem.shadow is not None and spec.split.reference >= 2:
        size = mem.shadow.resolved_train_size(spec.split)
        if spec.split.reference // 2 < size:
            problems.append(
                f"[membership.shadow] train_size: shadow training sets of {size} records are drawn "
                f"from each half of the reference split ({spec.split.reference} rows, so "
                f"{spec.split.reference // 2} per half). Lower train_size or raise [split] reference."
            )
    e = spec.data.entity
    if e is not None and e in columns:
        n_units = int(df[e].nunique(dropna=False))
        unit = f"entities (distinct values of {e!r})"
    elif g is not None and g in columns:
        n_units = int(df[g].nunique(dropna=False))
        unit = f"groups of {g!r}"
    else:
        n_units = len(df)
        unit = "rows"
    used = spec.split.train + spec.split.control + spec.split.reference
    if used > n_units:
        problems.append(
            f"[split]: train + control + reference = {used}, but {src} has {n_units} {unit}. "
            "Reduce the sizes."
        )
    elif n_units - used < 1 and _needs_holdout(spec):
        problems.append(
            f"[split]: generator(s) {format_names(_holdout_generators(spec))} release real records "
            f"that were not used for training, but no row of {src} is left over after train, "
            "control and reference. Reduce the split sizes."
        )
    return problems


def _holdout_generators(spec: StudySpec) -> list[str]:
    from generators.registry import generator_factory

    out = []
    for g in spec.generators:
        try:
            factory = generator_factory(g.name)
        except SynthAuditError:
            continue  # reported with the generators
        if getattr(factory, "needs_holdout", False) and g.name not in out:
            out.append(g.name)
    return out


def _needs_holdout(spec: StudySpec) -> bool:
    return bool(_holdout_generators(spec))
