"""The audit configuration (``audit.toml``): validated whole, every problem reported at once.

Unknown keys are rejected with their location, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from synth_audit.errors import ConfigError
from synth_audit.schema import ColumnKind

__all__ = [
    "AnonymityConfig",
    "AuditConfig",
    "DiagnosticsConfig",
    "InferenceConfig",
    "LinkabilityConfig",
    "SinglingOutConfig",
    "UtilityConfig",
    "format_validation_error",
    "load_audit_config",
]

NAttacks = int | Literal["all"]

# Size limits (the same numbers as synth_audit.attacks._common, which also checks each size against
# the data at run time): a typo such as n_attacks = 10**12 is refused at load, not run out of memory.
MAX_PREDICATES = 100_000
MAX_ATTEMPTS = 10_000_000
MAX_NEIGHBORS = 1_000
MAX_TARGETS = 10_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SinglingOutConfig(_Strict):
    enabled: bool = True
    modes: list[Literal["univariate", "multivariate"]] = Field(
        default_factory=lambda: ["univariate", "multivariate"]  # type: ignore[arg-type]
    )
    n_attacks: int = Field(
        500,
        ge=1,
        le=MAX_PREDICATES,
        description=f"predicates generated per mode (at most {MAX_PREDICATES:,}; fewer than 30 "
        "generated make the criterion unmeasurable)",
    )
    n_cols: int = Field(3, ge=1, le=1_000, description="predicates per multivariate query")
    max_attempts: int | None = Field(
        100_000,
        ge=1,
        le=MAX_ATTEMPTS,
        description=f"attempts at generating multivariate predicates (at most {MAX_ATTEMPTS:,})",
    )


class LinkabilityConfig(_Strict):
    enabled: bool = True
    aux_cols: list[list[str]] | None = Field(
        None, description="two disjoint column lists; default: the usable columns split in half"
    )
    n_neighbors: int = Field(
        1, ge=1, le=MAX_NEIGHBORS, description=f"neighbours per side (at most {MAX_NEIGHBORS:,})"
    )
    n_attacks: NAttacks = Field(
        "all", description='"all" or at most the number of training records (checked at run time)'
    )

    @field_validator("aux_cols")
    @classmethod
    def _two_sets(cls, v: list[list[str]] | None) -> list[list[str]] | None:
        if v is not None and (len(v) != 2 or not all(v)):
            raise ValueError('must be two non-empty lists of column names, e.g. [["age"], ["zip"]]')
        return v

    @field_validator("n_attacks")
    @classmethod
    def _positive(cls, v: NAttacks) -> NAttacks:
        if isinstance(v, int) and not 1 <= v <= MAX_TARGETS:
            raise ValueError(
                f'must be "all" or an integer from 1 to {MAX_TARGETS:,} (and at most the number '
                "of training records)"
            )
        return v


class InferenceConfig(_Strict):
    enabled: bool = True
    secrets: list[str] | Literal["all"] = "all"
    aux_cols: list[str] | None = None
    n_attacks: NAttacks = Field(
        "all", description='"all" or at most the number of training records (checked at run time)'
    )
    numeric_tolerance: float = Field(
        0.1,
        ge=0,
        description="a numeric secret is inferred when |guess - true| <= numeric_tolerance times "
        "the scale of tolerance_mode",
    )
    tolerance_mode: Literal["iqr", "relative", "range"] = Field(
        "iqr",
        description='"iqr": the interquartile range of the secret in train (its standard deviation '
        "when the IQR is 0), so 0.1 allows a tenth of the typical spread between people: ±2.5 years "
        "for years spanning 1950-2000, an exact value for small counts; "
        '"relative": |true value| (wrong for columns far from 0, e.g. years: 5 % of 1990 is ±99); '
        '"range": max - min of the column over all inputs',
    )

    @field_validator("n_attacks")
    @classmethod
    def _positive(cls, v: NAttacks) -> NAttacks:
        if isinstance(v, int) and not 1 <= v <= MAX_TARGETS:
            raise ValueError(
                f'must be "all" or an integer from 1 to {MAX_TARGETS:,} (and at most the number '
                "of training records)"
            )
        return v


class UtilityConfig(_Strict):
    enabled: bool = True
    metrics: list[str] = Field(
        default_factory=lambda: ["marginals", "pairwise", "detection", "ml_efficacy"]
    )
    target: str | None = None


class DiagnosticsConfig(_Strict):
    dcr: bool = True


class AnonymityConfig(_Strict):
    """``[anonymity]``: exact k-anonymity, ℓ-diversity and t-closeness of the release and the
    training data over declared quasi-identifiers (see :mod:`synth_audit.anonymity`)."""

    quasi_identifiers: list[str] = Field(
        min_length=1, description="columns an attacker may know about a person (age, ZIP, ...)"
    )
    sensitive: list[str] = Field(
        default_factory=list, description="columns whose values must not be narrowed down"
    )
    k: int = Field(5, ge=1, le=1_000_000, description="records below this class size are at risk")
    l: int = Field(  # noqa: E741 (the measure's name)
        2, ge=1, le=1_000, description="distinct sensitive values a class must hold (ℓ)"
    )
    t: float = Field(0.2, ge=0, le=1, description="largest allowed earth mover's distance")

    @field_validator("sensitive")
    @classmethod
    def _disjoint(cls, v: list[str], info: Any) -> list[str]:
        both = sorted(set(v) & set(info.data.get("quasi_identifiers") or []))
        if both:
            raise ValueError(f"{both} are also quasi-identifiers; a column is one or the other")
        return v


class AuditConfig(_Strict):
    seed: int = Field(42, ge=0)
    confidence_level: float = Field(0.95, gt=0, lt=1)
    engine: Literal["native", "anonymeter"] = "native"
    n_jobs: int | None = Field(None, description="threads for neighbour search; None = all cores")
    columns: dict[str, ColumnKind] = Field(default_factory=dict)
    singling_out: SinglingOutConfig = Field(default_factory=SinglingOutConfig)  # type: ignore[arg-type]
    linkability: LinkabilityConfig = Field(default_factory=LinkabilityConfig)  # type: ignore[arg-type]
    inference: InferenceConfig = Field(default_factory=InferenceConfig)  # type: ignore[arg-type]
    utility: UtilityConfig = Field(default_factory=UtilityConfig)  # type: ignore[arg-type]
    diagnostics: DiagnosticsConfig = Field(default_factory=DiagnosticsConfig)  # type: ignore[arg-type]
    anonymity: AnonymityConfig | None = None

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, source: str = "config") -> AuditConfig:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, source)) from None

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def format_validation_error(exc: ValidationError, source: str) -> str:
    """All problems of a pydantic validation, one per line, located like TOML tables."""
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        where = ".".join(loc) if loc else "(top level)"
        if len(loc) > 1:
            where = f"[{'.'.join(loc[:-1])}] {loc[-1]}"
        if err["type"] == "extra_forbidden":
            msg = "unknown key; remove it or check its spelling"
        elif err["type"] == "enum":
            msg = (
                f"must be one of {err.get('ctx', {}).get('expected', '')}; got {err.get('input')!r}"
            )
        elif err["type"] == "less_than_equal":
            limit = err.get("ctx", {}).get("le")
            msg = f"{err.get('input')!r} is above the limit of {limit}; lower it to at most {limit}"
        else:
            msg = f"{err['msg']}; got {err.get('input')!r}"
        lines.append(f"  - {where}: {msg}")
    n = len(lines)
    return f"{source} has {n} problem{'s' if n > 1 else ''}:\n" + "\n".join(lines)


def load_audit_config(path: str | Path | None) -> AuditConfig:
    """Read ``audit.toml``; ``None`` gives the defaults."""
    if path is None:
        return AuditConfig.model_validate({})
    p = Path(path)
    name = f"Config file {str(p)!r}"
    if p.is_dir():
        raise ConfigError(
            f"{name} is a directory; give the path of an audit.toml file to --config."
        )
    if not p.is_file():
        raise ConfigError(f"{name} does not exist. Check the path given to --config.")
    try:
        text = p.read_text(encoding="utf-8")
    except PermissionError:
        raise ConfigError(
            f"{name} cannot be read: permission denied. Give the user running synth-audit read "
            f"access to it (e.g. chmod u+r), or copy it somewhere readable."
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name} is not UTF-8 text ({exc.reason}); save it as UTF-8.") from None
    except OSError as exc:
        raise ConfigError(f"{name} cannot be read: {exc.strerror or exc}.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{name} is not valid TOML: {exc}. Fix the syntax there (strings in double quotes, "
            f"one key = value per line, [table] headers)."
        ) from None
    return AuditConfig.from_mapping(data, source=name)
