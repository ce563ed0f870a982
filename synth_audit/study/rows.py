"""The store rows of a run's findings, each tagged with its role.

Every row's ``extra`` carries ``role``: ``risk`` (Article 29 risks ``<attack>.risk`` and membership
``membership.<attack>.auc_advantage``), ``utility`` (``utility.<metric>``, ``utility.score``) or
``diagnostic`` (DCR, AUCs, TPRs, ε bounds), with ``direction`` and ``bounds`` where they apply. The
frontier and the app read these roles, so a new kind of finding needs no change there. Rows stored
before roles existed are read by name (``*.risk`` is a risk).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from synth_audit.store import ResultRow

if TYPE_CHECKING:
    from synth_audit.membership import MembershipResult
    from synth_audit.report.model import AuditReport

__all__ = ["membership_rows", "report_rows", "section_rows"]


def _counts(d: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"n_success": d.get("n_success"), "n_total": d.get("n_total")}


def report_rows(report: AuditReport) -> list[ResultRow]:
    """The store's result rows for a release audit (risks, DCR diagnostic, utility)."""
    rows: list[ResultRow] = []
    for name, r in report.risks():
        d = r.to_dict()
        counts = d["counts"]
        rows.append(
            ResultRow(
                metric=f"{name}.risk",
                value=r.risk.value,
                ci_low=r.risk.ci_low,
                ci_high=r.risk.ci_high,
                confidence_level=r.risk.confidence_level,
                n=r.n_attacks,
                counts={k: _counts(counts.get(k)) for k in ("attack", "baseline", "control")},
                extra={
                    "role": "risk",
                    "direction": "lower_is_better",
                    "bounds": [0.0, 1.0],
                    "measurable": bool(r.measurable),
                    "attack_rate": d["attack_rate"],
                    "baseline_rate": d["baseline_rate"],
                    "control_rate": d["control_rate"],
                    "residual": d["residual"],
                    "beats_baseline": bool(r.beats_baseline),
                    "seed": r.seed,
                    "warnings": [w["code"] for w in d["warnings"]],
                },
            )
        )
    if report.dcr is not None:
        dcr = report.dcr
        rows.append(
            ResultRow(
                metric="diagnostics.dcr.share_closer_to_train",
                value=dcr.share_closer_to_train,
                ci_low=dcr.share_ci[0],
                ci_high=dcr.share_ci[1],
                confidence_level=dcr.confidence_level,
                n=dcr.n_synthetic,
                counts={
                    "exact_copies_of_train": dcr.exact_copies_of_train,
                    "exact_copies_of_control": dcr.exact_copies_of_control,
                },
                extra={
                    "role": "diagnostic",
                    "expected_share": dcr.expected_share,
                    "p_value": dcr.p_value,
                },
            )
        )
    if report.utility:
        from metrics import MetricResult

        for name, m in report.utility.items():
            try:
                normalized: float | None = MetricResult.from_dict(m).normalized()
            except Exception:
                normalized = None
            rows.append(
                ResultRow(
                    metric=f"utility.{name}",
                    value=m.get("value"),
                    ci_low=m.get("ci_low"),
                    ci_high=m.get("ci_high"),
                    confidence_level=m.get("confidence_level"),
                    extra={
                        "role": "utility",
                        "normalized": normalized,
                        "direction": m.get("direction"),
                        "bounds": m.get("bounds"),
                        "ideal": m.get("ideal"),
                    },
                )
            )
    if report.utility_score is not None:
        rows.append(
            ResultRow(
                metric="utility.score",
                value=report.utility_score,
                extra={
                    "role": "utility",
                    "direction": "higher_is_better",
                    "bounds": [0.0, 1.0],
                    "metrics": sorted(report.utility),
                    "definition": "mean normalised value",
                },
            )
        )
    rows.extend(section_rows(report.sections))
    return rows


def section_rows(sections: Mapping[str, Mapping[str, Any]]) -> list[ResultRow]:
    """Result rows of report sections (:mod:`synth_audit.report.sections`): the finding ``f`` of
    section ``s`` is the row ``s.f``, with its role, direction, bounds, unit and reading."""
    from synth_audit.report.sections import section_findings

    rows: list[ResultRow] = []
    for metric, f in section_findings(sections):
        extra = {
            k: v
            for k, v in f.items()
            if k not in ("name", "value", "ci_low", "ci_high", "confidence_level", "n")
        }
        rows.append(
            ResultRow(
                metric=metric,
                value=f.get("value"),
                ci_low=f.get("ci_low"),
                ci_high=f.get("ci_high"),
                confidence_level=f.get("confidence_level"),
                n=f.get("n"),
                extra=extra,
            )
        )
    return rows


def membership_rows(name: str, result: MembershipResult) -> list[ResultRow]:
    """Result rows of one membership attack (:meth:`MembershipResult.rows`): ``auc_advantage``
    (role risk), AUC, TPR at each FPR and the ε lower bound (diagnostics)."""
    return [ResultRow.from_dict(r) for r in result.rows(name)]
