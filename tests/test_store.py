"""Tests of the result store on real SQLite files (and PostgreSQL when one is reachable).

PostgreSQL: set ``SYNTH_AUDIT_TEST_PG_URL`` (e.g. ``postgresql+psycopg://postgres@localhost:5432/
synth_audit_test``); each test works in a schema of its own, dropped afterwards. Without the variable,
or without a reachable server, the ``postgres`` tests are skipped with the reason.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from synth_audit.errors import StoreError
from synth_audit.store import (
    MIGRATIONS_DIR,
    SCHEMA_REVISION,
    ArtefactRow,
    ResultRow,
    ResultStore,
    Store,
    make_run_key,
    open_store,
    upgrade_store,
)

PG_ENV = "SYNTH_AUDIT_TEST_PG_URL"
SUBPROCESS_TIMEOUT_S = 120


# --------------------------------------------------------------------------- fixtures and helpers
@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema (dropped afterwards), or a skip."""
    raw = os.environ.get(PG_ENV)
    if not raw:
        pytest.skip(
            f"{PG_ENV} is not set; set it to a PostgreSQL URL such as "
            "postgresql+psycopg://postgres@localhost:5432/synth_audit_test to run this test"
        )
    pytest.importorskip("psycopg", reason="psycopg (psycopg[binary]) is not installed")
    url = make_url(raw)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL at {url.render_as_string()} is unreachable: {exc.orig}")
    try:
        scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'db' / 'store.sqlite'}"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    yield s
    s.close()


def _add(
    store: Store, study: str = "s", seed: int = 0, generator: str = "gc", **params: object
) -> str:
    key = make_run_key(study=study, generator=generator, params=params, seed=seed)
    return store.add_run(
        study=study,
        run_key=key,
        generator=generator,
        params=params,
        seed=seed,
        code_version="1.0",
        data_fingerprints={"train": "abc"},
    )


def _run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        check=False,
    )


def _check(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"subprocess failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


RESULTS = [
    ResultRow(
        "linkability.risk",
        0.125,
        ci_low=0.0,
        ci_high=0.3,
        confidence_level=0.95,
        n=40,
        counts={"attack": 9, "control": 4},
        extra={"baseline": 0.05},
    ),
    ResultRow("utility.tstr_auc", 0.81, n=200),
    ResultRow("singling_out.risk", float("nan")),
]


# --------------------------------------------------------------------------- round trips
def test_round_trip_of_runs_results_and_artefacts(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url, workspace=tmp_path / "ws")
    store.ensure_study("s", {"dataset": "adult", "seeds": [0, 1]})
    run_id = _add(store, lr=0.01, epochs=3)
    run = store.get_run(run_id)
    assert run.status == "queued"
    assert run.params == {"epochs": 3, "lr": 0.01}
    assert run.data_fingerprints == {"train": "abc"}
    assert run.created_at.utcoffset() == timedelta(0)

    claimed = store.claim_run("w1")
    assert claimed is not None and claimed.id == run_id and claimed.status == "running"
    assert claimed.worker_id == "w1" and claimed.heartbeat_at is not None
    store.heartbeat(run_id, progress=0.5, message="fitting")
    mid = store.get_run(run_id)
    assert (mid.progress, mid.progress_message) == (0.5, "fitting")

    frame = pd.DataFrame({"age": [30, 41, 52], "city": ["a", "b", None]})
    art = store.write_artefact(run_id, "synthetic", frame)
    assert art.path == f"{run_id}/synthetic.parquet" and art.n_rows == 3
    assert (store.artefact_root / art.path).is_file()
    store.finish_run(
        run_id, results=RESULTS, summary={"risk": 0.125, "utility": 0.81}, artefacts=[art]
    )

    done = store.get_run(run_id)
    assert done.status == "done" and done.summary == {"risk": 0.125, "utility": 0.81}
    assert done.finished_at is not None and done.finished_at >= done.started_at  # type: ignore[operator]
    got = {r.metric: r for r in store.results_for(run_id)}
    assert got["linkability.risk"] == RESULTS[0]
    assert got["utility.tstr_auc"] == RESULTS[1]
    assert got["singling_out.risk"].value is None  # NaN is stored as NULL on every backend
    assert store.artefacts_for(run_id) == [art]
    pd.testing.assert_frame_equal(store.read_artefact(run_id, "synthetic"), frame)

    table = store.results_for_study("s")
    assert len(table) == 3
    assert set(table["metric"]) == {"linkability.risk", "utility.tstr_auc", "singling_out.risk"}
    assert (table["run_id"] == run_id).all() and (table["param.lr"] == 0.01).all()
    assert store.status_counts("s") == {"queued": 0, "running": 0, "done": 1, "failed": 0}
    assert [s.name for s in store.list_studies()] == ["s"]
    assert store.claim_run("w1") is None
    store.close()


def test_add_run_is_idempotent_on_study_and_key(store: Store) -> None:
    store.ensure_study("s", {"v": 1})
    first = _add(store, seed=1, depth=2)
    assert _add(store, seed=1, depth=2) == first
    assert store.count_runs(study="s") == 1
    second = _add(store, seed=2, depth=2)
    assert second != first and store.count_runs() == 2
    # The same key in another study is another run.
    store.ensure_study("t", {"v": 1})
    key = make_run_key(study="s", generator="gc", params={"depth": 2}, seed=1)
    other = store.add_run(
        study="t", run_key=key, generator="gc", params={"depth": 2}, seed=1, code_version="1"
    )
    assert other != first
    # A key reused for different content is refused rather than silently aliased.
    with pytest.raises(StoreError, match="already stored for generator 'gc', seed 1"):
        store.add_run(
            study="s", run_key=key, generator="gc", params={"depth": 3}, seed=1, code_version="1"
        )
    with pytest.raises(StoreError, match=r"no study 'nope'.*ensure_study"):
        _add(store, study="nope")


def test_list_and_count_filters_and_order(store: Store) -> None:
    store.ensure_study("s", {})
    ids = [_add(store, seed=i, generator="ctgan" if i % 2 else "gc") for i in range(5)]
    assert [r.id for r in store.list_runs(study="s")] == ids
    assert [r.id for r in store.list_runs(generator="ctgan")] == [ids[1], ids[3]]
    assert [r.id for r in store.list_runs(limit=2, offset=1)] == ids[1:3]
    store.start_run(ids[0], "w")
    store.fail_run(ids[0], "boom")
    assert store.count_runs(status="failed") == 1
    assert store.count_runs(status=["failed", "queued"]) == 5
    assert store.status_counts("s") == {"queued": 4, "running": 0, "done": 0, "failed": 1}
    with pytest.raises(StoreError, match=r"'status' parameter of Store\.list_runs"):
        store.list_runs(status="finished")  # type: ignore[arg-type]


def test_results_are_unique_per_run_and_metric(store: Store, tmp_path: Path) -> None:
    store.ensure_study("s", {})
    run_id = _add(store)
    store.start_run(run_id, "w")
    with pytest.raises(StoreError, match="more than one result for metric"):
        store.finish_run(run_id, results=[ResultRow("m", 1.0), ResultRow("m", 2.0)], summary={})
    assert store.get_run(run_id).status == "running"  # nothing recorded
    store.finish_run(run_id, results=[ResultRow("m", 1.0)], summary={})
    # The database enforces it too, whoever writes.
    con = sqlite3.connect(tmp_path / "store.sqlite")
    try:
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            con.execute(
                "INSERT INTO results (run_id, metric, counts_json, extra_json) "
                "VALUES (?, 'm', '{}', '{}')",
                (run_id,),
            )
    finally:
        con.close()
    # A finished run's results are never overwritten.
    with pytest.raises(StoreError, match="it is 'done', not running"):
        store.finish_run(run_id, results=[ResultRow("m2", 1.0)], summary={})
    with pytest.raises(StoreError, match="never overwritten"):
        store.fail_run(run_id, "late failure")
    assert [r.metric for r in store.results_for(run_id)] == ["m"]


def test_finish_run_is_one_transaction(store: Store) -> None:
    store.ensure_study("s", {})
    run_id = _add(store)
    store.start_run(run_id, "w")
    bad = ArtefactRow(kind="report_json", path="../../outside.json", sha256="0" * 64, bytes=1)
    with pytest.raises(StoreError, match="outside the store's artefact root"):
        store.finish_run(run_id, results=[ResultRow("m", 1.0)], summary={"r": 1}, artefacts=[bad])
    run = store.get_run(run_id)
    assert run.status == "running" and run.summary == {}
    assert store.results_for(run_id) == []


def test_ensure_study_refuses_a_different_spec(store: Store) -> None:
    store.ensure_study("s", {"a": 1, "b": [1, 2]})
    store.ensure_study("s", {"b": [1, 2], "a": 1})  # same spec, other key order
    run_id = _add(store)
    with pytest.raises(StoreError, match=r"different spec.*replace_spec=True"):
        store.ensure_study("s", {"a": 2})
    store.ensure_study("s", {"a": 2}, replace_spec=True)
    assert store.get_study("s").spec == {"a": 2}
    assert store.get_run(run_id).study == "s"  # runs stay


def test_state_transitions(store: Store) -> None:
    store.ensure_study("s", {})
    run_id = _add(store)
    with pytest.raises(StoreError, match="not running"):
        store.heartbeat(run_id)
    store.start_run(run_id, "w1")
    with pytest.raises(StoreError, match=r"it is 'running' \(worker w1\)"):
        store.start_run(run_id, "w2")
    with pytest.raises(StoreError, match=r"progress.*in \[0, 1\]"):
        store.heartbeat(run_id, progress=1.5)
    with pytest.raises(StoreError, match="only failed runs"):
        store.requeue_run(run_id)
    store.fail_run(run_id, "out of memory")
    failed = store.get_run(run_id)
    assert failed.status == "failed" and failed.error == "out of memory"
    restarted = store.start_run(run_id, "w2")  # executors may restart a failed run directly
    assert restarted.status == "running" and restarted.error is None and restarted.worker_id == "w2"
    with pytest.raises(StoreError, match="no run 'missing'"):
        store.get_run("missing")


# --------------------------------------------------------------------------- several processes
READ_RUN = """
    import json, sys
    from pathlib import Path
    from synth_audit.store import open_store
    store = open_store(sys.argv[1], workspace=Path(sys.argv[2]))
    run = store.get_run(sys.argv[3])
    print(json.dumps({"run": run.to_dict(), "results": [r.to_dict() for r in store.results_for(run.id)]}))
"""

WRITE_RUN = """
    import sys
    from pathlib import Path
    from synth_audit.store import ResultRow, open_store
    store = open_store(sys.argv[1], workspace=Path(sys.argv[2]))
    store.ensure_study("s", {"v": 1})
    run_id = store.add_run(study="s", run_key="child", generator="ctgan", params={"epochs": 2},
                           seed=7, code_version="2.0")
    store.start_run(run_id, "child-worker")
    store.finish_run(run_id, results=[ResultRow("membership.auc", 0.61, 0.55, 0.67, 0.95, 500)],
                     summary={"risk": 0.61})
    print(run_id)
"""


def test_a_run_written_by_one_process_is_read_by_another(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = open_store(url)
    store.ensure_study("s", {"v": 1})
    run_id = _add(store, depth=4)
    store.start_run(run_id, "parent")
    store.finish_run(run_id, results=RESULTS[:2], summary={"risk": 0.125})

    seen = json.loads(_check(_run_python(READ_RUN, url, str(tmp_path), run_id)))
    assert seen["run"]["status"] == "done" and seen["run"]["params"] == {"depth": 4}
    assert [ResultRow.from_dict(r) for r in seen["results"]] == sorted(
        RESULTS[:2], key=lambda r: r.metric
    )

    child_id = _check(_run_python(WRITE_RUN, url, str(tmp_path))).strip()
    child = store.get_run(child_id)
    assert (child.generator, child.seed, child.status, child.worker_id) == (
        "ctgan",
        7,
        "done",
        "child-worker",
    )
    assert store.results_for(child_id) == [ResultRow("membership.auc", 0.61, 0.55, 0.67, 0.95, 500)]


CLAIM_WORKER = """
    import json, sys, time
    from pathlib import Path
    from synth_audit.store import ResultRow, open_store
    url, workspace, worker, out, ready, go = sys.argv[1:7]
    store = open_store(url, workspace=Path(workspace))
    Path(ready).touch()
    deadline = time.monotonic() + 60
    while not Path(go).exists():
        if time.monotonic() > deadline:
            sys.exit("no go signal")
        time.sleep(0.002)
    claimed = []
    while (run := store.claim_run(worker)) is not None:
        claimed.append(run.id)
        store.heartbeat(run.id, progress=0.5)
        store.finish_run(run.id, results=[ResultRow("m", 1.0)], summary={"worker": worker})
    Path(out).write_text(json.dumps(claimed))
"""


def _start_together(tmp_path: Path, code: str, argv: list[list[str]]) -> list[str]:
    """Start one process per argv, release them at the same moment, return their stdout."""
    sync = tmp_path / f"sync-{uuid.uuid4().hex[:6]}"
    sync.mkdir()
    go = sync / "go"
    procs = []
    for i, args in enumerate(argv):
        cmd = [sys.executable, "-c", textwrap.dedent(code), *args, str(sync / f"ready{i}"), str(go)]
        procs.append(
            subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    try:
        deadline = time.monotonic() + SUBPROCESS_TIMEOUT_S
        while not all((sync / f"ready{i}").exists() for i in range(len(argv))):
            for p in procs:
                if p.poll() not in (None, 0):
                    _, err = p.communicate()
                    pytest.fail(f"a worker died before the start:\n{err}")
            assert time.monotonic() < deadline, "workers did not get ready in time"
            time.sleep(0.01)
        go.touch()
        outputs = []
        for p in procs:
            out, err = p.communicate(timeout=SUBPROCESS_TIMEOUT_S)
            assert p.returncode == 0, f"worker failed:\n{out}\n{err}"
            outputs.append(out)
        return outputs
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


def test_claim_run_is_race_free_across_processes(store_url: str, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    store = open_store(store_url, workspace=workspace)
    store.ensure_study("s", {})
    run_ids = {_add(store, seed=i) for i in range(40)}
    n_workers = 4
    outs = [tmp_path / f"claimed{i}.json" for i in range(n_workers)]
    _start_together(
        tmp_path,
        CLAIM_WORKER,
        [[store_url, str(workspace), f"w{i}", str(outs[i])] for i in range(n_workers)],
    )
    claims = {f"w{i}": json.loads(outs[i].read_text()) for i in range(n_workers)}
    every = [run_id for ids in claims.values() for run_id in ids]
    assert len(every) == len(set(every)), "a run was claimed twice"
    assert set(every) == run_ids, "a run was never claimed"
    assert sum(1 for ids in claims.values() if ids) >= 2, f"no contention happened: {claims}"
    for worker, ids in claims.items():
        for run_id in ids:
            run = store.get_run(run_id)
            assert (run.status, run.worker_id, run.summary) == ("done", worker, {"worker": worker})
    assert store.status_counts("s") == {"queued": 0, "running": 0, "done": 40, "failed": 0}
    store.close()


OPEN_FRESH = """
    import sys, time
    from pathlib import Path
    url, ready, go = sys.argv[1:4]
    Path(ready).touch()
    while not Path(go).exists():
        time.sleep(0.002)
    from synth_audit.store import open_store
    print(open_store(url).schema_revision())
"""


def test_processes_opening_a_fresh_store_at_once_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'store.sqlite'}"
    outputs = _start_together(tmp_path, OPEN_FRESH, [[url] for _ in range(3)])
    assert [o.strip() for o in outputs] == [SCHEMA_REVISION] * 3


def test_store_pickles_as_its_url(store: Store) -> None:
    store.ensure_study("s", {})
    run_id = _add(store)
    clone = pickle.loads(pickle.dumps(store))
    assert clone.url == store.url and clone.artefact_root == store.artefact_root
    assert clone.get_run(run_id).id == run_id


# --------------------------------------------------------------------------- heartbeats
def test_expired_heartbeat_fails_the_run_and_it_can_be_requeued(store: Store) -> None:
    store.ensure_study("s", {})
    stale_id = _add(store, seed=1)
    alive_id = _add(store, seed=2)
    assert store.claim_run("w1").id == stale_id  # type: ignore[union-attr]
    assert store.claim_run("w2").id == alive_id  # type: ignore[union-attr]
    time.sleep(0.6)
    store.heartbeat(alive_id, progress=0.2)  # w2 is alive, w1 went silent

    assert store.expire_stale_runs(timeout_s=0.5) == [stale_id]
    stale = store.get_run(stale_id)
    assert stale.status == "failed" and stale.finished_at is not None
    assert stale.error is not None
    assert stale.error.startswith("worker w1 stopped sending heartbeats (last at ")
    assert stale.error.endswith("; re-queue with requeue_run")
    assert store.get_run(alive_id).status == "running"
    with pytest.raises(StoreError, match=r"not running.*stopped sending heartbeats"):
        store.heartbeat(stale_id)  # the late worker learns it lost the run
    with pytest.raises(StoreError, match="Nothing was recorded"):
        store.finish_run(stale_id, results=[ResultRow("m", 1.0)], summary={})

    store.requeue_run(stale_id)
    again = store.get_run(stale_id)
    assert (again.status, again.error, again.worker_id, again.heartbeat_at) == (
        "queued",
        None,
        None,
        None,
    )
    assert store.claim_run("w3", heartbeat_timeout_s=60).id == stale_id  # type: ignore[union-attr]


def test_claim_run_expires_silent_workers_first(store: Store) -> None:
    store.ensure_study("s", {})
    first = _add(store, seed=1)
    second = _add(store, seed=2)
    store.claim_run("w1")
    time.sleep(0.3)
    got = store.claim_run("w2", heartbeat_timeout_s=0.2)
    assert got is not None and got.id == second
    assert store.get_run(first).status == "failed"
    assert store.get_run(second).status == "running"
    assert store.claim_run("w3", heartbeat_timeout_s=30) is None  # nothing queued


# --------------------------------------------------------------------------- schema versions
def test_schema_revision_constant_is_the_migrations_head(store: Store) -> None:
    from alembic.script import ScriptDirectory

    from synth_audit.store._migrate import alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [SCHEMA_REVISION]
    assert store.schema_revision() == SCHEMA_REVISION


def test_models_match_the_migrations(store: Store) -> None:
    """The ORM classes and the migrated schema agree (no pending autogenerate diff)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from synth_audit.store._models import Base

    engine = sa.create_engine(store.sqlalchemy_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        engine.dispose()


NEXT_REVISION = '''
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


@pytest.fixture
def newer_migrations(tmp_path: Path) -> Path:
    """The shipped migrations plus a revision 0099: what a later synth-audit would carry."""
    target = tmp_path / "migrations_next"
    shutil.copytree(MIGRATIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "versions" / "0099_note.py").write_text(
        NEXT_REVISION.replace("{head}", SCHEMA_REVISION)
    )
    return target


def test_an_older_store_is_refused_until_upgraded(tmp_path: Path, newer_migrations: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    old = open_store(url)  # created at the shipped head
    old.ensure_study("s", {})
    run_id = _add(old)
    old.close()

    with pytest.raises(StoreError) as info:
        open_store(url, _script_location=newer_migrations)
    message = str(info.value)
    assert f"synth-audit store upgrade --store {url}" in message
    assert f"'{SCHEMA_REVISION}'" in message and "'0099'" in message

    assert upgrade_store(url, _script_location=newer_migrations) == (SCHEMA_REVISION, "0099")
    assert upgrade_store(url, _script_location=newer_migrations) == ("0099", "0099")
    upgraded = open_store(url, _script_location=newer_migrations)
    assert upgraded.schema_revision() == "0099"
    assert upgraded.get_run(run_id).status == "queued"  # nothing dropped
    con = sqlite3.connect(tmp_path / "store.sqlite")
    try:
        columns = {row[1] for row in con.execute("PRAGMA table_info(runs)")}
    finally:
        con.close()
    assert "note" in columns


def test_open_store_upgrades_when_asked(tmp_path: Path, newer_migrations: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    open_store(url).close()
    store = open_store(url, upgrade=True, _script_location=newer_migrations)
    assert store.schema_revision() == "0099"
    assert store.upgrade() == ("0099", "0099")


def test_a_newer_store_is_refused_naming_both_revisions(
    tmp_path: Path, newer_migrations: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    open_store(url, _script_location=newer_migrations).close()  # written by a "newer" synth-audit
    with pytest.raises(
        StoreError, match=rf"'0099'.*'{SCHEMA_REVISION}'.*written by a newer synth-audit"
    ):
        open_store(url)
    with pytest.raises(StoreError, match="written by a newer synth-audit"):
        upgrade_store(url)

    con = sqlite3.connect(tmp_path / "store.sqlite")
    with con:
        con.execute("UPDATE alembic_version SET version_num = 'f00dfeed'")
    con.close()
    with pytest.raises(StoreError, match=rf"'f00dfeed'.*'{SCHEMA_REVISION}'.*newer synth-audit"):
        open_store(url)


def test_tables_without_a_version_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "foreign.sqlite"
    con = sqlite3.connect(path)
    with con:
        con.execute("CREATE TABLE runs (id TEXT)")
    con.close()
    with pytest.raises(StoreError, match="no synth-audit schema version"):
        open_store(str(path))


# --------------------------------------------------------------------------- artefacts
def test_artefact_hash_mismatch_is_detected(store: Store) -> None:
    store.ensure_study("s", {})
    run_id = _add(store)
    frame = pd.DataFrame({"record": range(100), "score": [i / 100 for i in range(100)]})
    art = store.write_artefact(run_id, "per_record_scores", frame)
    path = store.artefact_root / art.path
    assert [p.name for p in path.parent.iterdir()] == ["per_record_scores.parquet"]  # no temp left
    pd.testing.assert_frame_equal(store.read_artefact(run_id, "per_record_scores"), frame)

    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte changed
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=rf"{re.escape(str(path))}.*does not match the SHA-256"):
        store.read_artefact(run_id, "per_record_scores")

    path.unlink()
    with pytest.raises(StoreError, match="is missing"):
        store.read_artefact(run_id, "per_record_scores")
    with pytest.raises(StoreError, match=r"has no artefact 'synthetic'.*'per_record_scores'"):
        store.read_artefact(run_id, "synthetic")
    with pytest.raises(StoreError, match="artefact kind"):
        store.write_artefact(run_id, "../evil", frame)


def test_rewriting_an_artefact_replaces_file_and_record(store: Store) -> None:
    store.ensure_study("s", {})
    run_id = _add(store)
    store.write_artefact(run_id, "synthetic", pd.DataFrame({"a": [1]}))
    second = store.write_artefact(run_id, "synthetic", pd.DataFrame({"a": [1, 2]}))
    assert store.artefacts_for(run_id) == [second]
    assert len(store.read_artefact(run_id, "synthetic")) == 2


# --------------------------------------------------------------------------- URLs and errors
def test_default_store_lives_in_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = tmp_path.resolve()
    monkeypatch.setenv("SYNTH_AUDIT_HOME", str(tmp_path / "home"))
    store = open_store()
    assert store.url == f"sqlite:///{tmp_path / 'home' / 'synth_audit.sqlite'}"
    assert store.artefact_root == tmp_path / "home" / "artefacts"
    assert (tmp_path / "home" / "synth_audit.sqlite").is_file()
    explicit = open_store(workspace=tmp_path / "elsewhere")
    assert explicit.artefact_root == tmp_path / "elsewhere" / "artefacts"
    as_path = open_store(str(tmp_path / "plain.sqlite"))
    assert as_path.url == f"sqlite:///{tmp_path / 'plain.sqlite'}"
    con = sqlite3.connect(tmp_path / "plain.sqlite")
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()


def test_sqlite_connections_enforce_foreign_keys(store: Store) -> None:
    with pytest.raises(StoreError, match="no run 'nope'"):
        store.write_artefact("nope", "synthetic", pd.DataFrame({"a": [1]}))
    # The store's own connections refuse orphans.
    orphan = sa.text(
        "INSERT INTO results (run_id, metric, counts_json, extra_json) "
        "VALUES ('nope', 'm', '{}', '{}')"
    )
    with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"), store._session(write=True) as s:
        s.execute(orphan)


def test_unreachable_server_error_names_url_with_password_masked() -> None:
    url = "postgresql+psycopg://alice:s3cret@127.0.0.1:1/results"
    with pytest.raises(StoreError) as info:
        open_store(url)
    message = str(info.value)
    assert "alice:***@127.0.0.1:1/results" in message
    assert "s3cret" not in message
    assert "server is running" in message


@pytest.mark.parametrize(
    ("url", "pattern"),
    [
        ("mysql://u@h/db", "backend 'mysql'.*not support"),
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("   ", "empty"),
    ],
)
def test_bad_urls_are_explained(url: str, pattern: str) -> None:
    with pytest.raises(StoreError, match=pattern):
        open_store(url)


def test_unwritable_sqlite_location_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="Cannot create the directory"):
        open_store(f"sqlite:///{blocker / 'sub' / 'store.sqlite'}")


def test_a_file_that_is_not_a_database_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("these are not the results you are looking for\n" * 100)
    with pytest.raises(StoreError, match=r"notes\.sqlite.*not an SQLite database"):
        open_store(str(path))


def test_store_satisfies_the_result_store_protocol(store: Store) -> None:
    assert isinstance(store, ResultStore)
