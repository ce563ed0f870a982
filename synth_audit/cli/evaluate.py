"""``synth-audit evaluate``: audit one synthetic release and write the report files."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synth_audit.cli._common import (
    EXIT_OK,
    RichProgress,
    add_command,
    make_console,
    print_paths,
    print_summary,
)

if TYPE_CHECKING:
    from rich.console import Console

    from synth_audit.report.model import AuditReport

__all__ = ["handle", "register", "run_evaluation"]

DESCRIPTION = """\
Audit a synthetic release against the real data it was made from.

Runs singling out (univariate and multivariate), linkability and inference attacks, each against
a naive baseline and against the control set (real records never used), computes the DCR
diagnostic and the utility metrics, and writes report.json, report.html, audit_card.md,
per_record.csv and exposed_records.csv into --out.

example:
  synth-audit evaluate --train train.csv --synthetic synthetic.csv --control control.csv \\
      --config audit.toml --out reports/release-1
"""


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0; got {value}")
    return value


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "evaluate",
        help="audit a synthetic release and write the report",
        description=DESCRIPTION,
    )
    p.add_argument(
        "--train",
        required=True,
        metavar="PATH",
        help="real records used to make the release (CSV or Parquet)",
    )
    p.add_argument(
        "--synthetic", required=True, metavar="PATH", help="the synthetic release (CSV or Parquet)"
    )
    p.add_argument(
        "--control", metavar="PATH", help="real records never used (holdout); strongly recommended"
    )
    p.add_argument(
        "--config", metavar="TOML", help="audit configuration (audit.toml); defaults otherwise"
    )
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the report files")
    p.add_argument("--overwrite", action="store_true", help="replace a report already in --out")
    p.add_argument(
        "--engine", choices=("native", "anonymeter"), help="attack engine (overrides the config)"
    )
    p.add_argument("--seed", type=_seed, metavar="N", help="random seed (overrides the config)")
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar and no summary; print only the files written",
    )
    p.set_defaults(handler=handle)


def run_evaluation(
    *,
    train: str | Path,
    synthetic: str | Path,
    control: str | Path | None,
    config: str | Path | Mapping[str, Any] | None,
    out: str | Path,
    overwrite: bool,
    console: Console,
    err_console: Console,
    engine: str | None = None,
    seed: int | None = None,
    quiet: bool = False,
) -> tuple[AuditReport, dict[str, Path]]:
    """Evaluate, write the report files, print the summary; shared by ``evaluate`` and ``demo``."""
    from synth_audit.config import AuditConfig, load_audit_config
    from synth_audit.evaluate import evaluate_release
    from synth_audit.report.write import check_out_dir, write_report

    # Refuse a directory holding a report before spending minutes on the audit.
    check_out_dir(out, overwrite=overwrite)
    if isinstance(config, Mapping):
        cfg = AuditConfig.from_mapping(dict(config))
    else:
        cfg = load_audit_config(config)
    overrides: dict[str, Any] = {}
    if engine is not None:
        overrides["engine"] = engine
    if seed is not None:
        overrides["seed"] = seed
    if overrides:
        cfg = AuditConfig.from_mapping({**cfg.to_dict(), **overrides}, source="The command line")

    with RichProgress(err_console, enabled=not quiet) as progress:
        report = evaluate_release(
            train=train, synthetic=synthetic, control=control, config=cfg, progress=progress
        )
    paths = write_report(report, out, overwrite=overwrite)
    if not quiet:
        print_summary(report, console)
        print_paths(paths, console)
    else:
        for path in paths.values():
            console.out(str(path), highlight=False)
    return report, paths


def handle(args: argparse.Namespace) -> int:
    run_evaluation(
        train=args.train,
        synthetic=args.synthetic,
        control=args.control,
        config=args.config,
        out=args.out,
        overwrite=args.overwrite,
        engine=args.engine,
        seed=args.seed,
        quiet=args.quiet,
        console=make_console(),
        err_console=make_console(stderr=True),
    )
    return EXIT_OK
