"""Calibration on real data (samples/randhie): risks must respond to leakage and only to leakage.

* a release that copies train must show high risk (CI lower bound >= 0.5);
* a release of real held-out records (people neither in train nor in control) must show risks whose
  CIs contain 0. Nineteen CIs are checked at once, so each is taken at the Bonferroni level
  1 - 0.05/19 (about 99.7 %): at 95 % each, about one CI in twenty excludes 0 by chance alone;
* a release leaking a growing fraction of train must show growing risk.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pandas as pd
import pytest
from conftest import leaky_release

from synth_audit import evaluate_release
from synth_audit.config import load_audit_config


def _config(randhie_dir: Any, **overrides: Any) -> dict[str, Any]:
    cfg = load_audit_config(randhie_dir / "audit.toml").to_dict()
    cfg["utility"]["enabled"] = False
    cfg["diagnostics"]["dcr"] = False
    cfg["inference"]["secrets"] = "all"
    for key, value in overrides.items():
        section, _, name = key.partition("__")
        if name:
            cfg[section][name] = value
        else:
            cfg[section] = value
    return cfg


def test_copy_release_is_high_risk(randhie: dict[str, pd.DataFrame], randhie_dir: Any) -> None:
    report = evaluate_release(
        train=randhie["train"],
        synthetic=randhie["train"].copy(),
        control=randhie["control"],
        config=_config(randhie_dir, singling_out__modes=["multivariate"]),
    )
    low = {name: r.risk.ci_low for name, r in report.risks()}
    assert low["linkability"] >= 0.5, low
    assert low["singling_out_multivariate"] >= 0.5, low
    inference = {k: v for k, v in low.items() if k.startswith("inference[")}
    assert len(inference) == 16
    assert min(inference.values()) >= 0.5, inference


def test_heldout_release_ci_contains_zero(
    randhie: dict[str, pd.DataFrame], randhie_dir: Any
) -> None:
    n_cis = 2 + 1 + 16
    report = evaluate_release(
        train=randhie["train"],
        synthetic=randhie["holdout"],
        control=randhie["control"],
        config=_config(randhie_dir, confidence_level=1 - 0.05 / n_cis),
    )
    risks = dict(report.risks())
    assert len(risks) == n_cis
    excluded = {name: r.risk.ci for name, r in risks.items() if r.risk.ci_low > 0}
    assert not excluded, excluded


def test_risk_grows_with_leaked_fraction(
    randhie: dict[str, pd.DataFrame], randhie_dir: Any
) -> None:
    fractions = [0.0, 0.3, 0.6, 1.0]
    cfg = _config(
        randhie_dir,
        singling_out__modes=["multivariate"],
        inference__secrets=["health", "mental_health_index"],
    )
    series: dict[str, list[float]] = {}
    for f in fractions:
        release = leaky_release(randhie["train"], randhie["holdout"], f, n=1800, seed=11)
        report = evaluate_release(
            train=randhie["train"], synthetic=release, control=randhie["control"], config=cfg
        )
        for name, r in report.risks():
            series.setdefault(name, []).append(r.risk.residual)
    for name, values in series.items():
        assert all(b > a for a, b in pairwise(values)), (name, values)
    assert series["linkability"][0] == pytest.approx(0.0, abs=0.05)
