"""A corpus of bad inputs to ``synth-audit evaluate`` (issue 7): every one exits 2 without a traceback,
with one message that names the file and/or column at fault and says what to do instead.

Most cases run in this process through :func:`synth_audit.cli.main` (the same code path as the
console script, without a Python start-up per case); a handful run as real subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synth_audit.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "randhie"
N_ROWS = 200

FAST_CONFIG = """\
seed = 3
[singling_out]
n_attacks = 10
modes = ["univariate"]
[linkability]
n_attacks = 50
[inference]
secrets = ["age"]
n_attacks = 50
[utility]
enabled = false
[diagnostics]
dcr = false
"""

# Words of a remedy: every message says what to do, not only what is wrong.
REMEDY = (
    "check",
    "give",
    "provide",
    "rename",
    "drop",
    "fix",
    "declare",
    "remove",
    "pass",
    "save",
    "convert",
    "flatten",
    "hold out",
    "must be",
    "choose",
    "use",
    "one of",
    "expected",
    "usable columns",
    "known columns",
    "the control set must",
    "should be",
)


class Case:
    """One bad input: the flags that replace the good defaults, and what the message must contain."""

    def __init__(
        self,
        flags: dict[str, str | None],
        expected: list[str],
        *,
        extra: list[str] | None = None,
        patch: Callable[[pytest.MonkeyPatch], None] | None = None,
    ) -> None:
        self.flags, self.expected, self.extra, self.patch = flags, expected, extra or [], patch


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, Case]]:
    d = tmp_path_factory.mktemp("bad")
    frames = {
        r: pd.read_csv(SAMPLES / f"{r}.csv").head(N_ROWS) for r in ("train", "synthetic", "control")
    }
    good: dict[str, str] = {}
    for role, df in frames.items():
        good[role] = str(d / f"{role}.csv")
        df.to_csv(good[role], index=False)
    good["config"] = str(d / "audit.toml")
    Path(good["config"]).write_text(FAST_CONFIG, encoding="utf-8")
    train, syn = frames["train"], frames["synthetic"]

    def csv(name: str, df: pd.DataFrame) -> str:
        p = d / name
        df.to_csv(p, index=False)
        return str(p)

    def text(name: str, content: str | bytes) -> str:
        p = d / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
        return str(p)

    def toml(name: str, content: str) -> str:
        return text(name, FAST_CONFIG + content if content.startswith("\n") else content)

    header = ",".join(train.columns)
    body = train.to_csv(index=False).splitlines()[1:]
    (d / "folder.csv").mkdir()
    (d / "conf_dir").mkdir()
    nested = train.head(50).assign(tags=[["a", "b"]] * 50)
    nested.to_parquet(d / "list.parquet")
    struct = train.head(50).assign(rec=[{"k": 1, "v": "x"}] * 50)
    struct.to_parquet(d / "struct.parquet")
    stray = syn.astype({"income": object})
    stray.loc[5, "income"] = "lots"
    ids = pd.DataFrame(
        {
            "name": [f"person {i}" for i in range(N_ROWS)],
            "ref": [f"R{i:05d}" for i in range(N_ROWS)],
        }
    )
    perm = text("locked.csv", train.to_csv(index=False))

    def deny_open(mp: pytest.MonkeyPatch) -> None:
        real_open = Path.open

        def denied(self: Path, *args: object, **kwargs: object) -> object:
            if str(self) == perm:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

        mp.setattr(Path, "open", denied)

    locked_toml = text("locked.toml", FAST_CONFIG)

    def deny_read(mp: pytest.MonkeyPatch) -> None:
        real_read = Path.read_text

        def denied(self: Path, *args: object, **kwargs: object) -> str:
            if str(self) == locked_toml:
                raise PermissionError(13, "Permission denied", str(self))
            return real_read(self, *args, **kwargs)  # type: ignore[arg-type]

        mp.setattr(Path, "read_text", denied)

    cases = {
        # ---- data files
        "missing train": Case({"--train": str(d / "nope.csv")}, ["nope.csv", "does not exist"]),
        "missing control": Case({"--control": str(d / "gone.csv")}, ["gone.csv", "does not exist"]),
        "missing synthetic": Case({"--synthetic": str(d / "x.csv")}, ["x.csv", "does not exist"]),
        "directory": Case({"--train": str(d / "folder.csv")}, ["folder.csv", "directory"]),
        "xlsx": Case(
            {"--train": text("data.xlsx", "x")}, ["data.xlsx", "'.xlsx'", "CSV or Parquet"]
        ),
        "no extension": Case({"--synthetic": text("release", header)}, ["release", "(none)"]),
        "empty csv": Case({"--train": text("empty.csv", "")}, ["empty.csv", "empty"]),
        "header only": Case(
            {"--synthetic": text("header.csv", header + "\n")}, ["header.csv", "header but no rows"]
        ),
        "single row": Case({"--train": csv("one.csv", train.head(1))}, ["one.csv", "single row"]),
        "duplicate header": Case(
            {
                "--train": text(
                    "dup.csv", "age," + header + "\n" + "\n".join("1," + b for b in body)
                )
            },
            ["dup.csv", "'age'", "repeats the column name"],
        ),
        "duplicate header control": Case(
            {
                "--control": text(
                    "dupc.csv", header + ",sex\n" + "\n".join(b + ",male" for b in body)
                )
            },
            ["dupc.csv", "'sex'", "unique"],
        ),
        "ragged semicolons": Case(
            {"--train": text("semi.csv", header.replace(",", ";") + "\n1;2\n3;4;5\n")},
            ["semi.csv", "semicolon-delimited", "comma-separated"],
        ),
        "not utf-8": Case(
            {"--train": text("latin.csv", header.encode() + b"\n" + "é,1\n".encode("latin-1") * 5)},
            ["latin.csv", "UTF-8"],
        ),
        "binary as csv": Case(
            {"--synthetic": text("blob.csv", bytes(range(256)) * 4)}, ["blob.csv", "CSV"]
        ),
        "csv named parquet": Case(
            {"--synthetic": text("fake.parquet", train.to_csv(index=False))},
            ["fake.parquet", "Parquet"],
        ),
        "parquet list column": Case(
            {"--train": str(d / "list.parquet")}, ["list.parquet", "'tags'", "Flatten"]
        ),
        "parquet struct column": Case(
            {"--train": str(d / "struct.parquet")}, ["struct.parquet", "'rec'", "Flatten"]
        ),
        "missing columns": Case(
            {"--synthetic": csv("cols.csv", syn.drop(columns=["age", "sex"]))},
            ["cols.csv", "lacks 2 column(s)", "'age', 'sex'"],
        ),
        "extra columns": Case(
            {"--control": csv("extra.csv", frames["control"].assign(zz=1))},
            ["extra.csv", "'zz'", "train lacks"],
        ),
        "text in numeric release column": Case(
            {"--synthetic": csv("types.csv", stray)}, ["types.csv", "'income'", "'lots'"]
        ),
        "all missing column": Case(
            {"--train": csv("nan.csv", train.assign(md_visits=np.nan))},
            ["nan.csv", "'md_visits'", "only missing values"],
        ),
        "only identifiers": Case(
            {
                "--train": csv("ids.csv", ids),
                "--synthetic": csv("ids_s.csv", ids),
                "--control": csv("ids_c.csv", ids.assign(ref=ids["ref"] + "c")),
            },
            ["ids.csv", "No usable columns"],
        ),
        "permission denied data": Case(
            {"--train": perm}, ["locked.csv", "permission denied"], patch=deny_open
        ),
        # ---- the control set
        "control is train": Case(
            {"--control": good["train"]}, ["train.csv", "is the training data", "never used"]
        ),
        "control is shuffled train": Case(
            {"--control": csv("shuffled.csv", train.sample(frac=1, random_state=0))},
            ["shuffled.csv", "train.csv", "Every one of the 200 rows"],
        ),
        "no control": Case({"--control": None}, ["--control PATH", "--no-control"]),
        "control and no-control": Case({}, ["--no-control", "not allowed"], extra=["--no-control"]),
        # ---- audit.toml
        "missing config": Case({"--config": str(d / "nope.toml")}, ["nope.toml", "does not exist"]),
        "config directory": Case({"--config": str(d / "conf_dir")}, ["conf_dir", "directory"]),
        "config permission denied": Case(
            {"--config": locked_toml}, ["locked.toml", "permission denied"], patch=deny_read
        ),
        "config not utf-8": Case(
            {"--config": text("latin.toml", "# é\n".encode("latin-1"))}, ["latin.toml", "UTF-8"]
        ),
        "config bad toml": Case(
            {"--config": toml("syntax.toml", "seed = \n")}, ["syntax.toml", "not valid TOML"]
        ),
        "config unknown key": Case(
            {"--config": toml("typo.toml", "seed = 1\n[singling_out]\nn_atacks = 5\n")},
            ["typo.toml", "[singling_out] n_atacks", "unknown key"],
        ),
        "config bad engine": Case(
            {"--config": toml("engine.toml", 'engine = "fast"\n')}, ["engine.toml", "'fast'"]
        ),
        "config n_attacks 0": Case(
            {"--config": toml("zero.toml", "[linkability]\nn_attacks = 0\n")},
            ["zero.toml", "[linkability] n_attacks", "got 0"],
        ),
        "config confidence": Case(
            {"--config": toml("conf.toml", "confidence_level = 1.5\n")},
            ["conf.toml", "confidence_level"],
        ),
        "config seed type": Case(
            {"--config": toml("seed.toml", 'seed = "abc"\n')}, ["seed.toml", "seed", "'abc'"]
        ),
        "config unknown column kind": Case(
            {"--config": toml("kinds.toml", '[columns]\nsight = "categorical"\n')},
            ["'sight'", "Known columns", "'site'"],
        ),
        "config invalid kind": Case(
            {"--config": toml("kind.toml", '[columns]\nsite = "number"\n')},
            ["kind.toml", "columns", "'number'"],
        ),
        "config unknown secret": Case(
            {"--config": toml("secret.toml", '[inference]\nsecrets = ["helth"]\n')},
            ["'helth'", "Usable columns", "'health'"],
        ),
        "config aux one set": Case(
            {"--config": toml("aux.toml", '[linkability]\naux_cols = [["age", "sex"]]\n')},
            ["aux.toml", "aux_cols", "two non-empty lists"],
        ),
        "config aux unknown column": Case(
            {"--config": toml("auxc.toml", '[linkability]\naux_cols = [["age"], ["incom"]]\n')},
            ["'incom'", "[linkability] aux_cols", "'income'"],
        ),
        # ---- flags
        "seed negative": Case({"--seed": "-1"}, ["--seed", "-1"]),
        "engine flag": Case({"--engine": "fast"}, ["--engine", "'fast'"]),
        "secrets flag unknown": Case({}, ["'helth'", "--secrets"], extra=["--secrets", "helth"]),
        "secrets flag empty name": Case(
            {}, ["--secrets", "comma-separated"], extra=["--secrets", "age,"]
        ),
        "aux flag one set": Case({}, ["--aux-cols", '";"'], extra=["--aux-cols", "age,sex"]),
        "aux flag unknown": Case({}, ["'incom'", "--aux-cols"], extra=["--aux-cols", "age;incom"]),
        "columns flag form": Case({}, ["--columns", "NAME=KIND"], extra=["--columns", "site"]),
        "columns flag kind": Case(
            {}, ["--columns", "'number'", "categorical"], extra=["--columns", "site=number"]
        ),
        "columns flag unknown": Case(
            {}, ["'sight'", "--columns", "'site'"], extra=["--columns", "sight=id"]
        ),
        "target flag unknown": Case({}, ["'nope'", "--target"], extra=["--target", "nope"]),
    }
    return good, cases


def _argv(good: dict[str, str], case: Case, out: Path) -> list[str]:
    flags: dict[str, str | None] = {
        "--train": good["train"],
        "--synthetic": good["synthetic"],
        "--control": good["control"],
        "--config": good["config"],
    }
    flags.update(case.flags)
    argv = ["evaluate"]
    for k, v in flags.items():
        if v is not None:
            argv += [k, v]
    return [*argv, *case.extra, "--out", str(out)]


def _check(code: int, err: str, case: Case, out: Path) -> list[str]:
    msg = " ".join(err.split())
    problems = []
    if code != 2:
        problems.append(f"exit {code}")
    if "Traceback" in err or "internal error" in err:
        problems.append("traceback or internal error")
    missing = [e for e in case.expected if e not in msg]
    if missing:
        problems.append(f"lacks {missing}")
    # argparse's usage errors show the command's usage, which is their remedy
    if "usage:" not in msg and not any(w in msg.lower() for w in REMEDY):
        problems.append("names no remedy")
    if out.exists():
        problems.append(f"wrote {out}")
    return [f"{p}: {msg}" for p in problems]


def test_corpus_is_large_enough(corpus: tuple[dict[str, str], dict[str, Case]]) -> None:
    assert len(corpus[1]) >= 40


def test_every_bad_input_exits_2_with_a_clear_message(
    corpus: tuple[dict[str, str], dict[str, Case]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good, cases = corpus
    capsys.readouterr()
    failures = []
    for name, case in cases.items():
        out = tmp_path / name.replace(" ", "_")
        with monkeypatch.context() as mp:
            if case.patch is not None:
                case.patch(mp)
            code = main(_argv(good, case, out))
        err = capsys.readouterr().err
        failures += [f"{name}: {p}" for p in _check(code, err, case, out)]
    assert not failures, "\n".join(failures)


def test_the_good_inputs_pass(
    corpus: tuple[dict[str, str], dict[str, Case]], tmp_path: Path
) -> None:
    # The corpus is only meaningful if the defaults it perturbs are themselves accepted.
    good, _ = corpus
    assert main([*_argv(good, Case({}, []), tmp_path / "ok"), "--quiet"]) == 0
    assert (tmp_path / "ok" / "report.json").is_file()


# A few cases through the console entry point in a fresh interpreter (each costs a start-up).
SUBPROCESS_CASES = ["duplicate header", "control is train", "columns flag unknown"]


def test_bad_inputs_in_a_real_process(
    corpus: tuple[dict[str, str], dict[str, Case]], tmp_path: Path
) -> None:
    good, cases = corpus
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    env.pop("COLUMNS", None)
    failures = []
    for name in SUBPROCESS_CASES:
        out = tmp_path / name.replace(" ", "_")
        res = subprocess.run(
            [sys.executable, "-m", "synth_audit", *_argv(good, cases[name], out)],
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
            env=env,
            cwd=tmp_path,
        )
        failures += [f"{name}: {p}" for p in _check(res.returncode, res.stderr, cases[name], out)]
    assert not failures, "\n".join(failures)
