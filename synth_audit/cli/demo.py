"""``synth-audit demo``: audit the bundled randhie sample (the main job of ``make run``).

The samples live in the repository (``samples/randhie``), not in the installed package, so the demo
runs from a source checkout. Re-running it replaces the previous *demo* report in ``--out``; a
report of other data found there is kept unless ``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synth_audit.cli._common import EXIT_OK, add_command, make_console
from synth_audit.errors import SynthAuditError

if TYPE_CHECKING:
    from rich.console import Console

    from synth_audit.report.model import AuditReport

__all__ = ["DEFAULT_OUT", "handle", "register", "run_demo", "sample_dir"]

DEFAULT_OUT = Path("reports/sample")
SAMPLE = "randhie"
SAMPLE_FILES = ("train.csv", "synthetic.csv", "control.csv", "audit.toml")


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "demo",
        help="audit the bundled randhie sample and write its report",
        description=(
            "Audit samples/randhie (a synthetic release of the RAND Health Insurance Experiment "
            "data, its training data and a control set) with its audit.toml, and write the report "
            f"into --out (default {DEFAULT_OUT}). A previous demo report there is replaced."
        ),
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR", help="report directory")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="also replace a report there that is not a demo report",
    )
    p.set_defaults(handler=handle)


def sample_dir(name: str = SAMPLE) -> Path:
    """``samples/<name>`` of the repository this package runs from; a clear error if missing."""
    root = Path(__file__).resolve().parents[2]
    d = root / "samples" / name
    missing = [f for f in SAMPLE_FILES if not (d / f).is_file()]
    if missing:
        raise SynthAuditError(
            f"The sample data {str(d)!r} is missing {', '.join(missing)}. The demo runs from a "
            f"source checkout of synth-audit (the samples are not part of an installed wheel); "
            f"run it from the repository, or regenerate the samples with "
            f"'python scripts/make_samples.py'."
        )
    return d


def _is_demo_report(path: Path, samples: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        source = str(data["inputs"]["train"]["source"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return Path(source).resolve() == (samples / "train.csv").resolve()


def run_demo(
    out: str | Path,
    console: Console,
    *,
    err_console: Console | None = None,
    overwrite: bool = False,
) -> tuple[AuditReport, dict[str, Path]]:
    """Evaluate the randhie sample into ``out``; print the summary and where the HTML report is."""
    from rich.text import Text

    from synth_audit.cli.evaluate import run_evaluation

    samples = sample_dir()
    out = Path(out)
    existing = out / "report.json"
    replace = overwrite or not existing.exists() or _is_demo_report(existing, samples)
    if not replace:
        raise SynthAuditError(
            f"The directory {str(out)!r} already holds a report that is not a demo report. Pass "
            f"--overwrite to replace it, or choose another --out; nothing stored there has been changed."
        )
    console.print(
        Text(
            f"Auditing the sample release in {samples} (RAND Health Insurance Experiment).",
            style="bold",
        ),
        soft_wrap=True,
    )
    report, paths = run_evaluation(
        train=samples / "train.csv",
        synthetic=samples / "synthetic.csv",
        control=samples / "control.csv",
        config=samples / "audit.toml",
        out=out,
        overwrite=True,
        console=console,
        err_console=err_console or make_console(stderr=True),
    )
    html = paths["report.html"].resolve()
    console.print(
        Text("Open the HTML report: ", style="bold").append(html.as_uri(), style=""), soft_wrap=True
    )
    return report, paths


def handle(args: argparse.Namespace) -> int:
    run_demo(
        args.out, make_console(), err_console=make_console(stderr=True), overwrite=args.overwrite
    )
    return EXIT_OK
