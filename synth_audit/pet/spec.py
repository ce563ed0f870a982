"""The search file (``search.toml``): a study without a ``[[generators]]`` list, plus ``[target]``
(what is searched) and ``[search]`` (how).

::

    name = "randhie-pet"          # the study the trials are stored under
    seed = 42                     # root of every run's seed, as in a study
    [data] ... [split] ...        # every study key except generators, with the same meaning
    [membership] ... [utility] ...

    [target]
    name = "privbayes"            # a generator (or a target kind's name)
    kind = "tabular_generator"
    params = {}                   # fixed parameters of every trial

    [search]
    trials = 40                   # budget: trials (each one stored run per seed)
    time_budget_s = 3600          # budget: no new batch after this many seconds
    batch = 2                     # trials per batch (run in parallel on the study executor)
    seed = 7                      # the sampler's seed
    seeds = 1                     # runs (seeds) per trial
    confirm_top = 3               # candidates near the front re-run ...
    confirm_seeds = 3             # ... with this many seeds before a recommendation

    start = [{ epsilon = 100.0 }] # optional: settings tried first (the current one, a range end)

    [search.params.epsilon]
    type = "float"                # float | int | categorical
    low = 0.01
    high = 100.0
    log = true

    [[search.objectives]]
    metric = "worst"              # "worst" (largest risk row) or a result name
    stat = "ci_high"              # value | ci_low | ci_high
    direction = "minimize"
    [[search.objectives]]
    metric = "utility.score"
    direction = "maximize"

    [search.constraint]           # optional: stat of metric <= max
    metric = "worst"
    stat = "ci_high"
    max = 0.05

One objective with a constraint searches with TPE, two with NSGA-II (both seeded). Unknown keys
are refused with their location; the study part is checked as a study file is.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from synth_audit.config import format_validation_error
from synth_audit.errors import ConfigError, format_names
from synth_audit.study.spec import GeneratorSpec, StudySpec, study_from_mapping

__all__ = [
    "ConstraintSpec",
    "ObjectiveSpec",
    "ParamSpec",
    "SearchSection",
    "SearchSpec",
    "TargetSpec",
    "load_search",
    "search_from_mapping",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ParamSpec(_Strict):
    type: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: list[Any] | None = None
    digits: int = Field(
        3, ge=1, le=12, description="float values are rounded to this many significant digits"
    )

    @model_validator(mode="after")
    def _range(self) -> ParamSpec:
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("a categorical parameter needs a non-empty 'choices' list")
            if self.low is not None or self.high is not None:
                raise ValueError("a categorical parameter takes 'choices', not 'low'/'high'")
            return self
        if self.low is None or self.high is None:
            raise ValueError(f"a {self.type} parameter needs 'low' and 'high'")
        if not self.low < self.high:
            raise ValueError(f"'low' ({self.low}) must be below 'high' ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError("'log = true' needs 'low' > 0")
        if self.type == "int" and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError("an int parameter needs whole 'low' and 'high'")
        return self

    def round(self, value: Any) -> Any:
        """The value a run is given: floats to ``digits`` significant digits, ints as int."""
        if self.type == "int":
            return int(value)
        if self.type == "float":
            v = float(value)
            if v == 0:
                return 0.0
            return float(f"{v:.{self.digits}g}")
        return value


Stat = Literal["value", "ci_low", "ci_high"]


class ObjectiveSpec(_Strict):
    metric: str = Field(description='"worst" (largest risk row) or a result name')
    stat: Stat = "value"
    direction: Literal["minimize", "maximize"]


class ConstraintSpec(_Strict):
    metric: str = "worst"
    stat: Stat = "ci_high"
    max: float

    @model_validator(mode="after")
    def _finite(self) -> ConstraintSpec:
        if not math.isfinite(self.max):
            raise ValueError("'max' must be a finite number")
        return self


class TargetSpec(_Strict):
    name: str
    kind: str = "tabular_generator"
    params: dict[str, Any] = Field(default_factory=dict)


class SearchSection(_Strict):
    trials: int = Field(20, ge=1, le=10_000)
    time_budget_s: float | None = Field(None, gt=0)
    batch: int = Field(2, ge=1, le=256)
    seed: int = Field(0, ge=0)
    seeds: int = Field(1, ge=1, le=50)
    sampler: Literal["auto", "tpe", "nsga2"] = "auto"
    confirm_top: int = Field(3, ge=0, le=50)
    confirm_seeds: int = Field(3, ge=1, le=50)
    params: dict[str, ParamSpec] = Field(min_length=1)
    start: list[dict[str, Any]] = Field(
        default_factory=list,
        description="settings tried first, in order (e.g. the current one or a range's end)",
    )
    objectives: list[ObjectiveSpec] = Field(min_length=1, max_length=2)
    constraint: ConstraintSpec | None = None

    @model_validator(mode="after")
    def _sampler(self) -> SearchSection:
        if self.sampler == "nsga2" and len(self.objectives) < 2 and self.constraint is None:
            raise ValueError("NSGA-II needs two objectives or a constraint; use sampler = 'tpe'")
        for i, point in enumerate(self.start):
            unknown = sorted(set(point) - set(self.params))
            if unknown or set(point) != set(self.params):
                raise ValueError(
                    f"start[{i}] must give a value for each searched parameter "
                    f"({', '.join(self.params)}); got {', '.join(sorted(point)) or 'none'}"
                )
            for name, v in point.items():
                ps = self.params[name]
                if ps.type == "categorical":
                    assert ps.choices is not None
                    if v not in ps.choices:
                        raise ValueError(f"start[{i}] {name}={v!r} is not one of the choices")
                elif not isinstance(v, int | float) or not (
                    ps.low is not None and ps.high is not None and ps.low <= v <= ps.high
                ):
                    raise ValueError(
                        f"start[{i}] {name}={v!r} is outside [{ps.low:g}, {ps.high:g}]"
                    )
        if self.confirm_seeds < self.seeds:
            raise ValueError(
                f"'confirm_seeds' ({self.confirm_seeds}) must be at least 'seeds' ({self.seeds})"
            )
        return self

    @property
    def sampler_name(self) -> str:
        if self.sampler != "auto":
            return self.sampler
        return "nsga2" if len(self.objectives) == 2 else "tpe"


class SearchSpec(BaseModel):
    """A validated search: the study its trials are runs of, the target, and the search."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    study: StudySpec
    target: TargetSpec
    search: SearchSection
    source: str = "the search file"

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": self.study.to_dict(),
            "target": self.target.model_dump(mode="json"),
            "search": self.search.model_dump(mode="json"),
        }


def _lines(exc: ValidationError, source: str, prefix: str) -> list[str]:
    text = format_validation_error(exc, source)
    out = []
    for line in text.splitlines()[1:]:
        if line.strip():
            out.append(line.replace("  - ", f"  - [{prefix}] ", 1) if prefix else line)
    return out


def search_from_mapping(raw: Mapping[str, Any], *, source: str = "The search file") -> SearchSpec:
    """Validate a search given as a mapping (paths already absolute); every problem at once."""
    problems: list[str] = []
    raw = dict(raw)
    if "generators" in raw:
        problems.append(
            "  - [generators]: a search file names one [target] instead of [[generators]]; move "
            "the generator's name, kind and fixed params to [target]"
        )
        raw.pop("generators")
    t_raw, s_raw = raw.pop("target", None), raw.pop("search", None)
    target = search = None
    if not isinstance(t_raw, Mapping):
        problems.append('  - [target]: missing; add e.g. [target] name = "privbayes"')
    else:
        try:
            target = TargetSpec.model_validate(dict(t_raw))
        except ValidationError as exc:
            problems.extend(_lines(exc, source, "target"))
    if not isinstance(s_raw, Mapping):
        problems.append("  - [search]: missing; add [search] with params and objectives")
    else:
        try:
            search = SearchSection.model_validate(dict(s_raw))
        except ValidationError as exc:
            problems.extend(_lines(exc, source, "search"))
    if target is not None and search is not None:
        clash = sorted(set(target.params) & set(search.params))
        if clash:
            problems.append(
                f"  - [search.params]: {', '.join(clash)} also fixed in [target] params; keep one"
            )
    study: StudySpec | None = None
    gen = {"name": target.name, "kind": target.kind, "params": target.params} if target else None
    try:
        study = study_from_mapping({**raw, "generators": [gen or {"name": "copy"}]}, source=source)
    except ConfigError as exc:
        problems.extend(line for line in str(exc).splitlines()[1:] if line.strip())
    if target is not None and search is not None and study is not None and not problems:
        problems.extend(_trial_problems(target, search))
        problems.extend(_metric_problems(study, target, search))
    if problems:
        n = len(problems)
        raise ConfigError(
            f"{source} has {n} problem{'s' if n > 1 else ''}:\n" + "\n".join(problems)
        )
    assert study is not None and target is not None and search is not None
    return SearchSpec(study=study, target=target, search=search, source=source)


def _trial_problems(target: TargetSpec, search: SearchSection) -> list[str]:
    """The target must accept the searched parameters (checked at both ends of each range)."""
    from synth_audit.errors import SynthAuditError
    from synth_audit.targets.registry import make_target

    probes: list[dict[str, Any]] = []
    for end in (0, 1):
        p = dict(target.params)
        for name, ps in search.params.items():
            if ps.type == "categorical":
                assert ps.choices is not None
                p[name] = ps.choices[-end]
            else:
                p[name] = ps.round(ps.low if end == 0 else ps.high)
        probes.append(p)
    for p in probes:
        try:
            make_target(target.kind, target.name, p)
        except SynthAuditError as exc:
            return [f"  - [search.params] {target.name}: {exc}"]
    return []


def _known_metrics(study: StudySpec, target: TargetSpec) -> list[str] | None:
    """The result names the trials' runs record, or None when the kind does not say."""
    if target.kind == "tabular_generator":
        from synth_audit.study.data import load_study_data
        from synth_audit.study.spec import result_names

        columns = list(load_study_data(study).train.columns)
        risks, utility = result_names(study, columns)
        return risks + utility
    from synth_audit.targets.registry import target_class

    try:
        cls = target_class(target.kind)
    except Exception:
        return None
    names = getattr(cls, "result_names", None)
    if names is None:
        return None
    risks, utility = names()
    return list(risks) + list(utility)


def _metric_problems(study: StudySpec, target: TargetSpec, search: SearchSection) -> list[str]:
    """Objectives and the constraint must name results the trials record ("worst" always does)."""
    known = _known_metrics(study, target)
    if known is None:
        return []
    named = [(f"objectives.{i}", o.metric) for i, o in enumerate(search.objectives)]
    if search.constraint is not None:
        named.append(("constraint", search.constraint.metric))
    return [
        f"  - [search.{where}] metric: {metric!r} is not a result the trials of "
        f'{target.name!r} record. Use "worst" or one of {format_names(known, limit=30)}.'
        for where, metric in named
        if metric != "worst" and metric not in known
    ]


def load_search(path: str | Path) -> SearchSpec:
    """Read and validate ``search.toml`` (data paths relative to the file)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(
            f"Search file {str(p)!r} does not exist. Check the path given to "
            "`synth-audit optimise`."
        )
    source = f"Search file {str(p)!r}"
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{source} is not UTF-8 text. Save it as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}.") from None
    data = raw.get("data")
    if isinstance(data, dict) and isinstance(data.get("path"), str):
        raw["data"] = {**data, "path": str((p.parent / data["path"]).resolve())}
    return search_from_mapping(raw, source=source)


def generator_spec(spec: SearchSpec) -> GeneratorSpec:
    return spec.study.generators[0]
