"""The DPIA profile (``dpia.toml``): who the data stands for, where the release goes, what the
attacker knows and how sensitive each column is. Validated whole (pydantic, strict, unknown keys
rejected); every problem is reported at once with the file and the key.

::

    population_size = 50000            # people the training data stands for (default: its rows)
    release_context = "public"         # public | restricted | internal (default: public)
    attacker_knowledge = "some_attributes"   # none | some_attributes | full_record
    membership_sensitivity = "personal"      # what being in the data reveals by itself
    quasi_identifiers = ["age", "sex", "zip"] # optional: columns an attacker may know

    [columns]                          # per column: a sensitivity level or a GDPR Art. 9 category
    income = "sensitive"
    health = "health"                  # special category (Art. 9)
    name = "public"

Sensitivity levels, lowest first: ``public`` (already public), ``personal`` (any personal data,
the default), ``sensitive`` (financial, location, ... whose disclosure does real harm), and the
special categories of GDPR Art. 9 (``racial_or_ethnic_origin``, ``political_opinions``,
``religious_or_philosophical_beliefs``, ``trade_union_membership``, ``genetic``, ``biometric``,
``health``, ``sex_life_or_sexual_orientation``) and Art. 10 (``criminal_convictions``), which
count as ``special``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from synth_audit.errors import ConfigError

__all__ = [
    "LEVELS",
    "SPECIAL_CATEGORIES",
    "DpiaProfile",
    "ResolvedProfile",
    "level_of",
    "load_profile",
]

#: GDPR Art. 9 special categories, and Art. 10 (criminal convictions and offences).
SPECIAL_CATEGORIES = (
    "racial_or_ethnic_origin",
    "political_opinions",
    "religious_or_philosophical_beliefs",
    "trade_union_membership",
    "genetic",
    "biometric",
    "health",
    "sex_life_or_sexual_orientation",
    "criminal_convictions",
)
#: Sensitivity levels, lowest first (a special category is "special").
LEVELS = ("public", "personal", "sensitive", "special")

Sensitivity = Literal[
    "public",
    "personal",
    "sensitive",
    "special",
    "racial_or_ethnic_origin",
    "political_opinions",
    "religious_or_philosophical_beliefs",
    "trade_union_membership",
    "genetic",
    "biometric",
    "health",
    "sex_life_or_sexual_orientation",
    "criminal_convictions",
]


def level_of(sensitivity: str) -> str:
    """``public``, ``personal``, ``sensitive`` or ``special`` for a declared sensitivity."""
    return "special" if sensitivity in SPECIAL_CATEGORIES else sensitivity


class DpiaProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    population_size: int | None = Field(
        None, ge=1, le=10_000_000_000, description="people the training data stands for"
    )
    release_context: Literal["public", "restricted", "internal"] | None = None
    attacker_knowledge: Literal["none", "some_attributes", "full_record"] | None = None
    membership_sensitivity: Sensitivity | None = None
    quasi_identifiers: list[str] = Field(default_factory=list)
    columns: dict[str, Sensitivity] = Field(default_factory=dict)


@dataclass(frozen=True)
class ResolvedProfile:
    """A profile with every default filled in, and the notices saying which were."""

    population_size: int
    release_context: str
    attacker_knowledge: str
    membership_sensitivity: str
    quasi_identifiers: tuple[str, ...]
    columns: Mapping[str, str]
    notices: tuple[str, ...]
    source: str

    def sensitivity(self, column: str) -> str:
        return self.columns.get(column, "personal")

    def level(self, column: str) -> str:
        return level_of(self.sensitivity(column))

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "population_size": self.population_size,
            "release_context": self.release_context,
            "attacker_knowledge": self.attacker_knowledge,
            "membership_sensitivity": self.membership_sensitivity,
            "quasi_identifiers": list(self.quasi_identifiers),
            "columns": dict(self.columns),
            "notices": list(self.notices),
        }


def _format(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            msg = "unknown key; remove it or check its spelling"
        elif err["type"] == "literal_error":
            msg = (
                f"must be one of {err.get('ctx', {}).get('expected', '')}; got {err.get('input')!r}"
            )
        else:
            msg = f"{err['msg']}; got {err.get('input')!r}"
        lines.append(f"  - {loc}: {msg}")
    n = len(lines)
    return f"{source} has {n} problem{'s' if n > 1 else ''}:\n" + "\n".join(lines)


def parse_profile(data: Mapping[str, Any], *, source: str = "The DPIA profile") -> DpiaProfile:
    try:
        return DpiaProfile.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(_format(exc, source)) from None


def load_profile(path: str | Path | None) -> tuple[DpiaProfile, str]:
    """Read ``dpia.toml`` (``None``: every default); return the profile and its name for messages."""
    if path is None:
        return DpiaProfile.model_validate({}), "(no profile: defaults)"
    p = Path(path)
    name = f"DPIA profile {str(p)!r}"
    if not p.is_file():
        raise ConfigError(
            f"{name} does not exist or is not a file. Check the path given to --profile/--dpia."
        )
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name} is not UTF-8 text ({exc.reason}); save it as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name} is not valid TOML: {exc}. Fix the syntax there.") from None
    return parse_profile(data, source=name), str(p)


def resolve_profile(
    profile: DpiaProfile,
    *,
    source: str,
    n_train: int | None,
    columns: list[str],
) -> ResolvedProfile:
    """Fill in the defaults (each with a notice) and check the profile's columns against the
    audited data's (unknown columns are an error naming them)."""
    notices = []
    unknown = sorted(c for c in [*profile.columns, *profile.quasi_identifiers] if c not in columns)
    if unknown and columns:
        raise ConfigError(
            f"{source}: columns {unknown} are not columns of the audited data (it has "
            f"{', '.join(sorted(columns)[:20])}{' ...' if len(columns) > 20 else ''}). Fix [columns] "
            "or quasi_identifiers there."
        )
    pop = profile.population_size
    if pop is None:
        pop = int(n_train or 0) or 1
        notices.append(
            f"population_size is not set: taken as the {pop:,} training records, so exposed "
            "counts are for the people in the training data only. Set it to the number of people "
            "the data stands for."
        )
    ctx = profile.release_context
    if ctx is None:
        ctx = "public"
        notices.append(
            'release_context is not set: taken as "public" (the most exposed, the conservative '
            "choice)."
        )
    know = profile.attacker_knowledge
    if know is None:
        know = "full_record"
        notices.append(
            'attacker_knowledge is not set: taken as "full_record" (the attacker may hold a '
            "person's whole record, as membership inference assumes; the conservative choice)."
        )
    mem = profile.membership_sensitivity
    if mem is None:
        mem = "personal"
        notices.append(
            'membership_sensitivity is not set: taken as "personal". If being in the data reveals '
            'something by itself (a patient cohort), set it (e.g. "health").'
        )
    undeclared = sorted(c for c in columns if c not in profile.columns)
    if undeclared:
        shown = ", ".join(undeclared[:12]) + (
            f" and {len(undeclared) - 12} more" if len(undeclared) > 12 else ""
        )
        notices.append(
            f'{len(undeclared)} column(s) have no declared sensitivity and count as "personal": '
            f"{shown}. Declare special categories (GDPR Art. 9) in [columns]."
        )
    return ResolvedProfile(
        population_size=int(pop),
        release_context=ctx,
        attacker_knowledge=know,
        membership_sensitivity=mem,
        quasi_identifiers=tuple(profile.quasi_identifiers),
        columns={c: profile.columns.get(c, "personal") for c in [*columns, *profile.columns]},
        notices=tuple(notices),
        source=source,
    )
