"""Issue 7 (items 17, 20, 21, 22): secrets off command lines, run id prefixes, `runs export` and
`runs requeue --force`, reused runs named, study files checked at load, run warnings off stderr.

Studies run inline on the shipped ``fair`` population with small sizes and the ``copy`` baseline
(about a second a run); stores are real SQLite files in ``tmp_path``; workers are real processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tomli_w

from synth_audit.cli import main
from synth_audit.errors import ConfigError, StoreError
from synth_audit.store import STORE_ENV, Store, make_run_key, open_store
from synth_audit.study import load_study

ROOT = Path(__file__).resolve().parents[1]
FAIR = ROOT / "samples" / "fair" / "population.csv"
PASSWORD = "s3cret-Pw"
PG_URL = f"postgresql+psycopg://alice:{PASSWORD}@127.0.0.1:1/results"

FAST: dict[str, Any] = {
    "singling_out": {"n_attacks": 50, "modes": ["univariate"]},
    "linkability": {"n_attacks": 100},
    "inference": {"secrets": ["affairs"], "n_attacks": 100},
    "utility": {"metrics": ["marginals"]},
    "membership": {"attacks": ["dcr"]},
}


def write_study(path: Path, **overrides: Any) -> Path:
    d: dict[str, Any] = {
        "name": "h",
        "seed": 7,
        "seeds": 1,
        "data": {"path": str(FAIR)},
        "split": {"train": 300, "control": 300, "reference": 300, "seed": 3},
        "generators": [{"name": "copy"}],
        **FAST,
    }
    d.update(overrides)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(d), encoding="utf-8")
    return path


def run_cli_inline(spec: Path, url: str) -> int:
    return main(["study", "run", str(spec), "--executor", "inline", "--store", url, "--quiet"])


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One study of two done runs (copy, independent_marginals), shared by read-only tests."""
    d = tmp_path_factory.mktemp("hardening")
    spec = write_study(
        d / "study.toml", generators=[{"name": "copy"}, {"name": "independent_marginals"}]
    )
    url = str(d / "store.sqlite")
    assert run_cli_inline(spec, url) == 0
    return {"dir": d, "spec": spec, "url": url, "store": open_store(url)}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


# --------------------------------------------------------------------------------------------------
# Item 17: the store URL (and its password) never on a command line, masked in every message
# --------------------------------------------------------------------------------------------------


def test_worker_launch_keeps_the_password_off_argv_and_out_of_its_messages() -> None:
    from synth_audit.cli.app import start_workers

    (proc,) = start_workers(
        1, store_url=PG_URL, env=_env(), poll_s=0.2, stderr=subprocess.PIPE, stdout=subprocess.PIPE
    )
    seen = ""
    try:
        deadline = time.monotonic() + 10  # read it while the worker starts (imports take a second)
        while " worker" not in seen and proc.poll() is None and time.monotonic() < deadline:
            seen = _cmdline(proc.pid)  # empty between fork and exec
            time.sleep(0.01)
    finally:
        _, err = proc.communicate(timeout=60)
    assert PASSWORD not in " ".join(map(str, proc.args)) and "--store" not in proc.args
    assert "worker" in seen and PASSWORD not in seen
    # The worker got the URL (it tried that server) and says so with the password masked.
    text = err.decode()
    assert proc.returncode == 2, text
    assert "alice:***@127.0.0.1:1/results" in text and PASSWORD not in text
    assert "Traceback" not in text


def _children_of(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_app_starts_workers_with_the_store_in_their_environment_not_on_argv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`synth-audit app` end to end, with a stand-in for the Streamlit server (a process that
    sleeps): the workers it starts are inspected through /proc while they run."""
    import synth_audit.cli.app as app_cli

    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    open_store(url).close()
    monkeypatch.setenv("PYTHONPATH", _env()["PYTHONPATH"])
    monkeypatch.setattr(app_cli, "app_entry", lambda: Path(__file__))
    monkeypatch.setattr(
        app_cli,
        "streamlit_command",
        lambda entry, **kw: [sys.executable, "-c", "import time; time.sleep(6)"],
    )
    found: dict[int, tuple[str, bytes]] = {}

    def watch() -> None:
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and not found:
            for pid in _children_of(os.getpid()):
                try:
                    cmd = _cmdline(pid)
                    env = Path(f"/proc/{pid}/environ").read_bytes()
                except OSError:
                    continue
                if " worker" in cmd:
                    found[pid] = (cmd, env)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    code = main(["app", "--store", url, "--port", "18573", "--workers", "1", "--poll", "0.2"])
    watcher.join()
    assert code == 0
    assert found, "no worker process was started"
    ((cmd, env),) = found.values()
    assert "--store" not in cmd and str(tmp_path) not in cmd
    assert f"{STORE_ENV}={url}".encode() in env.split(b"\0")
    assert "app.sqlite" in capsys.readouterr().out


def test_store_url_from_the_environment_wherever_store_is_accepted(
    done: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(STORE_ENV, done["url"])
    runs = done["store"].list_runs(study="h")
    assert main(["runs", "list"]) == 0
    out = capsys.readouterr().out
    assert all(r.id[:8] in out for r in runs)
    assert main(["study", "status", "h"]) == 0
    assert "2 runs: 0 queued, 0 running, 2 done" in capsys.readouterr().out
    assert main(["runs", "show", runs[0].id[:8]]) == 0
    # A password given as --store: the error masks it, and a note says to use the variable.
    assert main(["runs", "list", "--store", PG_URL]) == 2
    err = capsys.readouterr().err
    assert PASSWORD not in err and "alice:***@" in err
    assert f"${STORE_ENV}" in err and "process list" in err


def test_hints_that_repeat_the_store_never_print_a_password() -> None:
    from synth_audit.cli.study import store_option

    assert store_option(None) == ""
    assert store_option("/tmp/x.sqlite") == " --store /tmp/x.sqlite"
    hint = store_option(PG_URL)
    assert PASSWORD not in hint and f"${STORE_ENV}" in hint and "alice:***@" in hint


def test_sqlite_url_with_credentials_is_a_message_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://alice:{PASSWORD}@/{tmp_path}/x.sqlite"
    with pytest.raises(StoreError, match="user, password or host"):
        open_store(url)
    assert main(["runs", "list", "--store", url]) == 2
    err = capsys.readouterr().err
    assert PASSWORD not in err and "Traceback" not in err and "internal error" not in err


# --------------------------------------------------------------------------------------------------
# Item 20 (study parts)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frontier", "pattern"),
    [
        (
            {"risk": "nonexistent.metric"},
            r"\[frontier\] risk: 'nonexistent.metric' is not a result",
        ),
        ({"risk": "utility.score"}, r"\[frontier\] risk: 'utility.score' is a utility result"),
        ({"risk": "inference[income].risk"}, r"\[frontier\] risk: 'inference\[income\].risk'"),
        ({"utility": "utility.detection"}, r"\[frontier\] utility: 'utility.detection' is not"),
    ],
)
def test_frontier_names_are_checked_when_the_study_is_loaded(
    tmp_path: Path, frontier: dict[str, str], pattern: str
) -> None:
    with pytest.raises(ConfigError, match=pattern) as info:
        load_study(write_study(tmp_path / "s.toml", frontier=frontier))
    assert "'linkability.risk'" in str(info.value) or "'utility.marginals'" in str(info.value)


@pytest.mark.parametrize(
    "frontier",
    [
        {"risk": "worst", "utility": "utility.score"},
        {"risk": "membership.dcr.tpr_at_0.01_fpr", "utility": "utility.marginals"},
        {"risk": "inference[affairs].risk"},
        {"risk": "singling_out_univariate.risk"},
    ],
)
def test_frontier_names_the_runs_record_are_accepted(
    tmp_path: Path, frontier: dict[str, str]
) -> None:
    spec = load_study(write_study(tmp_path / "s.toml", frontier=frontier))
    assert spec.frontier.risk == frontier["risk"]


def test_a_bad_frontier_name_stops_study_run_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_study(tmp_path / "s.toml", frontier={"risk": "nonexistent.metric"})
    url = str(tmp_path / "store.sqlite")
    assert run_cli_inline(spec, url) == 2
    assert "nonexistent.metric" in capsys.readouterr().err
    assert open_store(url).list_runs() == []


def test_unreadable_or_directory_study_file_is_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_study(tmp_path / "s.toml")
    real = Path.read_text

    def denied(self: Path, *args: Any, **kwargs: Any) -> str:
        if self.name == "s.toml":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(Path, "read_text", denied)
        assert run_cli_inline(spec, str(tmp_path / "st.sqlite")) == 2
    err = capsys.readouterr().err
    assert "s.toml" in err and "permission denied" in err and "chmod" in err
    assert "internal error" not in err
    assert run_cli_inline(tmp_path, str(tmp_path / "st.sqlite")) == 2
    assert "is a directory" in capsys.readouterr().err


def test_corrupted_artefact_remedy_can_be_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_study(tmp_path / "s.toml")
    url = str(tmp_path / "store.sqlite")
    assert run_cli_inline(spec, url) == 0
    store = open_store(url)
    (run,) = store.list_runs(study="h")
    path = store.artefact_path(run.id, "synthetic")
    path.write_bytes(path.read_bytes()[:-10] + b"corrupted!")
    with pytest.raises(StoreError, match="SHA-256") as info:
        store.read_artefact(run.id, "synthetic")
    remedy = f"synth-audit runs requeue {run.id} --force"
    assert remedy in str(info.value)
    capsys.readouterr()
    # Without --force a done run is kept, and the message says how to go on.
    assert main(["runs", "requeue", run.id[:8], "--store", url]) == 2
    assert "--force" in capsys.readouterr().err
    assert store.get_run(run.id).status == "done"
    # The remedy as printed, then the study again.
    assert main([*remedy.split()[1:], "--store", url]) == 0
    assert "synth-audit study run STUDY.toml" in capsys.readouterr().out
    assert store.get_run(run.id).status == "queued"
    assert store.results_for(run.id) == [] and store.artefacts_for(run.id) == []
    assert run_cli_inline(spec, url) == 0
    assert "1 run(s) done now, 0 failed (" in capsys.readouterr().out
    again = store.get_run(run.id)
    assert again.status == "done" and again.seed == run.seed
    assert len(store.read_artefact(run.id, "synthetic")) == 300


def test_requeue_never_touches_a_running_run(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.sqlite"))
    store.ensure_study("x", {})
    rid = store.add_run(
        study="x",
        run_key=make_run_key(study="x", generator="copy", params={}, seed=1),
        generator="copy",
        params={},
        seed=1,
        code_version="t",
        status="running",
    )
    with pytest.raises(StoreError, match="running"):
        store.requeue_run(rid, force=True)
    assert store.get_run(rid).status == "running"


class _NoisyCopy:
    """The copy baseline, but numpy warns while it fits (as real generators' libraries do)."""

    def __new__(cls, **params: Any) -> Any:
        from generators.baselines import CopyGenerator

        class Noisy(CopyGenerator):
            name = "noisy_copy"

            def fit(self, train: pd.DataFrame, **kwargs: Any) -> Any:
                np.log(np.zeros(1))  # RuntimeWarning: divide by zero encountered in log
                return super().fit(train, **kwargs)

        return Noisy(**params)


def test_numpy_warnings_of_a_run_stay_off_stderr_and_are_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from generators import register_generator, unregister_generator

    register_generator("noisy_copy", _NoisyCopy)
    try:
        spec = write_study(tmp_path / "s.toml", generators=[{"name": "noisy_copy"}])
        url = str(tmp_path / "store.sqlite")
        with warnings.catch_warnings(record=True) as leaked:
            warnings.simplefilter("always")
            assert run_cli_inline(spec, url) == 0
    finally:
        unregister_generator("noisy_copy")
    assert [str(w.message) for w in leaked if w.category is RuntimeWarning] == []
    assert "RuntimeWarning" not in capsys.readouterr().err
    (run,) = open_store(url).list_runs(study="h")
    assert any(
        w.startswith("RuntimeWarning: divide by zero") for w in run.summary["python_warnings"]
    )


# --------------------------------------------------------------------------------------------------
# Item 21: run ids
# --------------------------------------------------------------------------------------------------


def _many_runs(store: Store, n: int, **kw: Any) -> list[str]:
    store.ensure_study("many", {})
    return [
        store.add_run(
            study="many",
            run_key=make_run_key(study="many", generator="copy", params={"i": i}, seed=i),
            generator="copy",
            params={"i": i, **kw},
            seed=i,
            code_version="t",
        )
        for i in range(n)
    ]


def test_run_id_prefixes_resolve_or_say_why_not(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.sqlite"))
    ids = _many_runs(store, 40)  # 40 ids over 16 first characters: some share one
    for rid in ids[:5]:
        assert store.resolve_run_id(rid) == rid
        assert store.resolve_run_id(rid[:8]) == rid
        assert store.resolve_run_id(rid[:8].upper()) == rid
    first = pd.Series([i[0] for i in ids]).value_counts()
    shared = str(first.index[0])
    with pytest.raises(StoreError, match="ambiguous") as info:
        store.resolve_run_id(shared)
    assert sum(i in str(info.value) for i in ids if i.startswith(shared)) == min(
        10, int(first.iloc[0])
    )
    for bad in (ids[0] + "0", "zz%_", "07a30c65-x"):
        with pytest.raises(StoreError, match="no run"):
            store.resolve_run_id(bad)
    with pytest.raises(StoreError, match="empty"):
        store.resolve_run_id("  ")


def test_runs_list_and_study_status_print_one_line_per_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(tmp_path / "s.sqlite")
    store = open_store(url)
    ids = _many_runs(store, 6, note="a long parameter value " * 6)
    for rid in ids[:3]:
        store.fail_run(rid, "a long error message that used to wrap over several lines " * 4)
    for args in (["runs", "list"], ["study", "status", "many"]):
        assert main([*args, "--store", url]) == 0
        lines = capsys.readouterr().out.splitlines()
        for rid in ids:
            hits = [line for line in lines if rid[:8] in line]
            assert len(hits) == 1, (rid, lines)
        rows = [line for line in lines if any(rid[:8] in line for rid in ids)]
        body = [line for line in lines if line.startswith("│")]  # the table's rows, wrapped or not
        assert len(rows) == len(ids) == len(body), lines
        assert all(len(line) <= 120 for line in lines)
        assert sum("failed" in r for r in rows) == 3


def test_runs_show_takes_the_id_the_app_shows(
    done: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    run = done["store"].list_runs(study="h")[0]
    assert main(["runs", "show", run.id[:8], "--store", done["url"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run"]["id"] == run.id


def test_runs_export_writes_a_stored_runs_report_files(
    done: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = next(r for r in done["store"].list_runs(study="h") if r.generator == "copy")
    out = tmp_path / "exported"
    assert main(["runs", "export", run.id[:8], "--out", str(out), "--store", done["url"]]) == 0
    for name in ("report.json", "report.html", "audit_card.md", "per_record.csv"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    report = json.loads((out / "report.json").read_text())
    stored = json.loads(done["store"].read_artefact(run.id, "report")["report_json"].iloc[0])
    assert report["seed"] == stored["seed"] and report["attacks"].keys() == stored["attacks"].keys()
    assert len(pd.read_csv(out / "per_record.csv")) > 0
    capsys.readouterr()
    before = (out / "report.json").stat().st_mtime_ns
    assert main(["runs", "export", run.id, "--out", str(out), "--store", done["url"]]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "report.json").stat().st_mtime_ns == before
    args = ["runs", "export", run.id, "--out", str(out), "--store", done["url"], "--overwrite"]
    assert main(args) == 0


def test_runs_export_of_a_run_without_report_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(tmp_path / "s.sqlite")
    (rid,) = _many_runs(open_store(url), 1)
    assert main(["runs", "export", rid[:8], "--out", str(tmp_path / "o"), "--store", url]) == 2
    err = capsys.readouterr().err
    assert "no stored report" in err and "queued" in err
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------------------------------
# The remedy for an older store names a command that exists
# --------------------------------------------------------------------------------------------------

_NEXT_REVISION = '''
"""Add a note to runs (test revision)."""

import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError
'''


def test_store_upgrade_command_follows_the_older_store_remedy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    import synth_audit.store._migrate as migrate

    url = str(tmp_path / "old.sqlite")
    open_store(url).close()  # at the shipped revision: older than the "next" synth-audit's
    nxt = tmp_path / "migrations_next"
    shutil.copytree(migrate.MIGRATIONS_DIR, nxt, ignore=shutil.ignore_patterns("__pycache__"))
    (nxt / "versions" / "0099_note.py").write_text(
        _NEXT_REVISION.replace("{head}", migrate.SCHEMA_REVISION)
    )
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", nxt)
    assert main(["runs", "list", "--store", url]) == 2
    err = capsys.readouterr().err
    remedy = f"synth-audit store upgrade --store sqlite:///{tmp_path / 'old.sqlite'}"
    assert remedy in err
    assert main(remedy.split()[1:]) == 0
    assert f"from schema revision '{migrate.SCHEMA_REVISION}' to '0099'" in capsys.readouterr().out
    assert main(["runs", "list", "--store", url]) == 0
    assert main(["store", "upgrade", "--store", url]) == 0
    assert "already" in capsys.readouterr().out


def test_the_names_checked_at_load_are_the_names_runs_record(done: dict[str, Any]) -> None:
    """The load-time check and the runner must agree: every result a run recorded is known."""
    from synth_audit.study.spec import result_names

    spec = load_study(done["spec"])
    columns = [str(c) for c in pd.read_csv(FAIR, nrows=1).columns]
    risks, utility = result_names(spec, columns)
    store = done["store"]
    recorded = {r.metric for run in store.list_runs(study="h") for r in store.results_for(run.id)}
    assert recorded and recorded <= set(risks) | set(utility), recorded - set(risks) - set(utility)
