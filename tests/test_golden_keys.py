"""Golden values that stored studies depend on: run keys, child seeds, per-run sub-seeds and the split.

A stored study resumes by recomputing every run's key and comparing it with the keys in the store, and
a re-run of a run must see the same data split and seeds. If any value below changes, every study
stored by an earlier version stops resuming (its runs would all look new) or resumes on different
data. These values were recorded from commit 16749aa; they must stay byte-identical for tabular
studies. Change them only together with a store migration that rewrites stored keys.
"""

from __future__ import annotations

from pathlib import Path

from synth_audit.store import make_run_key
from synth_audit.study.data import load_study_data
from synth_audit.study.spec import child_seed, expand, load_study
from synth_audit.study.tasks import _seeds

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "samples" / "randhie" / "study.toml"

GOLDEN_RUNS = [
    ("copy", {}, 0, 2684470948, "c78a2a5a141f4d57abc558b957ae0733c48fc5c579fbdc99369be48950103957"),
    ("copy", {}, 1, 4091952314, "0f9ee0327fc7d7c1ce365ad1e4ac91e69e5bfc4aeb2ce2fd148d04da80439510"),
    (
        "independent_marginals",
        {},
        0,
        2684470948,
        "a3777ceb82a3ebedb6217cf687347e99d965edd953b42a043498bfaf9f13c758",
    ),
    (
        "independent_marginals",
        {},
        1,
        4091952314,
        "645aa823c75f0618c5cf4250665ac2189be5af64b616a29543129c6fdece3f53",
    ),
    (
        "gaussian_copula",
        {},
        0,
        2684470948,
        "907c5a6a8d7d086a2effc0c47dad3308d7cb32aa1d152e0888f20199bc329c6b",
    ),
    (
        "gaussian_copula",
        {},
        1,
        4091952314,
        "f373477aefa85b9616c00261ae2eef77ac4600cbc280a4665103678acc9b5f0d",
    ),
    (
        "ctgan",
        {"epochs": 30},
        0,
        2684470948,
        "a9f82a4102cfb53050579acca22ec9e3b99d892a3f05f6c53a1434f4b77ebbf6",
    ),
    (
        "ctgan",
        {"epochs": 30},
        1,
        4091952314,
        "7be1309a6ddb11bf9848911d6f5f0760f0b79d32f8493acc1797de4eb7cf6187",
    ),
]


def test_run_keys_and_seeds_of_the_shipped_study_are_unchanged() -> None:
    runs = expand(load_study(STUDY))
    got = [(r.generator, dict(r.params), r.seed_index, r.seed, r.run_key) for r in runs]
    assert got == GOLDEN_RUNS


def test_make_run_key_payload_is_unchanged() -> None:
    key = make_run_key(
        study="s", generator="dpgan", params={"epsilon": 1.0, "n_iter": 50, "b": [1, 2]}, seed=7
    )
    assert key == "b42dd6e1a9f2c40ea4d929c1f3f8d1dd993eb3c85c4f5577838ec1be57fee896"


def test_child_seeds_and_run_sub_seeds_are_unchanged() -> None:
    assert [child_seed(42, i) for i in range(3)] == [2684470948, 4091952314, 233227757]
    assert _seeds(2684470948) == {
        "fit": 2842407126,
        "sample": 1265892460,
        "audit": 1009715529,
        "membership": 2733009680,
        "shadow": 2267304220,
    }


def test_study_split_is_unchanged() -> None:
    data = load_study_data(load_study(STUDY))
    got = {k: v.get("sha256") for k, v in data.fingerprints.items()}
    assert got == {
        "source": "c80238fa35249828d0cca6582d37ecc535838d364d4d92214592254303b40ffe",
        "train": "4106b19db8b6cf1931d5e1f7505089f969fdbd71b72a68b48634cde50abfef6d",
        "control": "66e55f5992a5501f43ed285e2787a01094be5ee8a1399f6bfb69a766f0c1d702",
        "reference": "6ed3920cc5a67f0f73151b42e1ef45a92df50b775b71265a5a40ef0934836e56",
        "holdout": "3df2b551e32993f92e983eafa8891d7ef3e01fc9a531dec929c0358c77cae32d",
    }
