"""The PET search page and the background search it starts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from synth_audit import service
from synth_audit.pet.background import start_search

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app" / "streamlit_app.py"


def test_the_search_page_describes_the_shipped_search_and_offers_to_start_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(service.STORE_ENV, f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.setenv("SYNTH_AUDIT_HOME", str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.switch_page("views/search.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "PET search"
    options = at.selectbox[0].options
    assert {"randhie/search.toml", "classifier/search.toml"} <= set(options)
    at.selectbox[0].set_value("randhie/search.toml").run()
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.caption)
    assert "randhie-pet-privbayes" in captions and "epsilon from 0.01 to 100" in captions
    assert any(b.label == "Start the search" for b in at.button)
    assert any("No trial of this search is done yet" in i.value for i in at.info)


@pytest.mark.slow
def test_a_background_search_writes_trials_to_the_store_and_a_recommendation(
    tmp_path: Path,
) -> None:
    from test_pet_search import _raw, _toml

    # two objectives: NSGA-II (the kill test covers TPE with a constraint)
    raw = _raw(
        "background",
        trials=2,
        confirm_top=1,
        confirm_seeds=1,
        objectives=[
            {"metric": "worst", "stat": "ci_high", "direction": "minimize"},
            {"metric": "utility.score", "direction": "maximize"},
        ],
    )
    (tmp_path / "search.toml").write_text(_toml(raw), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    job = start_search(
        tmp_path / "search.toml", store_url=url, workdir=tmp_path / "work", workers=1
    )
    deadline = time.monotonic() + 180
    while job.running() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not job.running(), job.log_tail()
    result = job.result()
    assert result is not None, job.log_tail()
    assert result["sampler"] == "nsga2"
    assert len(result["trials"]) == 2 and result["recommendation"]["why"]
    assert all(len(t["values"]) == 2 for t in result["trials"])
    store = service.open_app_store(url)
    assert store.count_runs(study="background", status="done") == 2
