"""``synth-audit gate``: pass or fail a release on its report.json (for CI pipelines).

Exit codes: 0 every checked risk is within the limit (and utility, when asked, is high enough);
1 at least one check failed; 2 a usage error (missing or invalid report, a limit outside [0, 1], an
unknown attack name).

By default each risk's point estimate (``value``) is compared with ``--max-risk``; ``--conservative``
compares the upper end of its confidence interval (``ci_high``) instead. A risk equal to the limit
passes.

Membership inference (``membership`` in report.json): ``--max-auc X`` checks every membership
attack's AUC and ``--max-tpr-at-1pct-fpr X`` its true-positive rate at 1 % false positives, on the
same basis as the risks: the estimate, or with ``--conservative`` the upper end of its confidence
interval. The estimate is the default because a limit on the AUC's *lower* bound would pass an
attack whose AUC is high but uncertain; ``--conservative`` fails unless the data show the AUC below
the limit. A report without a membership result (or without a TPR at 1 % FPR) fails such a check:
nothing shows the limit is met. ``--attack`` selects Article 29 risks only. At least one of
``--max-risk``, ``--max-auc`` and ``--max-tpr-at-1pct-fpr`` must be given.

Checks beside the limits, each failing with its reason:

* the control set: an audit without one (warning ``no_control``; its risks are raw attack success
  rates) fails unless ``--allow-no-control``; a control set that shares rows with the training data
  (``control_overlap``; every risk is biased towards 0) fails unless ``--allow-overlap``;
* a criterion that could not be measured (``measurable`` false in report.json) is reported as "not
  measurable, skipped" and left out unless ``--include-unmeasurable``. Reports written before the
  ``measurable`` key existed count every criterion as measurable.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synth_audit.cli._common import EXIT_FAIL, EXIT_OK, add_command, make_console
from synth_audit.errors import SynthAuditError, format_names

if TYPE_CHECKING:
    from synth_audit.report.model import AuditReport
    from synth_audit.results import AttackResult

__all__ = ["handle", "load_report", "register", "select_attacks"]

DESCRIPTION = """\
Check a report.json against limits: exit 0 when it passes, 1 when it fails, 2 on a usage error.

examples:
  synth-audit gate reports/release-1/report.json --max-risk 0.05
  synth-audit gate report.json --max-risk 0.1 --conservative --attack linkability --attack inference
  synth-audit gate report.json --max-risk 0.05 --min-utility 0.7
  synth-audit gate report.json --max-risk 0.05 --allow-no-control   # gate raw attack rates
  synth-audit gate report.json --max-risk 0.05 --max-auc 0.6 --max-tpr-at-1pct-fpr 0.02

A report made without a control set (evaluate --no-control) or with a control set that overlaps the
training data fails unless --allow-no-control / --allow-overlap says that is intended. A criterion
that could not be measured is skipped (and said so) unless --include-unmeasurable.
--max-auc and --max-tpr-at-1pct-fpr check every membership attack (its estimate; with
--conservative, its CI's upper bound); a report without membership results fails them.
"""


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1]; got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1]; got {text}")
    return value


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers, "gate", help="pass/fail a release on its report.json", description=DESCRIPTION
    )
    p.add_argument("report", metavar="REPORT.json", help="a report.json written by 'evaluate'")
    p.add_argument(
        "--max-risk",
        type=_fraction,
        metavar="X",
        help="largest acceptable Article 29 risk, in [0, 1]",
    )
    p.add_argument(
        "--max-auc",
        type=_fraction,
        metavar="X",
        help="largest acceptable membership-inference AUC of any attack, in [0, 1] (0.5 = guessing)",
    )
    p.add_argument(
        "--max-tpr-at-1pct-fpr",
        type=_fraction,
        metavar="X",
        help="largest acceptable membership true-positive rate at 1 %% false positives, in [0, 1]",
    )
    p.add_argument(
        "--conservative",
        action="store_true",
        help=(
            "compare the upper end of each risk's (and membership AUC's or TPR's) confidence "
            "interval instead of its estimate"
        ),
    )
    p.add_argument(
        "--attack",
        action="append",
        metavar="NAME",
        help=(
            "check only this attack (repeatable): an exact name such as 'inference[health]', or a "
            "family: 'singling_out', 'linkability', 'inference'"
        ),
    )
    p.add_argument(
        "--allow-no-control",
        action="store_true",
        help="do not fail a report made without a control set (its risks are raw attack rates)",
    )
    p.add_argument(
        "--allow-overlap",
        action="store_true",
        help="do not fail a report whose control set shares rows with the training data",
    )
    p.add_argument(
        "--include-unmeasurable",
        action="store_true",
        help="also check criteria that could not be measured (their CI may be [0, 1])",
    )
    p.add_argument(
        "--min-utility",
        type=_fraction,
        metavar="U",
        help="smallest acceptable utility score, in [0, 1]",
    )
    p.set_defaults(handler=handle)


def load_report(path: str | Path) -> AuditReport:
    """Read and validate a report.json; every problem is a SynthAuditError (exit 2).

    The file is checked before pandas and scipy are imported, so usage errors answer at once.
    """
    p = Path(path)
    if not p.is_file():
        what = "is a directory" if p.is_dir() else "does not exist"
        raise SynthAuditError(f"The report {str(p)!r} {what}. Give the path of a report.json.")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SynthAuditError(
            f"The report {str(p)!r} is not valid JSON ({exc}). Give a report.json written by "
            f"'synth-audit evaluate'."
        ) from None
    if not isinstance(data, dict) or "schema_version" not in data:
        what = (
            f"a JSON {type(data).__name__}" if not isinstance(data, dict) else "no 'schema_version'"
        )
        raise SynthAuditError(
            f"The report {str(p)!r} holds {what}; it is not a synth-audit report.json (an object "
            f"with 'schema_version', 'attacks', ...). Give a report.json written by 'synth-audit evaluate'."
        )
    from synth_audit.report.model import AuditReport

    try:
        return AuditReport.from_dict(data)
    except SynthAuditError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SynthAuditError(
            f"The report {str(p)!r} is not a synth-audit report.json (missing or malformed "
            f"{type(exc).__name__}: {exc})."
        ) from None


def select_attacks(
    risks: list[tuple[str, AttackResult]], wanted: list[str] | None
) -> list[tuple[str, AttackResult]]:
    """The risks named by ``--attack`` (exact names or families); all of them when not given."""
    if not wanted:
        return risks
    chosen: dict[str, AttackResult] = {}
    unknown = []
    for w in wanted:
        hits = [
            (n, r) for n, r in risks if n == w or n.startswith(w + "_") or n.startswith(w + "[")
        ]
        if not hits:
            unknown.append(w)
        chosen.update(hits)
    if unknown:
        available = format_names([n for n, _ in risks], limit=20) or "none"
        raise SynthAuditError(
            f"--attack names {format_names(unknown)}, which the report does not hold. Attacks in "
            f"the report: {available}; families: 'singling_out', 'linkability', 'inference'."
        )
    return [(n, r) for n, r in risks if n in chosen]


def _control_failures(report: AuditReport, args: argparse.Namespace) -> list[str]:
    """Failures about the control set, each with its reason and remedy."""
    out = []
    status = report.control_status()
    overlap = [w.message for w in report.warnings if w.code == "control_overlap"]
    if status == "none" and not args.allow_no_control:
        out.append(
            "control (no_control): the audit ran without a control set, so every risk is the "
            "attack's raw success rate on training records, including what the population reveals "
            "anyway (a naive guess may match it); it is not a risk that --max-risk can be applied "
            "to. Re-run 'synth-audit evaluate' with --control, or pass --allow-no-control to gate "
            "the raw rates"
        )
    if overlap and not args.allow_overlap:
        out.append(
            "control (control_overlap): "
            + " ".join(overlap)
            + " Shared rows bias every risk towards 0. Remove them from the control set and re-run "
            "'synth-audit evaluate', or pass --allow-overlap"
        )
    return out


def _membership_checks(report: AuditReport, args: argparse.Namespace, console: Any) -> list[str]:
    """Failures of ``--max-auc`` / ``--max-tpr-at-1pct-fpr`` over every membership attack; prints a
    table of what was compared."""
    from rich.table import Table
    from rich.text import Text

    from synth_audit.report.card import membership_tpr
    from synth_audit.report.wording import fmt_num, fmt_pct

    checks: list[tuple[str, float]] = []
    if args.max_auc is not None:
        checks.append(("auc", float(args.max_auc)))
    if args.max_tpr_at_1pct_fpr is not None:
        checks.append(("tpr", float(args.max_tpr_at_1pct_fpr)))
    if not checks:
        return []
    basis = "upper CI bound" if args.conservative else "estimate"
    if not report.membership:
        return [
            f"membership: the report holds no membership-inference result, so "
            f"{' and '.join('--max-auc' if k == 'auc' else '--max-tpr-at-1pct-fpr' for k, _ in checks)}"
            " cannot be shown to be met. Run a membership attack (a study with membership "
            "attacks) or drop the membership limits"
        ]
    failures: list[str] = []
    table = Table(title=f"Gate: membership ({basis})", title_justify="left")
    for col in ("attack", "quantity", "value", "CI", "compared", "limit", "result"):
        table.add_column(
            col, justify="left" if col in ("attack", "quantity", "result") else "right"
        )
    for name, m in report.membership.items():
        for kind, limit in checks:
            if kind == "auc":
                what = "AUC"
                value = m.get("auc")
                ci = list(m.get("auc_ci") or [None, None])
                show = lambda x: fmt_num(x, 3)  # noqa: E731
            else:
                what = "TPR at 1 % FPR"
                t = membership_tpr(m, 0.01) or {}
                value = t.get("tpr")
                ci = list(t.get("tpr_ci") or [None, None])
                show = fmt_pct
            compared = ci[1] if args.conservative else value
            if compared is None:
                failures.append(
                    f"membership.{name}: no {what} {basis} is stored, so the limit "
                    f"{show(limit)} cannot be shown to be met"
                )
                table.add_row(Text(name), what, show(value), "", "n/a", show(limit), "FAIL")
                continue
            ok = float(compared) <= limit
            ci_text = f"[{show(ci[0])}, {show(ci[1])}]"
            if not ok:
                failures.append(
                    f"membership.{name}: {what} {show(value)} (CI {show(ci[0])} to {show(ci[1])}); "
                    f"its {basis} {show(compared)} exceeds {show(limit)}"
                )
            table.add_row(
                Text(name),
                what,
                show(value),
                ci_text,
                show(compared),
                show(limit),
                Text("pass", style="green") if ok else Text("FAIL", style="bold red"),
            )
    console.print(table)
    return failures


def handle(args: argparse.Namespace) -> int:
    if args.max_risk is None and args.max_auc is None and args.max_tpr_at_1pct_fpr is None:
        raise SynthAuditError(
            "gate needs a limit: give --max-risk X (Article 29 risks), --max-auc X or "
            "--max-tpr-at-1pct-fpr X (membership inference), or several of them."
        )
    if args.attack and args.max_risk is None:
        raise SynthAuditError(
            "--attack selects Article 29 risks, which only --max-risk checks. Give --max-risk X "
            "with --attack, or drop --attack (membership limits check every membership attack)."
        )
    report = load_report(args.report)

    from rich.table import Table
    from rich.text import Text

    from synth_audit.report.wording import fmt_ci, fmt_pct

    console = make_console()
    failures: list[str] = _control_failures(report, args)
    raw = report.control_status() == "none"
    gate_risks = args.max_risk is not None
    selected = select_attacks(list(report.risks()), args.attack) if gate_risks else []
    include = bool(args.include_unmeasurable)
    checked = [(n, r) for n, r in selected if include or r.measurable]
    skipped = [n for n, r in selected if not (include or r.measurable)]
    limit = float(args.max_risk) if gate_risks else 1.0
    basis = "upper CI bound" if args.conservative else "estimate"

    table = Table(title=f"Gate: risk {basis} <= {fmt_pct(limit)}", title_justify="left")
    for col, just in (
        ("attack", "left"),
        ("risk", "right"),
        ("CI", "right"),
        ("compared", "right"),
        ("result", "left"),
    ):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for name, r in selected:
        ci = fmt_ci(r.risk.ci_low, r.risk.ci_high)
        if name in skipped:
            table.add_row(
                Text(name), fmt_pct(r.risk.value), ci, "", Text("not measurable, skipped")
            )
            continue
        compared = r.risk.ci_high if args.conservative else r.risk.value
        ok = compared <= limit
        if not ok:
            why = f"its {basis} {fmt_pct(compared)} exceeds {fmt_pct(limit)}"
            if raw:
                why += (
                    f" (a raw attack success rate: no control set; the naive baseline scores "
                    f"{fmt_pct(r.baseline_rate.value)})"
                )
            if not r.measurable:
                why += (
                    " (a criterion that could not be measured, checked by --include-unmeasurable)"
                )
            failures.append(
                f"{name}: risk {fmt_pct(r.risk.value)} (CI {fmt_pct(r.risk.ci_low)} to "
                f"{fmt_pct(r.risk.ci_high)}); {why}"
            )
        table.add_row(
            Text(name),
            fmt_pct(r.risk.value),
            ci,
            fmt_pct(compared),
            Text("pass", style="green") if ok else Text("FAIL", style="bold red"),
        )
    if selected:
        console.print(table)
    if skipped:
        console.print(
            Text(
                f"not measurable, skipped: {', '.join(skipped)} (their confidence interval says "
                f"nothing about the release; pass --include-unmeasurable to check them anyway)."
            ),
            soft_wrap=True,
        )
    if gate_risks and not checked:
        failures.append(
            "the report holds no attack results, so no risk can be shown to be within the limit"
            if not selected
            else "no selected criterion could be measured, so no risk can be shown to be within "
            "the limit (pass --include-unmeasurable to check them anyway)"
        )

    failures += _membership_checks(report, args, console)

    if args.min_utility is not None:
        score = report.utility_score
        if score is None:
            failures.append(
                f"utility: the report has no utility score (utility was not measured), so the "
                f"minimum {args.min_utility:.3f} cannot be shown to be met"
            )
        elif score < args.min_utility:
            failures.append(
                f"utility: score {score:.3f} is below the minimum {args.min_utility:.3f}"
            )
        else:
            console.print(Text(f"utility: score {score:.3f} >= {args.min_utility:.3f}: pass"))

    if failures:
        console.print(Text(f"FAIL: {len(failures)} check(s) failed:", style="bold red"))
        for f in failures:
            console.print(Text(f"  - {f}"), soft_wrap=True)
        return EXIT_FAIL
    notes = []
    if skipped:
        notes.append(f"{len(skipped)} not measurable, skipped")
    if raw:
        notes.append("raw attack rates: no control set, allowed by --allow-no-control")
    if report.control_status() == "overlap":
        notes.append("control overlaps train, allowed by --allow-overlap")
    console.print(
        Text(
            (
                f"PASS: {len(checked)} risk(s) within {fmt_pct(limit)} ({basis})"
                if gate_risks
                else f"PASS ({basis})"
            )
            + (
                f"; {len(report.membership)} membership attack(s) within the membership limit(s)"
                if args.max_auc is not None or args.max_tpr_at_1pct_fpr is not None
                else ""
            )
            + (f"; {'; '.join(notes)}" if notes else "")
            + ".",
            style="bold green",
        ),
        soft_wrap=True,
    )
    return EXIT_OK
