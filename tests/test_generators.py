"""Generators: one contract suite over every registered generator, the calibration baselines, the
registry, parameter validation and failure handling.

Frames are tiny (300 rows, 5 mixed columns) and the learned generators run one or two epochs, so
the file stays well under a minute and a half on two cores. Each generator is fitted once for the
shared checks (module-scoped cache) and once more for the determinism check.
"""

from __future__ import annotations

import pickle
import random
import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import generators
from generators import (
    BaseGenerator,
    Generator,
    GeneratorFitError,
    available_generators,
    make_generator,
    register_generator,
)
from generators import registry as registry_mod
from generators.baselines import LeakyGenerator
from generators.registry import GeneratorPluginWarning, unregister_generator
from generators.synthcity_adapter import privbayes_degree
from synth_audit.errors import ConfigError, SynthAuditError
from synth_audit.schema import ColumnKind, ColumnSpec, Schema
from synth_audit.testing import check_generator

N_ROWS = 300

# Small parameters for every built-in generator; a new built-in must add its own here.
SMALL_PARAMS: dict[str, dict[str, Any]] = {
    "copy": {},
    "leaky": {"fraction": 0.3},
    "independent_marginals": {},
    "gaussian_copula": {"default_distribution": "norm"},
    "ctgan": {
        "epochs": 1,
        "batch_size": 100,
        "embedding_dim": 8,
        "generator_dim": (16,),
        "discriminator_dim": (16,),
        "n_threads": 1,
    },
    "tvae": {
        "epochs": 1,
        "batch_size": 100,
        "embedding_dim": 8,
        "compress_dims": (16,),
        "decompress_dims": (16,),
        "n_threads": 1,
    },
    "copula_gan": {
        "epochs": 1,
        "batch_size": 100,
        "embedding_dim": 8,
        "generator_dim": (16,),
        "discriminator_dim": (16,),
        "n_threads": 1,
        "default_distribution": "norm",
    },
    "synthcity": {"plugin": "bayesian_network", "n_threads": 1},
    "privbayes": {"epsilon": 1.0, "n_threads": 1},
    "dpgan": {"n_iter": 2, "n_units_hidden": 16, "batch_size": 100, "n_threads": 1},
}
BUILTIN_NAMES = sorted(registry_mod.BUILTINS)


def make_frame(n: int = N_ROWS, seed: int = 0) -> pd.DataFrame:
    """5 mixed columns in the conventions of validated input, with missing values."""
    rng = np.random.default_rng(seed)
    age = rng.normal(45, 12, n).round()
    income = np.exp(rng.normal(10, 0.5, n))
    income[rng.random(n) < 0.1] = np.nan
    city = rng.choice(["paris", "lyon", "nice"], n, p=[0.5, 0.3, 0.2]).astype(object)
    city[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "age": age,
            "income": income,
            "city": city,
            "smoker": rng.choice(["true", "false"], n).astype(object),
            "visit": pd.Timestamp("2021-01-01", tz="Europe/Paris")
            + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
        }
    )


SCHEMA = Schema(
    (
        ColumnSpec("age", ColumnKind.NUMERIC),
        ColumnSpec("income", ColumnKind.NUMERIC),
        ColumnSpec("city", ColumnKind.CATEGORICAL),
        ColumnSpec("smoker", ColumnKind.BOOLEAN),
        ColumnSpec("visit", ColumnKind.DATETIME),
    )
)


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return make_frame(seed=0)


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    return make_frame(seed=1)


def fit_new(name: str, train: pd.DataFrame, holdout: pd.DataFrame, seed: int = 0) -> Any:
    gen = make_generator(name, **SMALL_PARAMS[name])
    out = gen.fit(train, schema=SCHEMA, random_state=seed, holdout=holdout)
    assert out is gen, f"{name}: fit must return self"
    return gen


@pytest.fixture(scope="module")
def fitted(train: pd.DataFrame, holdout: pd.DataFrame) -> Any:
    cache: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in cache:
            cache[name] = fit_new(name, train, holdout)
        return cache[name]

    return get


def np_global_state() -> bytes:
    return pickle.dumps(np.random.get_state())


def rows(df: pd.DataFrame) -> list[tuple]:
    """Rows as hashable tuples (NaN-safe), for set comparisons."""
    return [tuple("<nan>" if pd.isna(v) else v for v in r) for r in df.itertuples(index=False)]


def assert_same_layout(sample: pd.DataFrame, train: pd.DataFrame, n: int) -> None:
    assert list(sample.columns) == list(train.columns)
    assert len(sample) == n
    assert isinstance(sample.index, pd.RangeIndex)
    for c in ("age", "income"):
        assert sample[c].dtype == np.float64, c
    for c in ("city", "smoker"):
        assert sample[c].dtype == object, c
        assert all(isinstance(v, str) for v in sample[c].dropna()), c
    assert set(sample["smoker"].dropna()) <= {"true", "false"}
    assert set(sample["city"].dropna()) <= {"paris", "lyon", "nice"}
    assert isinstance(sample["visit"].dtype, pd.DatetimeTZDtype)
    assert str(sample["visit"].dt.tz) == "Europe/Paris"


# ------------------------------------------------------------------------------------------------
# Contract suite: every registered generator
# ------------------------------------------------------------------------------------------------


def test_every_registered_generator_has_test_params() -> None:
    assert set(available_generators()) >= set(SMALL_PARAMS)
    assert set(BUILTIN_NAMES) == set(SMALL_PARAMS)


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_contract_sample_layout(name: str, fitted: Any, train: pd.DataFrame) -> None:
    gen = fitted(name)
    assert isinstance(gen, Generator)
    sample = gen.sample(120, random_state=3)
    assert_same_layout(sample, train, 120)
    empty = gen.sample(0)
    assert list(empty.columns) == list(train.columns) and len(empty) == 0


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_contract_deterministic_under_seed_and_global_state_untouched(
    name: str, fitted: Any, train: pd.DataFrame, holdout: pd.DataFrame
) -> None:
    import torch

    first = fitted(name).sample(150, random_state=7)
    py, np_state, torch_state = random.getstate(), np_global_state(), torch.get_rng_state()
    threads = torch.get_num_threads()
    again = fit_new(name, train, holdout, seed=0).sample(150, random_state=7)
    assert random.getstate() == py
    assert np_global_state() == np_state
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert torch.get_num_threads() == threads
    pd.testing.assert_frame_equal(first, again)
    other = fitted(name).sample(150, random_state=8)
    assert not first.equals(other), f"{name}: a different sample seed gave the same sample"


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_contract_public_check_generator(
    name: str, train: pd.DataFrame, holdout: pd.DataFrame
) -> None:
    """The contract plugin authors run (synth_audit.testing.check_generator), on every built-in."""
    needs = available_generators()[name].needs_holdout
    check_generator(
        lambda: make_generator(name, **SMALL_PARAMS[name]),
        train,
        holdout=holdout if needs else None,
    )


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_contract_privacy_params(name: str, fitted: Any) -> None:
    info = available_generators()[name]
    claims = generators.privacy_params(fitted(name))
    assert isinstance(claims, dict)
    assert ("epsilon" in claims) == info.has_epsilon
    if info.has_epsilon:
        assert claims["epsilon"] == SMALL_PARAMS[name].get("epsilon", 1.0)
        assert claims["delta"] is not None and 0 <= claims["delta"] < 1


# ------------------------------------------------------------------------------------------------
# Calibration baselines
# ------------------------------------------------------------------------------------------------


def test_copy_reproduces_training_rows(train: pd.DataFrame) -> None:
    gen = make_generator("copy").fit(train, random_state=0)
    same_size = gen.sample(len(train), random_state=1)
    assert sorted(rows(same_size), key=str) == sorted(rows(train), key=str)
    assert not same_size.equals(train), "rows should be shuffled"
    bigger = gen.sample(len(train) + 50, random_state=1)
    assert set(rows(bigger)) == set(rows(train))
    smaller = gen.sample(100, random_state=1)
    assert len(set(rows(smaller))) == 100 and set(rows(smaller)) <= set(rows(train))


@pytest.mark.parametrize(("fraction", "expected"), [(0.0, 0), (1.0, 200), (0.3, 60), (0.5, 100)])
def test_leaky_mixes_the_requested_share_of_training_rows(
    train: pd.DataFrame, holdout: pd.DataFrame, fraction: float, expected: int
) -> None:
    gen = make_generator("leaky", fraction=fraction).fit(train, holdout=holdout, random_state=0)
    sample = gen.sample(200, random_state=2)
    train_rows, holdout_rows = set(rows(train)), set(rows(holdout))
    in_train = sum(r in train_rows for r in rows(sample))
    in_holdout = sum(r in holdout_rows for r in rows(sample))
    assert in_train == expected
    assert in_holdout == 200 - expected
    assert len(set(rows(sample))) == 200, "rows are drawn without replacement while possible"


def test_leaky_needs_holdout(train: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="holdout"):
        make_generator("leaky", fraction=0.2).fit(train, random_state=0)


def test_independent_marginals_keeps_marginals_and_breaks_correlation() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=2000)
    df = pd.DataFrame(
        {
            "x": x,
            "y": x + rng.normal(scale=0.05, size=2000),
            "group": np.where(x > 0, "high", "low").astype(object),
        }
    )
    df.loc[rng.random(2000) < 0.2, "x"] = np.nan
    assert df["x"].corr(df["y"]) > 0.99
    sample = (
        make_generator("independent_marginals").fit(df, random_state=0).sample(4000, random_state=1)
    )
    assert abs(sample["x"].corr(sample["y"])) < 0.1
    assert set(sample["x"].dropna()) <= set(df["x"].dropna())
    assert abs(sample["x"].isna().mean() - 0.2) < 0.03
    assert abs(sample["y"].mean() - df["y"].mean()) < 0.1
    assert abs((sample["group"] == "high").mean() - (df["group"] == "high").mean()) < 0.04
    crossed = pd.crosstab(sample["group"], sample["y"] > 0, normalize=True)
    assert crossed.to_numpy().min() > 0.15, "group and y are independent in the sample"


def test_identifier_columns_are_copied_by_copy_and_replaced_by_learned(train: pd.DataFrame) -> None:
    with_id = train.assign(pid=[f"p{i}" for i in range(len(train))])[["pid", *train.columns]]
    schema = Schema((ColumnSpec("pid", ColumnKind.ID), *SCHEMA.columns))
    copied = make_generator("copy").fit(with_id, schema=schema, random_state=0).sample(10)
    assert set(copied["pid"]) <= set(with_id["pid"])
    learned = make_generator("gaussian_copula", default_distribution="norm")
    sample = learned.fit(with_id, schema=schema, random_state=0).sample(10, random_state=0)
    assert list(sample.columns) == list(with_id.columns)
    assert not set(sample["pid"]) & set(with_id["pid"])
    assert sample["pid"].iloc[0] == "syn-0"


# ------------------------------------------------------------------------------------------------
# Registry
# ------------------------------------------------------------------------------------------------


class TinyGenerator(BaseGenerator):
    """A third-party style generator: resamples the first training row."""

    name = "tiny"
    description = "Test generator."

    def __init__(self, *, repeat: int = 1) -> None:
        self.repeat = repeat

    def _fit(self, train: pd.DataFrame, seed: int, holdout: pd.DataFrame | None) -> None:
        self.row_ = train.iloc[[0]]

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        return pd.concat([self.row_] * n, ignore_index=True)


def test_register_refuses_duplicates_and_replace_overrides() -> None:
    register_generator("tiny_test", TinyGenerator)
    try:
        with pytest.raises(ConfigError, match="'tiny_test' is already registered"):
            register_generator("tiny_test", TinyGenerator)
        with pytest.raises(ConfigError, match=r"'ctgan' is already registered.*built-in"):
            register_generator("ctgan", TinyGenerator)
        register_generator("tiny_test", lambda **kw: TinyGenerator(repeat=2), replace=True)
        assert make_generator("tiny_test").repeat == 2
        info = available_generators()["tiny_test"]
        assert info.source == "registered" and not info.needs_holdout
    finally:
        unregister_generator("tiny_test")
    assert "tiny_test" not in available_generators()


def test_unknown_generator_name_lists_known_names() -> None:
    with pytest.raises(ConfigError) as err:
        make_generator("ctgun")
    msg = str(err.value)
    assert "Unknown generator 'ctgun'" in msg and "Did you mean 'ctgan'?" in msg
    assert "'gaussian_copula'" in msg and "'leaky'" in msg


def test_unknown_parameter_is_named_with_valid_ones() -> None:
    with pytest.raises(ConfigError) as err:
        make_generator("ctgan", epoch=3)
    msg = str(err.value)
    assert "has no parameter(s) 'epoch'" in msg
    assert "'epoch' -> 'epochs'?" in msg
    assert "'batch_size'" in msg and "'epochs'" in msg


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        (
            "ctgan",
            {"epochs": 0},
            "The 'epochs' parameter of CTGANGenerator must be an int >= 1. Got 0.",
        ),
        (
            "leaky",
            {"fraction": 1.5},
            "The 'fraction' parameter of LeakyGenerator must be a float in the range [0, 1]. Got 1.5.",
        ),
        (
            "tvae",
            {"n_threads": 0},
            "The 'n_threads' parameter of TVAEGenerator must be an int >= 1 or None. Got 0.",
        ),
        (
            "gaussian_copula",
            {"default_distribution": "cauchy"},
            "The 'default_distribution' parameter of GaussianCopulaGenerator must be one of 'norm',",
        ),
        ("ctgan", {"batch_size": 15}, "must be even and a multiple of 'pac' (10). Got 15."),
        ("privbayes", {"epsilon": -1.0}, "must be a float > 0. Got -1.0."),
        ("ctgan", {"epochs": True}, "must be an int >= 1. Got True."),
    ],
)
def test_parameter_errors_in_sklearn_form(name: str, params: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_generator(name, **params)
    assert message in str(err.value)


def test_all_parameter_problems_are_reported_at_once() -> None:
    gen = make_generator("ctgan")
    gen.set_params(epochs=0, batch_size=-2)
    with pytest.raises(ConfigError) as err:
        gen.fit(make_frame(20))
    assert "'epochs'" in str(err.value) and "'batch_size'" in str(err.value)


def test_available_generators_describes_each() -> None:
    infos = available_generators()
    assert infos["leaky"].needs_holdout and not infos["copy"].needs_holdout
    assert infos["privbayes"].has_epsilon and infos["dpgan"].has_epsilon
    assert not infos["ctgan"].has_epsilon
    assert all(info.description for info in infos.values())
    assert infos["ctgan"].to_dict()["source"] == "built-in"


class _FakeEntryPoint:
    def __init__(self, name: str, value: str, target: Any) -> None:
        self.name, self.value, self._target = name, value, target

    def load(self) -> Any:
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


def test_entry_point_plugins_load_and_broken_ones_warn(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [
        _FakeEntryPoint("tiny_plugin", "pkg.mod:TinyGenerator", TinyGenerator),
        _FakeEntryPoint("broken", "pkg.broken:Gen", ImportError("No module named 'pkg.broken'")),
        _FakeEntryPoint("copy", "pkg.mod:Other", TinyGenerator),
    ]
    monkeypatch.setattr(registry_mod, "entry_points", lambda group: eps)
    monkeypatch.setattr(registry_mod, "_plugins", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        infos = available_generators()
    messages = [str(w.message) for w in caught if issubclass(w.category, GeneratorPluginWarning)]
    assert any("'broken'" in m and "No module named" in m for m in messages)
    assert any("'copy'" in m and "already taken" in m for m in messages)
    assert infos["tiny_plugin"].source == "entry point 'pkg.mod:TinyGenerator'"
    assert "broken" not in infos
    assert infos["copy"].source == "built-in"
    assert make_generator("tiny_plugin", repeat=3).repeat == 3
    monkeypatch.setattr(registry_mod, "_plugins", None)


def test_import_has_no_side_effects() -> None:
    code = (
        "import sys, generators; from generators import available_generators; "
        "available_generators(); "
        "print(sorted(m for m in ('sdv', 'synthcity', 'torch', 'ctgan') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert out.stderr == ""


# ------------------------------------------------------------------------------------------------
# Failures, inputs, seeds
# ------------------------------------------------------------------------------------------------


def test_library_failure_becomes_generator_fit_error(train: pd.DataFrame) -> None:
    gen = make_generator("gaussian_copula", numerical_distributions={"age": "no_such_distribution"})
    with pytest.raises(GeneratorFitError) as err:
        gen.fit(train, random_state=0)
    msg = str(err.value)
    assert "Generator 'gaussian_copula'" in msg and "failed to fit" in msg
    assert "no_such_distribution" in msg  # the parameters are named
    assert isinstance(err.value, SynthAuditError)
    assert err.value.generator == "gaussian_copula"
    assert err.value.cause and err.value.detail
    assert not gen.is_fitted


def test_synthcity_plugin_failure_becomes_generator_fit_error(train: pd.DataFrame) -> None:
    gen = make_generator("synthcity", plugin="ctgan", plugin_params={"n_iter": "many"})
    with pytest.raises(GeneratorFitError, match=r"Generator 'synthcity'.*failed to fit"):
        gen.fit(train, schema=SCHEMA, random_state=0)


def test_unknown_synthcity_plugin_is_a_config_error(train: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"no tabular plugin 'nope'.*'bayesian_network'"):
        make_generator("synthcity", plugin="nope").fit(train, schema=SCHEMA, random_state=0)


def test_synthcity_plugin_params_cannot_override_reserved_keys() -> None:
    with pytest.raises(ConfigError, match="must not set 'random_state'"):
        make_generator("synthcity", plugin_params={"random_state": 3})


def test_schema_must_describe_the_training_columns(train: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="'extra'"):
        make_generator("copy").fit(train.assign(extra=1.0), schema=SCHEMA)


def test_bad_seed_and_bad_n_are_config_errors(train: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"'random_state' parameter of CopyGenerator\.fit"):
        make_generator("copy").fit(train, random_state=-1)
    gen = make_generator("copy").fit(train, random_state=0)
    with pytest.raises(ConfigError, match=r"must be an int >= 0\. Got -3"):
        gen.sample(-3)


def test_schema_is_inferred_when_not_given(train: pd.DataFrame) -> None:
    gen = make_generator("independent_marginals").fit(train, random_state=0)
    assert gen.schema_.kind("smoker") is ColumnKind.BOOLEAN
    assert_same_layout(gen.sample(20, random_state=0), train, 20)


def test_privbayes_degree_grows_with_rows_and_epsilon() -> None:
    cards = [10] * 8
    assert privbayes_degree(300, cards, 1.0) == 0
    assert privbayes_degree(10_000_000, cards, 1.0) >= 2
    assert privbayes_degree(10_000_000, cards, 1.0) >= privbayes_degree(10_000_000, cards, 0.01)


@pytest.mark.parametrize("name", ["ctgan", "synthcity"])
def test_learned_generators_are_silent(
    name: str, train: pd.DataFrame, capfd: pytest.CaptureFixture[str]
) -> None:
    # synthcity's bayesian_network runs joblib work (pgmpy) that would warn from child processes.
    gen = make_generator(name, **SMALL_PARAMS[name]).fit(train, schema=SCHEMA, random_state=0)
    gen.sample(10, random_state=0)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.slow
def test_synthcity_ctgan_plugin(train: pd.DataFrame, holdout: pd.DataFrame) -> None:
    params = {"plugin": "ctgan", "plugin_params": {"n_iter": 2, "batch_size": 100}, "n_threads": 1}
    a = make_generator("synthcity", **params).fit(train, schema=SCHEMA, random_state=0)
    b = make_generator("synthcity", **params).fit(train, schema=SCHEMA, random_state=0)
    assert_same_layout(a.sample(100, random_state=1), train, 100)
    pd.testing.assert_frame_equal(a.sample(100, random_state=1), b.sample(100, random_state=1))


@pytest.mark.slow
def test_synthcity_import_is_silent() -> None:
    code = "from generators.synthcity_adapter import tabular_plugins; print(len(tabular_plugins()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout.strip()) >= 10
    assert "CRITICAL" not in out.stderr and "load failed" not in out.stderr


def test_leaky_rounding_is_half_up() -> None:
    assert LeakyGenerator(fraction=0.25).n_leaked(10) == 3
    assert LeakyGenerator(fraction=0.3).n_leaked(200) == 60


def test_privbayes_noise_correction_covers_every_cell_at_count_scale() -> None:
    from generators.synthcity_adapter import _privbayes_corrections, import_synthcity

    import_synthcity()
    from synthcity.plugins.privacy.plugin_privbayes import PrivBayes

    model = PrivBayes(epsilon=1.0, K=1)  # synthcity stores epsilon / 2
    data = pd.DataFrame({"a": [0, 0, 1, 1] * 50, "b": [0, 1, 0, 0] * 50})  # (a=1, b=1) never occurs
    with _privbayes_corrections():
        assert model._laplace_noise_parameter(200, 5) == 2 * (5 - 1 + 1) / 0.5
        np.random.seed(0)
        counts = model._get_noisy_counts_for_attributes(data, ["a", "b"])
    assert len(counts) == 4, "every cell of the domain gets noise, empty ones included"
    assert counts["count"].sum() == pytest.approx(200, abs=100)
    with _privbayes_corrections():
        single = model._get_noisy_counts_for_attributes(data, ["a"])
    assert single["count"].sum() == pytest.approx(200, abs=100), "one-column tables keep counts"
    assert model._laplace_noise_parameter(200, 5) == 2 * (5 - 1) / (200 * 0.5)  # restored


def test_privbayes_tracks_the_data_at_large_epsilon(train: pd.DataFrame) -> None:
    gen = make_generator("privbayes", epsilon=1e5, n_threads=1)
    sample = gen.fit(train, schema=SCHEMA, random_state=0).sample(2000, random_state=0)
    share = (sample["city"] == "paris").mean()
    assert abs(share - (train["city"] == "paris").mean()) < 0.06
    assert abs(sample["age"].mean() - train["age"].mean()) < 3
