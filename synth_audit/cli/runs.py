"""``synth-audit runs list|show|export|requeue``: what is in the result store.

Every command that takes a run id takes any unique prefix of it too (``runs list`` and the app show
the first 8 characters), resolved by :meth:`synth_audit.store.Store.resolve_run_id`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from synth_audit.cli._common import EXIT_OK, add_command, make_console, positive_int
from synth_audit.cli.study import (
    _run_line,
    add_store_argument,
    open_cli_store,
    print_runs,
    store_option,
)
from synth_audit.errors import SynthAuditError

__all__ = ["handle_export", "handle_list", "handle_requeue", "handle_show", "register"]

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
  synth-audit runs show 3f2a9c01      # the first characters of the id are enough
"""

EXPORT_DESCRIPTION = """\
Write a stored run's report files into a directory: report.json, report.html, audit_card.md,
per_record.csv and exposed_records.csv (as `synth-audit evaluate --out` writes them). A directory
that already holds report files is refused unless --overwrite.

example:
  synth-audit runs export 3f2a9c01 --out reports/copy-seed0
"""

REQUEUE_DESCRIPTION = """\
Put a run back in the queue, to be run again by `synth-audit study run STUDY.toml` (a study's run)
or by `synth-audit worker` (runs queued by the app). A failed run is re-queued as it is. A done run
is re-queued only with --force, which deletes its results and artefacts first: the remedy when an
artefact is corrupted or missing. The run keeps its key and seed, so it gives the same numbers.

example:
  synth-audit runs requeue 3f2a9c01 --force
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

    export = add_command(
        sub, "export", help="write a run's report files", description=EXPORT_DESCRIPTION
    )
    export.add_argument("run_id", metavar="RUN_ID", help="the run's id or its first characters")
    export.add_argument("--out", required=True, metavar="DIR", help="directory to write into")
    export.add_argument(
        "--overwrite", action="store_true", help="replace report files already in DIR"
    )
    add_store_argument(export)
    export.set_defaults(handler=handle_export)

    requeue = add_command(
        sub,
        "requeue",
        help="queue a failed (or, with --force, done) run again",
        description=REQUEUE_DESCRIPTION,
    )
    requeue.add_argument("run_id", metavar="RUN_ID", help="the run's id or its first characters")
    requeue.add_argument(
        "--force",
        action="store_true",
        help="also re-queue a done run, deleting its results and artefacts",
    )
    add_store_argument(requeue)
    requeue.set_defaults(handler=handle_requeue)

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
    from synth_audit.report.wording import fmt_num

    return fmt_num(None if x is None else float(x), 4)  # "n/a" when missing, never "None"


def handle_show(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    console = make_console()
    store = open_cli_store(args.store)
    run = store.get_run(store.resolve_run_id(args.run_id))
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
        ("target kind", run.target_kind),
        ("generator", run.generator),
        ("params", json.dumps(run.params, sort_keys=True)),
        (
            "seed",
            f"{run.seed}"
            + (
                f" (seed #{run.summary['seed_index']})"
                if run.summary.get("seed_index") is not None
                else ""
            ),
        ),
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
    from synth_audit.report.wording import fmt_risk

    s = run.summary
    if s.get("risk") is not None:
        fields.append(
            (
                "risk",
                f"{fmt_risk(s['risk'], s.get('risk_ci_low'), s.get('risk_ci_high'))} "
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


def handle_export(args: argparse.Namespace) -> int:
    from synth_audit.cli._common import print_paths
    from synth_audit.report.write import write_report
    from synth_audit.service import report_for_run

    console = make_console()
    store = open_cli_store(args.store)
    run = store.get_run(store.resolve_run_id(args.run_id))
    report = report_for_run(store, run.id)
    if report is None:
        state = f"it is {run.status}" + (f" ({run.error})" if run.error else "")
        raise SynthAuditError(
            f"Run {run.id} has no stored report to export: {state}. Only done runs have one; see "
            f"`synth-audit runs show {run.id[:8]}{store_option(args.store)}`."
        )
    paths = write_report(report, args.out, overwrite=args.overwrite)
    print_paths(paths, console)
    return EXIT_OK


def handle_requeue(args: argparse.Namespace) -> int:
    from rich.text import Text

    console = make_console()
    store = open_cli_store(args.store)
    run = store.get_run(store.resolve_run_id(args.run_id))
    store.requeue_run(run.id, force=args.force)
    where = (
        f"`synth-audit study run STUDY.toml{store_option(args.store)}` (study {run.study!r})"
        if run.study and not run.params.get("kind")
        else f"`synth-audit worker --once{store_option(args.store)}`"
    )
    console.print(
        Text(
            f"Run {run.id} ({run.generator}, seed {run.seed}) is queued"
            + (
                " again; its previous results and artefacts were deleted"
                if run.status == "done"
                else ""
            )
            + f". Run it with {where}, or let a running worker take it."
        ),
        soft_wrap=True,
    )
    return EXIT_OK
