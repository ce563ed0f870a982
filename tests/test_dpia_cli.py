"""``synth-audit evaluate --dpia`` and ``synth-audit dpia``: the evidence files, the card's link,
the report's sections, and exit code 2 with a message naming file and key for a bad profile."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from synth_audit.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "randhie"
CONFIG = """
seed = 3
[singling_out]
enabled = false
[linkability]
aux_cols = [["age", "sex", "race"], ["income", "health"]]
[inference]
secrets = ["health"]
[utility]
enabled = false
"""


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("dpia_cli")
    train = pd.read_csv(SAMPLE / "train.csv").iloc[:200]
    control = pd.read_csv(SAMPLE / "control.csv").iloc[:200]
    train.to_csv(d / "train.csv", index=False)
    control.to_csv(d / "control.csv", index=False)
    train.to_csv(d / "copy.csv", index=False)  # a release that copies the training data
    (d / "audit.toml").write_text(CONFIG, encoding="utf-8")
    rc = main(
        [
            "evaluate",
            "--train", str(d / "train.csv"),
            "--synthetic", str(d / "copy.csv"),
            "--control", str(d / "control.csv"),
            "--config", str(d / "audit.toml"),
            "--out", str(d / "out"),
            "--dpia", str(SAMPLE / "dpia.toml"),
            "--quiet",
        ]
    )  # fmt: skip
    assert rc == 0
    return d


def test_evaluate_with_dpia_writes_evidence_and_sections(audited: Path) -> None:
    out = audited / "out"
    card = (out / "audit_card.md").read_text(encoding="utf-8")
    assert "[dpia.md](dpia.md)" in card
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert set(report["sections"]) == {"anonymity", "dpia"}  # QIs from the profile
    assert report["config"]["anonymity"]["quasi_identifiers"][0] == "age"
    ev = json.loads((out / "dpia.json").read_text(encoding="utf-8"))
    assert ev["rating"]["level"] == "maximum"  # a copy of health data
    assert ev["profile"]["population_size"] == 5912
    union = ev["exposure"]["union"]
    assert union["expected_exposed_ci"][1] > 0.8 * 5912
    md = (out / "dpia.md").read_text(encoding="utf-8")
    for heading in ("Art. 35(7)(a)", "Art. 35(7)(b)", "Art. 35(7)(c)", "Art. 35(7)(d)"):
        assert heading in md
    assert "Risk level: MAXIMUM" in md and "Threat model" in md
    assert (
        "Other risk findings (shown, not rated)" in md and "release\\_share\\_below\\_k" not in md
    )
    assert "release_share_below_k" in md
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="section-dpia"' in html and 'id="section-anonymity"' in html


def test_dpia_command_reads_a_stored_report(audited: Path, capsys: pytest.CaptureFixture) -> None:
    report = audited / "out" / "report.json"
    dest = audited / "dpia_only"
    assert (
        main(["dpia", str(report), "--profile", str(SAMPLE / "dpia.toml"), "--out", str(dest)]) == 0
    )
    text = capsys.readouterr().out
    assert "Risk level: maximum" in text and "People exposed by at least one attack" in text
    assert "driven by linkability" in text or "driven by inference[health]" in text
    first = json.loads((dest / "dpia.json").read_text(encoding="utf-8"))
    assert first["exposure"]["union"] is not None  # per_record.csv beside the report was read
    # refused without --overwrite; replaced with it
    assert main(["dpia", str(report), "--out", str(dest)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["dpia", str(report), "--out", str(dest), "--overwrite"]) == 0
    assert "population_size is not set" in (dest / "dpia.md").read_text(encoding="utf-8")


def test_bad_profile_exits_2_naming_file_and_key(
    audited: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('release_context = "public"\nsensitivity = 3\n', encoding="utf-8")
    rc = main(
        [
            "dpia",
            str(audited / "out" / "report.json"),
            "--profile",
            str(bad),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and str(bad) in err and "sensitivity: unknown key" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()
