"""Panel (entity) splits in studies: ``[data] entity`` / ``time`` draw whole entities per part."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synth_audit.errors import ConfigError
from synth_audit.study.data import load_study_data
from synth_audit.study.spec import expand, load_study, study_from_mapping

ROOT = Path(__file__).resolve().parents[1]
RANDHIE = ROOT / "samples" / "randhie" / "population.csv"


def _panel(path: Path, n_entities: int = 40, seed: int = 0) -> Path:
    """A panel of ``n_entities`` people with 1 to 4 yearly rows each, rows shuffled in the file."""
    rng = np.random.default_rng(seed)
    rows = []
    for pid in range(n_entities):
        for year in range(int(rng.integers(1, 5))):
            rows.append(
                {"pid": f"p{pid:03d}", "year": year, "x": float(rng.normal()), "c": "ab"[pid % 2]}
            )
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    df.to_csv(path, index=False)
    return path


def _raw(path: Path, **data: Any) -> dict[str, Any]:
    return {
        "name": "panel",
        "data": {"path": str(path), **data},
        "split": {"train": 10, "control": 8, "reference": 6, "holdout": 5, "seed": 3},
        "generators": [{"name": "copy"}],
        "utility": {"enabled": False},
        "membership": {"attacks": ["dcr"]},
    }


def test_every_entity_is_on_one_side_and_sizes_count_entities(tmp_path: Path) -> None:
    path = _panel(tmp_path / "panel.csv")
    spec = study_from_mapping(_raw(path, entity="pid", time="year"))
    assert spec.data.entity == "pid" and spec.data.time == "year"
    data = load_study_data(spec)
    assert data.unit == "entity"
    source = pd.read_csv(path)
    sides: dict[str, str] = {}
    for name, want in (("train", 10), ("control", 8), ("reference", 6), ("holdout", 5)):
        part = getattr(data, name)
        ids = part["pid"].unique()
        assert len(ids) == want, name
        for pid in ids:
            assert pid not in sides, f"{pid} is in {sides.get(pid)} and {name}"
            sides[pid] = name
            # all of the entity's rows, in time order
            rows = part[part["pid"] == pid]
            assert len(rows) == int((source["pid"] == pid).sum())
            assert list(rows["year"]) == sorted(rows["year"])
    # the same split again (seeded), and different entities with another split seed
    again = load_study_data(study_from_mapping(_raw(path, entity="pid", time="year")))
    pd.testing.assert_frame_equal(again.train, data.train)
    other = _raw(path, entity="pid")
    other["split"] = {**other["split"], "seed": 4}
    moved = load_study_data(study_from_mapping(other))
    assert set(moved.train["pid"]) != set(data.train["pid"])


def test_randhie_panel_split_keeps_whole_persons_and_drops_after() -> None:
    spec = study_from_mapping(
        {
            "name": "randhie-panel",
            "data": {"path": str(RANDHIE), "entity": "person_id", "drop": ["year"]},
            "split": {"train": 300, "control": 300, "reference": 300, "holdout": 100, "seed": 1},
            "generators": [{"name": "copy"}],
            "utility": {"enabled": False},
        }
    )
    data = load_study_data(spec)
    assert "year" not in data.train.columns and "person_id" in data.train.columns
    ids = [set(getattr(data, p)["person_id"]) for p in ("train", "control", "reference", "holdout")]
    assert [len(s) for s in ids] == [300, 300, 300, 100]
    assert all(not (a & b) for i, a in enumerate(ids) for b in ids[i + 1 :])
    counts = pd.read_csv(RANDHIE).groupby("person_id").size()
    assert len(data.train) == int(counts.loc[list(ids[0])].sum()) > 300


def test_entity_errors_name_file_column_and_remedy(tmp_path: Path) -> None:
    path = _panel(tmp_path / "panel.csv")
    with pytest.raises(ConfigError) as err:
        study_from_mapping(_raw(path, entity="person"))
    msg = str(err.value)
    assert "[data] entity" in msg and "'person'" in msg and "panel.csv" in msg
    assert "'pid'" in msg and "'year'" in msg  # the columns present
    with pytest.raises(ConfigError, match=r"group_by.*Keep one"):
        study_from_mapping(_raw(path, entity="pid", group_by="pid"))
    with pytest.raises(ConfigError, match=r"time = 'year'.*give entity"):
        study_from_mapping(_raw(path, time="year"))
    too_big = _raw(path, entity="pid")
    too_big["split"] = {"train": 30, "control": 20, "seed": 1}
    with pytest.raises(ConfigError, match=r"50, but panel\.csv has 40 entities"):
        study_from_mapping(too_big)


def test_studies_without_entity_keep_their_stored_form() -> None:
    spec = load_study(ROOT / "samples" / "randhie" / "study.toml")
    assert spec.data.entity is None and spec.data.time is None and spec.data.unit == "record"
    stored = spec.to_dict()
    assert set(stored["data"]) == {"path", "group_by", "drop"}
    assert "entity" not in spec.evaluation_identity()["data"]
    # a panel study records the keys, and they are part of its identity
    panel = spec.model_copy(
        update={"data": spec.data.model_copy(update={"group_by": None, "entity": "person_id"})}
    )
    assert panel.evaluation_identity()["data"]["entity"] == "person_id"
    assert [r.run_key for r in expand(panel)] == [r.run_key for r in expand(spec)]
