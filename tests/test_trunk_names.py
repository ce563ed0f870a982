"""Neutral names: ``[[targets]]`` for ``[[generators]]``, challenge records for "target" records.

Stored studies must keep resuming: the new names are normalised to the stored form, so the spec JSON
(its hash), the evaluation identity and the run keys stay what they were.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.store import canonical_json, open_store
from synth_audit.study.runner import record_runs
from synth_audit.study.spec import StudySpec, expand, study_from_mapping
from synth_audit.study.tasks import spec_of

ROOT = Path(__file__).resolve().parents[1]
FAIR = ROOT / "samples" / "fair" / "population.csv"
ENTRIES = [{"name": "copy"}, {"name": "independent_marginals"}]


def _raw(section: str = "generators", **extra: Any) -> dict[str, Any]:
    return {
        "name": "names",
        "seeds": 2,
        "data": {"path": str(FAIR)},
        "split": {"train": 300, "control": 300, "reference": 600, "seed": 5},
        section: ENTRIES,
        "utility": {"enabled": False},
        **extra,
    }


def test_targets_is_an_alias_of_generators_with_the_same_stored_form(tmp_path: Path) -> None:
    as_targets = study_from_mapping(_raw("targets"))
    as_generators = study_from_mapping(_raw("generators"))
    assert as_targets.targets == as_targets.generators == as_generators.generators
    assert as_targets.to_dict() == as_generators.to_dict()
    assert "targets" not in as_targets.to_dict()
    assert [r.run_key for r in expand(as_targets)] == [r.run_key for r in expand(as_generators)]

    # stored and read back: same spec, same identity, same run ids when recorded under either name
    store = open_store(tmp_path / "store.sqlite")
    first = record_runs(as_targets, store=store)
    stored = spec_of(store, "names")
    assert stored == as_generators
    assert canonical_json(stored.evaluation_identity()) == canonical_json(
        as_targets.evaluation_identity()
    )
    assert record_runs(as_generators, store=store).keys() == first.keys()
    assert len(store.list_runs(study="names")) == 4

    with pytest.raises(ConfigError, match=r"both \[\[targets\]\] and \[\[generators\]\]"):
        study_from_mapping({**_raw("targets"), "generators": ENTRIES})
    with pytest.raises(ConfigError, match=r"\[targets\.1\] nope: Unknown generator"):
        study_from_mapping(_raw("targets") | {"targets": [{"name": "copy"}, {"name": "nope"}]})


#: ``[membership.shadow]`` as the first stores recorded it (field order of the old model included).
OLD_SHADOW = {
    "n_targets": 2,
    "n_shadow": 4,
    "n_eval": 2,
    "train_size": None,
    "synth_size": None,
    "classifier": "logistic",
}


def test_a_spec_stored_with_n_targets_loads_with_the_same_identity_and_keys(
    tmp_path: Path,
) -> None:
    shadow = {"n_targets": 2, "n_shadow": 4, "n_eval": 2, "classifier": "logistic"}
    old = study_from_mapping(_raw(membership={"attacks": ["dcr"], "shadow": shadow}))
    new_shadow = {"n_challenges": 2, "n_shadow": 4, "n_eval": 2, "classifier": "logistic"}
    new = study_from_mapping(_raw(membership={"attacks": ["dcr"], "shadow": new_shadow}))
    assert new.membership.shadow is not None and new.membership.shadow.n_challenges == 2
    assert new.membership.shadow.n_targets == 2  # the former name still reads
    # the stored form keeps the first name, in its place: byte-identical spec JSON and hash
    assert new.to_dict()["membership"]["shadow"] == OLD_SHADOW
    assert json.dumps(new.to_dict()["membership"]["shadow"]) == json.dumps(OLD_SHADOW)
    assert canonical_json(new.to_dict()) == canonical_json(old.to_dict())
    assert [r.run_key for r in expand(new)] == [r.run_key for r in expand(old)]

    store = open_store(tmp_path / "store.sqlite")
    record_runs(old, store=store)
    study = store.get_study("names")
    want = hashlib.sha256(canonical_json(old.to_dict()).encode("utf-8")).hexdigest()
    assert study.spec["membership"]["shadow"]["n_targets"] == 2
    reread = spec_of(store, "names")
    assert reread == new
    assert StudySpec.from_dict(study.spec).evaluation_identity() == new.evaluation_identity()
    record_runs(new, store=store)  # the same spec: recorded again without a conflict
    assert store.get_study("names").spec_hash == study.spec_hash
    assert study.spec_hash == want

    with pytest.raises(ConfigError, match="n_challenges and n_targets are both given"):
        study_from_mapping(
            _raw(membership={"shadow": {"n_targets": 2, "n_challenges": 2, "n_shadow": 4}})
        )


def test_challenge_selection_names_and_deprecated_aliases() -> None:
    from synth_audit.membership import ChallengeSelection, select_challenges
    from synth_audit.membership.selection import TargetSelection, select_targets

    df = pd.read_csv(FAIR).iloc[:60]
    members, nonmembers = df.iloc[:30], df.iloc[30:]
    got = select_challenges(members, nonmembers, n=5, strategy="vulnerable", random_state=1)
    assert isinstance(got, ChallengeSelection) and TargetSelection is ChallengeSelection
    with pytest.warns(DeprecationWarning, match="use select_challenges"):
        old = select_targets(members, nonmembers, n=5, strategy="vulnerable", random_state=1)
    assert old.to_dict() == got.to_dict()
    with pytest.raises(DataValidationError, match="n=40 challenge records of each class"):
        select_challenges(members, nonmembers, n=40)


def test_shadow_attack_takes_challenges_and_warns_on_targets() -> None:
    from generators.baselines import CopyGenerator
    from synth_audit.membership.shadow import plan_shadow_fits

    df = pd.read_csv(FAIR).iloc[:200]
    kw: dict[str, Any] = {
        "generator": CopyGenerator(),
        "reference": df.iloc[2:],
        "n_shadow": 4,
        "n_eval": 2,
        "train_size": 20,
        "random_state": 3,
    }
    fits = plan_shadow_fits(challenges=df.iloc[:2], **kw)
    assert len(fits) == 2 * (4 + 2)
    with pytest.warns(DeprecationWarning, match="challenges="):
        old = plan_shadow_fits(targets=df.iloc[:2], **kw)
    assert [f.fit_seed for f in old] == [f.fit_seed for f in fits]
    with pytest.raises(ConfigError, match="both 'challenges' and 'targets'"):
        plan_shadow_fits(challenges=df.iloc[:2], targets=df.iloc[:2], **kw)
