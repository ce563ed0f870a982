"""PET search: the search file, trials as stored runs, kill -9 and resume, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from synth_audit.errors import ConfigError
from synth_audit.executors import make_executor
from synth_audit.pet import load_search, run_search, search_from_mapping
from synth_audit.pet.search import trial_runs
from synth_audit.store import open_store
from synth_audit.study.spec import expand, study_from_mapping

ROOT = Path(__file__).resolve().parents[1]
RANDHIE = ROOT / "samples" / "randhie" / "population.csv"


def _raw(name: str = "pet", **search: Any) -> dict[str, Any]:
    return {
        "name": name,
        "seed": 3,
        "data": {"path": str(RANDHIE), "group_by": "person_id", "drop": ["person_id", "year"]},
        "split": {"train": 150, "control": 150, "reference": 150, "seed": 5},
        "singling_out": {"enabled": False},
        "linkability": {"enabled": False},
        "inference": {"enabled": False},
        "utility": {"metrics": ["marginals"]},
        "membership": {"attacks": ["dcr"]},
        "target": {"name": "leaky"},
        "search": {
            "trials": 4,
            "batch": 2,
            "seed": 11,
            "confirm_top": 1,
            "confirm_seeds": 2,
            "params": {"fraction": {"type": "float", "low": 0.0, "high": 1.0}},
            "objectives": [{"metric": "utility.score", "direction": "maximize"}],
            "constraint": {"metric": "worst", "stat": "ci_high", "max": 0.5},
            **search,
        },
    }


def _toml(raw: dict[str, Any]) -> str:
    """The mapping as TOML (the few shapes used here)."""

    def val(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {val(x)}" for k, x in v.items()) + " }"
        return repr(v)

    lines = [f"{k} = {val(v)}" for k, v in raw.items() if not isinstance(v, dict)]
    for k, v in raw.items():
        if isinstance(v, dict):
            lines.append(f"[{k}]")
            lines += [f"{kk} = {val(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


def test_the_shipped_search_file_loads() -> None:
    spec = load_search(ROOT / "samples" / "randhie" / "search.toml")
    assert spec.target.name == "privbayes" and "epsilon" in spec.search.params
    assert spec.search.sampler_name == "tpe" and spec.search.constraint is not None


def test_unknown_keys_and_bad_ranges_are_refused_with_their_place() -> None:
    raw = _raw()
    raw["search"] = {**raw["search"], "budget": 3}
    raw["search"]["params"] = {"fraction": {"type": "float", "low": 1.0, "high": 0.0}}
    raw["target"] = {"name": "leaky", "paramz": {}}
    with pytest.raises(ConfigError) as err:
        search_from_mapping(raw, source="Search file 'x.toml'")
    text = str(err.value)
    assert "x.toml" in text and "budget" in text and "paramz" in text and "low" in text
    raw = _raw()
    raw["search"]["params"] = {"nonsense": {"type": "int", "low": 1, "high": 3}}
    with pytest.raises(ConfigError, match="nonsense"):
        search_from_mapping(raw)


def test_a_trial_is_the_run_a_study_with_those_params_would_make() -> None:
    spec = search_from_mapping(_raw())
    study = study_from_mapping(
        {
            **{k: v for k, v in _raw().items() if k not in ("target", "search")},
            "generators": [{"name": "leaky", "params": {"fraction": 0.25}}],
        }
    )
    assert trial_runs(spec, {"fraction": 0.25}, 1)[0].run_key == expand(study)[0].run_key


def _store_done(path: Path, study: str) -> int:
    import sqlite3

    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=1) as con:
            row = con.execute(
                "select count(*) from runs where status = 'done' and study_id = ?", (study,)
            ).fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0])


@pytest.mark.slow
def test_kill_9_during_a_search_then_resume_runs_every_trial_once(tmp_path: Path) -> None:
    raw = _raw("killed")
    (tmp_path / "search.toml").write_text(_toml(raw), encoding="utf-8")
    db = tmp_path / "store.sqlite"
    cmd = [
        sys.executable,
        "-m",
        "synth_audit",
        "optimise",
        str(tmp_path / "search.toml"),
        "--executor",
        "inline",
        "--store",
        str(db),
        "--quiet",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _store_done(db, "killed") < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the search ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = open_store(db)
    before = {r.id: r for r in store.list_runs(study="killed") if r.status == "done"}
    assert len(before) >= 2
    res = subprocess.run(
        [*cmd, "--json", str(tmp_path / "resumed.json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert res.returncode == 0, res.stderr
    assert "Candidates near the front" in res.stdout and "trial" in res.stdout
    resumed = json.loads((tmp_path / "resumed.json").read_text())
    runs = store.list_runs(study="killed")
    # Every run exactly once (one row per key), all done; the ones done before the kill were reused
    # as they were, never executed again.
    assert len({r.run_key for r in runs}) == len(runs)
    assert all(r.status == "done" for r in runs)
    after = {r.id: r for r in runs}
    for rid, r in before.items():
        assert after[rid].started_at == r.started_at and after[rid].finished_at == r.finished_at
    trial_run_ids = [rid for t in resumed["trials"] for rid in t["run_ids"]]
    assert len(resumed["trials"]) == 4 and set(trial_run_ids) <= set(after)
    assert resumed["reused_runs"] >= len(before)
    # The same seeds without a kill: the same trials and the same recommendation.
    fresh_store = open_store(tmp_path / "fresh.sqlite")
    with make_executor("inline") as ex:
        fresh = run_search(search_from_mapping(raw), store=fresh_store, executor=ex).to_dict()
    assert [t["params"] for t in fresh["trials"]] == [t["params"] for t in resumed["trials"]]
    assert [t["values"] for t in fresh["trials"]] == [t["values"] for t in resumed["trials"]]
    assert fresh["recommendation"]["setting"] == resumed["recommendation"]["setting"]
    assert fresh["recommendation"]["why"] == resumed["recommendation"]["why"]
    assert resumed["recommendation"]["setting"] is not None
    # the trials are runs of a study: the frontier sees them
    from synth_audit.frontier import frontier_for_study

    assert len(frontier_for_study(store, "killed").points) == len(runs)


def test_optimise_reports_a_bad_search_file_with_exit_2_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from synth_audit.cli import main

    raw = _raw()
    raw["search"] = {**raw["search"], "trails": 3}
    (tmp_path / "search.toml").write_text(_toml(raw), encoding="utf-8")
    assert main(["optimise", str(tmp_path / "search.toml"), "--store", str(tmp_path / "s.db")]) == 2
    err = capsys.readouterr().err
    assert "trails" in err and "search.toml" in err and "Traceback" not in err
    assert main(["optimise", str(tmp_path / "missing.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_objectives_must_name_results_the_trials_record() -> None:
    raw = _raw()
    raw["search"] = {
        **raw["search"],
        "objectives": [{"metric": "utility.scor", "direction": "maximize"}],
    }
    with pytest.raises(ConfigError, match=r"utility\.scor.*utility\.score"):
        search_from_mapping(raw)


def test_start_points_must_give_every_searched_parameter_within_its_range() -> None:
    raw = _raw()
    raw["search"] = {**raw["search"], "start": [{"fraction": 2.0}]}
    with pytest.raises(ConfigError, match=r"start\[0\] fraction=2.0 is outside"):
        search_from_mapping(raw)
    raw["search"] = {**raw["search"], "start": [{"epsilon": 1.0}]}
    with pytest.raises(ConfigError, match="start"):
        search_from_mapping(raw)
    raw["search"] = {**raw["search"], "start": [{"fraction": 0.5}]}
    assert search_from_mapping(raw).search.start == [{"fraction": 0.5}]
