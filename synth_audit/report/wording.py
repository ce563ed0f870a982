"""One way to write each quantity for people, shared by every surface (CLI, app, report.html,
audit_card.md, frontier page), so the same number never reads differently in two places.

* Rates and risks: :func:`fmt_pct`, two decimals below 10 %, one above (``0.83 %``, ``14.5 %``);
  intervals :func:`fmt_ci` (``[0.00 %, 0.83 %]``); a risk with its interval :func:`fmt_risk`.
* Counts and other numbers: :func:`fmt_num` (thousands separators, 4 significant digits).
* Missing values read ``n/a`` (never the literal ``None``).
* Generators keep one colour everywhere: :func:`generator_colour`.
* Runs are labelled by generator, parameters and seed number (``seed #3``), never by the raw 32-bit
  seed: :func:`run_label`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "GENERATOR_PALETTE",
    "MISSING",
    "capability_words",
    "display_ci",
    "fmt_ci",
    "fmt_num",
    "fmt_param",
    "fmt_pct",
    "fmt_risk",
    "generator_colour",
    "privacy_claim",
    "run_label",
    "threat_model_words",
]

#: How a missing value reads in every table.
MISSING = "n/a"


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return not math.isfinite(float(x))
    except (TypeError, ValueError):
        return True


def fmt_pct(x: float | None, *, digits: int | None = None) -> str:
    """A rate as a percentage: two decimals below 10 %, one above; ``n/a`` for missing values."""
    if _missing(x):
        return MISSING
    assert x is not None
    v = float(x) * 100
    d = digits if digits is not None else (2 if abs(v) < 10 else 1)
    return f"{v:.{d}f} %"


def fmt_ci(lo: float | None, hi: float | None) -> str:
    """An interval of rates: ``[0.00 %, 0.83 %]``."""
    return f"[{fmt_pct(lo)}, {fmt_pct(hi)}]"


def fmt_num(x: Any, digits: int = 4) -> str:
    """A count or measurement: ``2,000``; ``0.5512``; ``n/a`` for missing values."""
    if x is None:
        return MISSING
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if not math.isfinite(x):
            return MISSING
        if x == int(x) and abs(x) < 1e15:
            return f"{int(x):,}"
        return f"{x:.{digits}g}"
    return str(x)


def fmt_param(value: Any) -> str:
    """A parameter value as compact text (lists and dicts as JSON)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float | int | bool) or value is None:
        return fmt_num(value)
    return json.dumps(value, ensure_ascii=False)


def display_ci(
    value: float | None, ci_low: float | None, ci_high: float | None, error: float | None = None
) -> tuple[float | None, float | None, bool]:
    """The interval to show for a risk, and whether it was widened.

    Reports written before the interval fix (issue 7, item 9) hold ``[0, 0]`` when the whole
    unclipped interval lay below zero, although the measurement's resolution (``error``, the CI's
    half-width) is positive. A zero-width interval would read as certainty of zero risk, so the
    upper end shown is then ``error``: the data support "below that", not "exactly zero".
    """
    if (
        value is not None
        and ci_high is not None
        and error is not None
        and not _missing(error)
        and float(error) > 0
        and float(ci_high) <= 0.0
        and float(value) <= 0.0
    ):
        return ci_low, min(float(error), 1.0), True
    return ci_low, ci_high, False


def fmt_risk(
    value: float | None,
    ci_low: float | None,
    ci_high: float | None,
    error: float | None = None,
) -> str:
    """A risk with its interval: ``3.15 % [0.00 %, 7.77 %]``.

    A legacy zero-width interval at zero (see :func:`display_ci`) reads ``< 0.83 %`` with the
    widened interval beside it, never ``0.00 % [0.00 %, 0.00 %]``.
    """
    lo, hi, widened = display_ci(value, ci_low, ci_high, error)
    if widened:
        return f"< {fmt_pct(hi)} {fmt_ci(lo, hi)}"
    return f"{fmt_pct(value)} {fmt_ci(lo, hi)}"


# ---- generators and runs -------------------------------------------------------------------------

#: Colours of the generators, the same in the app and every HTML page (Tableau 10).
GENERATOR_PALETTE: tuple[str, ...] = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#b279a2",
    "#eeca3b",
    "#9d755d",
    "#ff9da6",
    "#bab0ac",
)

# The shipped generators get distinct fixed colours; any other name is placed by a stable hash.
_FIXED_COLOURS: Mapping[str, str] = {
    "copy": "#e45756",
    "leaky": "#ff9da6",
    "independent_marginals": "#bab0ac",
    "gaussian_copula": "#4c78a8",
    "ctgan": "#f58518",
    "copula_gan": "#eeca3b",
    "tvae": "#54a24b",
    "synthcity": "#72b7b2",
    "privbayes": "#b279a2",
    "dpgan": "#9d755d",
}


def generator_colour(name: str) -> str:
    """The colour of a generator: fixed for the shipped ones, else from a stable hash of the name
    (SHA-256, not Python's per-process ``hash``), so a generator has one colour in every process,
    page and study, whatever other generators are shown beside it."""
    fixed = _FIXED_COLOURS.get(name)
    if fixed is not None:
        return fixed
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return GENERATOR_PALETTE[int.from_bytes(digest[:4], "big") % len(GENERATOR_PALETTE)]


def run_label(
    generator: str, params: Mapping[str, Any] | None = None, seed_index: int | None = None
) -> str:
    """A run's label for people: ``gaussian_copula(default_distribution=beta) · seed #3``.

    ``seed_index`` is the run's position among the study's seeds, as stored and as the service's
    ``seed_index`` parameter takes it (from 0); the raw 32-bit seed stays in tooltips and JSON."""
    items = ", ".join(f"{k}={fmt_param(v)}" for k, v in sorted((params or {}).items()))
    label = f"{generator}({items})" if items else generator
    if seed_index is None:
        return label
    return f"{label} · seed #{int(seed_index)}"


# ---- targets: the threat model in words -----------------------------------------------------------


def _target_noun(kind: str) -> str:
    k = kind.lower()
    if "generator" in k:
        return "generator"
    if k == "release":
        return "release"
    return "model"


def capability_words(capability: str, kind: str = "") -> str:
    """What an attacker can do with a target that has ``capability``, in plain words."""
    noun = _target_noun(kind)
    words = {
        "release": "the attacker holds the released data only (no box)",
        "refit": (
            f"the attacker can re-train the {noun} on data of their choice (black box, shadow "
            "models)"
        ),
        "predict_proba": (
            f"the attacker can query the {noun}'s class probabilities for any record (black box)"
        ),
        "loss": f"the attacker can compute the {noun}'s loss on any record (grey box)",
        "token_logprobs": (
            f"the attacker can read the {noun}'s log-probability of every token of any text "
            "(black box)"
        ),
        "noise_prediction": (
            f"the attacker can query the {noun}'s noise prediction for a noised input and a "
            "timestep (grey box)"
        ),
    }
    return words.get(str(capability), f"the attacker can use the capability {capability!r}")


def threat_model_words(capabilities: Any, kind: str = "") -> str:
    """The capabilities of a target as the threat model a report states (one sentence)."""
    caps = [str(c) for c in (capabilities or ())]
    if not caps:
        return "not stated (the target declares no capability)"
    parts = [capability_words(c, kind) for c in caps]
    if "release" in caps and len(caps) > 1:
        # "only" would contradict the other capabilities.
        parts[caps.index("release")] = (
            f"the attacker holds data the {_target_noun(kind)} released (no box)"
        )
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def privacy_claim(privacy: Mapping[str, Any] | None) -> str:
    """The formal guarantee a target claims: ``ε = 1, δ = 1e-05`` or "no formal guarantee claimed"."""
    p = dict(privacy or {})
    eps, delta = p.get("epsilon"), p.get("delta")
    if eps is None and delta is None:
        return "no formal guarantee claimed"
    parts = []
    if eps is not None:
        parts.append(f"ε = {fmt_param(eps)}")
    if delta is not None:
        parts.append(f"δ = {fmt_param(delta)}")
    else:
        parts.append("δ not stated")
    return ", ".join(parts) + " (claimed (ε, δ)-differential privacy)"
