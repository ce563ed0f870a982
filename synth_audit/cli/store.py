"""``synth-audit store``: maintain a result store.

``store upgrade`` brings a store written by an older synth-audit up to date. Opening an older store
is refused with this command as the remedy; it only adds tables, columns and indexes (Alembic
migrations shipped with synth-audit), never drops stored data.

``store drop-fits`` drops cached shadow/reference fits (the fit cache,
:mod:`synth_audit.study.fits`): ``--stale`` those made with other versions of the modelling
libraries than the installed ones (or recorded before versions were), ``--all`` every one. Runs and
their results stay; a study that needs a dropped fit refits it.
"""

from __future__ import annotations

import argparse
from typing import Any

from synth_audit.cli._common import EXIT_OK, add_command, make_console
from synth_audit.cli.study import add_store_argument, store_url_from

__all__ = ["handle_drop_fits", "handle_upgrade", "register"]

UPGRADE_DESCRIPTION = """\
Upgrade the result store's schema to this synth-audit's. Nothing stored is dropped; back the store
up first if you like. A store written by a newer synth-audit is refused.

examples:
  synth-audit store upgrade --store results.sqlite
  SYNTH_AUDIT_STORE=postgresql+psycopg://user:pw@db/audit synth-audit store upgrade
"""


DROP_FITS_DESCRIPTION = """\
Drop cached fits from the store's fit cache (shadow and reference fits of studies). Runs and their
results stay; a study that needs a dropped fit refits it. --stale drops the fits whose recorded
library versions (SDV and its model libraries, synthcity, torch) differ from the installed ones,
or that were cached before versions were recorded; --all drops every fit.

examples:
  synth-audit store drop-fits --stale --store results.sqlite
  synth-audit store drop-fits --all --dry-run
"""


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "store",
        help="maintain the result store (upgrade its schema, drop cached fits)",
        description="Maintain the result store.",
    )
    sub = p.add_subparsers(dest="store_command", metavar="SUBCOMMAND", parser_class=type(p))
    up = add_command(
        sub, "upgrade", help="upgrade the store's schema", description=UPGRADE_DESCRIPTION
    )
    add_store_argument(up)
    up.set_defaults(handler=handle_upgrade)
    drop = add_command(
        sub,
        "drop-fits",
        help="drop cached shadow/reference fits (stale ones, or all)",
        description=DROP_FITS_DESCRIPTION,
    )
    add_store_argument(drop)
    which = drop.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--stale",
        action="store_true",
        help="fits made with other versions of SDV, synthcity, torch... than those installed",
    )
    which.add_argument("--all", action="store_true", help="every cached fit")
    drop.add_argument(
        "--dry-run", action="store_true", help="say what would be dropped, drop nothing"
    )
    drop.set_defaults(handler=handle_drop_fits)

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


def stale_fits(fits: list[Any], installed: dict[str, Any] | None = None) -> list[Any]:
    """The fits whose recipe's library versions differ from ``installed`` (default: this
    environment's, :func:`synth_audit.study.fits.library_versions`) or that record none."""
    from synth_audit.study.fits import library_versions

    out = []
    for f in fits:
        recorded = f.recipe.get("versions")
        if not isinstance(recorded, dict):
            out.append(f)
            continue
        module = str(f.recipe.get("estimator", "")).rpartition(".")[0]
        now = library_versions(module) if installed is None else installed
        if any(recorded.get(k) != v for k, v in now.items()):
            out.append(f)
    return out


def handle_drop_fits(args: argparse.Namespace) -> int:
    from rich.text import Text

    from synth_audit.store import mask_url, open_store
    from synth_audit.store._engine import resolve_url

    console = make_console()
    url = store_url_from(args.store)
    store = open_store(url)
    try:
        fits = store.list_fits()
        chosen = fits if args.all else stale_fits(fits)
        size = sum(int(f.bytes or 0) for f in chosen)
        shown = mask_url(resolve_url(url).url)
        what = "every" if args.all else "stale"
        if args.dry_run:
            line = (
                f"Would drop {len(chosen)} of {len(fits)} cached fit(s) ({what}; "
                f"{size / 1e6:.1f} MB) from the store {shown}. Nothing was dropped."
            )
        else:
            n = store.delete_fits([f.key for f in chosen]) if chosen else 0
            line = (
                f"Dropped {n} of {len(fits)} cached fit(s) ({what}; {size / 1e6:.1f} MB) from the "
                f"store {shown}. Studies refit them when they need them."
            )
    finally:
        store.close()
    console.print(Text(line), soft_wrap=True)
    return EXIT_OK
