"""``synth-audit dpia``: DPIA evidence (exposed data subjects, anonymity, CNIL risk rating) from an audit (being built: issue 14)."""

from __future__ import annotations

import argparse
from typing import Any

from synth_audit.cli._common import EXIT_USAGE, add_command

__all__ = ["handle", "register"]


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "dpia",
        help="DPIA evidence (exposed data subjects, anonymity, CNIL risk rating) from an audit",
        description="DPIA evidence (exposed data subjects, anonymity, CNIL risk rating) from an audit",
    )
    p.add_argument("args", nargs="*")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    print("synth-audit dpia is not available in this build yet.")
    return EXIT_USAGE
