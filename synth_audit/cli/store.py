"""``synth-audit store upgrade``: bring a result store written by an older synth-audit up to date.

Opening an older store is refused with this command as the remedy; it only adds tables, columns and
indexes (Alembic migrations shipped with synth-audit), never drops stored data.
"""

from __future__ import annotations

import argparse
from typing import Any

from synth_audit.cli._common import EXIT_OK, add_command, make_console
from synth_audit.cli.study import add_store_argument, store_url_from

__all__ = ["handle_upgrade", "register"]

UPGRADE_DESCRIPTION = """\
Upgrade the result store's schema to this synth-audit's. Nothing stored is dropped; back the store
up first if you like. A store written by a newer synth-audit is refused.

examples:
  synth-audit store upgrade --store results.sqlite
  SYNTH_AUDIT_STORE=postgresql+psycopg://user:pw@db/audit synth-audit store upgrade
"""


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "store",
        help="maintain the result store (upgrade its schema)",
        description="Maintain the result store.",
    )
    sub = p.add_subparsers(dest="store_command", metavar="SUBCOMMAND", parser_class=type(p))
    up = add_command(
        sub, "upgrade", help="upgrade the store's schema", description=UPGRADE_DESCRIPTION
    )
    add_store_argument(up)
    up.set_defaults(handler=handle_upgrade)

    def _usage(args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(handler=_usage)


def handle_upgrade(args: argparse.Namespace) -> int:
    from rich.text import Text

    from synth_audit.store import mask_url, upgrade_store
    from synth_audit.store._engine import resolve_url

    console = make_console()
    url = store_url_from(args.store)
    before, after = upgrade_store(url)
    shown = mask_url(resolve_url(url).url)
    if before == after:
        line = f"The store {shown} is at schema revision {after!r} already; nothing to do."
    else:
        line = f"Upgraded the store {shown} from schema revision {before!r} to {after!r}."
    console.print(Text(line), soft_wrap=True)
    return EXIT_OK
