"""The app's "Audit a language model" page runs an audit of the sample and shows the membership
table, the canary exposure chart and the most exposed documents (Streamlit AppTest, no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from synth_audit import service

pytest.importorskip("torch")

APP = Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"


@pytest.mark.slow
def test_lm_page_runs_an_audit_and_shows_exposure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(service.STORE_ENV, str(tmp_path / "store.sqlite"))
    monkeypatch.setenv("SYNTH_AUDIT_HOME", str(tmp_path))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    at.switch_page("views/lm.py")
    at.run()
    assert not at.exception
    assert any("run the audit" in i.value for i in at.info)
    at.number_input[0].set_value(20)  # members
    at.number_input[1].set_value(2)  # epochs
    at.number_input[3].set_value(1)  # canaries per count
    at.number_input[4].set_value(2)  # digits
    next(b for b in at.button if b.label == "Run the audit").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    headers = [h.value for h in at.subheader]
    assert "Canary exposure" in headers and "The documents most exposed" in headers
    frames = [d.value for d in at.dataframe]
    attacks = frames[0]
    assert set(attacks["attack"]) == {"loss", "zlib", "lowercase", "min_k", "min_k_pp", "reference"}
    exposed = frames[-1]
    assert len(exposed) == 10 and exposed["document"].str.startswith("d").all()
