"""``synth-audit optimise``: search privacy settings along the privacy-utility frontier (PET search).

Every trial is a stored run of the search's study (``runs list``, ``frontier`` and the app show
them while the search goes on); running the same command again resumes a killed search, reusing
the finished trials.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from synth_audit.cli._common import (
    EXIT_FAIL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    RichProgress,
    add_command,
    make_console,
    positive_int,
)

__all__ = ["handle", "register"]

DESCRIPTION = """\
Search a target's privacy settings (a DP generator's epsilon, a classifier's DP-SGD noise
multiplier, any parameter of the target) for the most utility at an accepted risk. The search file (search.toml) is a
study file with a [target] and a [search] section instead of [[generators]].

Every trial is a stored run: a killed search resumes when the same command is run again, and the
trials appear in `synth-audit runs list` and `synth-audit frontier` while the search goes on.
Candidates near the front are re-run with more seeds before one is recommended.

examples:
  synth-audit optimise samples/randhie/search.toml --trials 40
  synth-audit optimise search.toml --executor dask://local --workers 2 --json result.json
"""


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "optimise",
        help="search privacy settings along the privacy-utility frontier (PET search)",
        description=DESCRIPTION,
    )
    p.add_argument("spec", metavar="SEARCH.toml", help="the search file")
    p.add_argument(
        "--trials", type=positive_int, default=None, help="trials (default: [search] trials)"
    )
    p.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="no new batch of trials after this many seconds (default: [search] time_budget_s)",
    )
    p.add_argument(
        "--executor",
        default="local",
        metavar="EXECUTOR",
        help="local (process pool, default), inline, dask://local or dask://HOST:PORT",
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="worker processes of a local pool or dask://local (default: [search] batch)",
    )
    p.add_argument("--store", metavar="URL", default=None, help="the result store's URL")
    p.add_argument("--json", metavar="PATH", default=None, help="also write the result as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=handle)


def _fmt(x: Any) -> str:
    return "-" if x is None else f"{float(x):.3g}"


def handle(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    from synth_audit.cli.study import _sigterm_interrupts, open_cli_store, store_option
    from synth_audit.errors import ConfigError
    from synth_audit.executors import describe_executor, make_executor
    from synth_audit.pet import load_search, run_search

    console = make_console()
    err = make_console(stderr=True)
    spec = load_search(args.spec)
    if args.time_budget is not None and not args.time_budget > 0:
        raise ConfigError(
            f"--time-budget must be a positive number of seconds; got {args.time_budget}."
        )
    where = describe_executor(args.executor)
    store = open_cli_store(args.store)
    s = spec.search
    n = args.trials or s.trials
    workers = args.workers or s.batch
    console.print(
        Text(
            f"Search {spec.study.name!r}: {n} trials of {spec.target.name} over "
            f"{', '.join(s.params)} ({s.sampler_name}, seed {s.seed}, batches of {s.batch}) on "
            f"{where}; store {store.url}.",
            style="bold",
        ),
        soft_wrap=True,
    )
    try:
        with (
            _sigterm_interrupts(),
            RichProgress(err, enabled=not args.quiet, first="Preparing the search") as progress,
            make_executor(args.executor, max_workers=workers) as executor,
        ):
            outcome = run_search(
                spec,
                store=store,
                executor=executor,
                trials=args.trials,
                time_budget_s=args.time_budget,
                progress=progress,
            )
    except KeyboardInterrupt:
        counts = store.status_counts(spec.study.name)
        err.print(
            Text(
                f"Interrupted: {counts['done']} runs of the search are done. Run the same command "
                "again to resume (finished trials are reused).",
                style="bold yellow",
            ),
            soft_wrap=True,
        )
        return EXIT_INTERRUPTED
    names = [f"{o.metric}.{o.stat}" if o.stat != "value" else o.metric for o in s.objectives]
    table = Table(title="Candidates near the front (means over seeds)")
    table.add_column("trial", justify="right")
    table.add_column("setting")
    for name in names:
        table.add_column(name, justify="right")
    if s.constraint is not None:
        table.add_column(f"{s.constraint.metric}.{s.constraint.stat} <= {s.constraint.max:g}")
    table.add_column("seeds", justify="right")
    rec = outcome.recommendation or {}
    for c in outcome.candidates:
        objs = list(c["objectives"].values())
        cells = [
            str(c["trial"]),
            c["label"] + ("  ← recommended" if rec.get("trial") == c["trial"] else ""),
        ]
        cells += [f"{_fmt(o['mean'])} ({_fmt(o.get('min'))}–{_fmt(o.get('max'))})" for o in objs]
        if s.constraint is not None:
            con = c["constraint"]
            cells.append(f"{_fmt(con['mean'])} {'ok' if c['feasible'] else 'exceeded'}")
        cells.append(str(objs[0]["n"] if objs else 0))
        table.add_row(*cells)
    console.print(table)
    failed = sum(1 for t in outcome.trials if t.state == "failed")
    console.print(
        Text(
            f"{len(outcome.trials)} trial(s) ({failed} failed); {outcome.executed_runs} run(s) "
            f"executed, {outcome.reused_runs} reused from the store; {outcome.seconds:.1f} s"
            + (" (stopped by the time budget)" if outcome.stopped_by == "time" else "")
            + "."
        ),
        soft_wrap=True,
    )
    if rec.get("setting") is not None:
        console.print(Text(f"Recommended: {rec['label']}", style="bold green"))
    else:
        console.print(Text("No setting is recommended.", style="bold yellow"))
    console.print(Text(str(rec.get("why", ""))), soft_wrap=True)
    if args.json:
        from pathlib import Path

        Path(args.json).write_text(json.dumps(outcome.to_dict(), indent=2), encoding="utf-8")
    console.print(
        Text(
            f"See every trial on the frontier: synth-audit frontier {spec.study.name} --out "
            f"frontier.html{store_option(args.store)}"
        ),
        soft_wrap=True,
    )
    return EXIT_OK if failed < len(outcome.trials) else EXIT_FAIL
