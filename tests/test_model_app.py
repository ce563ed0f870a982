"""The app's "Audit a model" view: an uploaded skops model is audited; a pickle is refused unread."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from synth_audit import service

APP = Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(service.STORE_ENV, str(tmp_path / "store.sqlite"))
    monkeypatch.setenv("SYNTH_AUDIT_HOME", str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page("views/model.py")
    at.run()
    assert not at.exception
    at.radio(key="model.source").set_value("My model file").run()
    return at


class _Booby:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (str(self.marker), "w"))


def _csv(df) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode()


@pytest.mark.slow
def test_uploaded_skops_model_is_audited(app: AppTest, tmp_path: Path) -> None:
    import skops.io as sio
    from sklearn.datasets import load_digits
    from sklearn.tree import DecisionTreeClassifier

    df = load_digits(as_frame=True).frame.rename(columns={"target": "digit"})
    df = df.iloc[:, [*range(0, 64, 4), 64]]
    members, nonmembers = df.iloc[:200], df.iloc[200:400]
    model = DecisionTreeClassifier(random_state=0).fit(members.drop(columns="digit"), members.digit)
    path = tmp_path / "tree.skops"
    sio.dump(model, path)
    app.file_uploader(key="model.file").upload("tree.skops", path.read_bytes())
    app.text_input(key="model.label").set_value("digit")
    app.file_uploader(key="model.members").upload("members.csv", _csv(members))
    app.file_uploader(key="model.nonmembers").upload("nonmembers.csv", _csv(nonmembers))
    app.button(key="model.run_upload").click().run()
    # a tree's inner type is not trusted by default: the page names it, the user lists it
    assert any("sklearn.tree._tree.Tree" in str(e.value) for e in app.error)
    app.text_input(key="model.trusted").set_value("sklearn.tree._tree.Tree")
    app.button(key="model.run_upload").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    table = app.dataframe[0].value
    assert set(table["attack"]) == {"loss", "confidence", "entropy", "modified_entropy"}
    # a fully grown tree memorises its members: the LOSS attack sees it
    assert float(table.loc[table["attack"] == "loss", "AUC"].iloc[0]) > 0.7


def test_uploaded_pickle_is_refused_unread(app: AppTest, tmp_path: Path) -> None:
    marker = tmp_path / "UNPICKLED"
    app.file_uploader(key="model.file").upload("model.joblib", pickle.dumps(_Booby(marker)))
    app.text_input(key="model.label").set_value("y")
    app.file_uploader(key="model.members").upload("m.csv", b"a,y\n1,0\n")
    app.file_uploader(key="model.nonmembers").upload("n.csv", b"a,y\n2,1\n")
    app.button(key="model.run_upload").click().run()
    assert not app.exception
    msgs = [str(e.value) for e in app.error]
    assert any("pickle" in m and "skops" in m for m in msgs), msgs
    assert not marker.exists()
