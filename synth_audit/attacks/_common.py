"""Pieces every attack shares: target selection, size limits, result assembly, sanity checks.

Measurability. A criterion is *unmeasurable* (warning code ``unmeasurable``, so
:attr:`AttackResult.measurable` is False and the result stays out of headlines, ``gate`` and
frontiers) when it rests on fewer than :data:`MIN_ATTACKS` attacks (30: below that a Wilson
interval around a rate near one half is wider than ±0.17 for the attack alone, and the residual's
wider still), or when the risk's CI is wider than :data:`MAX_CI_WIDTH` (0.5: an interval that
spans half of [0, 1] cannot tell a safe release from a leaky one). Both are reported with the
numbers, so the user can raise ``n_attacks`` or supply more data.

Sizes. Every size a user can set is bounded, here and in the config: singling-out predicates at
:data:`MAX_PREDICATES`, generation attempts at :data:`MAX_ATTEMPTS`, neighbours at
:data:`MAX_NEIGHBORS`, and the records attacked by linkability and inference at the number of
training records (or ``"all"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError
from synth_audit.report.wording import fmt_pct
from synth_audit.results import UNMEASURABLE, AttackResult, AuditWarning
from synth_audit.stats import SuccessRate, residual_risk, wilson_rate

NAttacks = int | Literal["all"]

#: Fewest attacks (singling-out predicates, targets) a criterion needs to be measurable.
MIN_ATTACKS = 30
#: Widest risk CI (``2 · error``, unclipped) of a measurable criterion.
MAX_CI_WIDTH = 0.5
#: Most singling-out predicates per mode (each is evaluated on train, control and at random).
MAX_PREDICATES = 100_000
#: Most attempts at generating multivariate singling-out predicates.
MAX_ATTEMPTS = 10_000_000
#: Most neighbours per side in linkability.
MAX_NEIGHBORS = 1_000


def check_n_attacks(n_attacks: object, owner: str, n_records: int | None = None) -> NAttacks:
    """``"all"`` or an int in [1, n_records]: attacking more records than there are is refused."""
    if n_attacks == "all":
        return "all"
    if isinstance(n_attacks, bool) or not isinstance(n_attacks, int | np.integer) or n_attacks < 1:
        raise ConfigError(
            f"The 'n_attacks' parameter of {owner} must be an int >= 1 or \"all\". Got {n_attacks!r}."
        )
    if n_records is not None and n_attacks > n_records:
        raise ConfigError(
            f"The 'n_attacks' parameter of {owner} is {int(n_attacks)}, but the training data has only "
            f'{n_records} records (the limit). Set n_attacks to at most {n_records}, or to "all" to '
            f"attack every record."
        )
    return int(n_attacks)


def check_size(value: object, name: str, owner: str, limit: int, remedy: str) -> int:
    """An int in [1, limit], or a ConfigError naming the parameter, the value, the limit, a remedy."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"The '{name}' parameter of {owner} must be an int >= 1. Got {value!r}.")
    if value > limit:
        raise ConfigError(
            f"The '{name}' parameter of {owner} is {int(value)}, above the limit of {limit:,}. "
            f"{remedy}"
        )
    return int(value)


def measurability_warnings(n_total: int, error: float, what: str) -> list[AuditWarning]:
    """An ``unmeasurable`` warning when the criterion rests on too few attacks or its CI is too wide."""
    if n_total < MIN_ATTACKS:
        return [
            AuditWarning(
                UNMEASURABLE,
                f"Only {n_total} {what} could be made (at least {MIN_ATTACKS} are needed): this "
                f"criterion could not be measured on these data and is left out of headlines, gates "
                f"and frontiers. Raise n_attacks, or use more data or more varied columns.",
            )
        ]
    if 2 * error > MAX_CI_WIDTH:
        return [
            AuditWarning(
                UNMEASURABLE,
                f"The risk's confidence interval is {2 * error:.2f} wide (more than {MAX_CI_WIDTH}) "
                f"with {n_total} {what}: this criterion could not be measured precisely enough to "
                f"tell a safe release from a leaky one and is left out of headlines, gates and "
                f"frontiers. Raise n_attacks, or use more data.",
            )
        ]
    return []


def pick_targets(n_rows: int, n_attacks: NAttacks, rng: np.random.Generator) -> np.ndarray:
    """Row positions to attack: all of them (in order) or a random subset without replacement."""
    if n_attacks == "all" or n_attacks >= n_rows:
        return np.arange(n_rows)
    return np.sort(rng.choice(n_rows, size=int(n_attacks), replace=False))


def check_columns(cols: object, known: list[str], what: str, owner: str) -> list[str]:
    if isinstance(cols, str) or not isinstance(cols, list | tuple) or not cols:
        raise ConfigError(
            f"The '{what}' parameter of {owner} must be a non-empty list of column names. Got {cols!r}."
        )
    missing = [c for c in cols if c not in known]
    if missing:
        raise ConfigError(
            f"The '{what}' parameter of {owner} names column(s) that are not usable attack columns: "
            f"{', '.join(repr(m) for m in missing)}. Usable columns: {', '.join(repr(k) for k in known)}."
        )
    return [str(c) for c in cols]


def sanity_warnings(
    attack: SuccessRate, baseline: SuccessRate, control: SuccessRate | None
) -> list[AuditWarning]:
    out = []
    if baseline.value >= attack.value:
        out.append(
            AuditWarning(
                "not_better_than_baseline",
                f"The attack (success rate {fmt_pct(attack.value)}) is no better than the naive "
                f"baseline ({fmt_pct(baseline.value)}): the release gives this attacker no usable signal, or the attack "
                f"is too weak to measure risk here. The risk figure cannot be read as evidence of safety.",
            )
        )
    if (
        control is not None
        and control.value > attack.value
        and control.error + attack.error < (control.value - attack.value)
    ):
        out.append(
            AuditWarning(
                "control_above_attack",
                f"The control attack ({fmt_pct(control.value)}) succeeds clearly more often than the "
                f"attack on training records ({fmt_pct(attack.value)}); check that control and train come from the same "
                f"population.",
            )
        )
    return out


def assemble(
    *,
    attack: str,
    engine: str,
    n_success: float,
    n_total: int,
    n_baseline_success: float,
    n_baseline_total: int,
    n_control_success: float | None,
    n_control_total: int | None,
    confidence_level: float,
    seed: int | None,
    params: Mapping[str, Any],
    per_record: pd.DataFrame | None = None,
    extra_warnings: list[AuditWarning] | None = None,
    attack_deff: float = 1.0,
    control_deff: float = 1.0,
    n_measured: int | None = None,
    what: str = "attacks",
    min_risk_error: float = 0.0,
) -> AttackResult:
    """Rates, risk and warnings of one attack.

    ``attack_deff``/``control_deff`` widen the attack's and control's errors by their design effects
    (outcomes that are not independent trials, see :func:`synth_audit.stats.design_effect`).
    ``min_risk_error`` floors the risk's error (a paired estimate, see
    :func:`synth_audit.stats.paired_residual_error`). ``n_measured`` is the number of attacks actually made when it differs from the denominator
    ``n_total`` (anonymeter divides by the number requested); ``what`` names them in messages.
    """
    a = wilson_rate(n_success, n_total, confidence_level).inflated(attack_deff)
    b = wilson_rate(n_baseline_success, n_baseline_total, confidence_level)
    c = (
        None
        if n_control_success is None or n_control_total is None
        else wilson_rate(
            min(n_control_success, n_control_total), n_control_total, confidence_level
        ).inflated(control_deff)
    )
    risk = residual_risk(a, c, confidence_level, min_error=min_risk_error if c else 0.0)
    warns = list(extra_warnings or [])
    if not any(w.code == UNMEASURABLE for w in warns):
        warns += measurability_warnings(
            n_total if n_measured is None else n_measured, risk.error, what
        )
    warns += sanity_warnings(a, b, c)
    return AttackResult(
        attack=attack,
        risk=risk,
        attack_rate=a,
        baseline_rate=b,
        control_rate=c,
        engine=engine,
        seed=seed,
        params=dict(params),
        warnings=tuple(warns),
        per_record=per_record,
    )
