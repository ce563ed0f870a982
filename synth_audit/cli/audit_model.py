"""``synth-audit audit-model``: audit a trained model (classifier or language model) for membership and attribute inference (being built: issue 10/11)."""

from __future__ import annotations

import argparse
from typing import Any

from synth_audit.cli._common import EXIT_USAGE, add_command

__all__ = ["handle", "register"]


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "audit-model",
        help="audit a trained model (classifier or language model) for membership and attribute inference",
        description="audit a trained model (classifier or language model) for membership and attribute inference",
    )
    p.add_argument("args", nargs="*")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    print("synth-audit audit-model is not available in this build yet.")
    return EXIT_USAGE
