"""``synth-audit optimise``: search privacy settings along the privacy-utility frontier (PET search) (being built: issue 15)."""

from __future__ import annotations

import argparse
from typing import Any

from synth_audit.cli._common import EXIT_USAGE, add_command

__all__ = ["handle", "register"]


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "optimise",
        help="search privacy settings along the privacy-utility frontier (PET search)",
        description="search privacy settings along the privacy-utility frontier (PET search)",
    )
    p.add_argument("args", nargs="*")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    print("synth-audit optimise is not available in this build yet.")
    return EXIT_USAGE
