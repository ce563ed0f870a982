"""The README's worked example is the real output of the commands it shows (issue 7, item 26).

The block between ``<!-- worked-example:start -->`` and ``<!-- worked-example:end -->`` in README.md
is generated: this test runs the README's ``synth-audit evaluate`` on the shipped sample and
``synth-audit gate`` on its report (subprocesses of this checkout), and compares. When the output
changes on purpose, regenerate the block with::

    UPDATE_README=1 .venv/bin/python -m pytest -q tests/test_readme_example.py

and review the diff of README.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from synth_audit.report.wording import fmt_pct

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START = "<!-- worked-example:start -->"
END = "<!-- worked-example:end -->"
OUT = "reports/sample"  # the --out the README shows
SAMPLE = "samples/randhie"
EVALUATE = [
    "evaluate",
    "--train",
    f"{SAMPLE}/train.csv",
    "--synthetic",
    f"{SAMPLE}/synthetic.csv",
    "--control",
    f"{SAMPLE}/control.csv",
    "--config",
    f"{SAMPLE}/audit.toml",
    "--out",
]
GATE = ["gate", f"{OUT}/report.json", "--max-risk", "0.1"]


def _run(args: list[str], out_dir: Path) -> tuple[int, str]:
    """Run ``synth-audit ARGS`` from the repository root as a user would (no terminal: rich prints
    120 columns), with the README's ``reports/sample`` replaced by ``out_dir``."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = str(ROOT)
    argv = [str(out_dir) if a == OUT else a.replace(OUT, str(out_dir)) for a in args]
    res = subprocess.run(
        [sys.executable, "-m", "synth_audit", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "Traceback" not in res.stderr, res.stderr
    text = res.stdout.replace(str(out_dir), OUT)
    return res.returncode, "\n".join(line.rstrip() for line in text.splitlines())


def _reading(report: dict) -> str:
    """The paragraph under the block, with the numbers of the run."""
    r = report["attacks"]["singling_out_multivariate"]
    a, c = r["attack_rate"], r["control_rate"]
    return (
        "How to read it: multivariate singling-out predicates written from the release isolate "
        f"exactly one\ntraining person {fmt_pct(a)} of the time, but they also isolate exactly one "
        f"*control* person {fmt_pct(c)} of the\ntime, because some people are unusual in the "
        "population whatever the release says. The risk is the\nexcess over the control, scaled to "
        f"what was left to learn: ({a:.3f} − {c:.3f}) / (1 − {c:.3f}) ≈ {fmt_pct(r['value'])}, "
        f"with a\n{fmt_pct(r['confidence_level'], digits=0)} CI up to {fmt_pct(r['ci_high'])}. "
        "The rows marked `!` carry a warning: an attack no better than guessing gives no\n"
        "evidence of safety, only of a weak attack."
    )


def generate_block(tmp_path: Path) -> str:
    out_dir = tmp_path / "sample"
    code, evaluate = _run([*EVALUATE, OUT], out_dir)
    assert code == 0, evaluate
    gate_code, gate = _run(GATE, out_dir)
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    command = (
        f"$ synth-audit evaluate --train {SAMPLE}/train.csv --synthetic {SAMPLE}/synthetic.csv \\\n"
        f"      --control {SAMPLE}/control.csv --config {SAMPLE}/audit.toml --out {OUT}"
    )
    return "\n".join(
        [
            START,
            "```",
            command,
            evaluate,
            f"$ synth-audit {' '.join(GATE)}; echo $?",
            gate,
            str(gate_code),
            "```",
            "",
            _reading(report),
            END,
        ]
    )


def _split(text: str) -> tuple[str, str, str]:
    if START not in text or END not in text:
        raise AssertionError(f"README.md lacks the markers {START} and {END}")
    head, rest = text.split(START, 1)
    block, tail = rest.split(END, 1)
    return head, START + block + END, tail


@pytest.mark.slow
def test_readme_worked_example_is_the_real_output(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    head, block, tail = _split(text)
    fresh = generate_block(tmp_path)
    if os.environ.get("UPDATE_README") == "1":
        README.write_text(head + fresh + tail, encoding="utf-8")
        return
    assert block == fresh, (
        "README.md's worked example differs from what the commands print now. Regenerate it with "
        "UPDATE_README=1 .venv/bin/python -m pytest -q tests/test_readme_example.py and review "
        "the diff."
    )
