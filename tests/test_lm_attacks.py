"""Language-model attacks without a model: Min-K% / Min-K%++ by hand, the blind baseline on
real text (shifted vs IID splits), TOML validation and the refusal of pickled weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth_audit.errors import ConfigError
from synth_audit.lm.attacks import attack_scores, min_k, min_k_pp, n_lowest
from synth_audit.lm.baseline import blind_baseline
from synth_audit.lm.logprobs import TokenStats

CORPUS = Path(__file__).resolve().parents[1] / "samples" / "lm" / "corpus.csv"


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    return pd.read_csv(CORPUS)


def test_min_k_hand_computed() -> None:
    lp = np.array([-0.5, -3.0, -0.1, -2.0, -7.0, -1.0, -0.2, -4.0, -0.3, -0.05])
    # k = 0.2 of 10 tokens: the 2 lowest (-7, -4) -> -5.5
    assert min_k(lp, 0.2) == pytest.approx(-5.5)
    # k = 0.25: ceil(2.5) = 3 lowest (-7, -4, -3) -> -14/3
    assert min_k(lp, 0.25) == pytest.approx(-14.0 / 3.0)
    assert min_k(lp, 1.0) == pytest.approx(lp.mean())
    assert min_k(np.array([-2.0]), 0.01) == -2.0  # at least one token
    assert n_lowest(10, 0.2) == 2 and n_lowest(10, 0.21) == 3 and n_lowest(3, 0.1) == 1


def test_min_k_pp_hand_computed() -> None:
    lp = np.array([-1.0, -2.0, -0.5, -3.0])
    mu = np.array([-1.5, -1.0, -1.0, -2.0])
    sd = np.array([0.5, 2.0, 0.25, 1.0])
    # z = (lp - mu) / sd = [1.0, -0.5, 2.0, -1.0]; k = 0.5 -> the 2 lowest: (-1 - 0.5) / 2
    assert min_k_pp(lp, mu, sd, 0.5) == pytest.approx(-0.75)
    assert min_k_pp(lp, mu, sd, 0.25) == pytest.approx(-1.0)
    assert min_k_pp(lp, mu, sd, 1.0) == pytest.approx(1.5 / 4)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-30, 0, allow_nan=False), min_size=1, max_size=40),
    st.floats(0.01, 1.0),
    st.floats(0.01, 1.0),
)
def test_min_k_monotone_in_k(values: list[float], k1: float, k2: float) -> None:
    lo, hi = sorted((k1, k2))
    lp = np.array(values)
    assert min_k(lp, lo) <= min_k(lp, hi) + 1e-9
    assert lp.min() - 1e-9 <= min_k(lp, lo) <= lp.mean() + 1e-9
    # Min-K%++ with mean 0 and sd 1 is Min-K%
    assert min_k_pp(lp, np.zeros_like(lp), np.ones_like(lp), lo) == pytest.approx(min_k(lp, lo))


def test_attack_scores_orientation_and_errors() -> None:
    member = TokenStats(np.array([-0.1, -0.2]), np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    other = TokenStats(np.array([-3.0, -2.0]), np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    s = attack_scores(["ab", "cd"], [member, other], attacks=["loss", "zlib", "min_k", "min_k_pp"])
    for name, v in s.items():
        assert v[0] > v[1], name  # higher = member
    with pytest.raises(ConfigError, match="Unknown language-model attack"):
        attack_scores(["a"], [member], attacks=["perplexity"])
    with pytest.raises(ConfigError, match="needs a reference model"):
        attack_scores(["a"], [member], attacks=["reference"])
    with pytest.raises(ConfigError, match=r"\(0, 1\]"):
        min_k([-1.0], 0.0)


def test_blind_baseline_warns_on_a_shifted_split_only(corpus: pd.DataFrame) -> None:
    ops = corpus[corpus.source == "operation"].text.tolist()
    shapes = corpus[corpus.source == "shape"].text.tolist()
    shifted = blind_baseline(ops[:100], shapes[:100], random_state=0)
    assert shifted.auc_ci[0] > 0.5
    assert "blind_baseline_separates" in {w.code for w in shifted.warnings}
    # the corpus is ordered by service: an IID split needs a random permutation (the first and
    # the next rows would be a split by service, which the baseline detects too)
    order = np.random.default_rng(0).permutation(len(ops))
    iid = blind_baseline([ops[i] for i in order[:100]], [ops[i] for i in order[100:200]])
    assert iid.auc_ci[0] <= 0.5 <= iid.auc_ci[1]
    assert "blind_baseline_separates" not in {w.code for w in iid.warnings}
    assert iid.unit == "document" and iid.n_members == 100


def test_from_pretrained_refuses_pickled_weights(tmp_path: Path) -> None:
    from synth_audit.lm.target import CausalLMTarget

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    (tmp_path / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ConfigError, match=r"pytorch_model\.bin.*safe_serialization=True"):
        CausalLMTarget.from_pretrained(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        CausalLMTarget.from_pretrained(tmp_path / "missing")


def _toml(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "audit.toml"
    p.write_text(body)
    return p


def test_toml_rejects_unknown_keys_naming_file_and_key(tmp_path: Path) -> None:
    from synth_audit.lm.audit import audit_lm_from_toml

    p = _toml(tmp_path, '[target]\nkind = "causal_lm"\nmodel = "x"\n')
    with pytest.raises(ConfigError, match=r"audit\.toml.*'model'.*\[target\]"):
        audit_lm_from_toml(p)
    p = _toml(tmp_path, '[target]\nkind = "causal_lm"\n[attack]\nnames = []\n')
    with pytest.raises(ConfigError, match=r"'attack'.*top level"):
        audit_lm_from_toml(p)
    p = _toml(
        tmp_path,
        f'[target]\nkind = "causal_lm"\n[target.recipe]\nepochs = 1\nlayers = 2\n'
        f'[data]\npath = "{CORPUS}"\nmembers = 10\nnonmembers = 10\n',
    )
    with pytest.raises(ConfigError, match=r"'layers'"):
        audit_lm_from_toml(p)
    p = _toml(
        tmp_path,
        f'[target]\nkind = "causal_lm"\n[target.recipe]\nepochs = 1\n'
        f'[data]\npath = "{CORPUS}"\ntext_column = "body"\n',
    )
    with pytest.raises(Exception, match=r"corpus\.csv.*'body'.*text_column"):
        audit_lm_from_toml(p)
