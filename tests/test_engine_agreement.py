"""The native engine against anonymeter 1.1.0 (the reference), on the shipped sample release.

Compared where anonymeter's semantics are the intended ones: linkability on a release without
repeated values on the attacker's columns, inference of categorical secrets (numeric secrets differ on
purpose: anonymeter divides by the guess), and singling out on records without duplicates. Each pair
of attack rates must agree within their combined 95 % errors.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from synth_audit import evaluate_release
from synth_audit.config import load_audit_config


def test_native_agrees_with_anonymeter(randhie: dict[str, pd.DataFrame], randhie_dir: Any) -> None:
    cfg = load_audit_config(randhie_dir / "audit.toml").to_dict()
    cfg["utility"]["enabled"] = False
    cfg["diagnostics"]["dcr"] = False
    cfg["inference"]["secrets"] = ["health", "sex", "race"]
    cfg["singling_out"]["n_attacks"] = 300
    reports = {}
    for engine in ("native", "anonymeter"):
        cfg["engine"] = engine
        reports[engine] = dict(
            evaluate_release(
                train=randhie["train"],
                synthetic=randhie["synthetic"],
                control=randhie["control"],
                config=cfg,
            ).risks()
        )
    assert reports["native"].keys() == reports["anonymeter"].keys()
    for name, nat in reports["native"].items():
        ano = reports["anonymeter"][name]
        assert ano.engine == "anonymeter" and nat.engine == "native"
        for rate in ("attack_rate", "control_rate"):
            a, b = getattr(nat, rate), getattr(ano, rate)
            tol = math.hypot(a.error, b.error)
            assert abs(a.value - b.value) <= tol, (name, rate, a, b)
        lo = max(nat.risk.ci_low, ano.risk.ci_low)
        hi = min(nat.risk.ci_high, ano.risk.ci_high)
        assert lo <= hi, (name, nat.risk, ano.risk)  # the two risk CIs overlap
