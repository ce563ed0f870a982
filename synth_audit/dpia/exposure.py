"""Exposed data subjects: how many of the people the data stands for an attack exposes, with a CI.

For every Article 29 criterion the residual risk (the share of people the release exposes beyond
what the population reveals) times the population size is the expected number of people exposed,
its CI the risk's CI times that size. Across attacks, the *union* per person comes from the
per-record outcomes (:meth:`AuditReport.per_record`): a training record is exposed when any attack
succeeded against it; the control records give the same share for people never used, and the
union's residual ``(u_train − u_control) / (1 − u_control)`` (Wilson rates, first-order error as
for every risk) times the population is the expected number exposed by anything. The same union is
taken per sensitivity level of what the attacks reveal.

Membership inference exposes a person by confirming they are in the data: its share is the true
positive rate at 1 % false positives less those false positives; its CI runs from the TPR's lower
bound less the false positives to the TPR's upper bound (conservative at both ends).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from synth_audit.dpia.profile import LEVELS, ResolvedProfile, level_of
from synth_audit.report.model import AuditReport
from synth_audit.stats import residual_risk, wilson_rate

__all__ = ["CriterionExposure", "Exposure", "compute_exposure"]

_SUCCESS = ("linked", "correct", "singled_out")


@dataclass(frozen=True)
class CriterionExposure:
    """One criterion's exposure: its share of people exposed with CI, and that share × people."""

    name: str
    criterion: str  # singling_out | linkability | inference | membership | union
    reveals: str  # what a success reveals (a column, "the whole record", "membership")
    sensitivity: str  # public | personal | sensitive | special
    share: float
    share_ci: tuple[float, float]
    expected: float
    expected_ci: tuple[float, float]
    measurable: bool = True
    basis: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "criterion": self.criterion,
            "reveals": self.reveals,
            "sensitivity": self.sensitivity,
            "share": self.share,
            "share_ci": list(self.share_ci),
            "expected_exposed": self.expected,
            "expected_exposed_ci": list(self.expected_ci),
            "measurable": self.measurable,
            "basis": self.basis,
        }


@dataclass(frozen=True)
class Exposure:
    population_size: int
    confidence_level: float
    criteria: tuple[CriterionExposure, ...]
    union: CriterionExposure | None
    by_sensitivity: tuple[CriterionExposure, ...]
    most_exposed: pd.DataFrame = field(compare=False)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "population_size": self.population_size,
            "confidence_level": self.confidence_level,
            "criteria": [c.to_dict() for c in self.criteria],
            "union": None if self.union is None else self.union.to_dict(),
            "by_sensitivity": [c.to_dict() for c in self.by_sensitivity],
            "most_exposed": self.most_exposed.to_dict(orient="records"),
            "notes": list(self.notes),
        }


def _family(name: str) -> str:
    for fam in ("singling_out", "linkability", "inference"):
        if name.startswith(fam):
            return fam
    return "other"


def _secret(name: str, params: Mapping[str, Any]) -> str:
    if "secret" in params:
        return str(params["secret"])
    return name[len("inference[") : -1] if name.startswith("inference[") else name


def _record_level(report: AuditReport, profile: ResolvedProfile) -> str:
    """What singling out or linking a person reveals: every released column, so the highest
    sensitivity among them."""
    cols = list(report.schema.used) or list(profile.columns)
    levels = [profile.level(c) for c in cols] or ["personal"]
    return max(levels, key=LEVELS.index)


def _scale(share: float, ci: tuple[float, float], n: int) -> tuple[float, tuple[float, float]]:
    return share * n, (ci[0] * n, ci[1] * n)


def _union(
    per: pd.DataFrame, n_train: int | None, n_control: int | None, conf: float
) -> tuple[float, tuple[float, float], str] | None:
    if per.empty or "role" not in per:
        return None
    ok = pd.Series(False, index=per.index)
    for col in _SUCCESS:
        if col in per:
            ok |= per[col].astype("boolean").fillna(False).astype(bool)
    full = pd.Series(False, index=per.index)  # rows of attacks that record failures too
    for col in ("linked", "correct"):
        if col in per:
            full |= per[col].notna()
    rates = {}
    for role, n_known in (("train", n_train), ("control", n_control)):
        mine = per["role"] == role
        attacked = set(per.loc[mine & full, "record"])
        hit = set(per.loc[mine & ok, "record"])
        denom = len(attacked | hit) if attacked else int(n_known or 0)
        denom = max(denom, len(hit))
        if denom == 0:
            return None
        rates[role] = (len(hit), denom)
    t, c = rates["train"], rates.get("control")
    r = residual_risk(
        wilson_rate(t[0], t[1], conf),
        None if c is None else wilson_rate(c[0], c[1], conf),
        conf,
    )
    basis = f"{t[0]:,} of {t[1]:,} training records hit by at least one attack" + (
        "" if c is None else f", {c[0]:,} of {c[1]:,} control records"
    )
    return r.value, (r.ci_low, r.ci_high), basis


def _n_rows(report: AuditReport, role: str) -> int | None:
    v = (report.inputs.get(role) or {}).get("n_rows")
    return int(v) if isinstance(v, int | float) else None


def _membership(report: AuditReport, profile: ResolvedProfile) -> list[CriterionExposure]:
    out = []
    n = profile.population_size
    level = level_of(profile.membership_sensitivity)
    for name, m in report.membership.items():
        tp = None
        for t in m.get("tpr_at", []) or []:
            if t.get("target_fpr") is not None and abs(float(t["target_fpr"]) - 0.01) < 1e-12:
                tp = t
        if tp is None or tp.get("tpr") is None:
            continue
        fpr = float(tp.get("realised_fpr") or tp["target_fpr"])
        ci = tp.get("tpr_ci") or [tp["tpr"], tp["tpr"]]
        share = max(0.0, float(tp["tpr"]) - fpr)
        lo = max(0.0, float(ci[0]) - fpr)
        # The upper end keeps the false positives in (the TPR's own upper bound): conservative,
        # and never a zero-width [0, 0] that would read as certainty of no exposure.
        hi = min(1.0, max(share, float(ci[1])))
        exp, eci = _scale(share, (lo, hi), n)
        out.append(
            CriterionExposure(
                name=f"membership.{name}",
                criterion="membership",
                reveals="membership of the data",
                sensitivity=level,
                share=share,
                share_ci=(lo, hi),
                expected=exp,
                expected_ci=eci,
                basis=(
                    f"TPR {float(tp['tpr']):.4f} [{float(ci[0]):.4f}, {float(ci[1]):.4f}] at "
                    f"FPR {fpr:.4f} (AUC {m.get('auc')})"
                ),
            )
        )
    return out


def compute_exposure(
    report: AuditReport,
    profile: ResolvedProfile,
    *,
    per_record: pd.DataFrame | None = None,
    top: int = 20,
) -> Exposure:
    """Exposed people by criterion, their union, by sensitivity, and the most exposed records."""
    conf = float(report.config.get("confidence_level", 0.95))
    n = profile.population_size
    per = report.per_record() if per_record is None else per_record
    record_level = _record_level(report, profile)
    crit: list[CriterionExposure] = []
    attack_level: dict[str, str] = {}
    for name, r in report.risks():
        fam = _family(name)
        if fam == "inference":
            secret = _secret(name, r.params)
            reveals, level = secret, profile.level(secret)
        else:
            reveals, level = "the whole record (every released column)", record_level
        attack_level[name] = level
        exp, eci = _scale(r.risk.value, (r.risk.ci_low, r.risk.ci_high), n)
        crit.append(
            CriterionExposure(
                name=name,
                criterion=fam,
                reveals=reveals,
                sensitivity=level,
                share=r.risk.value,
                share_ci=(r.risk.ci_low, r.risk.ci_high),
                expected=exp,
                expected_ci=eci,
                measurable=r.measurable,
                basis=(
                    f"attack {r.attack_rate.value:.4f}, control "
                    f"{'n/a' if r.control_rate is None else f'{r.control_rate.value:.4f}'}, "
                    f"{r.n_attacks:,} attacks"
                ),
            )
        )
    crit += _membership(report, profile)
    notes: list[str] = []
    if list(report.risks()) and report.control_status() == "none":
        notes.append(
            "No control set: each share is the attack's raw success rate, which includes what the "
            "population reveals anyway, so the people counts are upper bounds of what the release "
            "itself exposes."
        )
    n_train, n_control = _n_rows(report, "train"), _n_rows(report, "control")
    union = None
    by_level: list[CriterionExposure] = []
    if not per.empty:
        u = _union(per, n_train, n_control, conf)
        if u is not None:
            exp, eci = _scale(u[0], u[1], n)
            top_level = max(attack_level.values(), key=LEVELS.index) if attack_level else "personal"
            union = CriterionExposure(
                "any attack",
                "union",
                "anything an attack reveals",
                top_level,
                u[0],
                u[1],
                exp,
                eci,
                basis=u[2],
            )
        for level in LEVELS:
            names = [a for a, lv in attack_level.items() if lv == level]
            if not names:
                continue
            u = _union(per[per["attack"].isin(names)], n_train, n_control, conf)
            if u is None:
                continue
            exp, eci = _scale(u[0], u[1], n)
            by_level.append(
                CriterionExposure(
                    f"reveals {level} data",
                    "union",
                    ", ".join(names),
                    level,
                    u[0],
                    u[1],
                    exp,
                    eci,
                    basis=u[2],
                )
            )
    elif list(report.risks()):
        notes.append(
            "Per-record outcomes are not available (a report read back without per_record.csv): "
            "the union over attacks per person is not computed; the largest single criterion is a "
            "lower bound on it."
        )
    return Exposure(
        population_size=n,
        confidence_level=conf,
        criteria=tuple(crit),
        union=union,
        by_sensitivity=tuple(by_level),
        most_exposed=_most_exposed(report, per, attack_level, top),
        notes=tuple(notes),
    )


def _why(attack: str, level: str) -> str:
    fam = _family(attack)
    if fam == "singling_out":
        return "singled out: a combination of values only they have"
    if fam == "linkability":
        return "linked: two partial views of them joined through the release"
    if fam == "inference":
        return f"{attack[len('inference[') : -1]} inferred ({level})"
    return attack


def _most_exposed(
    report: AuditReport, per: pd.DataFrame, attack_level: Mapping[str, str], top: int
) -> pd.DataFrame:
    cols = ["record", "n_successful_attacks", "highest_sensitivity", "what_exposes_them"]
    ex = _exposed(per) if not per.empty and "role" in per else _exposed(per.iloc[:0])
    rare = _rare_rows(report)
    rows = []
    for rec in ex.itertuples(index=False):
        attacks = [a.strip() for a in str(rec.attacks).split(",") if a.strip()]
        levels = [attack_level.get(a, "personal") for a in attacks]
        why = [_why(a, attack_level.get(a, "personal")) for a in attacks]
        if rec.record in rare:
            why.append("rare combination of quasi-identifiers (class below k in the training data)")
        rows.append(
            [
                rec.record,
                int(rec.n_successful_attacks),
                max(levels, key=LEVELS.index) if levels else "personal",
                "; ".join(why),
            ]
        )
    out = pd.DataFrame(rows, columns=cols)
    if not out.empty:
        out["_lv"] = out["highest_sensitivity"].map(LEVELS.index)
        out = out.sort_values(
            ["n_successful_attacks", "_lv", "record"], ascending=[False, False, True]
        ).drop(columns="_lv")
    return out.head(top).reset_index(drop=True)


def _exposed(per: pd.DataFrame) -> pd.DataFrame:
    if per.empty or "role" not in per:
        return pd.DataFrame(columns=["record", "n_successful_attacks", "attacks"])
    per = per[per["role"] == "train"].copy()
    ok = pd.Series(False, index=per.index)
    for col in _SUCCESS:
        if col in per:
            ok |= per[col].astype("boolean").fillna(False).astype(bool)
    per = per[ok]
    if per.empty:
        return pd.DataFrame(columns=["record", "n_successful_attacks", "attacks"])
    g = per.groupby("record")["attack"]
    return pd.DataFrame(
        {
            "n_successful_attacks": g.nunique(),
            "attacks": g.apply(lambda s: ", ".join(sorted(set(s)))),
        }
    ).reset_index()


def _rare_rows(report: AuditReport) -> set[Any]:
    sec = report.sections.get("anonymity") or {}
    tr = (sec.get("data") or {}).get("training") or {}
    rows: Sequence[Any] = tr.get("below_k_rows") or ()
    return set(rows)
