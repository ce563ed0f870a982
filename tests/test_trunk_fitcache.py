"""The fit cache records library versions (an upgrade refits), and `synth-audit store drop-fits`."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from generators.baselines import CopyGenerator
from synth_audit.cli import main
from synth_audit.schema import infer_schema
from synth_audit.store import open_store
from synth_audit.study.fits import FIT_LIBRARIES, FitRecipe, library_versions

FRAME = pd.DataFrame({"a": [1, 2, 3, 4], "b": ["x", "y", "x", "y"]})


def test_the_recipe_records_library_versions_and_they_are_part_of_the_key() -> None:
    recipe = FitRecipe.of(CopyGenerator(), infer_schema(FRAME), 4)
    versions = recipe.to_dict()["versions"]
    assert set(FIT_LIBRARIES) <= set(versions)
    assert versions["sdv"] == library_versions()["sdv"] is not None  # installed here
    upgraded = dataclasses.replace(
        recipe, versions_json=json.dumps({**versions, "sdv": "99.0"}, sort_keys=True)
    )
    assert upgraded.sha256() != recipe.sha256()
    assert FitRecipe.of(CopyGenerator(), infer_schema(FRAME), 4).sha256() == recipe.sha256()


def _put(store, name: str, versions: dict | None) -> str:  # type: ignore[no-untyped-def]
    key = hashlib.sha256(name.encode()).hexdigest()
    recipe = {"kind": "tabular_generator", "estimator": "generators.baselines.CopyGenerator"}
    if versions is not None:
        recipe["versions"] = versions
    store.put_fit(key, recipe=recipe, subset_hash="s", seed=1, sample_seed=2, sample=FRAME)
    return key


def test_store_drop_fits_drops_stale_then_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(tmp_path / "store.sqlite")
    store = open_store(url)
    now = library_versions("generators.baselines")
    current = _put(store, "current", dict(now))
    old = _put(store, "old", {**now, "sdv": "0.1"})
    unversioned = _put(store, "unversioned", None)
    files = {f.key: store.artefact_root / f.path for f in store.list_fits()}
    assert all(p.is_file() for p in files.values())
    store.close()

    assert main(["store", "drop-fits", "--stale", "--dry-run", "--store", url]) == 0
    assert "Would drop 2 of 3" in capsys.readouterr().out
    assert main(["store", "drop-fits", "--stale", "--store", url]) == 0
    assert "Dropped 2 of 3" in capsys.readouterr().out
    store = open_store(url)
    assert [f.key for f in store.list_fits()] == [current]
    assert not files[old].exists() and not files[unversioned].exists() and files[current].exists()
    store.close()

    assert main(["store", "drop-fits", "--all", "--store", url]) == 0
    assert "Dropped 1 of 1" in capsys.readouterr().out
    assert not files[current].exists()
    # one of --stale / --all is required: a usage error (exit 2) that names them
    assert main(["store", "drop-fits", "--store", url]) == 2
    assert "--stale --all is required" in capsys.readouterr().err
