"""Migration 0002 (runs.target_kind) on a store written by the previous synth-audit (revision 0001)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from synth_audit.errors import StoreError
from synth_audit.store import open_store, upgrade_store
from synth_audit.store._migrate import MIGRATIONS_DIR, SCHEMA_REVISION


def _store_at_0001(tmp_path: Path) -> tuple[str, Path]:
    old = tmp_path / "migrations_0001"
    shutil.copytree(MIGRATIONS_DIR, old, ignore=shutil.ignore_patterns("__pycache__"))
    for f in [*(old / "versions").glob("000[2-9]_*.py")]:
        f.unlink()
    db = tmp_path / "store.sqlite"
    url = f"sqlite:///{db}"
    open_store(url, _script_location=old).close()
    con = sqlite3.connect(db)
    with con:
        con.execute(
            "INSERT INTO studies (id, spec_json, spec_hash, created_at) "
            "VALUES ('s', '{}', 'h', '2026-01-01 00:00:00')"
        )
        for run_id, gen, params in (
            ("a" * 32, "copy", "{}"),
            ("b" * 32, "release", '{"kind": "release_evaluation"}'),
        ):
            con.execute(
                "INSERT INTO runs (id, study_id, run_key, generator, params_json, seed, status, "
                "code_version, data_fingerprints_json, created_at, summary_json) VALUES "
                f"('{run_id}', 's', 'key-{gen}', '{gen}', '{params}', 1, 'done', 'v', '{{}}', "
                "'2026-01-01 00:00:00', '{\"risk\": 0.1}')"
            )
    con.close()
    return url, db


def test_store_at_0001_is_refused_then_upgraded_keeping_every_run(tmp_path: Path) -> None:
    url, _ = _store_at_0001(tmp_path)
    with pytest.raises(StoreError, match="synth-audit store upgrade"):
        open_store(url)
    assert upgrade_store(url) == ("0001", SCHEMA_REVISION)
    store = open_store(url)
    try:
        copy_run = store.get_run("a" * 32)
        release_run = store.get_run("b" * 32)
        assert copy_run.target_kind == "tabular_generator"
        assert release_run.target_kind == "release"
        assert copy_run.status == "done" and copy_run.summary == {"risk": 0.1}
        assert copy_run.run_key == "key-copy"  # keys untouched: a stored study still resumes
        new = store.add_run(
            study="s",
            run_key="k2",
            generator="echo",
            params={},
            seed=2,
            code_version="v",
            target_kind="echo",
        )
        assert store.get_run(new).target_kind == "echo"
    finally:
        store.close()
