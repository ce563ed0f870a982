"""The risk rating on the CNIL PIA scales: severity × likelihood, four levels each, every level
traced to the numbers behind it.

Levels, lowest first: ``negligible``, ``limited``, ``significant``, ``maximum``.

*Likelihood* of a criterion comes from its risk's confidence interval (the share of people the
release exposes beyond what the population reveals):

================  ===========================================================================
maximum           the CI's lower bound is at least 50 % (most people, even at the low end)
significant       the lower bound is at least 5 %
limited           the lower bound is above 0 (leakage shown), or the upper bound is at least
                  20 % (the audit cannot rule a large leak out: inconclusive)
negligible        otherwise: no leakage shown and the upper bound is below 20 %
================  ===========================================================================

The release context then lowers it: ``restricted`` by one level, ``internal`` by two (never below
negligible); ``public`` leaves it.

*Severity* comes from the sensitivity of what a success reveals (a column for inference, every
released column for singling out and linkability, membership itself for membership inference):
``public`` → negligible, ``personal`` → limited, ``sensitive`` → significant, a special category
(GDPR Art. 9 or 10) → maximum.

The *risk level* of a criterion combines them with this matrix (rows severity, columns likelihood),
monotone in both; the audit's rating is the highest over its criteria:

==============  ==========  =========  ===========  =======
severity        negligible  limited    significant  maximum
==============  ==========  =========  ===========  =======
negligible      negligible  negligible negligible   limited
limited         negligible  limited    limited      significant
significant     negligible  limited    significant  maximum
maximum         limited     limited    significant  maximum
==============  ==========  =========  ===========  =======
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from synth_audit.dpia.exposure import CriterionExposure, Exposure
from synth_audit.dpia.profile import ResolvedProfile

__all__ = ["CNIL_LEVELS", "NOT_RATED", "Rating", "combine", "likelihood_of", "rate", "severity_of"]

CNIL_LEVELS = ("negligible", "limited", "significant", "maximum")
#: The level of an audit with no measurable criterion (never "negligible": nothing was shown).
NOT_RATED = "not rated"

_MATRIX = (
    ("negligible", "negligible", "negligible", "limited"),
    ("negligible", "limited", "limited", "significant"),
    ("negligible", "limited", "significant", "maximum"),
    ("limited", "limited", "significant", "maximum"),
)
_SEVERITY = {"public": "negligible", "personal": "limited", "sensitive": "significant"}
_SEVERITY["special"] = "maximum"
_CONTEXT_DROP = {"public": 0, "restricted": 1, "internal": 2}

#: Thresholds of the likelihood (on the risk's CI bounds).
MAXIMUM_LOW = 0.5
SIGNIFICANT_LOW = 0.05
INCONCLUSIVE_HIGH = 0.2


def likelihood_of(ci_low: float, ci_high: float) -> tuple[str, str]:
    """The measured likelihood of a risk with CI ``[ci_low, ci_high]`` and why."""
    if ci_low >= MAXIMUM_LOW:
        return "maximum", f"CI lower bound {ci_low:.1%} ≥ {MAXIMUM_LOW:.0%}"
    if ci_low >= SIGNIFICANT_LOW:
        return "significant", f"CI lower bound {ci_low:.1%} ≥ {SIGNIFICANT_LOW:.0%}"
    if ci_low > 0:
        return "limited", f"CI lower bound {ci_low:.1%} > 0 (leakage shown)"
    if ci_high >= INCONCLUSIVE_HIGH:
        return "limited", (
            f"no leakage shown, but the CI upper bound {ci_high:.1%} ≥ {INCONCLUSIVE_HIGH:.0%} "
            "(inconclusive: a larger audit could tell)"
        )
    return "negligible", (
        f"no leakage shown (CI lower bound 0) and the CI upper bound {ci_high:.1%} < "
        f"{INCONCLUSIVE_HIGH:.0%}"
    )


def severity_of(sensitivity: str) -> str:
    return _SEVERITY.get(sensitivity, "limited")


def combine(severity: str, likelihood: str) -> str:
    return _MATRIX[CNIL_LEVELS.index(severity)][CNIL_LEVELS.index(likelihood)]


@dataclass(frozen=True)
class CriterionRating:
    name: str
    severity: str
    likelihood: str
    measured_likelihood: str
    level: str
    trace: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "severity": self.severity,
            "likelihood": self.likelihood,
            "measured_likelihood": self.measured_likelihood,
            "level": self.level,
            "trace": self.trace,
        }


@dataclass(frozen=True)
class Rating:
    level: str
    severity: str
    likelihood: str
    driver: str | None
    criteria: tuple[CriterionRating, ...]
    trace: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "severity": self.severity,
            "likelihood": self.likelihood,
            "driver": self.driver,
            "criteria": [c.to_dict() for c in self.criteria],
            "trace": self.trace,
            "scale": list(CNIL_LEVELS),
        }


def _rate_one(c: CriterionExposure, context: str) -> CriterionRating:
    measured, why = likelihood_of(c.share_ci[0], c.share_ci[1])
    drop = _CONTEXT_DROP.get(context, 0)
    lik = CNIL_LEVELS[max(0, CNIL_LEVELS.index(measured) - drop)]
    sev = severity_of(c.sensitivity)
    level = combine(sev, lik)
    ctx = "" if drop == 0 or lik == measured else f"; release context {context} lowers it to {lik}"
    trace = (
        f"{c.name}: risk {c.share:.1%} [{c.share_ci[0]:.1%}, {c.share_ci[1]:.1%}] → likelihood "
        f"{measured} ({why}){ctx}; it reveals {c.reveals} ({c.sensitivity}) → severity {sev}; "
        f"matrix → {level}"
    )
    return CriterionRating(c.name, sev, lik, measured, level, trace)


def rate(exposure: Exposure, profile: ResolvedProfile) -> Rating:
    """The audit's rating: each measurable criterion (and membership) rated, the highest wins
    (ties: the higher severity, then likelihood)."""
    measurable = [c for c in exposure.criteria if c.measurable]
    rated = [_rate_one(c, profile.release_context) for c in measurable]
    upper = {c.name: c.share_ci[1] for c in measurable}
    if not rated:
        return Rating(
            NOT_RATED,
            NOT_RATED,
            NOT_RATED,
            None,
            (),
            "No measurable criterion: nothing to rate. An audit that measured nothing is not "
            "evidence of low risk; run the attacks that apply to this target.",
        )
    order: Sequence[CriterionRating] = sorted(
        rated,
        key=lambda r: (
            CNIL_LEVELS.index(r.level),
            CNIL_LEVELS.index(r.severity),
            CNIL_LEVELS.index(r.likelihood),
            upper[r.name],
        ),
        reverse=True,
    )
    top = order[0]
    return Rating(
        level=top.level,
        severity=top.severity,
        likelihood=top.likelihood,
        driver=top.name,
        criteria=tuple(rated),
        trace=f"Highest: {top.trace}.",
    )
