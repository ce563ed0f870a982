"""``synth-audit audit-model`` with ``[target] kind = "causal_lm"``: writes the reports of a
language-model audit (the TOML's validation is tested in-process in test_lm_attacks.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "samples" / "lm" / "corpus.csv"

TINY = f"""
[target]
kind = "causal_lm"
name = "tiny"
[target.recipe]
vocab_size = 400
n_embd = 32
context = 32
epochs = 2
[data]
path = "{CORPUS}"
id_column = "doc_id"
where = {{ source = "operation" }}
members = 16
nonmembers = 16
reference = 16
[canaries]
counts = [0, 16]
per_count = 1
digits = 2
[attacks]
names = ["loss", "min_k"]
[audit]
random_state = 1
"""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "synth_audit", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.slow
def test_audit_model_writes_a_language_model_report(tmp_path: Path) -> None:
    cfg = tmp_path / "model_audit.toml"
    cfg.write_text(TINY)
    out = tmp_path / "report"
    proc = _cli("audit-model", str(cfg), "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert report["target"]["kind"] == "causal_lm"
    assert {"canaries", "extraction", "model", "baseline"} <= set(report["sections"])
    assert report["membership"]["loss"]["unit"] == "document"
    assert (out / "report.html").exists()
