"""``audit_card.md``: a Markdown audit card a data protection officer can read, annotate and sign.

The card is organised by the three anonymisation criteria of the Article 29 Working Party (Opinion
05/2014: singling out, linkability, inference), then membership inference and utility. Every risk
stands beside its baseline and control rates and counts, with a one-line reading in plain words.

The plain-language texts (attack titles, threat models, readings) live here and are reused by
:mod:`synth_audit.report.html`, so the two documents never explain the same number differently.

Every string that comes from the user's data or configuration (column names, file paths, warning
messages that quote them) goes through :func:`md_escape`, so a column named ``a|b`` or ``<script>``
cannot break a table or inject markup into a renderer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from synth_audit.report.model import AuditReport
from synth_audit.report.wording import (
    display_ci,
    fmt_ci,
    fmt_num,
    fmt_param,
    fmt_pct,
    fmt_risk,
    privacy_claim,
    threat_model_words,
)
from synth_audit.results import AttackResult, AuditWarning

__all__ = [
    "all_report_warnings",
    "article29_assessed",
    "attack_family",
    "attack_title",
    "audited_items",
    "claimed_epsilon",
    "control_banners",
    "fmt_ci",
    "fmt_num",
    "fmt_param",
    "fmt_pct",
    "fmt_risk",
    "md_escape",
    "membership_reading",
    "membership_tpr",
    "reading",
    "render_audit_card",
    "section_finding_cells",
    "section_image_files",
    "sections_evidence",
    "threat_model",
    "utility_breakdown",
]

# Markdown punctuation that can start markup anywhere in a line. "_" only matters at a word's edge
# (CommonMark ignores intraword underscores), so 'mental_health_index' stays readable.
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&~])|((?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")

CRITERIA: tuple[tuple[str, str, str], ...] = (
    (
        "singling_out",
        "Singling out",
        "Can an attacker isolate one real person (a record that matches nobody else) using what the "
        "release shows? Isolating a person is the first step towards re-identifying them, even without "
        "a name.",
    ),
    (
        "linkability",
        "Linkability",
        "Can an attacker connect two separate pieces of information about the same real person (say, "
        "demographics from one source and health facts from another) through the release?",
    ),
    (
        "inference",
        "Inference",
        "Can an attacker who knows some attributes of a real person deduce a further, secret attribute "
        "from the release?",
    ),
)

MEMBERSHIP_THREAT = (
    "The attacker holds a person's full record and asks whether it was in the training data, using a "
    "score computed from what the target exposes (the release, a model's outputs). Being a member can "
    "itself be sensitive (for example, membership of a patient cohort). Strength is measured by the "
    "area under the ROC curve (0.5 = guessing), the true-positive rate at low false-positive rates "
    "(confident hits on a few people), and an empirical lower bound on the differential-privacy ε."
)

LIMITATIONS = (
    "Every attack here is one specific, published attack (anonymeter's singling-out, linkability "
    "and inference attacks; the membership attacks listed). Its success is a *lower bound* on what a "
    "stronger or better-informed attacker could achieve: a low risk means these attacks failed, "
    "not that no attack can succeed.",
    "Risks are estimated from a finite number of attacks and carry confidence intervals; read the "
    "upper bound of the interval when a conservative figure is needed.",
    "The control set stands for the population. If it does not come from the same population as the "
    "training data, or overlaps it, the risks are biased.",
    "Distance-based figures (distance to closest record, exact copies) are *diagnostics, not proof of "
    "privacy*: a release can be far from every training record and still leak attributes.",
    "A result no better than its naive baseline carries a warning: such a figure cannot be read as "
    "evidence of safety, only as an attack that found no signal.",
)


NO_CONTROL_THREAT = (
    "No control set was used in this audit, so no control attack was run: nothing here shows how "
    "often the attack succeeds on people who were never in the training data."
)


# ---- formatting --------------------------------------------------------------------------------


def md_escape(value: object) -> str:
    """Backslash-escape Markdown punctuation and flatten line breaks (safe in text and tables)."""
    text = " ".join(str(value).split())
    text = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    return "\\#" + text[1:] if text.startswith("#") else text


def all_report_warnings(report: AuditReport) -> list[AuditWarning]:
    """Every warning of the report, once: :meth:`AuditReport.all_warnings` (attack, DCR, membership
    and utility warnings, each prefixed with where it comes from)."""
    return list(report.all_warnings())


def control_banners(report: AuditReport) -> list[tuple[str, str, str]]:
    """What every surface must state first about the control set: ``(code, title, text)`` for
    ``no_control`` (the audit ran without one) and ``control_overlap`` (it shares rows with train).

    A report written before these codes existed, without a control input, counts as ``no_control``.
    """
    out: list[tuple[str, str, str]] = []
    by_code: dict[str, list[str]] = {}
    for w in report.warnings:
        by_code.setdefault(w.code, []).append(w.message)
    if report.control_status() == "none":
        # The data layer's own message says what was computed; older reports get this one.
        detail = " ".join(by_code.get("no_control", [])) or (
            "This audit ran without a control set (real people never used for the release). "
            "Every risk below is therefore the attack's own success rate on the training "
            "records, not corrected for what the population reveals anyway: part of it, possibly "
            "all, a naive guess achieves too (compare each with its baseline). Re-run with a "
            "control set for risks that can be gated on."
        )
        out.append(
            (
                "no_control",
                "No control set: risks are raw attack success rates",
                detail + " These figures are not comparable with those of an audit with a control "
                "set and do not by themselves show that the release leaks.",
            )
        )
    for msg in by_code.get("control_overlap", []):
        out.append(
            (
                "control_overlap",
                "The control set overlaps the training data",
                f"{msg} Records in both sets are attacked as controls although the release was made "
                "from them, so the control attack succeeds more often than on people truly never "
                "used, and every risk is biased towards zero. Remove the shared rows from the "
                "control set and re-run the audit.",
            )
        )
    return out


# ---- what was audited (shared with the HTML report) ----------------------------------------------


def _params_text(params: Mapping[str, Any]) -> str:
    if not params:
        return "none recorded (the target's defaults)"
    return "; ".join(f"{k} = {fmt_param(v)}" for k, v in sorted(params.items()))


def audited_items(report: AuditReport) -> list[tuple[str, str]]:
    """``(label, text)`` pairs for the "What was audited" block: the target's kind, name, every
    parameter, the claimed ε and δ, its fingerprint, its capabilities as the threat model, and the
    study and run. A report without a target (a plain evaluation of files) names the release's
    input file and SHA-256 instead. Texts are plain (escape them for the output format)."""
    out: list[tuple[str, str]] = []
    t = report.target
    if t is not None:
        kind = str(t.get("kind", "n/a"))
        out += [
            ("Target kind", kind),
            ("Name", str(t.get("name", "n/a"))),
            ("Parameters", _params_text(dict(t.get("params") or {}))),
            ("Privacy guarantee", privacy_claim(t.get("privacy"))),
            ("Fingerprint", str(t.get("fingerprint") or "n/a (not recorded)")),
            ("Threat model", threat_model_words(t.get("capabilities"), kind)),
        ]
    else:
        fp = dict(report.inputs.get("synthetic") or {})
        out += [
            ("Target kind", "release (a synthetic dataset given as a file)"),
            ("Release file", str(fp.get("source", "n/a"))),
            ("SHA-256", str(fp.get("sha256", "n/a"))),
            ("Privacy guarantee", "not recorded (a plain evaluation of files)"),
            ("Threat model", threat_model_words(["release"], "release")),
        ]
    out += [
        ("Study", report.study or "n/a (not part of a study)"),
        ("Run id", report.run_id or "n/a"),
    ]
    return out


# ---- membership readings (shared with the HTML report) ------------------------------------------


def membership_tpr(m: Mapping[str, Any], fpr: float = 0.01) -> Mapping[str, Any] | None:
    """The stored TPR-at-FPR entry of a membership result for ``fpr`` (None when not computed)."""
    for t in m.get("tpr_at", []) or []:
        if (
            isinstance(t, Mapping)
            and t.get("target_fpr") is not None
            and abs(float(t["target_fpr"]) - fpr) < 1e-12
        ):
            return t
    return None


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def membership_reading(m: Mapping[str, Any], claimed_epsilon: float | None = None) -> str:
    """One reading of a membership result for people, from its stored dict.

    Strong evidence: at 1 % FPR the TPR's CI lies above 1 % (confident hits beyond chance).
    Evidence: the AUC's CI lies above 0.5. No evidence: the AUC's CI contains 0.5. A baseline the
    attack does not beat, and an ε lower bound above a claimed ε, are said too.
    """
    auc = _num(m.get("auc"))
    ci = list(m.get("auc_ci") or [None, None])
    lo, hi = _num(ci[0]), _num(ci[1] if len(ci) > 1 else None)
    t1 = membership_tpr(m, 0.01)
    t1_ci = list((t1 or {}).get("tpr_ci") or [None, None])
    t1_lo = _num(t1_ci[0])
    auc_text = f"AUC {fmt_num(auc, 3)} [{fmt_num(lo, 3)}, {fmt_num(hi, 3)}]"
    if t1 is not None and t1_lo is not None and t1_lo > 0.01:
        text = (
            f"Strong evidence of membership leakage: at 1 % false positives the attack identifies "
            f"{fmt_pct(_num(t1.get('tpr')))} {fmt_ci(t1_lo, _num(t1_ci[1]))} of the members, "
            f"more than the 1 % chance gives even at the interval's low end ({auc_text})."
        )
    elif lo is not None and lo > 0.5:
        text = (
            f"Evidence of membership leakage: the {auc_text} lies above 0.5 (guessing), though "
            "the attack's confident hits at 1 % false positives are not clearly above chance."
        )
    elif hi is not None and hi < 0.5:
        text = (
            f"No evidence of leakage, and a suspicious result: the {auc_text} lies below 0.5, so "
            "members score lower than non-members (check the attack's orientation)."
        )
    else:
        text = (
            f"No evidence of membership leakage: the {auc_text} contains 0.5 (guessing). This "
            "attack found no signal; a stronger attack might."
        )
    codes = {
        (w.get("code") if isinstance(w, Mapping) else None) for w in m.get("warnings", []) or []
    }
    base = m.get("baseline")
    if isinstance(base, Mapping) and "not_better_than_baseline" in codes:
        text += (
            f" It does no better than its baseline ({base.get('attack', 'n/a')!s}, "
            f"AUC {fmt_num(_num(base.get('auc')), 3)}): what it shows an attacker learns "
            "without the target."
        )
    eps = _num((m.get("epsilon") or {}).get("epsilon"))
    if claimed_epsilon is not None and eps is not None and eps > claimed_epsilon:
        text += (
            f" Its empirical ε lower bound {fmt_num(eps, 3)} exceeds the claimed ε = "
            f"{fmt_num(claimed_epsilon, 3)}: the claimed guarantee does not hold for this target "
            "as audited."
        )
    return text


def claimed_epsilon(report: AuditReport) -> float | None:
    """The ε the audited target claims (None when it claims none or no target is recorded)."""
    if report.target is None:
        return None
    return _num((report.target.get("privacy") or {}).get("epsilon"))


# ---- plain-language texts (shared with the HTML report) -----------------------------------------


def attack_family(name: str) -> str:
    """``singling_out``, ``linkability``, ``inference`` or ``other`` for a risk's name."""
    if name.startswith("singling_out"):
        return "singling_out"
    if name.startswith("linkability"):
        return "linkability"
    if name.startswith("inference"):
        return "inference"
    return "other"


def _secret(name: str, result: AttackResult | None = None) -> str:
    if result is not None and "secret" in result.params:
        return str(result.params["secret"])
    m = re.fullmatch(r"inference\[(.*)\]", name, flags=re.S)
    return m.group(1) if m else name


def attack_title(name: str, result: AttackResult | None = None) -> str:
    """A heading for a risk: "Singling out (multivariate)", "Inference of 'health'", ..."""
    fam = attack_family(name)
    if fam == "singling_out":
        mode = name.removeprefix("singling_out").strip("_") or "univariate"
        return f"Singling out ({mode})"
    if fam == "linkability":
        return "Linkability"
    if fam == "inference":
        return f"Inference of {_secret(name, result)!r}"
    return name


def threat_model(name: str, result: AttackResult | None = None) -> str:
    """What the attacker knows, does and counts as a success, in plain words."""
    p: Mapping[str, Any] = result.params if result is not None else {}
    fam = attack_family(name)
    controlled = result is None or result.control_rate is not None
    if fam == "singling_out":
        check = (
            " The same rules are tried on real people who were never used (control) to see how "
            "often they isolate someone by chance; the baseline tries random rules."
            if controlled
            else f" {NO_CONTROL_THREAT} The baseline tries random rules."
        )
        if "multivariate" in name:
            n_cols = p.get("n_cols", 3)
            return (
                f"The attacker picks a synthetic record and {n_cols} of its attributes and writes a rule "
                "that combines them (for example 'age ≥ 61 and site = 4 and income ≤ 900') that "
                "matches exactly one synthetic record. The attack succeeds when the rule matches "
                "exactly one real person of the training data: that person is singled out." + check
            )
        return (
            "The attacker looks for rare values in single columns of the release (a value that "
            "occurs once, the smallest or largest value, the one missing value) and turns each into "
            "a rule such as 'age ≥ 64'. The attack succeeds when the rule matches exactly one real "
            "person of the training data." + check
        )
    if fam == "linkability":
        aux = p.get("aux_cols")
        k = p.get("n_neighbors", 1)
        if isinstance(aux, list | tuple) and len(aux) == 2:
            a = ", ".join(map(str, aux[0]))
            b = ", ".join(map(str, aux[1]))
            knows = f"one source gives the columns ({a}), another the columns ({b})"
        else:
            knows = "each source gives a different half of the columns"
        return (
            "The attacker holds two separate pieces of information about the same people: "
            f"{knows}. For each person the attacker finds the {k} closest synthetic record(s) using "
            "only the first piece and the closest using only the second; if one synthetic record is "
            "among both, the attacker concludes that the two pieces belong to the same person. The "
            "attack succeeds when that conclusion is right. "
            + (
                "Control: the same attack on real people never used; baseline: neighbours drawn at "
                "random."
                if controlled
                else f"{NO_CONTROL_THREAT} Baseline: neighbours drawn at random."
            )
        )
    if fam == "inference":
        secret = _secret(name, result)
        aux = p.get("aux_cols")
        knows = (
            f"the columns {', '.join(map(str, aux))}"
            if isinstance(aux, list | tuple) and aux
            else "every other column"
        )
        if p.get("numeric_secret"):
            tol = p.get("numeric_tolerance", 0.05)
            mode = p.get("tolerance_mode", "relative")
            within = (
                f"within {fmt_pct(float(tol), digits=0)} of the true value"
                if mode == "relative"
                else f"within {fmt_pct(float(tol), digits=0)} of the column's range"
            )
            if isinstance(p.get("tolerance_rule"), str):  # the attack's own wording (any mode)
                within = str(p["tolerance_rule"])
            success = f"the guess is {within}"
        else:
            success = "the guess equals the true value"
        return (
            f"The attacker knows {knows} of a real person and wants to learn their {secret!r}. "
            f"The attacker finds the closest synthetic record on the known columns and reads its "
            f"{secret!r}. The attack succeeds when {success}. "
            + (
                "Control: the same attack on real people never used; baseline: the secret of a "
                "random synthetic record."
                if controlled
                else f"{NO_CONTROL_THREAT} Baseline: the secret of a random synthetic record."
            )
        )
    return "An attack on the release."


def reading(name: str, result: AttackResult) -> str:
    """A one-line reading of the risk: what the release lets an attacker do beyond the population."""
    r = result.risk
    lo, hi, _ = display_ci(r.value, r.ci_low, r.ci_high, r.error)
    ci = f"(CI {fmt_pct(lo)} to {fmt_pct(hi)})"
    fam = attack_family(name)
    if not result.measurable:
        return (
            "This criterion could not be measured here (see its warning): its interval says "
            "nothing about the release, so it is left out of the headline figures and of gates."
        )
    if fam == "singling_out":
        act, who = "single out", "people that the same rules do not isolate in the population alone"
    elif fam == "linkability":
        act = "link the two pieces of information of"
        who = "people whose pieces the population alone does not link"
    elif fam == "inference":
        act = f"correctly infer {_secret(name, result)!r} for"
        who = "people whose secret the population alone does not reveal"
    else:
        act, who = "succeed against", "people"
    if result.control_rate is None:
        return (
            f"Without a control set the attack's own success rate is reported: the attacker could "
            f"{act} {fmt_pct(r.value)} {ci} of the attacked people, part of which the population "
            f"would reveal anyway."
        )
    if hi is not None and lo is not None and r.value <= 0.0 and r.residual < 0:
        return (
            f"The attack did no better on training records than on the population; the data "
            f"support a risk below {fmt_pct(hi)} {ci} of the {who}."
        )
    return f"The release lets an attacker {act} {fmt_pct(r.value)} more {ci} of the {who}."


# ---- the card ----------------------------------------------------------------------------------


def _rates_table(result: AttackResult) -> list[str]:
    a, b, c = result.attack_rate, result.baseline_rate, result.control_rate
    rows = [
        "| | success rate | CI | successes / attacks |",
        "|---|---:|---|---:|",
        f"| Attack on training records | {fmt_pct(a.value)} | {fmt_ci(*a.ci)} | "
        f"{fmt_num(a.n_success)} / {fmt_num(a.n_total)} |",
        f"| Baseline (naive attacker) | {fmt_pct(b.value)} | {fmt_ci(*b.ci)} | "
        f"{fmt_num(b.n_success)} / {fmt_num(b.n_total)} |",
    ]
    if c is None:
        rows.append("| Control (records never used) | not measured: no control set | | |")
    else:
        rows.append(
            f"| Control (records never used) | {fmt_pct(c.value)} | {fmt_ci(*c.ci)} | "
            f"{fmt_num(c.n_success)} / {fmt_num(c.n_total)} |"
        )
    return rows


def _risk_block(name: str, result: AttackResult) -> list[str]:
    r = result.risk
    conf = fmt_pct(r.confidence_level, digits=0)
    lo, hi, widened = display_ci(r.value, r.ci_low, r.ci_high, r.error)
    shown = f"< {fmt_pct(hi)}" if widened else fmt_pct(r.value)
    tag = " (not measurable)" if not result.measurable else ""
    out = [
        f"#### {md_escape(attack_title(name, result))}{tag}",
        "",
        f"**Risk: {shown}** ({conf} CI {fmt_pct(lo)} to {fmt_pct(hi)}; "
        f"unclipped residual {r.residual:+.4f} ± {r.error:.4f}). Engine: {md_escape(result.engine)}, "
        f"seed {'n/a' if result.seed is None else result.seed}.",
        "",
        f"*Reading:* {md_escape(reading(name, result))}",
        "",
        *_rates_table(result),
        "",
    ]
    if result.params:
        params = "; ".join(
            f"{md_escape(k)} = {md_escape(fmt_param(v))}" for k, v in result.params.items()
        )
        out += [f"Settings: {params}.", ""]
    for w in result.warnings:
        out += [f"> **Warning ({md_escape(w.code)}):** {md_escape(w.message)}", ""]
    return out


def _mia_cells(m: Mapping[str, Any]) -> str:
    auc_ci = list(m.get("auc_ci") or [None, None])
    t1 = membership_tpr(m, 0.01) or {}
    t1_ci = list(t1.get("tpr_ci") or [None, None])
    eps = m.get("epsilon") or {}
    return (
        f"{fmt_num(m.get('auc'), 3)} [{fmt_num(auc_ci[0], 3)}, {fmt_num(auc_ci[1], 3)}] | "
        f"{fmt_pct(t1.get('tpr'))} {fmt_ci(t1_ci[0], t1_ci[1])} | {fmt_num(eps.get('epsilon'), 3)}"
    )


def _membership_lines(report: AuditReport) -> list[str]:
    num = "4. " if article29_assessed(report) else ""
    out = [f"## {num}Membership inference", "", f"*Threat model.* {MEMBERSHIP_THREAT}", ""]
    if not report.membership:
        lead = "**Not assessed.** This" if article29_assessed(report) else "This"
        return [
            *out,
            f"{lead} audit ran no membership-inference attack; no conclusion about "
            "membership privacy can be drawn from it.",
            "",
        ]
    claimed = claimed_epsilon(report)
    out += [
        "| attack | AUC [CI] | TPR at 1 % FPR [CI] | ε lower bound | unit | target models | "
        "baseline AUC |",
        "|---|---|---|---:|---|---:|---|",
    ]
    for name, m in report.membership.items():
        base = m.get("baseline")
        base_txt = (
            f"{fmt_num(base.get('auc'), 3)} ({md_escape(base.get('attack', 'n/a'))})"
            if isinstance(base, Mapping)
            else "none"
        )
        out.append(
            f"| {md_escape(name)} | {_mia_cells(m)} | {md_escape(m.get('unit', 'record'))} | "
            f"{fmt_num(m.get('n_target_models', 1))} | {base_txt} |"
        )
    out.append("")
    for name, m in report.membership.items():
        auc_ci = m.get("auc_ci") or [None, None]
        eps = m.get("epsilon") or {}
        unit = str(m.get("unit", "record"))
        out += [
            f"### {md_escape(name)} (target: {md_escape(m.get('target', 'n/a'))})",
            "",
            f"*Reading:* {md_escape(membership_reading(m, claimed))}",
            "",
            f"**AUC {fmt_num(m.get('auc'), 3)}** (CI {fmt_num(auc_ci[0], 3)} to "
            f"{fmt_num(auc_ci[1], 3)}; 0.5 = guessing) on {fmt_num(m.get('n_members'))} members and "
            f"{fmt_num(m.get('n_nonmembers'))} non-members (unit of membership: {md_escape(unit)}; "
            f"scores pooled over {fmt_num(m.get('n_target_models', 1))} target model(s)). "
            f"Empirical ε lower bound: **{fmt_num(eps.get('epsilon'), 3)}** (the largest these "
            f"counts can certify: {fmt_num(eps.get('ceiling'), 3)}; δ = "
            f"{fmt_num(eps.get('delta'), 3)}).",
            "",
            "| false-positive rate | true-positive rate | CI | hits / members |",
            "|---:|---:|---|---:|",
        ]
        for t in m.get("tpr_at", []):
            ci = t.get("tpr_ci") or [None, None]
            out.append(
                f"| {fmt_pct(t.get('target_fpr'))} | {fmt_pct(t.get('tpr'))} | {fmt_ci(ci[0], ci[1])} "
                f"| {fmt_num(t.get('tp'))} / {fmt_num(t.get('n_members'))} |"
            )
        out.append("")
        base = m.get("baseline")
        if isinstance(base, Mapping):
            out += [
                f"Baseline beside the attack: **{md_escape(base.get('attack', 'n/a'))}**, the same "
                "members and non-members scored without the target: "
                f"AUC {fmt_num(base.get('auc'), 3)} [{fmt_num((base.get('auc_ci') or [None])[0], 3)}, "
                f"{fmt_num((base.get('auc_ci') or [None, None])[1], 3)}], TPR at 1 % FPR "
                f"{fmt_pct((membership_tpr(base) or {}).get('tpr'))}.",
                "",
            ]
        top = [e for e in m.get("top_exposed", []) or [] if isinstance(e, Mapping)][:10]
        if top:
            out += [
                f"Most exposed {md_escape(unit)}s (members with the highest scores): "
                + ", ".join(
                    f"{md_escape(e.get('record_id'))} ({fmt_num(e.get('score'), 3)})" for e in top
                )
                + ".",
                "",
            ]
        for w in m.get("warnings", []):
            msg = w.get("message", "") if isinstance(w, Mapping) else w
            out += [f"> **Warning:** {md_escape(msg)}", ""]
    return out


def _utility_lines(report: AuditReport) -> list[str]:
    out = ["## 5. Utility" if article29_assessed(report) else "## Utility", ""]
    if not report.utility:
        return [*out, "Utility was not measured in this audit.", ""]
    if report.utility_score is not None:
        out += [
            f"Overall utility score: **{report.utility_score:.3f}** (0 = useless, 1 = as useful as "
            "the real data, averaged over the metrics below after putting each on that scale).",
            "",
        ]
    out += [
        "| metric | value | CI | bounds | better when |",
        "|---|---:|---|---|---|",
    ]
    for name, m in report.utility.items():
        bounds = m.get("bounds") or [None, None]
        better = "higher" if m.get("direction") == "maximize" else "lower"
        ci = (
            f"[{fmt_num(m.get('ci_low'), 3)}, {fmt_num(m.get('ci_high'), 3)}]"
            if m.get("ci_low") is not None
            else ""
        )
        out.append(
            f"| {md_escape(name)} | {fmt_num(m.get('value'), 4)} | {ci} | "
            f"{fmt_num(bounds[0], 3)} to {fmt_num(bounds[1], 3)} | {better} |"
        )
    out.append("")
    b = utility_breakdown(report.utility)
    out += [f"- {md_escape(t)}" for t in b["readings"]]
    out.append("")
    if b["worst_columns"]:
        out += [
            f"Columns whose distribution the release matches least ({len(b['worst_columns'])} of "
            f"{b['n_columns']}; 1 = as in the real data):",
            "",
            "| column | score | test |",
            "|---|---:|---|",
            *[
                f"| {md_escape(c)} | {fmt_num(v, 3)} | {md_escape(k)} |"
                for c, v, k in b["worst_columns"]
            ],
            "",
        ]
    if b["worst_pairs"]:
        out += [
            f"Pairs of columns whose relation the release matches least ({len(b['worst_pairs'])} "
            f"of {b['n_pairs']}):",
            "",
            "| pair | score | kind |",
            "|---|---:|---|",
            *[
                f"| {md_escape(c)} | {fmt_num(v, 3)} | {md_escape(k)} |"
                for c, v, k in b["worst_pairs"]
            ],
            "",
        ]
    return [*out, f"*Reading the score.* {UTILITY_RANKING_NOTE}", ""]


# ---- report sections (any audit kind's findings; shared with the HTML report and the app) ---------

#: Table rows shown per section table (the rest are counted, never silently dropped).
CARD_TABLE_ROWS = 20
_RATE_UNITS = {"share", "rate", "proportion", "probability", "fraction", "%"}


def _is_rate(f: Mapping[str, Any]) -> bool:
    unit = f.get("unit")
    if isinstance(unit, str) and unit.lower() in _RATE_UNITS:
        return True
    bounds = f.get("bounds")
    return unit is None and isinstance(bounds, list | tuple) and list(bounds) == [0.0, 1.0]


def section_finding_cells(f: Mapping[str, Any]) -> dict[str, str]:
    """A section finding as plain texts: ``value`` (with its unit), ``ci``, ``role``, ``reading``,
    ``better`` (which direction is better). Rates (unit share/rate or bounds [0, 1]) read as
    percentages with :func:`fmt_pct`; other numbers with :func:`fmt_num`."""
    rate = _is_rate(f)
    lo, hi = f.get("ci_low"), f.get("ci_high")
    if rate:
        value = fmt_pct(f.get("value"))
        ci = "" if lo is None and hi is None else fmt_ci(lo, hi)
    else:
        unit = f.get("unit")
        value = fmt_num(f.get("value")) + (
            f" {unit}" if unit and f.get("value") is not None else ""
        )
        ci = "" if lo is None and hi is None else f"[{fmt_num(lo)}, {fmt_num(hi)}]"
    level = f.get("confidence_level")
    if ci and isinstance(level, int | float):
        ci = f"{fmt_pct(level, digits=0)} CI {ci}"
    direction = f.get("direction")
    better = {"lower_is_better": "lower", "higher_is_better": "higher"}.get(str(direction), "")
    return {
        "name": str(f.get("name", "")),
        "value": value,
        "ci": ci,
        "role": str(f.get("role", "")),
        "better": better,
        "reading": str(f.get("reading") or ""),
    }


def _image_ext(media_type: str) -> str:
    return "svg" if media_type == "image/svg+xml" else "png"


def section_image_files(report: AuditReport) -> dict[tuple[str, int], str]:
    """``{(section name, image index): relative file name}`` for every section image, as
    :func:`synth_audit.report.write.write_report` writes them beside the card
    (``audit_card_images/<section>-<n>.<ext>``; names made safe for any file system)."""
    out: dict[tuple[str, int], str] = {}
    for name, sec in report.sections.items():
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(name)).strip("-.") or "section"
        for i, img in enumerate(sec.get("images", []) or []):
            ext = _image_ext(str(img.get("media_type", "image/png")))
            out[(str(name), i)] = f"audit_card_images/{safe}-{i + 1}.{ext}"
    return out


def article29_assessed(report: AuditReport) -> bool:
    """Whether the Article 29 criteria (singling out, linkability, inference) belong in this
    report: they do for a release audit, and not for an audit that ran none of them (a model,
    language-model, time-series or diffusion audit: ``attacks == {}`` and ``inference == {}``)."""
    return bool(report.attacks) or bool(report.inference)


def sections_evidence(report: AuditReport) -> list[str]:
    """What evidence an audit without Article 29 attacks gives, one plain sentence per kind."""
    out: list[str] = []
    if report.membership:
        out.append(
            f"Membership inference: {len(report.membership)} attack(s) "
            f"({', '.join(str(n) for n in report.membership)})."
        )
    for name, sec in report.sections.items():
        n = len(sec.get("findings", []) or [])
        out.append(f"{sec.get('title', name)}: {n} finding(s) (section {name}).")
    if not out:
        out.append("No evidence: this audit ran no attack and holds no findings.")
    return out


def _purpose(report: AuditReport) -> str:
    if not article29_assessed(report) and report.target is not None:
        kind = str(report.target.get("kind", "target")).replace("_", " ")
        return (
            f"This card records a privacy risk evaluation of a {md_escape(kind)} target before it "
            "is shared or deployed. It measures what an attacker who can use the target as stated "
            "in the threat model below learns about the real people in its training data "
            "(membership inference and the findings listed), beside a baseline where one was run. "
            "It is evidence for a release decision, which the sign-off block below records; it is "
            "not a certificate of anonymity."
        )
    return (
        "This card records a privacy risk evaluation of a synthetic data release before it is "
        "shared. It measures how much an attacker who reads the release learns about the real "
        "people in the data the release was made from, beyond what the population reveals anyway, "
        "against the three anonymisation criteria of the Article 29 Working Party (Opinion 05/2014: "
        "singling out, linkability, inference), membership inference, and next to them the "
        "utility of the release. It is evidence for a release decision, which the sign-off block "
        "below records; it is not a certificate of anonymity."
    )


def _no_article29_lines(report: AuditReport) -> list[str]:
    t = report.target or {}
    kind = str(t.get("kind", "target"))
    return [
        "## Evidence this audit gives",
        "",
        f"This is an audit of a {md_escape(kind.replace('_', ' '))} target. The Article 29 "
        "criteria (singling out, linkability, inference) are measured on released records; this "
        "audit attacked the target through what it exposes instead, so they do not apply here "
        "and are not listed. It gives:",
        "",
        *[f"- {md_escape(s)}" for s in sections_evidence(report)],
        "",
        f"*Threat model.* {md_escape(threat_model_words(t.get('capabilities'), kind))}",
        "",
    ]


def _section_lines(
    report: AuditReport, image_files: Mapping[tuple[str, int], str] | None = None
) -> list[str]:
    out: list[str] = []
    for name, sec in report.sections.items():
        out += [f"## {md_escape(sec.get('title', name))}", ""]
        out += [f"*Section* `{name}` *({md_escape(sec.get('kind', ''))})*.", ""]
        if sec.get("summary"):
            out += [md_escape(sec["summary"]), ""]
        findings = [f for f in sec.get("findings", []) or [] if isinstance(f, Mapping)]
        if findings:
            out += [
                "| finding | value | CI | role | better | reading |",
                "|---|---:|---|---|---|---|",
            ]
            for f in findings:
                c = section_finding_cells(f)
                out.append(
                    f"| {md_escape(c['name'])} | {md_escape(c['value'])} | {md_escape(c['ci'])} | "
                    f"{c['role']} | {c['better']} | {md_escape(c['reading'])} |"
                )
            out.append("")
        for t in sec.get("tables", []) or []:
            cols = [str(c) for c in t.get("columns", [])]
            rows = list(t.get("rows", []))
            out += [
                f"**{md_escape(t.get('title', ''))}**",
                "",
                "| " + " | ".join(md_escape(c) for c in cols) + " |",
                "|" + "---|" * len(cols),
            ]
            for r in rows[:CARD_TABLE_ROWS]:
                out.append("| " + " | ".join(md_escape(fmt_param(v)) for v in r) + " |")
            if len(rows) > CARD_TABLE_ROWS:
                out += ["", f"({len(rows) - CARD_TABLE_ROWS:,} more rows in report.json.)"]
            out.append("")
        for i, img in enumerate(sec.get("images", []) or []):
            title = md_escape(img.get("title", f"image {i + 1}"))
            path = (image_files or {}).get((str(name), i))
            if path is not None:
                out += [f"![{md_escape(img.get('alt') or title)}]({path})", ""]
            else:
                out += [f"Image: *{title}* (embedded in report.html).", ""]
        for w in sec.get("warnings", []) or []:
            out += [
                f"> **Warning ({md_escape(w.get('code', ''))}):** {md_escape(w.get('message', ''))}",
                "",
            ]
    return out


def render_audit_card(
    report: AuditReport,
    *,
    image_files: Mapping[tuple[str, int], str] | None = None,
    dpia_link: str | None = None,
) -> str:
    """The audit card as Markdown (organised by the three Article 29 criteria, membership, utility,
    then every report section). ``image_files`` maps ``(section, image index)`` to the file the
    writer put beside the card (see :func:`section_image_files`); without it images are named.
    ``dpia_link``: the DPIA evidence document written beside the card (linked near the top)."""
    conf = fmt_pct(float(report.config.get("confidence_level", 0.95)), digits=0)
    engine = report.config.get("engine", "native")
    lines: list[str] = [
        "# Privacy audit card",
        "",
        f"Produced by synth-audit {md_escape(report.tool_version)} on {md_escape(report.created_at)} "
        f"(report schema {md_escape(report.schema_version)}). Seed {report.seed}, attack engine "
        f"{md_escape(engine)}, confidence level {conf}.",
        "",
        *[
            line
            for code, title, text in control_banners(report)
            for line in (f"> **⚠ {md_escape(title)}** ({code}). {md_escape(text)}", "")
        ],
        *(
            [f"DPIA evidence for this audit: [{md_escape(dpia_link)}]({dpia_link}).", ""]
            if dpia_link
            else []
        ),
        "## Purpose and scope",
        "",
        _purpose(report),
        "",
        "## What was audited",
        "",
        "| | |",
        "|---|---|",
        *[f"| {md_escape(k)} | {md_escape(v)} |" for k, v in audited_items(report)],
        "",
        "## Inputs",
        "",
        "| role | source | rows | columns | SHA-256 fingerprint |",
        "|---|---|---:|---:|---|",
    ]
    for role, fp in report.inputs.items():
        lines.append(
            f"| {md_escape(role)} | {md_escape(fp.get('source', role))} | {fmt_num(fp.get('n_rows'))} "
            f"| {fmt_num(fp.get('n_columns'))} | `{fp.get('sha256', 'n/a')}` |"
        )
    if report.control_status() == "none":
        lines += [
            "",
            "No control set was given: risks are raw attack success rates, not corrected for what "
            "the population reveals.",
        ]
    used = report.schema.used
    excluded = report.schema.excluded
    lines += ["", f"Columns attacked ({len(used)}): {md_escape(', '.join(used))}."]
    if excluded:
        lines.append(
            f"Columns excluded as identifiers or free text ({len(excluded)}): "
            f"{md_escape(', '.join(excluded))}."
        )
    if report.control_status() == "none":
        how = (
            "Each attack is run twice: against the training records (the people at risk) and as a "
            "naive baseline. No control set was given, so no control attack was run and the "
            "**risk** is the attack's own success rate on training records: it includes whatever "
            "the population reveals anyway, and is comparable only with the baseline beside it. "
            f"Intervals are {conf} confidence intervals."
        )
    else:
        how = (
            "Each attack is run three times: against the training records (the people at risk), "
            "against control records (real people of the same population who were never used, so "
            "whatever the attack learns about them the population reveals anyway) and as a naive "
            "baseline. The **risk** is (attack rate − control rate) / (1 − control rate): the share "
            "of what the population alone does not reveal that the release gives away. 0 means no "
            f"more than the population; 1 means everything. Intervals are {conf} confidence "
            "intervals."
        )
    if article29_assessed(report):
        lines += ["", "## How to read a risk", "", how, ""]
    else:
        lines.append("")

    summary = report.summary()
    lines += ["## Summary", ""]
    worst_item = report.max_risk()
    hi_item = report.max_ci_high()
    if not article29_assessed(report):
        lines += [
            "The Article 29 criteria do not apply to this target (see the evidence it gives "
            "below).",
            "",
        ]
    elif not list(report.risks()):
        lines += [
            "No Article 29 attack was run." if report.membership else "No attack was run.",
            "",
        ]
    elif worst_item is None or hi_item is None:
        lines += ["- Highest risk: n/a (no criterion could be measured; see the warnings)."]
    else:
        worst_name, worst = worst_item
        hi_name, hi_r = hi_item
        lo, hi, _ = display_ci(
            worst.risk.value, worst.risk.ci_low, worst.risk.ci_high, worst.risk.error
        )
        lines += [
            f"- Highest risk: **{fmt_pct(worst.risk.value)}** ({conf} CI {fmt_pct(lo)} "
            f"to {fmt_pct(hi)}), {md_escape(attack_title(worst_name, worst))}.",
            f"- Highest upper confidence bound of any risk: {fmt_pct(hi_r.risk.ci_high)} "
            f"({md_escape(attack_title(hi_name, hi_r))}).",
        ]
    if summary["unmeasurable"]:
        lines.append(
            "- Not measurable, left out of the two figures above: "
            + md_escape(
                ", ".join(attack_title(n, r) for n, r in report.risks() if not r.measurable)
            )
            + "."
        )
    mia = report.max_membership()
    if mia is None:
        lines.append(
            "- Membership inference: "
            + ("not assessed" if article29_assessed(report) else "no attack was run")
            + " in this audit."
        )
    else:
        m_name, m = mia
        lines.append(
            f"- Membership inference ({len(report.membership)} attack(s)): highest AUC "
            f"**{fmt_num(m.get('auc'), 3)}** ({md_escape(m_name)}). "
            + md_escape(membership_reading(m, claimed_epsilon(report)))
        )
    lines += [
        "- Utility score: "
        + ("not measured" if report.utility_score is None else f"{report.utility_score:.3f}")
        + ".",
        f"- Warnings: {summary['n_warnings']} (listed below).",
        "",
    ]
    if report.sections:
        lines += [
            "- Further findings: "
            + md_escape(", ".join(str(sec.get("title", n)) for n, sec in report.sections.items()))
            + " (sections below).",
            "",
        ]
    if list(report.risks()):
        lines += [
            "| criterion | attack | risk | CI | attack | baseline | control | attacks |",
            "|---|---|---:|---|---:|---:|---:|---:|",
        ]
    for name, r in report.risks():
        crit = {"singling_out": "Singling out", "linkability": "Linkability"}.get(
            attack_family(name), "Inference"
        )
        ctrl = "n/a" if r.control_rate is None else fmt_pct(r.control_rate.value)
        lo, hi, widened = display_ci(r.risk.value, r.risk.ci_low, r.risk.ci_high, r.risk.error)
        shown = f"< {fmt_pct(hi)}" if widened else fmt_pct(r.risk.value)
        title = attack_title(name, r) + ("" if r.measurable else " (not measurable)")
        lines.append(
            f"| {crit} | {md_escape(title)} | {shown} | "
            f"{fmt_ci(lo, hi)} | {fmt_pct(r.attack_rate.value)} | "
            f"{fmt_pct(r.baseline_rate.value)} | {ctrl} | {fmt_num(r.n_attacks)} |"
        )
    lines.append("")

    risks = list(report.risks())
    if not article29_assessed(report):
        lines += _no_article29_lines(report)
    for i, (family, title, question) in enumerate(
        CRITERIA if article29_assessed(report) else (), start=1
    ):
        lines += [f"## {i}. {title}", "", f"*Question.* {question}", ""]
        mine = [(n, r) for n, r in risks if attack_family(n) == family]
        if not mine:
            lines += ["**Not assessed** in this audit (disabled in the configuration).", ""]
            continue
        shown_threats: set[str] = set()
        for name, r in mine:
            threat = threat_model(name, r)
            block = _risk_block(name, r)
            if threat not in shown_threats:
                block[1:1] = ["", f"*Threat model.* {md_escape(threat)}"]
                shown_threats.add(threat)
            lines += block

    lines += _membership_lines(report)
    lines += _utility_lines(report)
    lines += _section_lines(report, image_files)

    dcr = report.dcr
    if dcr is not None or article29_assessed(report):
        lines += ["## Diagnostics (not proof of privacy)", ""]
    if dcr is None and not article29_assessed(report):
        pass
    elif dcr is None:
        lines += [
            "The distance-to-closest-record diagnostic needs a control set; it was not run.",
            "",
        ]
    else:
        lines += [
            f"- Distance to closest record: {fmt_pct(dcr.share_closer_to_train)} of synthetic records "
            f"are closer to a training record than to a control record (one-sided "
            f"{fmt_pct(dcr.confidence_level, digits=0)} CI from {fmt_pct(dcr.share_ci[0])}); without "
            f"memorisation about {fmt_pct(dcr.expected_share)} would be (p = {dcr.p_value:.3g}).",
            f"- Exact copies: {dcr.exact_copies_of_train} synthetic records equal a training record, "
            f"against {dcr.exact_copies_of_control} that equal a control record.",
            "",
        ]

    all_w = all_report_warnings(report)
    lines += ["## Warnings", ""]
    if not all_w:
        lines += ["None.", ""]
    else:
        lines += [f"- **{md_escape(w.code)}**: {md_escape(w.message)}" for w in all_w]
        lines.append("")

    lines += ["## Limitations", ""]
    lines += [f"- {t}" for t in LIMITATIONS]
    lines += [
        "",
        "## Sign-off",
        "",
        "| | |",
        "|---|---|",
        "| Name | |",
        "| Role | |",
        "| Date | |",
        "| Decision | ☐ approve ☐ approve with conditions ☐ reject |",
        "| Conditions / reasons | |",
        "",
        "Signature: ______________________________",
        "",
    ]
    return "\n".join(lines)


# ---- utility readings (shared by the card, the HTML report and the CLI summary) -------------------

UTILITY_RANKING_NOTE = (
    "Why a generator that samples every column on its own (independent_marginals) can score higher "
    "than a copula: the marginals score compares each column's distribution separately, which "
    "independent sampling reproduces by construction, so metrics built on marginals alone reward "
    "it. It breaks every relation between columns, which the pairwise score and the detection "
    "classifier (it tells such rows from real ones easily: AUC near 1) reveal. Read the overall "
    "score with its breakdown."
)


def utility_breakdown(utility: Mapping[str, Mapping[str, Any]], *, top: int = 5) -> dict[str, Any]:
    """The parts of the utility metrics people read: the worst columns and pairs (score, method or
    kind), the detection classifier's AUC with its CI, and one sentence per metric.

    Reads :attr:`MetricResult.details` as stored in report.json (``marginals``: ``columns``;
    ``pairwise``: ``pairs``; ``detection``: ``auc``, ``auc_ci``; ``ml_efficacy``: ``score_real``,
    ``score_synthetic``); metrics without such details contribute only their value.
    """
    columns: list[tuple[str, float, str]] = []
    pairs: list[tuple[str, float, str]] = []
    auc: float | None = None
    auc_ci: tuple[float | None, float | None] = (None, None)
    readings: list[str] = []
    for name, m in utility.items():
        det = m.get("details") or {}
        value = m.get("value")
        if isinstance(det.get("columns"), Mapping):
            for col, d in det["columns"].items():
                if isinstance(d, Mapping) and d.get("score") is not None:
                    columns.append((str(col), float(d["score"]), str(d.get("method", ""))))
            readings.append(
                f"{name}: each column's distribution compared on its own scores {fmt_num(value, 3)} "
                "(1 = as in the real data)."
            )
        elif isinstance(det.get("pairs"), list):
            for e in det["pairs"]:
                if isinstance(e, Mapping) and e.get("score") is not None:
                    label = " × ".join(str(c) for c in e.get("columns", ()))
                    pairs.append((label, float(e["score"]), str(e.get("kind", ""))))
            readings.append(
                f"{name}: relations between pairs of columns score {fmt_num(value, 3)} "
                "(1 = every pair related as in the real data)."
            )
        elif det.get("auc") is not None:
            auc = float(det["auc"])
            ci = det.get("auc_ci") or [None, None]
            auc_ci = (ci[0], ci[1])
            readings.append(
                f"{name}: a classifier tells synthetic rows from real ones with AUC {fmt_num(auc, 3)} "
                f"[{fmt_num(ci[0], 3)}, {fmt_num(ci[1], 3)}] (0.5 = it cannot tell them apart; "
                f"1 = it always can); score {fmt_num(value, 3)}."
            )
        elif det.get("score_real") is not None and det.get("score_synthetic") is not None:
            readings.append(
                f"{name}: a model of {det.get('target', 'the target')!s} trained on the release "
                f"scores {fmt_num(det['score_synthetic'], 3)} on real held-out rows, one trained on "
                f"the real data {fmt_num(det['score_real'], 3)} ({det.get('score_metric', 'score')!s}); "
                f"ratio {fmt_num(value, 3)}."
            )
        else:
            readings.append(f"{name}: {fmt_num(value, 4)}.")
    columns.sort(key=lambda t: (t[1], t[0]))
    pairs.sort(key=lambda t: (t[1], t[0]))
    return {
        "worst_columns": columns[:top],
        "worst_pairs": pairs[:top],
        "n_columns": len(columns),
        "n_pairs": len(pairs),
        "columns": columns,
        "pairs": pairs,
        "detection_auc": auc,
        "detection_auc_ci": auc_ci,
        "readings": readings,
    }
