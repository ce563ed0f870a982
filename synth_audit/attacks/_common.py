"""Pieces every attack shares: target selection, result assembly, the baseline sanity check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError
from synth_audit.results import AttackResult, AuditWarning
from synth_audit.stats import SuccessRate, residual_risk, wilson_rate

NAttacks = int | Literal["all"]


def check_n_attacks(n_attacks: object, owner: str) -> NAttacks:
    if n_attacks == "all":
        return "all"
    if isinstance(n_attacks, bool) or not isinstance(n_attacks, int | np.integer) or n_attacks < 1:
        raise ConfigError(
            f"The 'n_attacks' parameter of {owner} must be an int >= 1 or \"all\". Got {n_attacks!r}."
        )
    return int(n_attacks)


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
                f"The attack (success rate {attack.value:.3f}) is no better than the naive baseline "
                f"({baseline.value:.3f}): the release gives this attacker no usable signal, or the attack "
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
                f"The control attack ({control.value:.3f}) succeeds clearly more often than the attack on "
                f"training records ({attack.value:.3f}); check that control and train come from the same "
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
) -> AttackResult:
    a = wilson_rate(n_success, n_total, confidence_level)
    b = wilson_rate(n_baseline_success, n_baseline_total, confidence_level)
    c = (
        None
        if n_control_success is None or n_control_total is None
        else wilson_rate(min(n_control_success, n_control_total), n_control_total, confidence_level)
    )
    risk = residual_risk(a, c, confidence_level)
    warns = list(extra_warnings or []) + sanity_warnings(a, b, c)
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
