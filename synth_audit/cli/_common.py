"""Behaviour every command shares, written once: flags, consoles, error handling, exit codes,
progress rendering and the summary table.

* ``--debug`` (before or after the command name) shows the traceback of any error.
* A :class:`~synth_audit.errors.SynthAuditError` (anything the user can fix) prints its message as
  one paragraph on stderr, without a traceback, and exits with 2, like argparse's own usage errors.
* Any other exception is a bug: one line that says so, exit 3.
* Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from synth_audit.errors import SynthAuditError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from synth_audit.report.model import AuditReport

__all__ = [
    "EXIT_FAIL",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliArgumentParser",
    "RichProgress",
    "add_command",
    "common_parent",
    "make_console",
    "print_error",
    "print_paths",
    "print_summary",
    "run_handler",
]

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130

Handler = Callable[[argparse.Namespace], int]


class CliArgumentParser(argparse.ArgumentParser):
    """argparse with prefix matching off (a typo never selects another option); usage errors exit 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def common_parent(*, top_level: bool = False) -> argparse.ArgumentParser:
    """A parent parser with the flags every command accepts.

    On the top-level parser ``--debug`` defaults to False; on subcommands it defaults to SUPPRESS,
    so ``synth-audit --debug evaluate ...`` is not undone by the subparser's default.
    """
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--debug",
        action="store_true",
        default=False if top_level else argparse.SUPPRESS,
        help="show the full traceback of any error",
    )
    return parent


def add_command(
    subparsers: Any, name: str, *, help: str, description: str | None = None
) -> argparse.ArgumentParser:
    """Add a subcommand parser with the common flags. Command modules call this in ``register``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help,
        description=description or help,
        parents=[common_parent()],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1, with the usage error argparse reports (exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {value}")
    return value


def make_console(*, stderr: bool = False) -> Console:
    """A rich console; when the stream is not a terminal, a fixed width of 120 and no colours."""
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=stderr, highlight=False, width=120)
    return console


def print_error(message: str, console: Console | None = None) -> None:
    """The message as one paragraph (no markup is interpreted: column names may contain brackets)."""
    from rich.text import Text

    console = console or make_console(stderr=True)
    text = Text("Error: ", style="bold red")
    text.append(str(message).strip())
    console.print(text, soft_wrap=True)


def run_handler(handler: Handler, args: argparse.Namespace) -> int:
    """Run a command handler with the shared error policy; return the exit code."""
    debug = bool(getattr(args, "debug", False))
    try:
        return int(handler(args))
    except SynthAuditError as exc:
        if debug:
            traceback.print_exc()
        print_error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if debug:
            traceback.print_exc()
        msg = str(exc).strip().replace("\n", " ")
        print(
            f"synth-audit hit an internal error: {type(exc).__name__}: {msg}. "
            "Re-run with --debug for the traceback and report it.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


class RichProgress:
    """A :class:`~synth_audit.progress.ProgressCallback` that draws a rich progress bar on stderr.

    Use as a context manager; ``enabled=False`` gives a silent callback (``--quiet``). When stderr is
    not a terminal (CI logs, pipes) a bar cannot be redrawn, so each step prints one plain line.
    """

    def __init__(
        self, console: Console, *, enabled: bool = True, first: str = "Loading inputs"
    ) -> None:
        self.console = console
        self.enabled = enabled
        self.first = first
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._last: str | None = None

    def __enter__(self) -> RichProgress:
        if not self.enabled or not self.console.is_terminal:
            return self
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,  # the summary table replaces the bar
        )
        self._progress.start()
        self._task = self._progress.add_task(self.first, total=None)
        return self

    def __call__(self, step: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._progress is None or self._task is None:
            # The library reports each step when it starts and when it ends; print the start.
            if done < total and step != self._last and not self.console.is_terminal:
                from rich.text import Text

                self._last = step
                self.console.print(Text(f"[{done + 1}/{total}] {step}"), soft_wrap=True)
            return
        label = f"{step} ({done + 1}/{total})" if done < total else "done"
        self._progress.update(self._task, description=label, completed=done, total=total)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None and self._task is not None:
            if exc_type is None:
                task = self._progress.tasks[0]
                self._progress.update(self._task, description="done", completed=task.total or 0)
            else:  # leave no half-drawn bar above the error message
                self._progress.update(self._task, visible=False)
            self._progress.stop()


def _pct(x: float | None) -> str:
    from synth_audit.report.wording import fmt_pct

    return fmt_pct(x)


def print_summary(report: AuditReport, console: Console) -> None:
    """Control-set banners first, then the risks as a table (attack, risk [CI], attack/baseline/
    control rates, n), the headline over measurable criteria, utility readings and warnings."""
    from rich.table import Table
    from rich.text import Text

    from synth_audit.report.card import (
        UTILITY_RANKING_NOTE,
        all_report_warnings,
        control_banners,
        utility_breakdown,
    )
    from synth_audit.report.wording import fmt_num, fmt_risk

    for code, title, text in control_banners(report):
        banner = Text(f"WARNING ({code}): {title.upper()}. ", style="bold red")
        banner.append(text)
        console.print(banner, soft_wrap=True)
    conf = float(report.config.get("confidence_level", 0.95))
    table = Table(title="Privacy risks", title_justify="left", header_style="bold")
    table.add_column("attack")
    table.add_column(f"risk [{conf:.0%} CI]", justify="right")
    table.add_column("attack", justify="right")
    table.add_column("baseline", justify="right")
    table.add_column("control", justify="right")
    table.add_column("n", justify="right")
    for name, r in report.risks():
        risk = Text(fmt_risk(r.risk.value, r.risk.ci_low, r.risk.ci_high, r.risk.error))
        label = Text(name)
        if not r.measurable:
            label.append(" (not measurable)", style="yellow")
        if r.warnings:
            label.append(" !", style="bold yellow")
        table.add_row(
            label,
            risk,
            _pct(r.attack_rate.value),
            _pct(r.baseline_rate.value),
            "n/a" if r.control_rate is None else _pct(r.control_rate.value),
            f"{r.n_attacks:,}",
        )
    if report.attacks or report.inference:
        console.print(table)
    else:
        console.print("No attack was run (all disabled in the configuration).")
    lines = []
    worst, top = report.max_risk(), report.max_ci_high()
    if worst is not None and top is not None:
        raw = " (raw attack rates: no control set)" if report.control_status() == "none" else ""
        lines.append(
            f"Highest risk{raw}: {_pct(worst[1].risk.value)} ({worst[0]}); highest upper CI bound: "
            f"{_pct(top[1].risk.ci_high)} ({top[0]})."
        )
    elif report.attacks or report.inference:
        lines.append("Highest risk: n/a (no criterion could be measured).")
    unmeasurable = report.unmeasurable()
    if unmeasurable:
        lines.append(
            f"Not measurable, left out of the headline and of gate: {', '.join(unmeasurable)}."
        )
    if report.dcr is not None:
        d = report.dcr
        lines.append(
            f"DCR diagnostic (not proof of privacy): {_pct(d.share_closer_to_train)} of synthetic "
            f"records closer to train than to control (expected {_pct(d.expected_share)}); "
            f"{d.exact_copies_of_train} exact copies of training records."
        )
    lines.append(
        "Utility score: "
        + ("not measured" if report.utility_score is None else f"{report.utility_score:.3f}")
        + "."
    )
    if report.utility:
        b = utility_breakdown(report.utility, top=3)
        lines += [f"  {t}" for t in b["readings"]]
        if b["worst_columns"]:
            lines.append(
                "  Columns matched least: "
                + ", ".join(f"{c} {fmt_num(v, 3)}" for c, v, _ in b["worst_columns"])
                + "."
            )
        if b["worst_pairs"]:
            lines.append(
                "  Pairs matched least: "
                + ", ".join(f"{c} {fmt_num(v, 3)}" for c, v, _ in b["worst_pairs"])
                + "."
            )
        lines.append(f"  {UTILITY_RANKING_NOTE}")
    for line in lines:
        console.print(Text(line), soft_wrap=True)
    warnings = all_report_warnings(report)
    if warnings:
        console.print(Text(f"{len(warnings)} warning(s):", style="bold yellow"))
        for w in warnings:
            console.print(Text(f"  - {w.message}"), soft_wrap=True)


def print_paths(paths: Mapping[str, Path], console: Console) -> None:
    from rich.text import Text

    console.print(Text("Written:", style="bold"))
    for path in paths.values():
        console.print(Text(f"  {path}"), soft_wrap=True)
