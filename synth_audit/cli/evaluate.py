"""``synth-audit evaluate``: audit one synthetic release and write the report files."""

from __future__ import annotations

import argparse
import csv
from collections.abc import Mapping
from contextlib import nullcontext
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

A control set is required: risks are measured against it. --no-control runs without one on
purpose; each risk is then the raw attack success rate (nothing subtracted), and the report says so.

The flags --secrets, --target, --aux-cols and --columns override the configuration file.

example:
  synth-audit evaluate --train train.csv --synthetic synthetic.csv --control control.csv \\
      --config audit.toml --out reports/release-1
  synth-audit evaluate --train t.csv --synthetic s.csv --control c.csv --out r \\
      --secrets income,health --target health --aux-cols "age,sex;income,zip" \\
      --columns person_id=id --columns occupation=categorical
"""

KINDS = ("numeric", "categorical", "boolean", "datetime", "id")


def _names(text: str) -> list[str]:
    """Comma-separated column names; a name with a comma in it is written in double quotes."""
    fields = next(csv.reader([text], skipinitialspace=True), [])
    names = [f.strip() for f in fields]
    if not names or any(not n for n in names):
        raise argparse.ArgumentTypeError(
            f"must be comma-separated column names, e.g. age,income; got {text!r}"
        )
    return names


def _secret_list(text: str) -> list[str] | str:
    return "all" if text.strip() == "all" else _names(text)


def _aux_cols(text: str) -> list[list[str]]:
    parts = text.split(";")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(
            f'must be two column lists separated by ";", e.g. "age,sex;income,zip"; got {text!r}'
        )
    return [_names(part) for part in parts]


def _column_kind(text: str) -> tuple[str, str]:
    name, sep, kind = text.rpartition("=")
    name, kind = name.strip(), kind.strip()
    if not sep or not name:
        raise argparse.ArgumentTypeError(
            f"must be NAME=KIND with KIND one of {', '.join(KINDS)}; got {text!r}"
        )
    if kind not in KINDS:
        raise argparse.ArgumentTypeError(
            f"the kind of column {name!r} must be one of {', '.join(KINDS)}; got {kind!r}"
        )
    return name, kind


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
    ctrl = p.add_mutually_exclusive_group()
    ctrl.add_argument(
        "--control",
        metavar="PATH",
        help="real records of the same population never used for the release (holdout); required "
        "unless --no-control",
    )
    ctrl.add_argument(
        "--no-control",
        action="store_true",
        help="audit without a control set: each risk is the raw attack success rate",
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
        "--secrets",
        type=_secret_list,
        metavar="A,B",
        help='columns the inference attack tries to infer, or "all" ([inference] secrets)',
    )
    p.add_argument(
        "--target",
        metavar="COL",
        help="column the utility's ML efficacy predicts ([utility] target)",
    )
    p.add_argument(
        "--aux-cols",
        type=_aux_cols,
        metavar='"A,B;C,D"',
        help="linkability: the two column sets the attacker holds ([linkability] aux_cols)",
    )
    p.add_argument(
        "--columns",
        type=_column_kind,
        action="append",
        metavar="NAME=KIND",
        help=f"declare a column's kind ({', '.join(KINDS)}); repeatable ([columns])",
    )
    p.add_argument(
        "--dpia",
        metavar="PROFILE.toml",
        help="also write DPIA evidence (dpia.md, dpia.json) under this DPIA profile; the card "
        "links it and the report gains a 'dpia' section",
    )
    p.add_argument(
        "--executor",
        metavar="SPEC",
        help="spread the per-record attacks over worker processes: 'local' (a process pool), "
        "'dask://local' (a Dask LocalCluster) or 'dask://HOST:PORT' (a running Dask scheduler); "
        "the numbers are identical to those of an audit in this process",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes of --executor local or dask://local (default: the CPUs)",
    )
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
    no_control: bool = False,
    secrets: list[str] | str | None = None,
    target: str | None = None,
    aux_cols: list[list[str]] | None = None,
    columns: list[tuple[str, str]] | None = None,
    dpia: str | Path | None = None,
    executor: str | None = None,
    workers: int | None = None,
) -> tuple[AuditReport, dict[str, Path]]:
    """Evaluate, write the report files, print the summary; shared by ``evaluate`` and ``demo``."""
    from synth_audit.config import AuditConfig, load_audit_config
    from synth_audit.errors import ConfigError
    from synth_audit.evaluate import evaluate_release
    from synth_audit.report.write import check_out_dir, write_report

    if control is None and not no_control:
        raise ConfigError(
            "evaluate needs --control PATH: real records from the same population that were never "
            "used to make the release, against which every risk is measured. Pass --no-control to "
            "audit without one; each risk is then the raw attack success rate (nothing subtracted)."
        )
    # Refuse a directory holding a report, or an unknown executor, before spending minutes on the
    # audit.
    check_out_dir(out, overwrite=overwrite)
    if executor is not None or workers is not None:
        from synth_audit.executors import check_workers, describe_executor

        describe_executor(executor)
        if workers is not None:
            check_workers(workers)
    profile = None
    if dpia is not None:  # a bad profile fails before the audit, not after it
        from synth_audit.dpia import load_profile

        profile, _ = load_profile(dpia)
    if isinstance(config, Mapping):
        cfg = AuditConfig.from_mapping(dict(config))
    else:
        cfg = load_audit_config(config)
    overrides: dict[str, Any] = {}
    if engine is not None:
        overrides["engine"] = engine
    if seed is not None:
        overrides["seed"] = seed
    merged = cfg.to_dict()
    if secrets is not None:
        merged["inference"] = {**merged["inference"], "secrets": secrets}
    if aux_cols is not None:
        merged["linkability"] = {**merged["linkability"], "aux_cols": aux_cols}
    if target is not None:
        merged["utility"] = {**merged["utility"], "target": target}
    if columns:
        merged["columns"] = {**merged["columns"], **dict(columns)}
    if profile is not None and profile.quasi_identifiers and merged.get("anonymity") is None:
        # The DPIA profile's quasi-identifiers give the anonymity section when [anonymity] is unset:
        # its sensitive columns are those declared sensitive or special.
        from synth_audit.dpia.profile import level_of

        qi = list(profile.quasi_identifiers)
        sens = [
            c
            for c, v in profile.columns.items()
            if level_of(v) in ("sensitive", "special") and c not in qi
        ]
        merged["anonymity"] = {"quasi_identifiers": qi, "sensitive": sens}
    if overrides or merged != cfg.to_dict():
        cfg = AuditConfig.from_mapping({**merged, **overrides}, source="The command line")

    from synth_audit.executors import make_executor

    pool = (
        make_executor(executor, max_workers=workers)
        if executor is not None or workers is not None
        else nullcontext(None)
    )
    with RichProgress(err_console, enabled=not quiet) as progress, pool as ex:
        report = evaluate_release(
            train=train,
            synthetic=synthetic,
            control=control,
            config=cfg,
            progress=progress,
            no_control=no_control,
            executor=ex,
        )
    extra = None
    if dpia is not None:
        from synth_audit.dpia import build_dpia, dpia_files, with_dpia_section

        evidence = build_dpia(report, dpia)
        report = with_dpia_section(report, evidence)
        extra = dpia_files(evidence)
    paths = write_report(report, out, overwrite=overwrite, extra_files=extra)
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
        no_control=args.no_control,
        secrets=args.secrets,
        target=args.target,
        aux_cols=args.aux_cols,
        columns=args.columns,
        dpia=args.dpia,
        executor=args.executor,
        workers=args.workers,
        console=make_console(),
        err_console=make_console(stderr=True),
    )
    return EXIT_OK
