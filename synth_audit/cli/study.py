"""``synth-audit study run|status``: run a study into the result store, and see where it stands.

``study run`` exits 0 when every run of the study is done, 1 when some runs failed (their errors are
listed; re-running the command retries them), 2 on a usage error and 130 when interrupted (Ctrl-C or
SIGTERM: the runs in flight are stopped; re-running the command resumes where it stopped).
"""

from __future__ import annotations

import argparse
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from synth_audit.cli._common import (
    EXIT_FAIL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    RichProgress,
    add_command,
    make_console,
    positive_int,
)

if TYPE_CHECKING:
    from rich.console import Console

    from synth_audit.store import RunRecord, Store

__all__ = ["add_store_argument", "handle_run", "handle_status", "open_cli_store", "register"]

STORE_HELP = (
    "result store: an SQLite file or URL (sqlite:///path, postgresql+psycopg://user@host/db); "
    "default: $SYNTH_AUDIT_STORE, else $SYNTH_AUDIT_HOME/synth_audit.sqlite or "
    "./.synth_audit/synth_audit.sqlite. A URL with a password belongs in $SYNTH_AUDIT_STORE, not "
    "here: other users of the machine see command lines (ps)"
)

#: Shortest run id shown (the app shows 8 characters too); any unique prefix is accepted as an id.
SHORT_ID = 8

RUN_DESCRIPTION = """\
Run every run of a study (generators x parameter grids x seeds) and record it in the store.

Runs already done are skipped; failed runs and runs whose worker died are run again, so a study
that was interrupted resumes where it stopped when the same command is run again.

examples:
  synth-audit study run samples/randhie/study.toml
  synth-audit study run study.toml --executor dask://local --workers 4
  SYNTH_AUDIT_STORE=postgresql+psycopg://u:pw@db/audit synth-audit study run study.toml --executor dask://scheduler:8786

The store is --store, else $SYNTH_AUDIT_STORE: give a URL that holds a password in the environment
variable, since a command line is visible to every user of the machine (ps).
"""

STATUS_DESCRIPTION = """\
Show how many runs of a study are queued, running, done and failed, and each run's state.

example:
  synth-audit study status randhie-demo
"""


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="URL", default=None, help=STORE_HELP)


def store_url_from(url: str | None) -> str | None:
    """``--store`` if given, else ``$SYNTH_AUDIT_STORE``, else None (the workspace's SQLite file)."""
    from synth_audit.store import STORE_ENV

    return url or os.environ.get(STORE_ENV) or None


def _has_password(url: str) -> bool:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if "://" not in url:
        return False
    try:
        return make_url(url).password is not None
    except ArgumentError:
        return "@" in url


def open_cli_store(url: str | None) -> Store:
    """The store of ``--store URL`` (``url``), else of ``$SYNTH_AUDIT_STORE``, else the default.

    A password given on the command line is visible to other users (``ps``): say so, on stderr.
    """
    from rich.text import Text

    from synth_audit.store import STORE_ENV, open_store

    if url and _has_password(url):
        make_console(stderr=True).print(
            Text(
                "Note: the --store URL holds a password, which other users of this machine can "
                f"see in the process list; set ${STORE_ENV} to the URL instead and leave --store "
                "out.",
                style="yellow",
            ),
            soft_wrap=True,
        )
    return open_store(store_url_from(url))


def store_option(url: str | None) -> str:
    """`` --store URL`` for a hint the user may copy, never with a password in it."""
    from synth_audit.store import STORE_ENV, mask_url

    if not url:
        return ""
    if _has_password(url):
        return f" (with ${STORE_ENV} set to the store URL {mask_url(url)})"
    return f" --store {url}"


def short_ids(ids: list[str]) -> dict[str, str]:
    """Each id cut to the shortest prefix of at least :data:`SHORT_ID` characters that tells it apart
    from the others listed (never with an ellipsis: what is shown can be typed back)."""
    n = SHORT_ID
    while n < max((len(i) for i in ids), default=0) and len({i[:n] for i in ids}) < len(set(ids)):
        n += 2
    return {i: i[:n] for i in ids}


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "study",
        help="run a study of generators and see its status",
        description="Run a study (study.toml) into the result store, or show its status.",
    )
    sub = p.add_subparsers(dest="study_command", metavar="SUBCOMMAND", parser_class=type(p))

    run = add_command(sub, "run", help="run (or resume) a study", description=RUN_DESCRIPTION)
    run.add_argument("spec", metavar="STUDY.toml", help="the study specification")
    run.add_argument(
        "--executor",
        default="local",
        metavar="EXECUTOR",
        help="local (process pool, default), dask://local (a local Dask cluster) or "
        "dask://HOST:PORT (a Dask scheduler)",
    )
    run.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="worker processes of a local pool or dask://local (default: the CPUs available)",
    )
    add_store_argument(run)
    run.add_argument(
        "--no-retry-failed",
        dest="retry_failed",
        action="store_false",
        help="leave runs that failed before as they are",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(handler=handle_run)

    status = add_command(
        sub, "status", help="runs queued / running / done / failed", description=STATUS_DESCRIPTION
    )
    status.add_argument("study", metavar="STUDY", help="the study's name (its 'name' key)")
    add_store_argument(status)
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(handler=handle_status)

    def _usage(args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(handler=_usage)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while the study runs (stop the workers, exit 130)."""

    def raise_interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, raise_interrupt)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items())) or "-"


def handle_run(args: argparse.Namespace) -> int:
    from rich.text import Text

    from synth_audit.executors import describe_executor, make_executor
    from synth_audit.study import expand, load_study, run_study

    console = make_console()
    err = make_console(stderr=True)
    spec = load_study(args.spec)
    where = describe_executor(
        args.executor
    )  # refuses an unknown executor before anything is written
    store = open_cli_store(args.store)
    n_runs = len(expand(spec))
    console.print(
        Text(
            f"Study {spec.name!r}: {n_runs} runs ({len(spec.generators)} generator entries x grids "
            f"x {spec.seeds} seed(s)) on {where}; store {store.url}.",
            style="bold",
        ),
        soft_wrap=True,
    )
    try:
        with (
            _sigterm_interrupts(),
            RichProgress(err, enabled=not args.quiet, first="Preparing the study") as progress,
            make_executor(args.executor, max_workers=args.workers) as executor,
        ):
            outcome = run_study(
                spec,
                store=store,
                executor=executor,
                progress=progress,
                retry_failed=args.retry_failed,
            )
    except KeyboardInterrupt:
        counts = store.status_counts(spec.name)
        err.print(
            Text(
                f"Interrupted: {counts['done']} of {n_runs} runs are done. Run the same command "
                "again to resume.",
                style="bold yellow",
            ),
            soft_wrap=True,
        )
        return EXIT_INTERRUPTED
    counts = store.status_counts(spec.name)
    console.print(
        Text(
            f"{len(outcome.done)} run(s) done now, {len(outcome.failed)} failed"
            + (f", {outcome.already_done} already done, reused" if outcome.already_done else "")
            + f" ({outcome.seconds:.1f} s). Store: "
            + ", ".join(f"{k} {v}" for k, v in counts.items())
            + "."
        ),
        soft_wrap=True,
    )
    if outcome.already_done:
        reused = [r for r in store.list_runs(study=spec.name) if r.id in set(outcome.reused)]
        shown = short_ids([r.id for r in reused])
        labels = [f"{shown[r.id]} {r.generator}({_params_text(r.params)})" for r in reused]
        more = f" and {len(labels) - 10} more" if len(labels) > 10 else ""
        console.print(
            Text(
                f"Already done, reused (not run again): {'; '.join(labels[:10])}{more}. "
                "`synth-audit runs requeue RUN_ID --force` runs one again."
            ),
            soft_wrap=True,
        )
    if outcome.failed:
        console.print(Text("Failed runs:", style="bold red"))
        for run_id, error in outcome.failed.items():
            run = store.get_run(run_id)
            console.print(
                Text(f"  {run_id} {run.generator}({_params_text(run.params)}): {error}"),
                soft_wrap=True,
            )
    if outcome.broken:
        console.print(
            Text(
                f"The executor failed ({outcome.broken}); the runs it did not start are still "
                "queued. Run the same command again to resume.",
                style="bold red",
            ),
            soft_wrap=True,
        )
    store_opt = store_option(args.store)
    console.print(
        Text(
            f"See the frontier: synth-audit frontier {spec.name} --out frontier.html{store_opt}",
        ),
        soft_wrap=True,
    )
    return EXIT_OK if outcome.complete else EXIT_FAIL


def status_dict(store: Store, study: str) -> dict[str, Any]:
    record = store.get_study(study)
    runs = store.list_runs(study=study)
    return {
        "study": record.name,
        "created_at": record.created_at.isoformat(),
        "counts": store.status_counts(study),
        "runs": [_run_line(r) for r in runs],
    }


def _seed_label(r: RunRecord) -> str:
    """``#3`` (the seed number) for a finished study run; the raw seed until it is known."""
    index = r.summary.get("seed_index")
    return f"#{int(index)}" if index is not None else str(r.seed)


def _run_line(r: RunRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "generator": r.generator,
        "params": r.params,
        "seed": r.seed,
        "seed_label": _seed_label(r),
        "status": r.status,
        "progress": r.progress,
        "message": r.progress_message,
        "worker": r.worker_id,
        "heartbeat_at": None if r.heartbeat_at is None else r.heartbeat_at.isoformat(),
        "error": r.error,
        "risk": r.summary.get("risk"),
        "utility": r.summary.get("utility"),
    }


def _fmt(x: Any) -> str:
    return "n/a" if x is None else f"{float(x):.3f}"


def _cut(text: str) -> Any:
    from rich.text import Text

    return Text(text, no_wrap=True, overflow="ellipsis")


def print_runs(runs: list[dict[str, Any]], console: Console, *, title: str | None = None) -> None:
    from rich.table import Table
    from rich.text import Text

    from synth_audit.report.wording import fmt_pct

    shown = short_ids([r["id"] for r in runs])
    width = max((len(x) for x in shown.values()), default=SHORT_ID)
    table = Table(title=title, title_justify="left", header_style="bold")
    # One line per run: the id column is never cut (what it shows can be typed back, see
    # Store.resolve_run_id); long params and notes end in an ellipsis instead of wrapping.
    table.add_column("run", no_wrap=True, min_width=width)
    for col in ("generator", "params", "seed", "status", "risk", "utility", "note"):
        flexible = col in ("generator", "params", "note")  # these give up width, cut with "…"
        table.add_column(
            col,
            justify="right" if col in ("seed", "risk", "utility") else "left",
            no_wrap=not flexible,
            max_width=48 if flexible else None,
        )
    for r in runs:
        note = r.get("error") or ""
        if r["status"] == "running":
            prog = r.get("progress")
            note = f"{0 if prog is None else prog:.0%} {r.get('message') or ''} ({r.get('worker')})"
        table.add_row(
            Text(shown[r["id"]]),
            _cut(r["generator"]),
            _cut(_params_text(r["params"])),
            r["seed_label"],
            r["status"],
            fmt_pct(r.get("risk")),
            _fmt(r.get("utility")),
            _cut(" ".join(str(note).split())[:200]),
        )
    console.print(table)


def handle_status(args: argparse.Namespace) -> int:
    import json

    from rich.text import Text

    console = make_console()
    store = open_cli_store(args.store)
    status = status_dict(store, args.study)
    if args.json:
        console.out(json.dumps(status, indent=2), highlight=False)
        return EXIT_OK
    counts = status["counts"]
    total = sum(counts.values())
    console.print(
        Text(
            f"Study {args.study!r}: {total} runs: "
            + ", ".join(f"{counts[k]} {k}" for k in ("queued", "running", "done", "failed")),
            style="bold",
        ),
        soft_wrap=True,
    )
    print_runs(status["runs"], console)
    if counts["failed"]:
        console.print(
            Text("Re-run `synth-audit study run STUDY.toml` to retry the failed runs."),
            soft_wrap=True,
        )
    return EXIT_OK
