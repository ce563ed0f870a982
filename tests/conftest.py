"""Shared fixtures: the shipped samples and calibration releases built from real held-out rows."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"

# Tests never use more threads than CI has cores.
os.environ.setdefault("OMP_NUM_THREADS", "2")


@pytest.fixture(autouse=True)
def _restore_main_module() -> Iterator[None]:
    """Streamlit's AppTest installs the app script as ``sys.modules["__main__"]`` and never puts
    pytest's back; a process pool or Dask nanny spawned by a later test would then re-run that
    script as its main module (``AppTest.from_function``'s temp script fails there with
    ``NameError: __args``, a BrokenProcessPool in the executor tests)."""
    main = sys.modules.get("__main__")
    yield
    if main is not None and sys.modules.get("__main__") is not main:
        sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def randhie_dir() -> Path:
    return SAMPLES / "randhie"


@pytest.fixture(scope="session")
def randhie(randhie_dir: Path) -> dict[str, pd.DataFrame]:
    """train / control / synthetic as shipped, plus ``holdout``: one row for each person of the
    population who is in neither train nor control (real records the release never saw)."""
    meta = json.loads((randhie_dir / "meta.json").read_text())
    pop = pd.read_csv(randhie_dir / "population.csv")
    used = set(meta["train_population_rows"]) | set(meta["control_population_rows"])
    used_persons = set(pop.loc[sorted(used), "person_id"])
    rest = pop[~pop["person_id"].isin(used_persons)]
    holdout = (
        rest.sample(frac=1.0, random_state=7)
        .drop_duplicates("person_id")
        .drop(columns=["person_id", "year"])
        .reset_index(drop=True)
    )
    out = {k: pd.read_csv(randhie_dir / f"{k}.csv") for k in ("train", "control", "synthetic")}
    out["holdout"] = holdout[out["train"].columns]
    return out


def leaky_release(
    train: pd.DataFrame, holdout: pd.DataFrame, fraction: float, n: int, seed: int
) -> pd.DataFrame:
    """``n`` held-out rows of which a ``fraction`` is replaced by training rows."""
    rng = np.random.default_rng(seed)
    k = round(fraction * n)
    leaked = train.iloc[rng.choice(len(train), size=k, replace=False)]
    clean = holdout.iloc[rng.choice(len(holdout), size=n - k, replace=False)]
    return pd.concat([leaked, clean], ignore_index=True).sample(frac=1.0, random_state=seed)


@pytest.fixture
def echo_plugin(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Register tests/plugins/echo_target.py as the target kind 'echo' through a real entry point
    (a dist-info folder on sys.path, as an installed plugin package has)."""
    import sys

    from synth_audit.targets import registry as target_registry

    dist = tmp_path / "echo_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[synth_audit.targets]\necho = tests.plugins.echo_target:EchoTarget\n"
    )
    sys.path.insert(0, str(tmp_path))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    target_registry._plugins = None
    yield
    sys.path.remove(str(tmp_path))
    target_registry._plugins = None
