"""Model files: pickle refused unread (marker file), skops with trusted types, safetensors + JSON,
ONNX, stored probabilities; the classifier target passes the target contract."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synth_audit.errors import ConfigError
from synth_audit.models.loaders import load_model
from synth_audit.models.target import ClassifierTarget
from synth_audit.testing import check_target


class _Booby:
    """Unpickling this creates the marker file: proof that something was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (str(self.marker), "w"))


def _double(x):  # type: ignore[no-untyped-def]
    return 2 * x


@pytest.fixture
def digits() -> pd.DataFrame:
    from sklearn.datasets import load_digits

    return load_digits(as_frame=True).frame.rename(columns={"target": "digit"}).iloc[:300]


@pytest.mark.parametrize("name", ["model.pkl", "model.joblib", "model.pt", "model.skops"])
def test_pickled_model_is_refused_and_nothing_is_unpickled(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "UNPICKLED"
    path = tmp_path / name  # model.skops: a pickle under a harmless name (caught by its bytes)
    path.write_bytes(pickle.dumps(_Booby(marker), protocol=4))
    with pytest.raises(ConfigError) as exc:
        load_model(path, label="y")
    msg = str(exc.value)
    assert "pickle" in msg and "skops.io.dump" in msg and "safetensors" in msg
    assert not marker.exists()
    pickle.loads(path.read_bytes())  # the control: unpickling it does leave the marker
    assert marker.exists()


def test_skops_needs_every_untrusted_type_listed(tmp_path: Path, digits: pd.DataFrame) -> None:
    import skops.io as sio
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.tree import DecisionTreeClassifier

    digits = digits.iloc[:, [*range(0, 64, 4), 64]]  # 16 pixels: a quick fit
    X, y = digits.drop(columns=["digit"]), digits["digit"]
    model = make_pipeline(
        FunctionTransformer(_double), DecisionTreeClassifier(max_depth=4, random_state=0)
    ).fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=str(path))
    assert untrusted and any("_double" in t for t in untrusted)
    with pytest.raises(ConfigError, match="_double"):
        load_model(path, label="digit")
    target = load_model(path, label="digit", trusted=untrusted)
    np.testing.assert_allclose(target.predict_proba(digits), model.predict_proba(X))
    assert target.classes == list(range(10))
    assert "refit" in {str(c) for c in target.capabilities}  # a clone of the estimator


def test_torch_mlp_round_trips_through_safetensors(tmp_path: Path, digits: pd.DataFrame) -> None:
    import torch

    torch.set_num_threads(1)
    target = ClassifierTarget(label="digit", model="torch_mlp", hidden=[16], epochs=3)
    target.fit(digits, random_state=0)
    target.save_torch(str(tmp_path / "m.safetensors"), str(tmp_path / "m.json"))
    loaded = load_model(tmp_path / "m.safetensors", label="digit")
    np.testing.assert_allclose(loaded.predict_proba(digits), target.predict_proba(digits))
    assert loaded.info().fingerprint == target.info().fingerprint
    assert "refit" not in {str(c) for c in loaded.capabilities}
    (tmp_path / "m.json").unlink()
    with pytest.raises(ConfigError, match="JSON config"):
        load_model(tmp_path / "m.safetensors", label="digit")


def test_onnx_model_gives_its_softmax(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    W = np.array([[1.0, -1.0], [0.5, 2.0]], dtype=np.float32)
    b = np.array([0.1, -0.2], dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["h"]),
            helper.make_node("Add", ["h", "b"], ["z"]),
            helper.make_node("Softmax", ["z"], ["probabilities"], axis=1),
        ],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "m.onnx")
    data = pd.DataFrame({"a": [0.0, 1.0], "b": [2.0, -1.0], "y": ["no", "yes"]})
    target = load_model(tmp_path / "m.onnx", label="y", features=["a", "b"], classes=["no", "yes"])
    z = data[["a", "b"]].to_numpy() @ W + b
    want = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(target.predict_proba(data), want, rtol=1e-5)
    np.testing.assert_allclose(target.loss(data), -np.log(want[[0, 1], [0, 1]]), rtol=1e-5)


def test_stored_probabilities_are_looked_up_by_id(tmp_path: Path) -> None:
    probs = pd.DataFrame({"id": [3, 1, 2], "no": [0.9, 0.2, 0.5], "yes": [0.1, 0.8, 0.5]})
    probs.to_csv(tmp_path / "p.csv", index=False)
    target = load_model(tmp_path / "p.csv", label="y", id_column="id")
    data = pd.DataFrame({"id": [1, 3], "x": [0, 0], "y": ["yes", "no"]})
    np.testing.assert_allclose(target.true_class_proba(data), [0.8, 0.9])
    assert {str(c) for c in target.capabilities} == {"predict_proba", "loss"}
    with pytest.raises(Exception, match="no probabilities for 1 record"):
        target.predict_proba(pd.DataFrame({"id": [7], "y": ["no"]}))


def test_classifier_target_passes_the_contract(digits: pd.DataFrame) -> None:
    check_target(lambda: ClassifierTarget(label="digit", model="logistic"), data=digits)
    t = ClassifierTarget.from_config("m", {"label": "digit", "model": "logistic"})
    assert t.fit(digits, random_state=0).info().fingerprint is not None
    with pytest.raises(ConfigError) as exc:
        ClassifierTarget(label="digit", model="forest", epochs=0, noise_multiplier=1.0)
    msg = str(exc.value)
    assert "'model'" in msg and "'epochs'" in msg and "3 problem" in msg


@pytest.mark.slow
def test_torch_module_handed_over_with_a_training_function(digits: pd.DataFrame) -> None:
    import torch

    from synth_audit.models.attacks import MembershipSettings, run_membership

    torch.set_num_threads(1)
    pixels = [c for c in digits.columns if c != "digit"]

    def train(data: pd.DataFrame, random_state: int = 0):  # type: ignore[no-untyped-def]
        torch.manual_seed(random_state)
        net = torch.nn.Linear(len(pixels), 10)
        x = torch.tensor(data[pixels].to_numpy() / 16.0, dtype=torch.float32)
        y = torch.tensor(data["digit"].to_numpy())
        opt = torch.optim.Adam(net.parameters(), lr=0.05)
        for _ in range(30):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x), y).backward()
            opt.step()

        def predict_proba(frame: pd.DataFrame) -> np.ndarray:
            with torch.no_grad():
                z = net(torch.tensor(frame[pixels].to_numpy() / 16.0, dtype=torch.float32))
                return torch.softmax(z, dim=1).numpy()

        return predict_proba

    members, nonmembers, reference = digits.iloc[:60], digits.iloc[60:120], digits.iloc[120:300]
    target = ClassifierTarget.from_callable(
        train(members), label="digit", classes=list(range(10)), name="linear", train=train
    )
    assert "refit" in {str(c) for c in target.capabilities}
    out = run_membership(
        target,
        members,
        nonmembers,
        reference,
        settings=MembershipSettings(attacks=("loss", "rmia"), n_reference=2, n_population=60),
    )
    assert out.reference["n_models"] == 2 and set(out.results) == {"loss", "rmia"}
    with pytest.raises(ConfigError, match="no predict_proba"):
        ClassifierTarget.from_estimator(object(), label="digit")
