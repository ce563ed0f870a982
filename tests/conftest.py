"""Shared fixtures: the shipped samples and calibration releases built from real held-out rows."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"

# Tests never use more threads than CI has cores.
os.environ.setdefault("OMP_NUM_THREADS", "2")


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
