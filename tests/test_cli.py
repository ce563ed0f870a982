"""The command line: end to end in subprocesses (the real console behaviour), and the matrix of bad
inputs in-process through ``main(argv)`` (the same code path without paying an interpreter start
per case; one bad input also runs in a subprocess).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from synth_audit.cli import COMMAND_MODULES, main
from synth_audit.report.model import AuditReport
from synth_audit.results import AttackResult
from synth_audit.schema import ColumnKind, ColumnSpec, Schema
from synth_audit.stats import residual_risk, wilson_rate

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "randhie"
SMALL_CONFIG = """\
seed = 5
[columns]
site = "categorical"
[singling_out]
n_attacks = 30
max_attempts = 20000
[inference]
secrets = ["health"]
[utility]
enabled = false
"""
REPORT_FILES = {
    "report.json",
    "report.html",
    "audit_card.md",
    "per_record.csv",
    "exposed_records.csv",
}


def run_cli(*args: object, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("COLUMNS", None)
    return subprocess.run(
        [sys.executable, "-m", "synth_audit", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        env=env,
    )


def one_paragraph_error(stderr: str) -> str:
    """Assert the shape of a user error on stderr; return it with whitespace collapsed."""
    assert "Traceback" not in stderr
    text = stderr.strip()
    assert text, "nothing on stderr"
    assert "\n\n" not in text, text
    assert "internal error" not in text, text
    return " ".join(text.split())


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("inputs")
    out: dict[str, Path] = {}
    for role in ("train", "synthetic", "control"):
        df = pd.read_csv(SAMPLES / f"{role}.csv").head(300)
        out[role] = d / f"{role}.csv"
        df.to_csv(out[role], index=False)
    out["config"] = d / "audit.toml"
    out["config"].write_text(SMALL_CONFIG, encoding="utf-8")
    return out


def _risk(name: str, s: int, n: int, control: int) -> AttackResult:
    a, c = wilson_rate(s, n), wilson_rate(control, n)
    return AttackResult(
        attack=name,
        risk=residual_risk(a, c),
        attack_rate=a,
        baseline_rate=wilson_rate(1, n),
        control_rate=c,
        engine="native",
        seed=0,
    )


@pytest.fixture(scope="module")
def gate_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hand-checkable report: linkability ≈ 0.50 [0.39, 0.61], singling out ≈ 0, inference ≈ 0.125."""
    report = AuditReport(
        created_at="2025-01-01T00:00:00+00:00",
        tool_version="0.1.0",
        seed=0,
        config={},
        inputs={"train": {"source": "t.csv", "sha256": "0" * 64, "n_rows": 200, "n_columns": 1}},
        schema=Schema((ColumnSpec("x", ColumnKind.NUMERIC),)),
        attacks={
            "singling_out_univariate": _risk("singling_out_univariate", 10, 200, 10),
            "linkability": _risk("linkability", 120, 200, 40),
        },
        inference={"x": _risk("inference[x]", 60, 200, 40)},
        utility_score=0.8,
    )
    path = tmp_path_factory.mktemp("gate") / "report.json"
    path.write_text(report.to_json(), encoding="utf-8")
    return path


def test_gate_fixture_is_what_the_tests_assume(gate_report: Path) -> None:
    d = json.loads(gate_report.read_text(encoding="utf-8"))
    link = d["attacks"]["linkability"]
    assert link["value"] == pytest.approx(0.5, abs=0.01)
    assert 0.55 < link["ci_high"] < 0.65
    assert d["attacks"]["singling_out_univariate"]["value"] < 0.05
    assert d["attacks"]["inference"]["x"]["value"] == pytest.approx(0.125, abs=0.02)
    assert d["attacks"]["inference"]["x"]["ci_high"] > 0.2


# ---- end to end (subprocess) ---------------------------------------------------------------------


def test_evaluate_writes_report(inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    res = run_cli(
        "evaluate",
        "--train",
        inputs["train"],
        "--synthetic",
        inputs["synthetic"],
        "--control",
        inputs["control"],
        "--config",
        inputs["config"],
        "--out",
        out,
        "--seed",
        11,
    )
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert {p.name for p in out.iterdir()} == REPORT_FILES
    d = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert d["seed"] == 11  # --seed overrides the config's 5
    assert set(d["attacks"]["inference"]) == {"health"}
    assert "Privacy risks" in res.stdout and "linkability" in res.stdout
    assert str(out / "report.html") in res.stdout
    assert "[1/" in res.stderr  # progress lines (stderr is not a terminal here)


def test_evaluate_refuses_to_overwrite(
    inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text('{"precious": true}', encoding="utf-8")
    argv = [
        "evaluate",
        "--train",
        str(inputs["train"]),
        "--synthetic",
        str(inputs["synthetic"]),
        "--control",
        str(inputs["control"]),
        "--config",
        str(inputs["config"]),
        "--out",
        str(out),
    ]
    assert main(argv) == 2
    msg = one_paragraph_error(capsys.readouterr().err)
    assert "already holds a report" in msg and "--overwrite" in msg
    assert (out / "report.json").read_text(encoding="utf-8") == '{"precious": true}'
    assert main([*argv, "--overwrite", "--quiet"]) == 0
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["seed"] == 5


def test_unusual_column_names_end_to_end(inputs: dict[str, Path], tmp_path: Path) -> None:
    names = {
        "age": "âge du patient",
        "sex": "sex-at-birth",
        "race": 'race "quoted"',
        "health": "santé <b>&",
        "income": "income, yearly",
    }
    paths = {}
    for role in ("train", "synthetic", "control"):
        paths[role] = tmp_path / f"{role}.csv"
        pd.read_csv(inputs[role]).rename(columns=names).to_csv(paths[role], index=False)
    cfg = tmp_path / "audit.toml"
    cfg.write_text(
        SMALL_CONFIG.replace(
            'secrets = ["health"]', 'secrets = ["santé <b>&", "race \\"quoted\\""]'
        )
        + '[linkability]\naux_cols = [["âge du patient", "sex-at-birth"], ["income, yearly", "site"]]\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    res = run_cli(
        "evaluate",
        "--train",
        paths["train"],
        "--synthetic",
        paths["synthetic"],
        "--control",
        paths["control"],
        "--config",
        cfg,
        "--out",
        out,
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    d = json.loads((out / "report.json").read_text(encoding="utf-8"))
    columns = {c["name"] for c in d["schema"]["columns"]}
    assert set(names.values()) <= columns
    assert set(d["attacks"]["inference"]) == {"santé <b>&", 'race "quoted"'}
    assert d["attacks"]["linkability"]["params"]["aux_cols"][0] == [
        "âge du patient",
        "sex-at-birth",
    ]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "santé &lt;b&gt;&amp;" in page and "santé <b>&" not in page


def test_gate_fail_prints_failing_attacks(gate_report: Path) -> None:
    link = json.loads(gate_report.read_text(encoding="utf-8"))["attacks"]["linkability"]
    res = run_cli("gate", gate_report, "--max-risk", "0.3")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "FAIL" in res.stdout
    failed_lines = [line for line in res.stdout.splitlines() if line.strip().startswith("- ")]
    assert len(failed_lines) == 1 and "linkability" in failed_lines[0]
    assert f"{link['value'] * 100:.1f} %" in failed_lines[0]  # with its numbers
    assert f"{link['ci_high'] * 100:.1f} %" in failed_lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["missing.json", "--max-risk", "0.1"], "does not exist"),
        (["BAD_JSON", "--max-risk", "0.1"], "not valid JSON"),
        (["REPORT", "--max-risk", "2"], "--max-risk"),
    ],
)
def test_gate_usage_errors_exit_2(
    args: list[str], expected: str, gate_report: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    args = [str(bad) if a == "BAD_JSON" else str(gate_report) if a == "REPORT" else a for a in args]
    res = run_cli("gate", *args)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert expected in res.stderr


def test_bad_input_in_subprocess_has_no_traceback(inputs: dict[str, Path], tmp_path: Path) -> None:
    header_only = tmp_path / "header.csv"
    header_only.write_text(inputs["train"].read_text(encoding="utf-8").splitlines()[0] + "\n")
    res = run_cli(
        "evaluate",
        "--train",
        header_only,
        "--synthetic",
        inputs["synthetic"],
        "--control",
        inputs["control"],
        "--out",
        tmp_path / "o",
    )
    assert res.returncode == 2
    msg = one_paragraph_error(res.stderr)
    assert "header but no rows" in msg and "header.csv" in msg
    assert not (tmp_path / "o").exists()


# ---- in-process: gate logic ----------------------------------------------------------------------


def test_gate_conservative_and_attack_filter(
    gate_report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gate", str(gate_report), "--max-risk", "0.55"]) == 0
    assert "PASS" in capsys.readouterr().out
    # the CI's upper end of linkability (≈ 0.61) is above 0.55
    assert main(["gate", str(gate_report), "--max-risk", "0.55", "--conservative"]) == 1
    # only the singling-out family: ≈ 0 passes a tight limit
    assert main(["gate", str(gate_report), "--max-risk", "0.05", "--attack", "singling_out"]) == 0
    assert main(["gate", str(gate_report), "--max-risk", "0.2", "--attack", "inference[x]"]) == 0
    assert (
        main(
            [
                "gate",
                str(gate_report),
                "--max-risk",
                "0.2",
                "--attack",
                "inference",
                "--conservative",
            ]
        )
        == 1
    )
    assert main(["gate", str(gate_report), "--max-risk", "0.6", "--min-utility", "0.7"]) == 0
    assert main(["gate", str(gate_report), "--max-risk", "0.6", "--min-utility", "0.9"]) == 1
    out = capsys.readouterr().out
    assert "utility: score 0.800 is below the minimum 0.900" in out
    assert main(["gate", str(gate_report), "--max-risk", "0.5", "--attack", "membership"]) == 2
    assert "does not hold" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["gate"],
        ["gate", "r.json"],
        ["gate", "r.json", "--max-risk", "-0.1"],
        ["gate", "r.json", "--max-risk", "x"],
        ["nope"],
        [],
        ["evaluate", "--train", "t.csv"],
    ],
)
def test_all_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_version_and_registry(capsys: pytest.CaptureFixture[str]) -> None:
    from synth_audit import __version__

    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out
    assert COMMAND_MODULES[:3] == ["evaluate", "gate", "demo"]


def test_internal_error_exit_3(
    inputs: dict[str, Path], tmp_path: Path, monkeypatch, capsys
) -> None:
    def boom(**kwargs: object) -> None:
        raise RuntimeError("kaputt")

    monkeypatch.setattr("synth_audit.evaluate.evaluate_release", boom)
    argv = [
        "evaluate",
        "--train",
        str(inputs["train"]),
        "--synthetic",
        str(inputs["synthetic"]),
        "--control",
        str(inputs["control"]),
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: kaputt" in err and "--debug" in err
    assert "Traceback" not in err
    assert main([*argv, "--debug"]) == 3
    assert "Traceback" in capsys.readouterr().err
    assert main(["--debug", *argv]) == 3  # before the command name as well
    assert "Traceback" in capsys.readouterr().err


def test_keyboard_interrupt_exit_130(inputs: dict[str, Path], tmp_path: Path, monkeypatch) -> None:
    def interrupted(**kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("synth_audit.evaluate.evaluate_release", interrupted)
    argv = [
        "evaluate",
        "--train",
        str(inputs["train"]),
        "--synthetic",
        str(inputs["synthetic"]),
        "--control",
        str(inputs["control"]),
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(argv) == 130


# ---- in-process: the matrix of bad inputs ----------------------------------------------------------


def _bad_inputs(inputs: dict[str, Path], d: Path) -> dict[str, tuple[list[str], list[str]]]:
    """case -> (extra argv replacing the defaults, strings the message must contain)."""
    train = pd.read_csv(inputs["train"])
    syn = pd.read_csv(inputs["synthetic"])

    def csv(name: str, df: pd.DataFrame) -> str:
        p = d / name
        df.to_csv(p, index=False)
        return str(p)

    (d / "empty.csv").write_text("")
    (d / "data.xlsx").write_text("not really")
    header = ",".join(train.columns)
    (d / "header.csv").write_text(header + "\n")
    cols = syn.drop(columns=["age", "sex"]).assign(extra_1=1, zz_top=2)
    types = syn.astype({"income": object})
    types.loc[5, "income"] = "lots"
    nan = train.assign(md_visits=float("nan"))
    (d / "typo.toml").write_text("seed = 1\n[singling_out]\nn_atacks = 5\n")
    (d / "engine.toml").write_text('engine = "fast"\n')
    return {
        "missing file": (["--train", str(d / "nope.csv")], ["nope.csv", "does not exist"]),
        "wrong extension": (
            ["--train", str(d / "data.xlsx")],
            ["data.xlsx", "'.xlsx'", "CSV or Parquet"],
        ),
        "empty csv": (["--train", str(d / "empty.csv")], ["empty.csv", "empty"]),
        "header only": (
            ["--synthetic", str(d / "header.csv")],
            ["synthetic", "header but no rows"],
        ),
        "single row": (["--train", csv("one.csv", train.head(1))], ["one.csv", "single row"]),
        "columns": (
            ["--synthetic", csv("cols.csv", cols)],
            ["cols.csv", "lacks 2 column(s)", "'age', 'sex'", "train lacks", "'extra_1', 'zz_top'"],
        ),
        "types": (
            ["--synthetic", csv("types.csv", types)],
            ["'income'", "numeric", "text", "types.csv", "'lots'"],
        ),
        "all nan": (["--train", csv("nan.csv", nan)], ["'md_visits'", "only missing values"]),
        "unknown config key": (
            ["--config", str(d / "typo.toml")],
            ["[singling_out] n_atacks", "unknown key"],
        ),
        "invalid engine in config": (
            ["--config", str(d / "engine.toml")],
            ["engine", "'fast'", "native"],
        ),
        "invalid engine flag": (["--engine", "fast"], ["--engine", "invalid choice", "'fast'"]),
        "missing config": (["--config", str(d / "nope.toml")], ["nope.toml", "does not exist"]),
    }


def test_bad_inputs_give_one_paragraph_errors(
    inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failures = []
    for case, (extra, expected) in _bad_inputs(inputs, tmp_path).items():
        base = {
            "--train": str(inputs["train"]),
            "--synthetic": str(inputs["synthetic"]),
            "--control": str(inputs["control"]),
            "--config": str(inputs["config"]),
        }
        base.update(dict(zip(extra[::2], extra[1::2])))
        argv = ["evaluate", *[x for kv in base.items() for x in kv], "--out", str(tmp_path / case)]
        code = main(argv)
        err = capsys.readouterr().err
        msg = " ".join(err.split())
        if code != 2:
            failures.append(f"{case}: exit {code}: {msg}")
            continue
        if "usage:" not in err:  # argparse's own usage errors have their own (fine) shape
            msg = one_paragraph_error(err)
        missing = [e for e in expected if e not in msg]
        if missing:
            failures.append(f"{case}: message lacks {missing}: {msg}")
        if (tmp_path / case).exists():
            failures.append(f"{case}: wrote {tmp_path / case} despite the error")
    assert not failures, "\n".join(failures)
