"""The ``synth-audit`` command line.

Every subcommand lives in its own module of this package, listed in :data:`COMMAND_MODULES`. A
command module provides ``register(subparsers)``, which adds its parser (through
:func:`synth_audit.cli._common.add_command`, so it gets the common flags) and sets the parser's
``handler`` default to a function ``handler(args) -> int``. To add a command (``study``, ``runs``,
``frontier``, ``app``, ``worker``, ...), write the module and append its name here; nothing else
changes. Command modules import heavy libraries inside their handlers, so ``--help`` stays fast.

Exit codes (the same for every command, implemented once in :mod:`synth_audit.cli._common`):
0 success; 1 a check failed (``gate``); 2 a usage or input error, shown as one message without a
traceback; 3 an internal error (a bug: re-run with ``--debug`` for the traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from synth_audit.cli._common import (
    EXIT_USAGE,
    CliArgumentParser,
    common_parent,
    run_handler,
)

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

COMMAND_MODULES: list[str] = [
    "evaluate",
    "gate",
    "demo",
    "study",
    "runs",
    "frontier",
    "worker",
    "app",
    "store",
    "audit_model",
    "optimise",
    "dpia",
]


def build_parser() -> argparse.ArgumentParser:
    from synth_audit import __version__

    parser = CliArgumentParser(
        prog="synth-audit",
        description=(
            "Privacy risk evaluation for synthetic data: singling out, linkability, inference and "
            "membership inference, each against a baseline and a control attack, with confidence "
            "intervals and utility metrics."
        ),
        parents=[common_parent(top_level=True)],
    )
    parser.add_argument("--version", action="version", version=f"synth-audit {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=CliArgumentParser
    )
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"synth_audit.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and argparse usage errors (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    return run_handler(handler, args)
