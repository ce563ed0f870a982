"""``synth-audit runs list|show``: what is in the result store."""

from __future__ import annotations

import argparse
import json
from typing import Any

from synth_audit.cli._common import EXIT_OK, add_command, make_console, positive_int
from synth_audit.cli.study import _run_line, add_store_argument, open_cli_store, print_runs

__all__ = ["handle_list", "handle_show", "register"]

LIST_DESCRIPTION = """\
List the runs in the result store, oldest first, with their status, risk and utility.

examples:
  synth-audit runs list
  synth-audit runs list --study randhie-demo --status failed
"""

SHOW_DESCRIPTION = """\
Show one run: what it ran, its seed, code version and data fingerprints, its results with their
confidence intervals, and its artefacts (Parquet files with their SHA-256).

example:
  synth-audit runs show 3f2a...
"""

STATUSES = ("queued", "running", "done", "failed")


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "runs",
        help="list the runs in the store, or show one",
        description="List the runs in the result store, or show one run with its results.",
    )
    sub = p.add_subparsers(dest="runs_command", metavar="SUBCOMMAND", parser_class=type(p))
    lst = add_command(sub, "list", help="list runs", description=LIST_DESCRIPTION)
    lst.add_argument("--study", metavar="STUDY", help="only the runs of this study")
    lst.add_argument("--status", choices=STATUSES, help="only runs in this state")
    lst.add_argument("--generator", metavar="NAME", help="only runs of this generator")
    lst.add_argument("--limit", type=positive_int, default=None, metavar="N", help="at most N runs")
    add_store_argument(lst)
    lst.add_argument("--json", action="store_true", help="print the runs as JSON")
    lst.set_defaults(handler=handle_list)

    show = add_command(
        sub, "show", help="show one run and its results", description=SHOW_DESCRIPTION
    )
    show.add_argument("run_id", metavar="RUN_ID", help="the run's id (from 'runs list')")
    add_store_argument(show)
    show.add_argument("--json", action="store_true", help="print the run as JSON")
    show.set_defaults(handler=handle_show)

    def _usage(args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(handler=_usage)


def handle_list(args: argparse.Namespace) -> int:
    from rich.text import Text

    console = make_console()
    store = open_cli_store(args.store)
    if args.study is not None:
        store.get_study(args.study)  # a clear error for an unknown study
    runs = store.list_runs(
        study=args.study, status=args.status, generator=args.generator, limit=args.limit
    )
    lines = [{**_run_line(r), "study": r.study} for r in runs]
    if args.json:
        console.out(json.dumps(lines, indent=2), highlight=False)
        return EXIT_OK
    if not runs:
        console.print(Text(f"No runs match in the store {store.url}."), soft_wrap=True)
        return EXIT_OK
    print_runs(lines, console, title=f"{len(runs)} run(s) in {store.url}")
    return EXIT_OK


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.4g}"


def handle_show(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    console = make_console()
    store = open_cli_store(args.store)
    run = store.get_run(args.run_id)
    results = store.results_for(run.id)
    artefacts = store.artefacts_for(run.id)
    if args.json:
        data = {
            "run": run.to_dict(),
            "results": [r.to_dict() for r in results],
            "artefacts": [a.to_dict() for a in artefacts],
        }
        console.out(json.dumps(data, indent=2, default=str), highlight=False)
        return EXIT_OK
    info = Table.grid(padding=(0, 2))
    info.add_column(style="bold")
    info.add_column()
    fields: list[tuple[str, Any]] = [
        ("run", run.id),
        ("study", run.study),
        ("generator", run.generator),
        ("params", json.dumps(run.params, sort_keys=True)),
        ("seed", run.seed),
        ("status", run.status),
        ("code version", run.code_version),
        ("worker", run.worker_id),
        ("created", run.created_at.isoformat(timespec="seconds")),
        ("started", run.started_at and run.started_at.isoformat(timespec="seconds")),
        ("finished", run.finished_at and run.finished_at.isoformat(timespec="seconds")),
    ]
    if run.error:
        fields.append(("error", run.error))
    if run.status == "running":
        fields.append(("progress", f"{(run.progress or 0):.0%} {run.progress_message or ''}"))
    s = run.summary
    if s.get("risk") is not None:
        fields.append(
            (
                "risk",
                f"{s['risk']:.4g} [{_fmt(s.get('risk_ci_low'))}, {_fmt(s.get('risk_ci_high'))}] "
                f"({s.get('risk_attack')}, {s.get('risk_definition', 'worst')})",
            )
        )
    if s.get("utility") is not None:
        fields.append(("utility", f"{s['utility']:.4g} ({s.get('utility_metric')})"))
    for part, fp in sorted(run.data_fingerprints.items()):
        if isinstance(fp, dict):
            fields.append(
                (f"data {part}", f"{str(fp.get('sha256', ''))[:16]}  {fp.get('n_rows', '')} rows")
            )
    for k, v in fields:
        info.add_row(k, Text("" if v is None else str(v)))
    console.print(info)
    if results:
        table = Table(title="Results", title_justify="left", header_style="bold")
        for col in ("metric", "value", "CI low", "CI high", "level", "n"):
            table.add_column(col, justify="left" if col == "metric" else "right")
        for r in results:
            table.add_row(
                Text(r.metric),
                _fmt(r.value),
                _fmt(r.ci_low),
                _fmt(r.ci_high),
                _fmt(r.confidence_level),
                "" if r.n is None else str(r.n),
            )
        console.print(table)
    if artefacts:
        table = Table(title="Artefacts", title_justify="left", header_style="bold")
        for col in ("kind", "rows", "bytes", "sha256", "path"):
            table.add_column(col, justify="right" if col in ("rows", "bytes") else "left")
        for a in artefacts:
            table.add_row(
                a.kind,
                "" if a.n_rows is None else str(a.n_rows),
                str(a.bytes),
                a.sha256[:16],
                Text(str(store.artefact_root / a.path)),
            )
        console.print(table)
    return EXIT_OK
