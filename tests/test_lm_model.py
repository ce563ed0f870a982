"""Causal LM audits on a tiny GPT-2 trained here on real text (samples/lm/corpus.csv):
memorisation is detected, a model that never saw the texts is not, canaries inserted 16 times are
exposed, the target contract holds, safetensors round trip, DP training records its ε."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from synth_audit.lm.audit import audit_lm  # noqa: E402
from synth_audit.lm.canaries import (  # noqa: E402
    exposure_exact,
    exposure_skew_normal,
    insert_canaries,
    make_canaries,
)
from synth_audit.lm.target import CausalLMTarget  # noqa: E402
from synth_audit.membership import MembershipResult  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "samples" / "lm" / "corpus.csv"
RECIPE = {
    "vocab_size": 512,
    "n_layer": 2,
    "n_embd": 64,
    "n_head": 2,
    "context": 48,
    "epochs": 10,
    "learning_rate": 3e-3,
    "batch_size": 16,
}


@pytest.fixture(scope="module")
def lm() -> dict[str, Any]:
    df = pd.read_csv(CORPUS)
    ops = df[df.source == "operation"].text.tolist()
    order = np.random.default_rng(0).permutation(len(ops))
    members = [ops[i] for i in order[:50]]
    nonmembers = [ops[i] for i in order[50:100]]
    reference = [ops[i] for i in order[100:170]]
    canaries = make_canaries((0, 16), per_count=4, digits=3, random_state=0)
    target = CausalLMTarget(name="tiny", recipe=RECIPE)
    # the tokenizer learns from public text (the reference set), not from the members
    target.fit(insert_canaries(members, canaries, 0), random_state=0, tokenizer_texts=reference)
    ref = CausalLMTarget(name="ref", recipe={**RECIPE, "epochs": 4})
    ref.fit(reference, random_state=1, tokenizer=target.tokenizer)
    report = audit_lm(
        target, members, nonmembers, reference_target=ref, canaries=canaries, random_state=0
    )
    return {
        "target": target,
        "ref": ref,
        "report": report,
        "members": members,
        "nonmembers": nonmembers,
        "canaries": canaries,
    }


def _finding(report: Any, section: str, name: str) -> dict[str, Any]:
    return next(f for f in report.sections[section]["findings"] if f["name"] == name)


def test_loss_attack_detects_a_model_trained_many_epochs(lm: dict[str, Any]) -> None:
    loss = MembershipResult.from_dict(lm["report"].membership["loss"])
    assert loss.auc_ci[0] > 0.6
    assert loss.unit == "document" and loss.n_members == 50
    assert loss.baseline is not None and loss.baseline.attack == "blind_ngram"
    assert set(lm["report"].membership) == {
        "loss",
        "zlib",
        "lowercase",
        "min_k",
        "min_k_pp",
        "reference",
    }


def test_model_that_never_saw_the_texts_shows_no_leakage(lm: dict[str, Any]) -> None:
    # the reference model was fine-tuned on other texts of the same distribution only
    report = audit_lm(
        lm["ref"],
        lm["members"],
        lm["nonmembers"],
        attacks=["loss", "min_k"],
        baseline=False,
        random_state=0,
    )
    for name in ("loss", "min_k"):
        lo, hi = report.membership[name]["auc_ci"]
        assert lo <= 0.5 <= hi, name


def test_canaries_inserted_16_times_are_more_exposed(lm: dict[str, Any]) -> None:
    rep = lm["report"]
    never = _finding(rep, "canaries", "mean_exposure_0x")
    often = _finding(rep, "canaries", "mean_exposure_16x")
    assert often["ci_low"] > never["ci_high"]
    top = _finding(rep, "canaries", "max_exposure")
    assert top["role"] == "risk" and top["bounds"] == [0.0, pytest.approx(3 * math.log2(10))]
    assert rep.sections["canaries"]["images"][0]["media_type"] in ("image/png", "image/svg+xml")
    ex = _finding(rep, "extraction", "extracted_fraction")
    assert ex["role"] == "risk" and 0.0 <= ex["value"] <= 1.0
    ppl = _finding(rep, "model", "heldout_perplexity")
    assert ppl["role"] == "utility" and ppl["direction"] == "lower_is_better" and ppl["value"] > 1


def test_skew_normal_estimate_tracks_exact_exposure(lm: dict[str, Any]) -> None:
    t = lm["target"]
    for c in (lm["canaries"][0], lm["canaries"][-1]):  # never inserted, inserted 16 times
        exact = exposure_exact(t.model, t.tokenizer, c)["exposure"]
        est = exposure_skew_normal(t.model, t.tokenizer, c, n_samples=500, random_state=0)
        assert abs(est["exposure"] - exact) < 3.0, (c.inserted, exact, est)


def test_target_contract_registry_and_cache(lm: dict[str, Any]) -> None:
    from synth_audit.targets import Capability
    from synth_audit.targets.registry import make_target
    from synth_audit.testing import check_target

    check_target(lambda: CausalLMTarget.from_config("tiny", dict(RECIPE)))
    made = make_target("causal_lm", "tiny", {**RECIPE, "min_k": 0.1})
    assert isinstance(made, CausalLMTarget) and made.audit["min_k"] == 0.1
    assert Capability.REFIT in made.capabilities and made.info().fingerprint is None
    t = lm["target"]
    info = t.info()
    assert info.fingerprint and len(info.fingerprint) == 64 and info.privacy == {}
    before = t._cache.hits
    again = t.token_logprobs(lm["members"][:5])
    assert t._cache.hits == before + 5
    assert np.all(again[0] <= 0) and again[0].size > 10


def test_safetensors_round_trip(lm: dict[str, Any], tmp_path: Path) -> None:
    t = lm["target"]
    d = t.save_pretrained(tmp_path / "model")
    assert (d / "model.safetensors").exists() and not list(d.glob("*.bin"))
    loaded = CausalLMTarget.from_pretrained(d, name="loaded")
    assert loaded.fingerprint == t.fingerprint
    assertions = zip(
        loaded.token_logprobs(lm["members"][:3]), t.token_logprobs(lm["members"][:3]), strict=True
    )
    for a, b in assertions:
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert "refit" not in {str(c) for c in loaded.capabilities}


@pytest.mark.slow
def test_dp_training_records_epsilon() -> None:
    df = pd.read_csv(CORPUS)
    texts = df[df.source == "operation"].text.tolist()[:24]
    t = CausalLMTarget(
        name="dp",
        recipe={**RECIPE, "epochs": 1, "noise_multiplier": 1.0, "batch_size": 8, "context": 32},
    )
    t.fit(texts, random_state=0)
    eps = t.info().epsilon
    assert eps is not None and 0 < eps < 1e3 and t.info().delta == 1e-5
    assert np.isfinite(t.loss(texts[:2])).all()
