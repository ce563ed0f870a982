"""``synth-audit audit-model CONFIG.toml --out DIR``: audit a trained model (a classifier or a
language model) for membership and attribute inference."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from synth_audit.cli._common import EXIT_OK, RichProgress, add_command, make_console

__all__ = ["handle", "register"]

DESCRIPTION = """\
Audit a trained model before release: how much it reveals about the records it was trained on.

CONFIG.toml's [target] kind picks the audit: "classifier" (membership attacks LOSS, confidence,
entropy, modified entropy, LiRA online/offline, RMIA, each with a model-free baseline; attribute
inference with the model's outputs; risk factors; the empirical epsilon beside the claimed one)
or "causal_lm" (the language-model audit). Writes report.json, report.html, audit_card.md,
per_record.csv and exposed_records.csv into --out (which must not hold a report unless
--overwrite).

Model files are read only in formats that cannot run code (.skops with trusted types,
.safetensors + JSON config, .onnx, stored probabilities); pickle/joblib files are refused.

examples:
  synth-audit audit-model samples/classifier/model_audit.toml --out reports/overfit
  synth-audit audit-model samples/lm/model_audit.toml --out reports/lm
  synth-audit audit-model samples/classifier/digits.toml --out reports/digits
"""


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "audit-model",
        help="audit a trained model (classifier or language model) for membership and attribute "
        "inference",
        description=DESCRIPTION,
    )
    p.add_argument("config", metavar="CONFIG.toml", type=Path, help="the model_audit.toml")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="report directory")
    p.add_argument("--overwrite", action="store_true", help="replace a report already in --out")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    from synth_audit.models.config import read_kind
    from synth_audit.report.write import check_out_dir, write_report

    console = make_console()
    kind = read_kind(args.config)
    check_out_dir(args.out, overwrite=args.overwrite)
    with RichProgress(make_console(stderr=True), enabled=not args.quiet, first="Loading") as bar:
        if kind == "causal_lm":
            from synth_audit.lm.audit import audit_lm_from_toml

            report = audit_lm_from_toml(args.config, progress=bar)
        elif kind == "classifier":
            from synth_audit.models.audit import audit_model_from_toml

            report = audit_model_from_toml(args.config, progress=bar)
        else:
            from synth_audit.errors import ConfigError

            raise ConfigError(
                f"[target] kind = {kind!r} in {str(args.config)!r}: audit-model audits the kinds "
                "'classifier' and 'causal_lm'. Audit releases and generators with "
                "'synth-audit evaluate' or a study."
            )
    paths = write_report(report, args.out, overwrite=args.overwrite)
    target = report.target or {}
    console.print(
        Text(f"Audited {target.get('kind', kind)} {target.get('name', '')!r}.", style="bold"),
        soft_wrap=True,
    )
    if report.membership:
        table = Table(title="Membership attacks", title_justify="left", header_style="bold")
        for col in ("attack", "AUC", "AUC CI", "TPR @ 1% FPR", "baseline AUC"):
            table.add_column(col, justify="left" if col == "attack" else "right")
        for name, m in report.membership.items():
            tpr = next((t for t in m["tpr_at"] if abs(t["target_fpr"] - 0.01) < 1e-12), None)
            base = m.get("baseline") or {}
            table.add_row(
                Text(name),
                f"{m['auc']:.3f}",
                f"[{m['auc_ci'][0]:.3f}, {m['auc_ci'][1]:.3f}]",
                "-" if tpr is None else f"{tpr['tpr']:.3f}",
                "-" if not base else f"{base['auc']:.3f}",
            )
        console.print(table)
    for sec in report.sections.values():
        if sec.get("summary"):
            console.print(Text(f"{sec['title']}: {sec['summary']}"), soft_wrap=True)
    console.print(Text("Written:", style="bold"))
    for path in paths.values():
        console.print(Text(f"  {path}"), soft_wrap=True)
    return EXIT_OK
