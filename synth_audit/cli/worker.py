"""``synth-audit worker``: execute queued runs from the store, one after another.

A worker claims the oldest queued run (race-free: any number of workers, on any machines that share
the store and see the data files, can run at once), executes it in this process and records the
result, then claims the next. Runs are queued by ``synth-audit study run`` or by the app
(``Store.add_run``). SIGTERM or Ctrl-C stops the worker after marking its current run failed
(``study run`` re-queues it); with ``--once`` it stops when the queue is empty.
"""

from __future__ import annotations

import argparse
import signal
import time
from typing import Any

from synth_audit.cli._common import EXIT_INTERRUPTED, EXIT_OK, add_command, make_console
from synth_audit.cli.study import add_store_argument, open_cli_store

__all__ = ["handle", "register", "work"]

DESCRIPTION = """\
Execute queued runs from the result store until stopped (or, with --once, until none is queued).

examples:
  synth-audit worker --store postgresql+psycopg://user:pw@db/audit
  synth-audit worker --once --study randhie-demo
"""


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0; got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0; got {text}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {value}")
    return value


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers, "worker", help="execute queued runs from the store", description=DESCRIPTION
    )
    add_store_argument(p)
    p.add_argument("--study", metavar="STUDY", help="only runs of this study")
    p.add_argument("--once", action="store_true", help="stop when no run is queued")
    p.add_argument(
        "--poll",
        type=_positive,
        default=2.0,
        metavar="S",
        help="seconds between looks at an empty queue (default 2)",
    )
    p.add_argument("--max-runs", type=_count, default=None, metavar="N", help="stop after N runs")
    p.add_argument(
        "--heartbeat-timeout",
        type=_positive,
        default=120.0,
        metavar="S",
        help="a running run without a heartbeat for S seconds is marked failed when claiming (default 120)",
    )
    p.set_defaults(handler=handle)


def work(
    store: Any,
    *,
    study: str | None = None,
    once: bool = False,
    poll_s: float = 2.0,
    max_runs: int | None = None,
    heartbeat_timeout_s: float = 120.0,
    on_result: Any = None,
) -> int:
    """Claim and execute runs until stopped; returns how many runs were executed."""
    from synth_audit.executors import limit_threads
    from synth_audit.study.runner import execute_claimed_run, worker_id

    limit_threads(1)
    me = worker_id()
    n = 0
    while max_runs is None or n < max_runs:
        run = store.claim_run(me, study=study, heartbeat_timeout_s=heartbeat_timeout_s)
        if run is None:
            if once:
                break
            time.sleep(poll_s)
            continue
        result = execute_claimed_run(store, run)
        n += 1
        if on_result is not None:
            on_result(run, result)
    return n


def handle(args: argparse.Namespace) -> int:
    from rich.text import Text

    from synth_audit.study.runner import worker_id

    console = make_console()
    store = open_cli_store(args.store)

    def raise_interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    console.print(
        Text(
            f"Worker {worker_id()} on {store.url}"
            + (f", study {args.study!r}" if args.study else "")
            + (
                ": runs until the queue is empty."
                if args.once
                else ": waiting for runs (Ctrl-C stops)."
            ),
            style="bold",
        ),
        soft_wrap=True,
    )

    def report(run: Any, result: dict[str, Any]) -> None:
        line = f"{run.id} {run.generator} seed {run.seed}: {result['status']} in {result.get('seconds', 0):.1f} s"
        if result.get("error"):
            line += f" ({result['error']})"
        console.print(Text(line), soft_wrap=True)

    try:
        n = work(
            store,
            study=args.study,
            once=args.once,
            poll_s=args.poll,
            max_runs=args.max_runs,
            heartbeat_timeout_s=args.heartbeat_timeout,
            on_result=report,
        )
    except KeyboardInterrupt:
        console.print(Text("Worker stopped.", style="bold yellow"))
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    console.print(Text(f"Worker done: {n} run(s) executed."), soft_wrap=True)
    return EXIT_OK
