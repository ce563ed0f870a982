"""The study specification (``study.toml``): validated whole, every problem reported at once.

A study compares generators on one dataset under one evaluation::

    name = "randhie-demo"
    seed = 42                 # root of every run's seed (numpy SeedSequence)
    seeds = 2                 # runs per generator configuration

    [data]
    path = "population.csv"   # relative to the TOML file
    group_by = "person_id"    # one random row per person; a person never spans two splits
    drop = ["person_id", "year"]
    # or, for a panel kept whole: entity = "person_id" (all of a person's rows on one side; the
    # [split] sizes count entities) and time = "year" (orders each entity's rows); not with group_by

    [split]
    train = 1000              # the generator's training data (the members)
    control = 1000            # real records never used (the non-members, control attacks)
    reference = 1000          # the attacker's sample of the population (no-box MIAs)
    seed = 42

    [[generators]]            # or [[targets]], its neutral name (stored as generators)
    name = "gaussian_copula"
    params = { enforce_rounding = true }
    grid = { default_distribution = ["norm", "beta"] }   # cartesian product over the lists

    # the sections of audit.toml: [columns], [singling_out], [linkability], [inference],
    # [utility], [diagnostics], plus confidence_level and engine
    [membership]
    attacks = ["dcr", "domias"]
    [membership.shadow]       # optional: black-box shadow modelling (re-fits the generator)
    n_shadow = 8
    n_challenges = 5          # training records attacked (formerly n_targets, still read)

Unknown keys are refused with their location. Generator names and parameters are checked when the
file is loaded (not hours into a study), and so are the data file, its columns and the split sizes.

Seeds: the run of seed index ``i`` gets the child seed ``SeedSequence(seed).spawn(i + 1)[i]`` (as an
int), whatever the generator: runs with the same index share their random numbers (a paired design,
so generators are compared on the same attacks), and raising ``seeds`` later keeps the earlier runs.
A run's key is the SHA-256 of the canonical JSON of (study name, generator, params, child seed)
(:func:`synth_audit.store.make_run_key`), so expanding a study twice gives the same keys and a
re-run finds the runs already stored.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from synth_audit.config import (
    AnonymityConfig,
    AuditConfig,
    DiagnosticsConfig,
    InferenceConfig,
    LinkabilityConfig,
    SinglingOutConfig,
    UtilityConfig,
    format_validation_error,
)
from synth_audit.errors import ConfigError, SynthAuditError, format_names
from synth_audit.schema import ColumnKind

__all__ = [
    "NOBOX_ATTACKS",
    "DataSpec",
    "FrontierSpec",
    "GeneratorSpec",
    "MembershipSpec",
    "RunSpec",
    "ShadowSpec",
    "SplitSpec",
    "StudySpec",
    "child_seed",
    "expand",
    "load_study",
]

#: No-box membership attacks a study may name (see :mod:`synth_audit.membership.nobox`).
NOBOX_ATTACKS: tuple[str, ...] = ("dcr", "domias", "dcr_raw")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")


#: ``[data]`` keys newer than the first stored specs: left out of the stored form while unset.
_NEW_DATA_KEYS = ("entity", "time")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSpec(_Strict):
    path: str = Field(
        description="CSV or Parquet file; relative paths are read from the TOML's folder"
    )
    group_by: str | None = Field(
        None,
        description="column identifying a unit (person); one random row per unit is kept, so a "
        "unit never appears in two splits",
    )
    entity: str | None = Field(
        None,
        description="column identifying an entity (a person in a panel); the split is drawn over "
        "entities, so all rows of an entity are on one side and [split] sizes count entities",
    )
    time: str | None = Field(
        None,
        description="column ordering an entity's rows (with entity); each part is sorted by it "
        "within each entity",
    )
    drop: list[str] = Field(default_factory=list, description="columns removed after the split")

    @model_validator(mode="after")
    def _one_unit(self) -> DataSpec:
        if self.entity is not None and self.group_by is not None:
            raise ValueError(
                f"entity = {self.entity!r} and group_by = {self.group_by!r} are both given; they "
                "are two units of the split (whole entities, or one random row per group). Keep one."
            )
        if self.time is not None and self.entity is None:
            raise ValueError(
                f"time = {self.time!r} orders the rows of each entity; give entity (the column "
                "identifying an entity) too, or remove time."
            )
        return self

    @property
    def unit(self) -> str:
        """The unit of membership of the split: ``"entity"`` with ``entity``, else ``"record"``."""
        return "entity" if self.entity is not None else "record"


class SplitSpec(_Strict):
    train: int = Field(ge=2, description="rows the generator is trained on (the members)")
    control: int = Field(ge=2, description="rows never used for training (the non-members)")
    reference: int = Field(
        0, ge=0, description="the attacker's own sample of the population (no-box MIAs)"
    )
    holdout: int | None = Field(
        None,
        ge=1,
        description="at most this many of the remaining rows go to generators that need real "
        "non-training records (the 'leaky' baseline); default: all remaining rows",
    )
    seed: int = Field(42, ge=0)


class GeneratorSpec(_Strict):
    name: str
    kind: str = Field(
        "tabular_generator",
        description="target kind (synth_audit.targets): a plugin kind releases and re-fits too",
    )
    params: dict[str, Any] = Field(default_factory=dict, description="fixed parameters")
    grid: dict[str, list[Any]] = Field(
        default_factory=dict, description="parameter -> values; every combination is a run"
    )

    @field_validator("grid")
    @classmethod
    def _non_empty(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        empty = [k for k, vals in v.items() if not vals]
        if empty:
            raise ValueError(f"the grid values of {format_names(empty)} are empty lists")
        return v

    def configurations(self) -> list[dict[str, Any]]:
        """Every parameter dict of this entry: ``params`` merged with each point of the grid."""
        keys = list(self.grid)
        out = []
        for values in itertools.product(*(self.grid[k] for k in keys)):
            out.append({**self.params, **dict(zip(keys, values))})
        return out


class ShadowSpec(_Strict):
    """Black-box shadow modelling (:func:`synth_audit.membership.shadow.shadow_attack`).

    ``n_challenges`` training records (challenge records; ``n_targets`` is its former name, still
    read, and the name the stored spec keeps) are attacked; for each, ``n_shadow`` shadow releases
    train the attacker's classifier and ``n_eval`` evaluation releases measure it, every release a
    fresh fit of the run's generator on ``train_size`` records of the reference split (half of it
    for shadow releases, half for evaluation ones). Cost: ``n_challenges * (n_shadow + n_eval)``
    fits per run.
    """

    n_challenges: int = Field(
        5,
        ge=1,
        validation_alias=AliasChoices("n_challenges", "n_targets"),
        description="training records attacked (challenge records); also read as n_targets",
    )
    n_shadow: int = Field(8, ge=4, description="shadow releases per target")
    n_eval: int = Field(4, ge=2, description="evaluation releases per target")
    train_size: int | None = Field(
        None,
        ge=2,
        description="records per shadow training set; default: min(train, reference / 3)",
    )
    synth_size: int | None = Field(
        None, ge=1, description="rows per shadow release; default: train_size"
    )
    classifier: Literal["rf", "logistic"] = "rf"

    @model_validator(mode="before")
    @classmethod
    def _one_name(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "n_challenges" in data and "n_targets" in data:
            raise ValueError(
                "n_challenges and n_targets are both given; n_targets is the former name of "
                "n_challenges. Keep n_challenges."
            )
        return data

    @property
    def n_targets(self) -> int:
        """Former name of :attr:`n_challenges`."""
        return self.n_challenges

    def resolved_train_size(self, split: SplitSpec) -> int:
        return self.train_size or max(2, min(split.train, split.reference // 3))


class MembershipSpec(_Strict):
    enabled: bool = True
    attacks: list[str] = Field(default_factory=lambda: ["dcr", "domias"])
    shadow: ShadowSpec | None = None

    @field_validator("attacks")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        unknown = [a for a in v if a not in NOBOX_ATTACKS]
        if unknown:
            raise ValueError(
                f"unknown no-box attack(s) {format_names(unknown)}; choose from "
                f"{format_names(NOBOX_ATTACKS)}"
            )
        return v


class FrontierSpec(_Strict):
    risk: str = Field(
        "worst",
        description='"worst" (the largest Article 29 risk) or a metric name such as '
        '"membership.dcr.tpr_at_0.01_fpr"',
    )
    utility: str = "utility.score"


class StudySpec(_Strict):
    name: str
    description: str = ""
    seed: int = Field(42, ge=0, description="root seed of every run (SeedSequence)")
    seeds: int = Field(1, ge=1, description="runs per generator configuration")
    synthetic_size: int | None = Field(None, ge=2, description="rows sampled; default: train size")
    data: DataSpec
    split: SplitSpec
    generators: list[GeneratorSpec] = Field(min_length=1)
    confidence_level: float = Field(0.95, gt=0, lt=1)
    engine: str = "native"
    columns: dict[str, ColumnKind] = Field(default_factory=dict)
    singling_out: SinglingOutConfig = Field(default_factory=SinglingOutConfig)  # type: ignore[arg-type]
    linkability: LinkabilityConfig = Field(default_factory=LinkabilityConfig)  # type: ignore[arg-type]
    inference: InferenceConfig = Field(default_factory=InferenceConfig)  # type: ignore[arg-type]
    utility: UtilityConfig = Field(default_factory=UtilityConfig)  # type: ignore[arg-type]
    diagnostics: DiagnosticsConfig = Field(default_factory=DiagnosticsConfig)  # type: ignore[arg-type]
    membership: MembershipSpec = Field(default_factory=MembershipSpec)  # type: ignore[arg-type]
    frontier: FrontierSpec = Field(default_factory=FrontierSpec)  # type: ignore[arg-type]
    anonymity: AnonymityConfig | None = Field(
        None, description="exact k / ℓ / t of each run's release and training data (opt-in)"
    )

    @model_validator(mode="before")
    @classmethod
    def _targets_alias(cls, data: Any) -> Any:
        """``[[targets]]`` is the neutral name of ``[[generators]]`` (stored as ``generators``)."""
        if isinstance(data, Mapping) and "targets" in data:
            if "generators" in data:
                raise ValueError(
                    "both [[targets]] and [[generators]] are given; they are two names of one "
                    "list. Put every entry under [[targets]]."
                )
            data = {("generators" if k == "targets" else k): v for k, v in data.items()}
        return data

    @property
    def targets(self) -> list[GeneratorSpec]:
        """The study's target entries (``[[targets]]``, or ``[[generators]]`` as first named)."""
        return self.generators

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME_RE.match(v):
            raise ValueError(
                "must be 1-100 letters, digits, '_', '.' or '-', starting with a letter or digit"
            )
        return v

    @field_validator("engine")
    @classmethod
    def _engine(cls, v: str) -> str:
        if v not in ("native", "anonymeter"):
            raise ValueError('must be "native" or "anonymeter"')
        return v

    # ------------------------------------------------------------------ derived
    @property
    def data_path(self) -> Path:
        return Path(self.data.path)

    def audit_config(self, *, seed: int) -> AuditConfig:
        """The release audit each run makes (one thread: runs are already parallel)."""
        return AuditConfig.model_validate(
            {
                "seed": int(seed),
                "confidence_level": self.confidence_level,
                "engine": self.engine,
                "n_jobs": 1,
                "columns": {k: v.value for k, v in self.columns.items()},
                "singling_out": self.singling_out.model_dump(),
                "linkability": self.linkability.model_dump(),
                "inference": self.inference.model_dump(),
                "utility": self.utility.model_dump(),
                "diagnostics": self.diagnostics.model_dump(),
                **(
                    {"anonymity": self.anonymity.model_dump()} if self.anonymity is not None else {}
                ),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form (what the store records; :meth:`from_dict` reads it back).

        Keys added after the first stores are left out while unset (``[data] entity`` / ``time``),
        and ``[membership.shadow] n_challenges`` is stored under its first name ``n_targets``, so a
        study keeps the stored form, and the spec hash, it always had.
        """
        d = self.model_dump(mode="json")
        if d.get("anonymity") is None:  # added later: unset, it stays out (spec hash unchanged)
            d.pop("anonymity", None)
        for key in _NEW_DATA_KEYS:
            if d["data"].get(key) is None:
                d["data"].pop(key, None)
        shadow = d["membership"].get("shadow")
        if isinstance(shadow, dict) and "n_challenges" in shadow:
            # stored under its first name: the stored form (and spec hash) of studies stays
            d["membership"]["shadow"] = {
                ("n_targets" if k == "n_challenges" else k): v for k, v in shadow.items()
            }
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "The study spec") -> StudySpec:
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, source)) from None

    def evaluation_identity(self) -> dict[str, Any]:
        """What every run's numbers depend on besides its generator and seed.

        A stored study may be re-run with more generators, wider grids or more seeds (the runs
        already done stay valid), but not with a different dataset, split, evaluation or root seed.
        """
        d = self.to_dict()
        for key in ("generators", "seeds", "description", "frontier"):
            d.pop(key, None)
        d["data"] = {k: v for k, v in d["data"].items() if k != "path"}
        return d


@dataclass(frozen=True)
class RunSpec:
    """One run of a study: a generator configuration and a seed."""

    study: str
    generator: str
    params: dict[str, Any]
    seed_index: int
    seed: int
    run_key: str
    target_kind: str = "tabular_generator"

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "generator": self.generator,
            "params": dict(self.params),
            "seed_index": self.seed_index,
            "seed": self.seed,
            "run_key": self.run_key,
            "target_kind": self.target_kind,
        }


def child_seed(root: int, index: int) -> int:
    """The seed of seed index ``index``: ``SeedSequence(root).spawn(index + 1)[index]`` as an int.

    Independent of how many seeds a study has (child ``i`` depends only on ``root`` and ``i``).
    """
    from synth_audit.seeding import child_seed as _child

    return _child(root, index)


def expand(spec: StudySpec) -> list[RunSpec]:
    """Every run of the study, in a fixed order: generators as listed, grid points in the order of
    their values, then seeds. Same spec, same list (keys included)."""
    from synth_audit.store import make_run_key

    seeds = [child_seed(spec.seed, i) for i in range(spec.seeds)]
    runs: list[RunSpec] = []
    for g in spec.generators:
        # Tabular generators keep the key payload of the first stores (golden-tested); another
        # kind is part of what the key identifies.
        keyed = g.name if g.kind == "tabular_generator" else f"{g.kind}:{g.name}"
        for params in g.configurations():
            for i, s in enumerate(seeds):
                key = make_run_key(study=spec.name, generator=keyed, params=params, seed=s)
                runs.append(RunSpec(spec.name, g.name, params, i, s, key, g.kind))
    return runs


# --------------------------------------------------------------------------------------------------
# Loading with every problem at once
# --------------------------------------------------------------------------------------------------


def result_names(spec: StudySpec, columns: list[str]) -> tuple[list[str], list[str]]:
    """(risk-like, utility) result names the study's runs record, for ``columns`` after ``[data] drop``.

    The same names :mod:`synth_audit.study.runner` writes: ``<attack>.risk`` of every enabled attack
    (``inference[<secret>].risk`` per secret; with ``secrets = "all"`` any column may be one),
    ``diagnostics.dcr.share_closer_to_train``, ``membership.<attack>.<measure>`` and
    ``utility.<metric>`` / ``utility.score``.
    """
    from synth_audit.membership.result import DEFAULT_FPRS

    risks: list[str] = []
    if spec.singling_out.enabled:
        risks += [f"singling_out_{m}.risk" for m in spec.singling_out.modes]
    if spec.linkability.enabled:
        risks.append("linkability.risk")
    if spec.inference.enabled:
        secrets = columns if spec.inference.secrets == "all" else spec.inference.secrets
        risks += [f"inference[{c}].risk" for c in secrets]
    if spec.diagnostics.dcr:
        risks.append("diagnostics.dcr.share_closer_to_train")
    if spec.membership.enabled:
        attacks = list(spec.membership.attacks) + (["shadow"] if spec.membership.shadow else [])
        measures = [
            "auc_advantage",
            "auc",
            *(f"tpr_at_{f:g}_fpr" for f in DEFAULT_FPRS),
            "epsilon_lb",
        ]
        risks += [f"membership.{a}.{m}" for a in attacks for m in measures]
    if spec.anonymity is not None:
        a = spec.anonymity
        risks.append("anonymity.release_share_below_k")
        for c in a.sensitive:
            risks += [
                f"anonymity.release_share_below_l[{c}]",
                f"anonymity.release_t_closeness[{c}]",
            ]
    utility: list[str] = []
    if spec.utility.enabled:
        utility = ["utility.score", *(f"utility.{m}" for m in spec.utility.metrics)]
    # A target kind with its own run task declares the results it records (result_names()).
    for g in spec.generators:
        if g.kind in ("tabular_generator", "release"):
            continue
        from synth_audit.targets.registry import target_class

        try:
            declare = getattr(target_class(g.kind), "result_names", None)
        except ConfigError:
            continue  # an unknown kind is reported by the generator checks
        if callable(declare):
            own_risks, own_utility = declare()
            risks += [n for n in own_risks if n not in risks]
            utility += [n for n in own_utility if n not in utility]
    return risks, utility


def frontier_problems(spec: StudySpec, columns: list[str]) -> list[str]:
    """``[frontier] risk`` and ``utility`` must name results the study's runs will record (checked
    at load, not after the whole study has run)."""
    risks, utility = result_names(spec, columns)
    problems: list[str] = []
    risk = spec.frontier.risk
    if risk != "worst" and risk not in risks:
        if risk in utility:
            why = "is a utility result (higher is better), not a risk"
        else:
            why = "is not a result this study records"
        problems.append(
            f'[frontier] risk: {risk!r} {why}. Use "worst" (the largest Article 29 risk) or one '
            f"of {format_names(risks, limit=30) if risks else '(none: every attack is disabled)'}."
        )
    explicit = "utility" in spec.frontier.model_fields_set
    # The default (utility.score) is checked only where the table metrics run: a target kind
    # with its own utility section (time series, models) names its axis explicitly or has none.
    if spec.frontier.utility not in utility and (explicit or spec.utility.enabled):
        known = format_names(utility) if utility else "(none: [utility] is disabled)"
        problems.append(
            f"[frontier] utility: {spec.frontier.utility!r} is not a utility result this study "
            f"records. Use one of {known}, or enable the metric in [utility] metrics."
        )
    return problems


def _problem_lines(exc: ValidationError, source: str) -> list[str]:
    text = format_validation_error(exc, source)
    return [line for line in text.splitlines()[1:] if line.strip()]


def _generator_problems(raw: Any, section: str = "generators") -> list[str]:
    """Unknown generators, unknown or invalid parameters; checked on every grid point."""
    from synth_audit.targets.registry import make_target

    if not isinstance(raw, list):
        return []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(raw):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            continue
        try:
            g = GeneratorSpec.model_validate(dict(entry))
        except ValidationError:
            continue  # reported by the model validation
        overlap = set(g.params) & set(g.grid)
        if overlap:
            problems.append(
                f"  - [{section}.{i}] params: {format_names(overlap)} given both in params and in "
                "grid; keep one"
            )
        reported: set[str] = set()
        for params in g.configurations():
            try:
                make_target(g.kind, g.name, params)
            except SynthAuditError as exc:
                msg = str(exc)
                if msg not in reported:
                    reported.add(msg)
                    problems.append(f"  - [{section}.{i}] {g.name}: {msg}")
                if "Unknown generator" in msg:
                    break
                continue
            except Exception as exc:  # a plugin's own check
                problems.append(f"  - [{section}.{i}] {g.name}: {type(exc).__name__}: {exc}")
                break
            from synth_audit.store import canonical_json

            ident = canonical_json({"generator": g.name, "kind": g.kind, "params": params})
            if ident in seen and seen[ident] != i:
                problems.append(
                    f"  - [{section}.{i}] {g.name}: the configuration {canonical_json(params)} is "
                    f"already given by [{section}.{seen[ident]}]; remove the duplicate"
                )
            seen.setdefault(ident, i)
    return problems


def _data_problems(spec: StudySpec) -> list[str]:
    """The data file, its columns and the split sizes (reads the file once)."""
    from synth_audit.study.data import check_study_data

    return [f"  - {p}" for p in check_study_data(spec)]


def load_study(path: str | Path) -> StudySpec:
    """Read and validate ``study.toml``. Every problem is reported in one ConfigError.

    Data paths are resolved against the TOML file's folder (the returned spec holds the absolute
    path).
    """
    p = Path(path)
    if p.is_dir():
        raise ConfigError(
            f"Study file {str(p)!r} is a directory. Give the path of the study's TOML file (e.g. "
            f"{str(p / 'study.toml')!r})."
        )
    if not p.is_file():
        raise ConfigError(
            f"Study file {str(p)!r} does not exist. Check the path given to `synth-audit study run`."
        )
    source = f"Study file {str(p)!r}"
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{source} is not UTF-8 text ({exc.reason} at byte {exc.start}). Save it as UTF-8."
        ) from None
    except PermissionError:
        raise ConfigError(
            f"{source} cannot be read: permission denied. Make it readable by this user (e.g. "
            f"chmod u+r {str(p)!r}) or run as a user who can read it."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{source} cannot be read: {exc.strerror or exc}. Check the file and its directory."
        ) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}.") from None
    data = raw.get("data")
    if isinstance(data, dict) and isinstance(data.get("path"), str):
        data = dict(data)
        data["path"] = str((p.parent / data["path"]).resolve())
        raw = {**raw, "data": data}
    return study_from_mapping(raw, source=source)


def study_from_mapping(raw: Mapping[str, Any], *, source: str = "The study spec") -> StudySpec:
    """Validate a study given as a mapping (the TOML's content, paths already absolute)."""
    problems: list[str] = []
    spec: StudySpec | None = None
    try:
        spec = StudySpec.model_validate(dict(raw))
    except ValidationError as exc:
        problems.extend(_problem_lines(exc, source))
    section = "targets" if "targets" in raw and "generators" not in raw else "generators"
    problems.extend(_generator_problems(raw.get(section), section))
    if spec is not None:
        problems.extend(_data_problems(spec))
    else:
        data = raw.get("data")
        path = data.get("path") if isinstance(data, Mapping) else None
        if isinstance(path, str) and not Path(path).is_file():
            problems.append(f"  - [data] path: the file {path!r} does not exist. Check the path.")
    if problems:
        n = len(problems)
        raise ConfigError(
            f"{source} has {n} problem{'s' if n > 1 else ''}:\n" + "\n".join(problems)
        )
    assert spec is not None
    return spec


def iter_configurations(spec: StudySpec) -> Iterator[tuple[str, dict[str, Any]]]:
    """(generator, params) of every configuration, in expansion order."""
    for g in spec.generators:
        for params in g.configurations():
            yield g.name, params
