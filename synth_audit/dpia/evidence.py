"""DPIA evidence: ``dpia.md`` and ``dpia.json`` from an audit report and a DPIA profile.

Organised by GDPR Art. 35(7): (a) a systematic description of the processing, (b) necessity and
proportionality, (c) the risks to the rights and freedoms of data subjects (the Article 29 criteria
plus membership inference, the people exposed, the CNIL rating with its trace, risk factors),
(d) the measures envisaged; then the threat model and, plainly, what the evidence does not show.
The same evidence becomes the report section ``dpia`` (the card and the app show it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from synth_audit.dpia.exposure import CriterionExposure, Exposure, compute_exposure
from synth_audit.dpia.profile import (
    DpiaProfile,
    ResolvedProfile,
    load_profile,
    resolve_profile,
)
from synth_audit.dpia.rating import CNIL_LEVELS, Rating, rate
from synth_audit.report.model import AuditReport
from synth_audit.report.wording import fmt_num, fmt_pct, threat_model_words
from synth_audit.results import jsonable

__all__ = ["DPIA_SCHEMA_VERSION", "DpiaEvidence", "build_dpia", "dpia_files", "with_dpia_section"]

DPIA_SCHEMA_VERSION = "1.0"

NOT_SHOWN = (
    "An attack that found nothing is not proof of safety: every figure is what these specific "
    "attacks achieved, a lower bound on what a stronger or better-informed attacker could do.",
    "Criteria that were not run, or could not be measured, say nothing either way.",
    "The rating rests on the declared profile (population size, sensitivities, release context); "
    "a wrong declaration gives a wrong rating.",
    "Harms outside the data (discrimination from aggregate patterns, group privacy, the uses the "
    "recipients make of the release) are not measured here.",
    "Necessity and proportionality are legal judgements this tool cannot make; it gives the "
    "utility and risk figures they weigh.",
)


def _crit_title(c: CriterionExposure) -> str:
    return {
        "singling_out": "Singling out",
        "linkability": "Linkability",
        "inference": "Inference",
        "membership": "Membership inference",
    }.get(c.criterion, c.criterion)


@dataclass(frozen=True)
class DpiaEvidence:
    profile: ResolvedProfile
    exposure: Exposure
    rating: Rating
    report: AuditReport

    # ---- pieces --------------------------------------------------------------------------------
    def threat_model(self) -> str:
        t = self.report.target
        if t is None:
            caps, kind = ["release"], "release"
        else:
            caps, kind = list(t.get("capabilities") or []), str(t.get("kind", ""))
        know = {
            "none": "knows nothing about the people beyond the release",
            "some_attributes": "knows some attributes of the people (quasi-identifiers)",
            "full_record": "may hold a person's whole record (as membership inference assumes)",
        }[self.profile.attacker_knowledge]
        return f"{threat_model_words(caps, kind)} The attacker {know}; release context: {self.profile.release_context}."

    def risk_factors(self) -> list[tuple[str, str]]:
        r = self.report
        out = []
        tr = r.inputs.get("train") or {}
        if tr.get("n_rows") is not None:
            out.append(("Training set size", f"{fmt_num(tr.get('n_rows'))} records"))
        if r.schema.columns:
            out.append(("Features", f"{len(r.schema.used)} columns attacked"))
        out.append(("People the data stands for", fmt_num(self.profile.population_size)))
        for name, sec in r.sections.items():
            for f in sec.get("findings", []) or []:
                n = str(f.get("name", ""))
                if "gap" in n or n in ("training_k", "release_k"):
                    out.append((f"{sec.get('title', name)}: {n}", fmt_num(f.get("value"))))
        eps = ((r.target or {}).get("privacy") or {}).get("epsilon")
        out.append(
            ("Claimed differential privacy", "none" if eps is None else f"ε = {fmt_num(eps)}")
        )
        return out

    def measures(self) -> list[str]:
        out = []
        eps = ((self.report.target or {}).get("privacy") or {}).get("epsilon")
        if eps is not None:
            out.append(f"In place: the target claims (ε = {fmt_num(eps)})-differential privacy.")
        if self.profile.release_context != "public":
            out.append(
                f"In place: the release is {self.profile.release_context} (access control, "
                "agreements with recipients)."
            )
        lvl = self.rating.level
        if lvl in ("significant", "maximum"):
            out.append(
                "Needed: do not release as audited. Train with differential privacy (a small ε), "
                "remove or coarsen the columns that expose people (see the most exposed people), "
                "or restrict the release; then audit again."
            )
        elif lvl == "limited":
            out.append(
                "Consider: restrict access or coarsen the rare combinations shown; re-audit after "
                "any change to the data or the generator."
            )
        elif lvl == "negligible":
            out.append("No further measure is indicated by these figures; re-audit after changes.")
        else:
            out.append(
                "Nothing was measured, so no measure can be derived: run the attacks that apply "
                "to this target before deciding."
            )
        out.append(
            "To be completed by the controller: organisational measures, retention, recipients, "
            "the data subjects' rights."
        )
        return out

    # ---- outputs -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        r = self.report
        return jsonable(
            {
                "dpia_schema_version": DPIA_SCHEMA_VERSION,
                "report": {
                    "created_at": r.created_at,
                    "tool_version": r.tool_version,
                    "study": r.study,
                    "run_id": r.run_id,
                    "target": r.target,
                    "inputs": {k: dict(v) for k, v in r.inputs.items()},
                },
                "profile": self.profile.to_dict(),
                "threat_model": self.threat_model(),
                "exposure": self.exposure.to_dict(),
                "rating": self.rating.to_dict(),
                "risk_factors": dict(self.risk_factors()),
                "measures": self.measures(),
                "not_shown": list(NOT_SHOWN),
            }
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)

    def to_markdown(self) -> str:
        from synth_audit.report.card import md_escape as e

        r, p, x, rt = self.report, self.profile, self.exposure, self.rating
        conf = fmt_pct(x.confidence_level, digits=0)
        t = r.target or {}
        what = (
            f"the {t.get('kind', 'target')} {t.get('name', '')!s}"
            if r.target
            else "a synthetic data release given as a file"
        )
        L = [
            "# DPIA evidence",
            "",
            f"From the audit of {e(what)} (synth-audit {e(r.tool_version)}, {e(r.created_at)}"
            + (f", study {e(r.study)}, run {e(r.run_id)}" if r.study else "")
            + f"). Profile: {e(p.source)}. Intervals are {conf} confidence intervals.",
            "",
            f"**Risk level: {rt.level.upper()}** (CNIL scale: {', '.join(CNIL_LEVELS)}); severity "
            f"{rt.severity}, likelihood {rt.likelihood}"
            + (f", driven by {e(rt.driver)}" if rt.driver else "")
            + ".",
            "",
            f"*Trace.* {e(rt.trace)}",
            "",
        ]
        if p.notices:
            L += ["**Defaults used** (set them in the profile):", ""]
            L += [f"- {e(n)}" for n in p.notices] + [""]
        L += [
            "## 1. Systematic description of the processing (Art. 35(7)(a))",
            "",
            "| | |",
            "|---|---|",
            f"| What is released | {e(what)} |",
            f"| People the data stands for | {fmt_num(p.population_size)} |",
            f"| Release context | {e(p.release_context)} |",
            f"| Attacker's knowledge | {e(p.attacker_knowledge)} |",
            f"| Membership reveals | {e(p.membership_sensitivity)} |",
        ]
        for role, fp in r.inputs.items():
            L.append(
                f"| Input {e(role)} | {e(fp.get('source', role))}, {fmt_num(fp.get('n_rows'))} rows, "
                f"SHA-256 `{fp.get('sha256', 'n/a')}` |"
            )
        special = sorted(c for c, s in p.columns.items() if p.level(c) == "special")
        L += [
            "",
            "Special categories (GDPR Art. 9/10) in the data: "
            + (
                e(", ".join(f"{c} ({p.columns[c]})" for c in special))
                if special
                else "none declared"
            )
            + ".",
            "",
            "## 2. Necessity and proportionality (Art. 35(7)(b))",
            "",
            "For the controller to assess. The evidence it weighs: utility score "
            + ("not measured" if r.utility_score is None else f"{r.utility_score:.3f}")
            + f" (0 = useless, 1 = like the real data) against the risk level {rt.level}.",
            "",
            "## 3. Risks to the rights and freedoms of data subjects (Art. 35(7)(c))",
            "",
            f"*Threat model.* {e(self.threat_model())}",
            "",
            "### People exposed, by criterion",
            "",
            "Expected number of people exposed = the share the release exposes beyond what the "
            f"population reveals × {fmt_num(p.population_size)} people.",
            "",
            "| criterion | attack | reveals | sensitivity | share exposed [CI] | people exposed [CI] | likelihood | severity | level |",
            "|---|---|---|---|---:|---:|---|---|---|",
        ]
        by_name = {c.name: c for c in rt.criteria}
        for c in x.criteria:
            cr = by_name.get(c.name)
            L.append(
                f"| {_crit_title(c)} | {e(c.name)} | {e(c.reveals)} | {c.sensitivity} | "
                f"{fmt_pct(c.share)} [{fmt_pct(c.share_ci[0])}, {fmt_pct(c.share_ci[1])}] | "
                f"{_people(c)} | "
                + (
                    f"{cr.likelihood} | {cr.severity} | **{cr.level}** |"
                    if cr
                    else "not measurable | | |"
                )
            )
        crits = {c.criterion for c in x.criteria}
        missing = [
            n
            for k, n in (
                ("singling_out", "singling out"),
                ("linkability", "linkability"),
                ("inference", "inference"),
                ("membership", "membership inference"),
            )
            if k not in crits
        ]
        if missing:
            L += ["", f"Not measured in this audit: {', '.join(missing)} (no evidence either way)."]
        L += ["", "### People exposed by anything, and by sensitivity", ""]
        if x.union is None:
            L += [e(n) for n in x.notes] or ["No per-record outcomes: the union is not computed."]
            L.append("")
        else:
            L += [
                f"- By at least one attack: **{_people(x.union)}** people "
                f"({fmt_pct(x.union.share)} [{fmt_pct(x.union.share_ci[0])}, "
                f"{fmt_pct(x.union.share_ci[1])}]; {e(x.union.basis)}).",
                *[
                    f"- Revealing {c.sensitivity} data ({e(c.reveals)}): {_people(c)} people "
                    f"({fmt_pct(c.share)} [{fmt_pct(c.share_ci[0])}, {fmt_pct(c.share_ci[1])}])."
                    for c in x.by_sensitivity
                ],
                "",
            ]
        if not x.most_exposed.empty:
            L += [
                "### The most exposed people and what exposes them",
                "",
                "Training records (row positions from 0) hit by the most attacks.",
                "",
                "| record | attacks | highest sensitivity | what exposes them |",
                "|---:|---:|---|---|",
                *[
                    f"| {e(row.record)} | {row.n_successful_attacks} | {row.highest_sensitivity} | "
                    f"{e(row.what_exposes_them)} |"
                    for row in x.most_exposed.itertuples(index=False)
                ],
                "",
            ]
        for name, m in r.membership.items():
            top = [t for t in m.get("top_exposed", []) or [] if isinstance(t, Mapping)][:10]
            if top:
                L += [
                    f"Most exposed by membership inference ({e(name)}): the members scored "
                    "highest, typically outliers the target memorised: "
                    + ", ".join(f"{e(t.get('record_id'))}" for t in top)
                    + ".",
                    "",
                ]
        if x.notes and x.union is not None:
            L += [f"> {e(n)}" for n in x.notes] + [""]
        others = [
            (name, sec, f)
            for name, sec in r.sections.items()
            if name != "dpia"
            for f in sec.get("findings", []) or []
            if f.get("role") == "risk"
        ]
        if others:
            from synth_audit.report.card import section_finding_cells

            L += [
                "### Other risk findings (shown, not rated)",
                "",
                "Risk findings of the audit's other sections. The rating above does not fold them "
                "in (their scales differ from a share of people exposed); read them beside it.",
                "",
                "| section | finding | value | CI | reading |",
                "|---|---|---:|---|---|",
            ]
            for name, sec, f in others:
                cells = section_finding_cells(f)
                L.append(
                    f"| {e(sec.get('title', name))} | {e(cells['name'])} | {e(cells['value'])} | "
                    f"{e(cells['ci'])} | {e(cells['reading'])} |"
                )
            L.append("")
        L += ["### Rating trace", ""]
        L += [f"- {e(c.trace)}" for c in rt.criteria] or ["- Nothing measurable was rated."]
        L += ["", "### Risk factors", "", "| factor | value |", "|---|---|"]
        L += [f"| {e(k)} | {e(v)} |" for k, v in self.risk_factors()]
        L += ["", "## 4. Measures envisaged (Art. 35(7)(d))", ""]
        L += [f"- {e(m)}" for m in self.measures()]
        L += ["", "## What this evidence does not show", ""]
        L += [f"- {e(n)}" for n in NOT_SHOWN]
        L += [
            "",
            "## Sign-off",
            "",
            "| | |",
            "|---|---|",
            "| Data protection officer | |",
            "| Date | |",
            "| Residual risk accepted | ☐ yes ☐ yes, with the measures above ☐ no |",
            "",
        ]
        return "\n".join(L)

    def to_section(self) -> dict[str, Any]:
        from synth_audit.report.sections import finding, make_section, table

        x, rt = self.exposure, self.rating
        findings = [
            finding(
                "risk_level",
                float(CNIL_LEVELS.index(rt.level) + 1) if rt.level in CNIL_LEVELS else None,
                role="evidence",
                bounds=(1.0, 4.0),
                direction="lower_is_better",
                unit="CNIL level (1-4)",
                reading=f"{rt.level}: {rt.trace}",
            )
        ]
        if x.union is not None:
            findings.append(
                finding(
                    "exposed_people",
                    x.union.expected,
                    role="evidence",
                    ci=x.union.expected_ci,
                    confidence_level=x.confidence_level,
                    direction="lower_is_better",
                    unit="people",
                    reading=f"of {x.population_size:,} people, exposed by at least one attack",
                )
            )
        rows = [
            [
                c.name,
                c.sensitivity,
                round(c.expected, 1),
                f"[{c.expected_ci[0]:.1f}, {c.expected_ci[1]:.1f}]",
            ]
            for c in x.criteria
        ]
        return make_section(
            "DPIA evidence (GDPR Art. 35)",
            "dpia",
            summary=(
                f"Risk level {rt.level} on the CNIL scale (severity {rt.severity}, likelihood "
                f"{rt.likelihood}). The full evidence is in dpia.md."
            ),
            findings=findings,
            tables=[
                table(
                    "People exposed by criterion",
                    ["criterion", "sensitivity", "expected", "CI"],
                    rows,
                )
            ],
            warnings=[{"code": "dpia_default", "message": n} for n in self.profile.notices],
            data={"dpia_md": self.to_markdown(), "rating": rt.to_dict()},
        )


def _people(c: CriterionExposure) -> str:
    return f"{c.expected:,.0f} [{c.expected_ci[0]:,.0f}, {c.expected_ci[1]:,.0f}]"


def _columns(report: AuditReport) -> list[str]:
    return [c.name for c in report.schema.columns]


def build_dpia(
    report: AuditReport,
    profile: DpiaProfile | str | Path | Mapping[str, Any] | None = None,
    *,
    per_record: pd.DataFrame | None = None,
) -> DpiaEvidence:
    """The DPIA evidence of ``report`` under ``profile`` (a path to dpia.toml, a mapping, a
    :class:`DpiaProfile`, or None for the defaults, each announced)."""
    from synth_audit.dpia.profile import parse_profile

    if isinstance(profile, DpiaProfile):
        prof, source = profile, "(profile given in code)"
    elif isinstance(profile, Mapping):
        prof, source = parse_profile(profile), "(profile given in code)"
    else:
        prof, source = load_profile(profile)
    n_train = (report.inputs.get("train") or {}).get("n_rows")
    resolved = resolve_profile(
        prof,
        source=source,
        n_train=int(n_train) if isinstance(n_train, int | float) else None,
        columns=_columns(report),
    )
    exposure = compute_exposure(report, resolved, per_record=per_record)
    return DpiaEvidence(resolved, exposure, rate(exposure, resolved), report)


def dpia_files(evidence: DpiaEvidence) -> dict[str, bytes]:
    """``{"dpia.md": ..., "dpia.json": ...}`` for :func:`synth_audit.report.write.write_report`."""
    return {
        "dpia.md": evidence.to_markdown().encode("utf-8"),
        "dpia.json": (evidence.to_json() + "\n").encode("utf-8"),
    }


def with_dpia_section(report: AuditReport, evidence: DpiaEvidence) -> AuditReport:
    """``report`` with the section ``dpia`` added (the card, the HTML page and the app show it)."""
    return replace(report, sections={**report.sections, "dpia": evidence.to_section()})
