"""Studies: the spec (validation, expansion, split), running and resuming, and the CLI commands.

Studies here run on the shipped ``fair`` population with small sizes and the cheap baseline
generators, so every run takes about a second; the stores are real SQLite files in ``tmp_path``.
The resumption test kills real ``python -m synth_audit study run`` processes mid-way (SIGTERM,
then SIGKILL of the main process only) and checks that every run ends up recorded exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
import tomli_w

from synth_audit.cli import main
from synth_audit.errors import ConfigError, StoreError
from synth_audit.executors import make_executor
from synth_audit.store import Store, make_run_key, open_store
from synth_audit.study import child_seed, expand, load_study, load_study_data, run_study
from synth_audit.study.spec import StudySpec

ROOT = Path(__file__).resolve().parents[1]
FAIR = ROOT / "samples" / "fair" / "population.csv"
SUBPROCESS_TIMEOUT_S = 120

FAST: dict[str, Any] = {
    "singling_out": {"n_attacks": 50, "modes": ["univariate"]},
    "linkability": {"n_attacks": 100},
    "inference": {"secrets": ["affairs"], "n_attacks": 100},
    "utility": {"metrics": ["marginals"]},
    "membership": {"attacks": ["dcr"]},
}
BASELINES = [{"name": "copy"}, {"name": "independent_marginals"}]


def study_dict(name: str = "t", **overrides: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": name,
        "seed": 7,
        "seeds": 2,
        "data": {"path": str(FAIR)},
        "split": {"train": 300, "control": 300, "reference": 300, "seed": 3},
        "generators": BASELINES,
        **FAST,
    }
    d.update(overrides)
    return d


def write_study(path: Path, **overrides: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(study_dict(**overrides)), encoding="utf-8")
    return path


def run_inline(spec: StudySpec, store: Store, **kwargs: Any) -> Any:
    with make_executor("inline") as ex:
        return run_study(spec, store=store, executor=ex, **kwargs)


# --------------------------------------------------------------------------------------------------
# Spec
# --------------------------------------------------------------------------------------------------


def test_every_problem_is_reported_at_once_with_its_location(tmp_path: Path) -> None:
    text = f"""
name = "t"
[data]
path = "{FAIR}"
[split]
train = 300
control = 300
reference = 300
trian = 10
[[generators]]
name = "ctgn"
[[generators]]
name = "ctgan"
params = {{ epochs = 0 }}
[singling_out]
n_atacks = 5
"""
    p = tmp_path / "study.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_study(p)
    msg = str(info.value)
    assert "has 4 problems" in msg
    assert "[split] trian: unknown key" in msg
    assert "[singling_out] n_atacks: unknown key" in msg
    assert "[generators.0] ctgn: Unknown generator 'ctgn'. Did you mean 'ctgan'?" in msg
    assert (
        "[generators.1] ctgan: The 'epochs' parameter of CTGANGenerator must be an int >= 1" in msg
    )


def test_data_problems_name_the_table_and_column(tmp_path: Path) -> None:
    p = write_study(
        tmp_path / "s.toml",
        data={"path": str(FAIR), "group_by": "person", "drop": ["year"]},
        split={"train": 5000, "control": 5000, "reference": 0},
        inference={"secrets": ["secret_col"]},
    )
    with pytest.raises(ConfigError) as info:
        load_study(p)
    msg = str(info.value)
    assert "[data] group_by: column 'person' is not in population.csv" in msg
    assert "[data] drop: column(s) 'year' are not in population.csv" in msg
    assert "[inference] secrets: column(s) 'secret_col'" in msg
    assert "[split] reference: the membership attacks need" in msg
    assert "train + control + reference = 10000, but population.csv has 6366 rows" in msg


def test_missing_data_file_is_reported_beside_schema_problems(tmp_path: Path) -> None:
    p = write_study(tmp_path / "s.toml", data={"path": "nope.csv"}, seeds=0)
    with pytest.raises(ConfigError) as info:
        load_study(p)
    msg = str(info.value)
    assert "seeds:" in msg and "[data] path" in msg and "nope.csv" in msg


def test_data_path_is_relative_to_the_toml(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    pd.read_csv(FAIR).head(1200).to_csv(tmp_path / "sub" / "pop.csv", index=False)
    p = write_study(tmp_path / "sub" / "study.toml", data={"path": "pop.csv"})
    spec = load_study(p)
    assert Path(spec.data.path) == (tmp_path / "sub" / "pop.csv").resolve()


def test_expansion_is_deterministic_and_seeds_extend(tmp_path: Path) -> None:
    grid = {
        "name": "ctgan",
        "params": {"epochs": 1},
        "grid": {"batch_size": [100, 200, 300], "pac": [1, 2]},
    }
    spec = load_study(write_study(tmp_path / "a.toml", generators=[*BASELINES, grid]))
    runs = expand(spec)
    assert [r.to_dict() for r in runs] == [
        r.to_dict() for r in expand(load_study(tmp_path / "a.toml"))
    ]
    assert len(runs) == (2 + 3 * 2) * 2
    assert len({r.run_key for r in runs}) == len(runs)
    ctgan = [r for r in runs if r.generator == "ctgan" and r.seed_index == 0]
    assert [(r.params["batch_size"], r.params["pac"]) for r in ctgan] == [
        (100, 1),
        (100, 2),
        (200, 1),
        (200, 2),
        (300, 1),
        (300, 2),
    ]
    assert all(r.params["epochs"] == 1 for r in ctgan)
    seeds = [child_seed(7, i) for i in range(2)]
    assert seeds[0] != seeds[1]
    assert {r.seed for r in runs} == set(seeds)
    # Seeds come from SeedSequence(7).spawn: child i does not depend on how many there are.
    expected = int(np.random.SeedSequence(7).spawn(2)[1].generate_state(1)[0])
    assert seeds[1] == expected
    more = expand(
        load_study(write_study(tmp_path / "b.toml", seeds=3, generators=[*BASELINES, grid]))
    )
    assert {r.run_key for r in runs} < {r.run_key for r in more}
    r0 = runs[0]
    assert r0.run_key == make_run_key(
        study="t", generator=r0.generator, params=r0.params, seed=r0.seed
    )


def test_duplicate_configurations_are_refused(tmp_path: Path) -> None:
    gens = [
        {"name": "leaky", "grid": {"fraction": [0.0, 0.5]}},
        {"name": "leaky", "params": {"fraction": 0.5}},
    ]
    with pytest.raises(
        ConfigError,
        match=r"\[generators.1\] leaky: the configuration .* already given by \[generators.0\]",
    ):
        load_study(write_study(tmp_path / "s.toml", generators=gens))


def _panel(n_persons: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for pid in range(n_persons):
        for year in range(1, int(rng.integers(1, 4)) + 1):
            rows.append(
                {
                    "pid": f"p{pid:05d}",
                    "year": year,
                    "age": int(rng.integers(18, 80)),
                    "income": float(rng.normal(30_000, 8_000)),
                    "sex": str(rng.choice(["f", "m"])),
                    "health": str(rng.choice(["good", "fair", "poor"])),
                }
            )
    return pd.DataFrame(rows)


def test_split_keeps_one_row_per_group_and_drops_columns(tmp_path: Path) -> None:
    pop = _panel(1000)
    pop.to_csv(tmp_path / "panel.csv", index=False)
    data_cfg = {"path": "panel.csv", "group_by": "pid", "drop": ["year"]}
    spec = load_study(
        write_study(
            tmp_path / "s.toml",
            data=data_cfg,
            split={"train": 300, "control": 300, "reference": 200, "holdout": 150, "seed": 1},
            inference={"secrets": ["health"]},
        )
    )
    data = load_study_data(spec)
    parts = {k: getattr(data, k) for k in ("train", "control", "reference", "holdout")}
    assert {k: len(v) for k, v in parts.items()} == {
        "train": 300,
        "control": 300,
        "reference": 200,
        "holdout": 150,
    }
    ids = {k: set(v["pid"]) for k, v in parts.items()}
    for _k, v in parts.items():
        assert "year" not in v.columns
        assert v["pid"].is_unique  # one row per person
    names = list(ids)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not ids[a] & ids[b], f"{a} and {b} share persons"
    # Deterministic under the split seed, different under another one.
    again = load_study_data(load_study(tmp_path / "s.toml"))
    assert again.fingerprints == data.fingerprints
    other = load_study_data(
        load_study(
            write_study(
                tmp_path / "s2.toml",
                data=data_cfg,
                split={"train": 300, "control": 300, "reference": 200, "seed": 2},
                inference={"secrets": ["health"]},
            )
        )
    )
    assert other.fingerprints["train"]["sha256"] != data.fingerprints["train"]["sha256"]
    assert len(other.holdout) == 1000 - 800  # all remaining persons by default


# --------------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------------

EXPECTED_METRICS = {
    "singling_out_univariate.risk",
    "linkability.risk",
    "inference[affairs].risk",
    "diagnostics.dcr.share_closer_to_train",
    "utility.marginals",
    "utility.score",
    "membership.dcr.auc",
    "membership.dcr.tpr_at_0.01_fpr",
    "membership.dcr.epsilon_lb",
}


@pytest.fixture(scope="module")
def done_study(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A two-generator, two-seed study run inline once (shared by the read-only tests)."""
    d = tmp_path_factory.mktemp("study")
    spec = load_study(write_study(d / "study.toml", name="shared"))
    store = open_store(str(d / "store.sqlite"))
    outcome = run_inline(spec, store)
    return {
        "dir": d,
        "spec": spec,
        "store": store,
        "outcome": outcome,
        "url": str(d / "store.sqlite"),
    }


def test_run_study_records_every_run_with_results_and_artefacts(done_study: dict[str, Any]) -> None:
    spec, store, outcome = done_study["spec"], done_study["store"], done_study["outcome"]
    assert outcome.complete and not outcome.failed and outcome.already_done == 0
    runs = store.list_runs(study="shared")
    assert len(runs) == 4 == len({r.run_key for r in runs})
    assert {r.run_key for r in runs} == {r.run_key for r in expand(spec)}
    for run in runs:
        assert run.status == "done"
        assert run.code_version.startswith("synth-audit ")
        assert {"train", "control", "reference", "holdout", "source"} <= set(run.data_fingerprints)
        metrics = {r.metric for r in store.results_for(run.id)}
        assert metrics >= EXPECTED_METRICS
        s = run.summary
        assert s["risk"] is not None and s["utility"] is not None
        assert s["risk_ci_low"] <= s["risk"] <= s["risk_ci_high"]
        assert set(s["seeds"]) == {"fit", "sample", "audit", "membership", "shadow"}
        assert s["seed_index"] in (0, 1)
        kinds = {a.kind for a in store.artefacts_for(run.id)}
        assert kinds == {"synthetic", "per_record", "membership_exposed", "report"}
        synthetic = store.read_artefact(run.id, "synthetic")
        assert len(synthetic) == 300
        report = json.loads(store.read_artefact(run.id, "report")["report_json"].iloc[0])
        assert report["seed"] == s["seeds"]["audit"]
    copy = [r for r in runs if r.generator == "copy"]
    marg = [r for r in runs if r.generator == "independent_marginals"]
    # Calibration: releasing the training data is far riskier than breaking every dependence.
    assert min(r.summary["risk"] for r in copy) > 0.9
    assert max(r.summary["risk"] for r in copy) > max(r.summary["risk"] for r in marg)


def test_rerun_skips_done_runs(done_study: dict[str, Any]) -> None:
    spec, store = done_study["spec"], done_study["store"]
    before = {r.id: r.finished_at for r in store.list_runs(study="shared")}
    outcome = run_inline(spec, store)
    assert outcome.already_done == 4 and outcome.done == [] and outcome.complete
    assert {r.id: r.finished_at for r in store.list_runs(study="shared")} == before


def test_adding_seeds_keeps_runs_but_changing_the_evaluation_is_refused(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "store.sqlite"))
    one = load_study(write_study(tmp_path / "a.toml", seeds=1, generators=[{"name": "copy"}]))
    run_inline(one, store)
    first = store.list_runs(study="t")[0]
    two = load_study(write_study(tmp_path / "b.toml", seeds=2, generators=[{"name": "copy"}]))
    out = run_inline(two, store)
    assert out.already_done == 1 and len(out.done) == 1
    assert store.get_run(first.id).finished_at == first.finished_at
    other = load_study(
        write_study(
            tmp_path / "c.toml",
            generators=[{"name": "copy"}],
            split={"train": 300, "control": 300, "reference": 300, "seed": 4},
        )
    )
    with pytest.raises(ConfigError, match="different settings for split"):
        run_inline(other, store)


def test_changed_data_file_is_refused(tmp_path: Path) -> None:
    pop = pd.read_csv(FAIR)
    pop.to_csv(tmp_path / "pop.csv", index=False)
    spec = load_study(
        write_study(
            tmp_path / "s.toml", data={"path": "pop.csv"}, seeds=1, generators=[{"name": "copy"}]
        )
    )
    store = open_store(str(tmp_path / "store.sqlite"))
    run_inline(spec, store)
    pop.assign(affairs=pop["affairs"] + 1.0).to_csv(tmp_path / "pop.csv", index=False)
    with pytest.raises(ConfigError, match="data of study 't' changed"):
        run_inline(load_study(tmp_path / "s.toml"), store)


class _Boom:
    """A generator whose library fails while fitting."""

    name = "boom"
    needs_holdout = False
    calls: ClassVar[int] = 0

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {}

    def set_params(self, **params: Any) -> _Boom:
        return self

    def fit(self, train: Any, **kwargs: Any) -> _Boom:
        from generators import GeneratorFitError

        _Boom.calls += 1
        raise GeneratorFitError("Generator 'boom' failed to fit: RuntimeError: out of luck.")

    def sample(self, n: int, *, random_state: int | None = None) -> pd.DataFrame:
        raise AssertionError("never fitted")


def test_a_failing_generator_is_recorded_and_the_study_goes_on(tmp_path: Path) -> None:
    from generators import register_generator, unregister_generator

    register_generator("boom", _Boom)
    try:
        spec = load_study(
            write_study(
                tmp_path / "s.toml", seeds=1, generators=[{"name": "boom"}, {"name": "copy"}]
            )
        )
        store = open_store(str(tmp_path / "store.sqlite"))
        out = run_inline(spec, store)
        assert len(out.done) == 1 and len(out.failed) == 1 and not out.complete
        ((failed_id, error),) = out.failed.items()
        assert "boom" in error and "out of luck" in error
        assert store.get_run(failed_id).status == "failed"
        # A re-run retries the failed run (once), and leaves the done one alone.
        calls = _Boom.calls
        again = run_inline(spec, store)
        assert _Boom.calls == calls + 1
        assert failed_id in again.requeued and again.already_done == 1
        kept = run_inline(spec, store, retry_failed=False)
        assert _Boom.calls == calls + 1 and failed_id in kept.failed
    finally:
        unregister_generator("boom")


def test_leaky_releases_holdout_records_never_control_or_reference(tmp_path: Path) -> None:
    pop = _panel(1500, seed=4).drop_duplicates("pid").drop(columns=["pid", "year"])
    pop.to_csv(tmp_path / "pop.csv", index=False)  # income is continuous: every row is unique
    spec = load_study(
        write_study(
            tmp_path / "s.toml",
            data={"path": "pop.csv"},
            seeds=1,
            generators=[{"name": "leaky", "params": {"fraction": 0.0}}],
            inference={"secrets": ["health"]},
        )
    )
    store = open_store(str(tmp_path / "store.sqlite"))
    out = run_inline(spec, store)
    assert out.complete, out.failed
    data = load_study_data(spec)
    released = set(store.read_artefact(out.done[0], "synthetic")["income"].round(6))
    assert released <= set(data.holdout["income"].round(6))
    for part in ("train", "control", "reference"):
        assert not released & set(getattr(data, part)["income"].round(6)), part


# --------------------------------------------------------------------------------------------------
# Resumption: real processes, real signals
# --------------------------------------------------------------------------------------------------


def _study_cmd(spec: Path, store: Path) -> list[str]:
    return [
        sys.executable, "-m", "synth_audit", "study", "run", str(spec),
        "--store", str(store), "--executor", "local", "--workers", "1", "--quiet",
    ]  # fmt: skip


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _wait_for_done(store_path: Path, study: str, n: int, proc: subprocess.Popen[bytes]) -> Store:
    deadline = time.monotonic() + SUBPROCESS_TIMEOUT_S
    store: Store | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(
                f"the study finished (rc {proc.returncode}) before it could be killed:\n{out}"
            )
        if store is None and store_path.exists():
            try:
                store = open_store(str(store_path))
            except StoreError:
                store = None  # the subprocess is still creating it
        if store is not None:
            try:
                if store.status_counts(study)["done"] >= n:
                    return store
            except StoreError:
                pass
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"fewer than {n} runs were done after {SUBPROCESS_TIMEOUT_S} s")


def _pid_gone(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_killed_study_resumes_and_records_every_run_exactly_once(tmp_path: Path) -> None:
    gens = [
        {"name": "copy"},
        {"name": "independent_marginals"},
        {"name": "leaky", "grid": {"fraction": [0.0, 0.5]}},
    ]
    spec_path = write_study(tmp_path / "study.toml", name="resume", generators=gens)
    store_path = tmp_path / "store.sqlite"
    n_runs = len(expand(load_study(spec_path)))
    assert n_runs == 8

    # 1. SIGTERM after the first run is done: the CLI stops its workers and exits 130.
    proc = subprocess.Popen(
        _study_cmd(spec_path, store_path),
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    store = _wait_for_done(store_path, "resume", 1, proc)
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=SUBPROCESS_TIMEOUT_S)[0].decode()
    assert proc.returncode == 130, out
    assert "Run the same command again to resume" in out
    first = store.status_counts("resume")
    assert 1 <= first["done"] < n_runs

    # 2. Resume, then SIGKILL the main process only: its pool worker must notice and exit.
    done_before = {r.id: r.finished_at for r in store.list_runs(study="resume", status="done")}
    proc = subprocess.Popen(
        _study_cmd(spec_path, store_path),
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    _wait_for_done(store_path, "resume", first["done"] + 1, proc)
    proc.kill()
    proc.communicate(timeout=30)
    second = [r for r in store.list_runs(study="resume", status="done") if r.id not in done_before]
    pool_workers = {int(r.summary["worker"].rsplit(":", 1)[1]) for r in second}
    assert pool_workers and os.getpid() not in pool_workers
    for pid in pool_workers:
        assert _pid_gone(pid), "an orphaned pool worker survived its killed study process"
    assert store.status_counts("resume")["done"] < n_runs

    # 3. Run to completion.
    done_before.update(
        {r.id: r.finished_at for r in store.list_runs(study="resume", status="done")}
    )
    res = subprocess.run(
        _study_cmd(spec_path, store_path),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
    )
    assert res.returncode == 0, res.stdout + res.stderr

    runs = store.list_runs(study="resume")
    assert len(runs) == n_runs
    assert len({r.run_key for r in runs}) == n_runs
    assert {r.run_key for r in runs} == {r.run_key for r in expand(load_study(spec_path))}
    assert all(r.status == "done" for r in runs)
    metric_sets = {frozenset(x.metric for x in store.results_for(r.id)) for r in runs}
    assert len(metric_sets) == 1 and next(iter(metric_sets)) >= EXPECTED_METRICS
    # Runs done before a kill were not executed again.
    for run_id, finished in done_before.items():
        assert store.get_run(run_id).finished_at == finished


# --------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------


def test_cli_study_status_runs_and_frontier(
    done_study: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    url = done_study["url"]
    store = done_study["store"]
    runs = store.list_runs(study="shared")

    assert main(["study", "status", "shared", "--store", url]) == 0
    out = capsys.readouterr().out
    assert "4 runs: 0 queued, 0 running, 4 done, 0 failed" in out
    assert "independent_marginals" in out

    assert main(["study", "status", "shared", "--store", url, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["counts"] == {"queued": 0, "running": 0, "done": 4, "failed": 0}

    assert main(["runs", "list", "--store", url]) == 0
    out = capsys.readouterr().out
    # Short ids, never cut with an ellipsis: each is a unique prefix that `runs show` accepts.
    assert all(r.id[:8] in out for r in runs) and "…" not in out

    assert main(["runs", "list", "--store", url, "--generator", "copy", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["generator"] for r in listed} == {"copy"} and len(listed) == 2

    assert main(["runs", "show", runs[0].id, "--store", url]) == 0
    out = capsys.readouterr().out
    assert "linkability.risk" in out and "membership.dcr.auc" in out
    assert "synthetic" in out and "per_record" in out
    assert main(["runs", "show", runs[0].id[:8], "--store", url]) == 0
    assert runs[0].id in capsys.readouterr().out

    html = done_study["dir"] / "out" / "frontier.html"
    assert main(["frontier", "shared", "--out", str(html), "--store", url]) == 0
    out = capsys.readouterr().out
    assert "on the front" in out and str(html) in out
    assert (
        html.is_file()
        and html.with_suffix(".json").is_file()
        and html.with_suffix(".vl.json").is_file()
    )
    data = json.loads(html.with_suffix(".json").read_text())
    assert {p["run_id"] for p in data["points"]} == {r.id for r in runs}
    assert data["front"]

    assert (
        main(
            [
                "frontier",
                "shared",
                "--out",
                str(html),
                "--store",
                url,
                "--risk",
                "membership.dcr.tpr_at_0.01_fpr",
            ]
        )
        == 0
    )
    assert "membership.dcr.tpr_at_0.01_fpr" in capsys.readouterr().out


def test_cli_errors_are_messages_not_tracebacks(
    done_study: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    url = done_study["url"]
    assert main(["study", "status", "nope", "--store", url]) == 2
    err = capsys.readouterr().err
    assert "There is no study 'nope'" in err and "Traceback" not in err
    assert main(["runs", "show", "0" * 32, "--store", url]) == 2
    assert "no run" in capsys.readouterr().err
    assert main(["frontier", "shared", "--out", "x.html", "--store", url, "--risk", "made.up"]) == 2
    assert "made.up" in capsys.readouterr().err
    assert main(["study", "run", "missing.toml", "--store", url]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert (
        main(["study", "run", str(done_study["dir"] / "study.toml"), "--executor", "ray://x"]) == 2
    )
    assert "Unknown executor" in capsys.readouterr().err


def test_cli_study_run_inline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_study(tmp_path / "s.toml", name="cli", seeds=1, generators=[{"name": "copy"}])
    url = str(tmp_path / "store.sqlite")
    assert main(["study", "run", str(spec), "--executor", "inline", "--store", url, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "1 run(s) done now, 0 failed (" in out and "reused" not in out
    assert "synth-audit frontier cli --out frontier.html" in out
    assert main(["study", "run", str(spec), "--executor", "inline", "--store", url, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "0 run(s) done now, 0 failed, 1 already done, reused (" in out
    (run,) = open_store(url).list_runs(study="cli")
    assert f"Already done, reused (not run again): {run.id[:8]} copy" in out


def test_worker_executes_queued_runs(tmp_path: Path) -> None:
    from synth_audit.cli.worker import work
    from synth_audit.study.runner import code_version

    spec = load_study(
        write_study(tmp_path / "s.toml", name="w", seeds=1, generators=[{"name": "copy"}])
    )
    store = open_store(str(tmp_path / "store.sqlite"))
    store.ensure_study(spec.name, spec.to_dict())
    data = load_study_data(spec)
    (r,) = expand(spec)
    run_id = store.add_run(
        study=spec.name,
        run_key=r.run_key,
        generator=r.generator,
        params=r.params,
        seed=r.seed,
        code_version=code_version(),
        data_fingerprints={k: dict(v) for k, v in data.fingerprints.items()},
    )
    seen: list[dict[str, Any]] = []
    assert work(store, once=True, on_result=lambda run, res: seen.append(res)) == 1
    assert seen[0]["status"] == "done" and store.get_run(run_id).status == "done"
    assert work(store, once=True) == 0


def test_shadow_modelling_is_recorded_as_a_membership_attack(tmp_path: Path) -> None:
    pytest.importorskip("synth_audit.membership.shadow")
    shadow = {
        "n_targets": 2,
        "n_shadow": 4,
        "n_eval": 2,
        "train_size": 100,
        "classifier": "logistic",
    }
    spec = load_study(
        write_study(
            tmp_path / "s.toml",
            seeds=1,
            generators=[{"name": "copy"}],
            membership={"attacks": [], "shadow": shadow},
        )
    )
    store = open_store(str(tmp_path / "store.sqlite"))
    out = run_inline(spec, store)
    assert out.complete, out.failed
    rows = {r.metric: r for r in store.results_for(out.done[0])}
    assert rows["membership.shadow.auc"].n == 2 * 2  # targets x evaluation releases
    assert "membership.dcr.auc" not in rows
    assert "membership.shadow.tpr_at_0.01_fpr" in rows


def test_shadow_train_size_must_fit_the_reference(tmp_path: Path) -> None:
    p = write_study(tmp_path / "s.toml", membership={"shadow": {"train_size": 200}})
    with pytest.raises(ConfigError, match=r"\[membership.shadow\] train_size: .* 150 per half"):
        load_study(p)


@pytest.mark.parametrize("sample", ["randhie", "fair"])
def test_sample_studies_load(sample: str) -> None:
    spec = load_study(ROOT / "samples" / sample / "study.toml")
    runs = expand(spec)
    assert len(runs) >= 8 and len({r.run_key for r in runs}) == len(runs)
    data = load_study_data(spec)
    assert len(data.train) == spec.split.train and "person_id" not in data.train.columns
