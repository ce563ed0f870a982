"""``synth-audit frontier STUDY --out frontier.html``: the privacy-utility frontier of a study."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from synth_audit.cli._common import EXIT_OK, add_command, make_console
from synth_audit.cli.study import add_store_argument, open_cli_store

__all__ = ["handle", "register"]

DESCRIPTION = """\
Compute the privacy-utility frontier of a study's done runs: each run's privacy risk (lower is
better) and utility (higher is better), the Pareto front (runs no other run beats on both), and the
conservative front (the same with each risk at the upper end of its confidence interval).

Writes --out (a self-contained HTML page with the chart and a table), the frontier as JSON beside it
(<name>.json) and the chart's Vega-Lite spec (<name>.vl.json). An --out ending in .json writes only
the JSON.

examples:
  synth-audit frontier randhie-demo --out reports/frontier.html
  synth-audit frontier randhie-demo --out f.html --risk membership.dcr.tpr_at_0.01_fpr
"""


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "frontier",
        help="the privacy-utility frontier of a study",
        description=DESCRIPTION,
    )
    p.add_argument("study", metavar="STUDY", help="the study's name")
    p.add_argument(
        "--out", required=True, type=Path, metavar="PATH", help="HTML (or .json) file to write"
    )
    p.add_argument(
        "--risk",
        default=None,
        metavar="RISK",
        help="'worst' (the largest result whose role is 'risk': Article 29 risks, membership "
        "auc_advantage, plugins' risks) or a result name such as "
        "membership.dcr.tpr_at_0.01_fpr (default: the study's [frontier] risk)",
    )
    p.add_argument(
        "--utility",
        default=None,
        metavar="METRIC",
        help="utility result (default: the study's [frontier] utility, utility.score)",
    )
    p.add_argument(
        "--conservative",
        action="store_true",
        help="list the conservative front (risk at its CI's upper bound) instead of the front",
    )
    p.add_argument(
        "--include-unmeasurable",
        action="store_true",
        help="count criteria that could not be measured in each run's worst risk (default: left "
        "out, as in reports and gate)",
    )
    add_store_argument(p)
    p.add_argument("--json", action="store_true", help="also print the frontier as JSON on stdout")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    from synth_audit.frontier import frontier_for_study, write_frontier
    from synth_audit.report.wording import fmt_ci, fmt_pct

    console = make_console()
    store = open_cli_store(args.store)
    frontier = frontier_for_study(
        store,
        args.study,
        risk=args.risk,
        utility=args.utility,
        conservative=args.conservative,
        include_unmeasurable=args.include_unmeasurable,
    )
    paths = write_frontier(frontier, args.out)
    if args.json:
        console.out(json.dumps(frontier.to_dict(), indent=2), highlight=False)
        return EXIT_OK
    which = "conservative front" if args.conservative else "front"
    front = frontier.front()
    console.print(
        Text(
            f"Study {args.study!r}: {len(frontier.points)} done run(s), {len(front)} on the {which} "
            f"(risk: {frontier.risk}; utility: {frontier.utility}).",
            style="bold",
        ),
        soft_wrap=True,
    )
    if front:
        table = Table(title=f"The {which}", title_justify="left", header_style="bold")
        for col in ("run", "risk", "risk CI", "risk from", "utility", "run id"):
            table.add_column(col, justify="right" if col in ("risk", "utility") else "left")
        for p in front:
            table.add_row(
                Text(p.run_label),
                fmt_pct(p.risk),
                fmt_ci(p.risk_ci_low, p.risk_ci_high),
                Text(p.risk_attack),
                f"{p.utility:.3f}",
                Text(p.run_id),
            )
        console.print(table)
    if frontier.excluded:
        console.print(
            Text(
                f"{len(frontier.excluded)} done run(s) left out: "
                + "; ".join(
                    f"{rid[:8]}: {why}" for rid, why in sorted(frontier.excluded.items())[:5]
                )
                + ("; ..." if len(frontier.excluded) > 5 else "")
                + "."
            ),
            soft_wrap=True,
        )
    console.print(Text("Written:", style="bold"))
    for path in paths.values():
        console.print(Text(f"  {path}"), soft_wrap=True)
    return EXIT_OK
