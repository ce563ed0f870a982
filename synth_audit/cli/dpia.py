"""``synth-audit dpia REPORT.json --profile dpia.toml --out DIR``: DPIA evidence (exposed data
subjects, the CNIL risk rating, GDPR Art. 35(7) structure) from an audit's report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from synth_audit.cli._common import EXIT_OK, add_command, make_console

__all__ = ["handle", "register", "write_dpia"]

DESCRIPTION = """\
Turn an audit's report.json into DPIA evidence a data protection officer can act on: the expected
number of people exposed (with a CI) by criterion, by anything and by sensitivity, the most exposed
people and what exposes them, a risk level on the CNIL four-level scales traced to its numbers, and
the threat model, organised by GDPR Art. 35(7). Writes dpia.md and dpia.json into --out.

The profile (dpia.toml) declares the population the data stands for, the release context, the
attacker's knowledge and each column's sensitivity (GDPR Art. 9 special categories included);
whatever it leaves out takes a conservative default, announced in the output. per_record.csv beside
report.json (written by 'synth-audit evaluate') gives the per-person union over attacks.

examples:
  synth-audit dpia reports/randhie/report.json --profile samples/randhie/dpia.toml --out reports/randhie
"""

DPIA_FILES = ("dpia.md", "dpia.json")


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "dpia",
        help="DPIA evidence (exposed data subjects, CNIL risk rating) from an audit's report",
        description=DESCRIPTION,
    )
    p.add_argument("report", metavar="REPORT.json", help="the report.json of an audit")
    p.add_argument(
        "--profile", metavar="TOML", help="the DPIA profile (dpia.toml); defaults otherwise"
    )
    p.add_argument(
        "--out", required=True, metavar="DIR", help="directory for dpia.md and dpia.json"
    )
    p.add_argument("--overwrite", action="store_true", help="replace dpia.md/dpia.json in --out")
    p.set_defaults(handler=handle)


def write_dpia(
    report_path: str | Path, profile: str | Path | None, out: str | Path, *, overwrite: bool
) -> tuple[Any, dict[str, Path]]:
    """Build the evidence of a stored report and write dpia.md and dpia.json (atomically)."""
    import pandas as pd

    from synth_audit.dpia import build_dpia, dpia_files
    from synth_audit.errors import DataValidationError, SynthAuditError
    from synth_audit.report.model import AuditReport
    from synth_audit.report.write import _atomic_write, _umask

    rp = Path(report_path)
    report = AuditReport.read_json(rp)
    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise SynthAuditError(
            f"The output path {str(out_dir)!r} is not a directory. Choose another --out."
        )
    there = [n for n in DPIA_FILES if (out_dir / n).exists()]
    if there and not overwrite:
        raise SynthAuditError(
            f"The directory {str(out_dir)!r} already holds {', '.join(there)}. Pass --overwrite to "
            "replace them, or choose another --out; nothing has been changed."
        )
    per = None
    per_path = rp.parent / "per_record.csv"
    if per_path.is_file():
        try:
            per = pd.read_csv(per_path)
        except (ValueError, OSError) as exc:
            raise DataValidationError(
                f"{str(per_path)!r} beside the report cannot be read ({exc}). Remove it to rate "
                "without per-person outcomes, or re-run the audit."
            ) from None
        if "attack" not in per.columns or "role" not in per.columns:
            per = None
    evidence = build_dpia(report, profile, per_record=per)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    mode = 0o666 & ~_umask()
    for name, data in dpia_files(evidence).items():
        _atomic_write(out_dir / name, data, mode)
        paths[name] = out_dir / name
    return evidence, paths


def handle(args: argparse.Namespace) -> int:
    from rich.markup import escape

    evidence, paths = write_dpia(args.report, args.profile, args.out, overwrite=args.overwrite)
    console = make_console()
    r = evidence.rating
    console.print(
        f"Risk level: [bold]{r.level}[/bold] (severity {r.severity}, likelihood {r.likelihood}"
        + (f", driven by {escape(r.driver)}" if r.driver else "")
        + ")",
        highlight=False,
    )
    u = evidence.exposure.union
    if u is not None:
        console.print(
            f"People exposed by at least one attack: {u.expected:,.0f} "
            f"[{u.expected_ci[0]:,.0f}, {u.expected_ci[1]:,.0f}] of "
            f"{evidence.exposure.population_size:,}",
            highlight=False,
            markup=False,
        )
    for n in evidence.profile.notices:
        console.print(f"notice: {n}", highlight=False, markup=False)
    for p in paths.values():
        console.out(str(p), highlight=False)
    return EXIT_OK
