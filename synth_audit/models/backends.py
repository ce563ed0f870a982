"""The models behind a :class:`~synth_audit.models.target.ClassifierTarget`.

Each backend answers ``predict_proba(features) -> (n, n_classes)`` with columns in the order of
``classes_`` and ``weight_chunks()`` (bytes for the fingerprint). Recipes a target can re-fit:

``logistic``   scikit-learn ``LogisticRegression`` (``C = 1 / weight_decay``; no penalty at 0)
``mlp``        scikit-learn ``MLPClassifier`` (``hidden``, ``epochs`` = max_iter, ``alpha`` =
               weight_decay, ``learning_rate``, ``batch_size``)
``torch_mlp``  a torch MLP trained with Adam (``hidden``, ``epochs``, ``weight_decay``,
               ``learning_rate``, ``batch_size``); with ``noise_multiplier`` it is trained with
               DP-SGD by opacus (``max_grad_norm``, ``delta``) and claims the ε its accountant gives
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.models.features import TabularEncoder, class_index

__all__ = [
    "EncodedSklearn",
    "EstimatorBackend",
    "OnnxBackend",
    "ProbaTable",
    "TorchMLP",
    "align_proba",
    "fit_recipe",
]


def align_proba(p: np.ndarray, own: Sequence[Any], classes: Sequence[Any]) -> np.ndarray:
    """Probabilities with columns ``own`` re-ordered to ``classes`` (absent classes get 0)."""
    out = np.zeros((p.shape[0], len(classes)), dtype=np.float64)
    pos = class_index(list(own), classes)
    for j, k in enumerate(pos):
        if k >= 0:
            out[:, k] = p[:, j]
    return out


class EncodedSklearn:
    """A scikit-learn classifier trained on :class:`TabularEncoder` features (a recipe)."""

    def __init__(self, encoder: TabularEncoder, estimator: Any, classes: Sequence[Any]) -> None:
        self.encoder = encoder
        self.estimator = estimator
        self.classes_ = list(classes)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = self.estimator.predict_proba(self.encoder.transform(X))
        return align_proba(
            p, [self.classes_[int(c)] for c in self.estimator.classes_], self.classes_
        )

    def weight_chunks(self) -> Iterator[bytes]:
        est = self.estimator
        for attr in ("coefs_", "intercepts_", "coef_", "intercept_"):
            val = getattr(est, attr, None)
            if val is None:
                continue
            for a in val if isinstance(val, list) else [val]:
                yield np.ascontiguousarray(a, dtype=np.float64).tobytes()


class CallableBackend:
    """A model handed over in-process as a function ``predict_proba(features) -> (n, k)`` (a torch
    module wrapped by its owner, any framework), columns in the order of ``classes``."""

    def __init__(self, fn: Any, classes: Sequence[Any]) -> None:
        if not callable(fn):
            raise ConfigError(
                f"predict_proba must be callable (features -> probabilities); got "
                f"{type(fn).__name__}."
            )
        self.fn = fn
        self.classes_ = list(classes)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = np.asarray(self.fn(X), dtype=np.float64)
        if p.ndim != 2 or p.shape != (len(X), len(self.classes_)):
            raise DataValidationError(
                f"The model's predict_proba returned shape {p.shape} for {len(X)} records and "
                f"{len(self.classes_)} classes; it must return (n_records, n_classes)."
            )
        return p

    def weight_chunks(self) -> Iterator[bytes]:
        yield repr(self.fn).encode()


class EstimatorBackend:
    """A fitted scikit-learn estimator (or pipeline) handed over: it takes the feature frame."""

    def __init__(self, estimator: Any, classes: Sequence[Any] | None = None) -> None:
        if not callable(getattr(estimator, "predict_proba", None)):
            raise ConfigError(
                f"The estimator {type(estimator).__name__} has no predict_proba(); a classifier "
                "audit needs class probabilities. Give a probabilistic classifier (or a "
                "CalibratedClassifierCV around it)."
            )
        self.estimator = estimator
        own = list(getattr(estimator, "classes_", []))
        self.classes_ = list(classes) if classes is not None else own

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = np.asarray(self.estimator.predict_proba(X), dtype=np.float64)
        own = list(getattr(self.estimator, "classes_", self.classes_))
        return align_proba(p, own, self.classes_)

    def weight_chunks(self) -> Iterator[bytes]:
        yield repr(self.estimator).encode()
        for attr in ("coefs_", "intercepts_", "coef_", "intercept_"):
            val = getattr(self.estimator, attr, None)
            for a in val if isinstance(val, list) else ([] if val is None else [val]):
                yield np.ascontiguousarray(a, dtype=np.float64).tobytes()


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Small MLPs train fastest on one thread; torch's default (every core) only adds contention
    when reference models run side by side. The caller's setting is restored."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _mlp_module(n_in: int, hidden: Sequence[int], n_out: int) -> Any:
    import torch

    layers: list[Any] = []
    width = n_in
    for h in hidden:
        layers += [torch.nn.Linear(width, int(h)), torch.nn.ReLU()]
        width = int(h)
    layers.append(torch.nn.Linear(width, n_out))
    return torch.nn.Sequential(*layers)


class TorchMLP:
    """A torch MLP on :class:`TabularEncoder` features; stored as safetensors + a JSON config."""

    def __init__(
        self,
        encoder: TabularEncoder,
        module: Any,
        classes: Sequence[Any],
        hidden: Sequence[int],
        privacy: Mapping[str, float] | None = None,
    ) -> None:
        self.encoder = encoder
        self.module = module
        self.classes_ = list(classes)
        self.hidden = [int(h) for h in hidden]
        self.privacy = dict(privacy or {})

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        import torch

        x = torch.from_numpy(self.encoder.transform(X))
        self.module.eval()
        with torch.no_grad(), _one_thread():
            p = torch.softmax(self.module(x), dim=1).double().numpy()
        return np.asarray(p)

    def weight_chunks(self) -> Iterator[bytes]:
        for name, t in sorted(self.module.state_dict().items()):
            yield name.encode()
            yield t.detach().cpu().numpy().tobytes()

    def config(self) -> dict[str, Any]:
        return {
            "format": "synth_audit.torch_mlp",
            "version": 1,
            "hidden": self.hidden,
            "classes": [str(c) for c in self.classes_],
            "encoder": self.encoder.to_dict(),
            "privacy": self.privacy,
        }

    def save(self, weights: str, config: str) -> None:
        """Write the state dict (safetensors) and the config (JSON) to the two paths."""
        from pathlib import Path

        from safetensors.torch import save_file

        state = {k: v.detach().contiguous() for k, v in self.module.state_dict().items()}
        save_file(state, weights)
        Path(config).write_text(json.dumps(self.config(), indent=2), encoding="utf-8")

    @classmethod
    def from_state(
        cls, state: Mapping[str, Any], config: Mapping[str, Any], *, source: str
    ) -> TorchMLP:
        try:
            hidden = [int(h) for h in config["hidden"]]
            classes = list(config["classes"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DataValidationError(
                f"{source}: the model config lacks 'hidden' (layer widths) or 'classes' "
                f"({type(exc).__name__}: {exc}). Write it with ClassifierTarget.save_torch."
            ) from None
        encoder = TabularEncoder.from_dict(config.get("encoder", {}), source=source)
        module = _mlp_module(encoder.n_features, hidden, len(classes))
        try:
            module.load_state_dict(dict(state))
        except RuntimeError as exc:
            raise DataValidationError(
                f"{source}: the weights do not fit the config (hidden={hidden}, "
                f"{encoder.n_features} inputs, {len(classes)} classes): {str(exc)[:300]}. Give "
                "the config written with these weights."
            ) from None
        return cls(encoder, module, classes, hidden, config.get("privacy") or {})


def _train_torch(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    *,
    hidden: Sequence[int],
    epochs: int,
    weight_decay: float,
    learning_rate: float,
    batch_size: int,
    noise_multiplier: float | None,
    max_grad_norm: float,
    delta: float,
    seed: int,
) -> tuple[Any, dict[str, float]]:
    import warnings

    import torch

    with torch.random.fork_rng(devices=[]), warnings.catch_warnings(), _one_thread():
        # opacus warns about its insecure RNG and torch about full backward hooks: both expected.
        warnings.simplefilter("ignore", UserWarning)
        torch.manual_seed(seed)
        module = _mlp_module(X.shape[1], hidden, n_classes)
        gen = torch.Generator().manual_seed(seed)
        ds = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
        loader = torch.utils.data.DataLoader(
            ds, batch_size=min(batch_size, len(ds)), shuffle=True, generator=gen
        )
        opt: Any
        privacy: dict[str, float] = {}
        if noise_multiplier is not None:
            opt = torch.optim.SGD(module.parameters(), lr=learning_rate, weight_decay=weight_decay)
            try:
                from opacus import PrivacyEngine
            except ImportError as exc:  # pragma: no cover - opacus is a pinned dependency
                raise ConfigError(
                    f"DP-SGD needs opacus, which cannot be imported ({exc}). Install "
                    "synth-audit[models], or remove noise_multiplier."
                ) from None
            engine = PrivacyEngine(accountant="rdp", secure_mode=False)
            module, opt, loader = engine.make_private(
                module=module,
                optimizer=opt,
                data_loader=loader,
                noise_multiplier=float(noise_multiplier),
                max_grad_norm=float(max_grad_norm),
                noise_generator=torch.Generator().manual_seed(seed + 1),
            )
        else:
            opt = torch.optim.Adam(module.parameters(), lr=learning_rate, weight_decay=weight_decay)
        lossf = torch.nn.CrossEntropyLoss()
        module.train()
        for _ in range(int(epochs)):
            for xb, yb in loader:
                if len(xb) == 0:
                    continue
                opt.zero_grad()
                lossf(module(xb), yb).backward()
                opt.step()
        if noise_multiplier is not None:
            privacy = {"epsilon": float(engine.get_epsilon(delta)), "delta": float(delta)}
            module = module._module  # the plain module inside opacus' GradSampleModule
    module.eval()
    return module, privacy


def fit_recipe(
    params: Mapping[str, Any],
    X: pd.DataFrame,
    y: pd.Series,
    classes: Sequence[Any],
    seed: int,
) -> EncodedSklearn | TorchMLP:
    """Train the recipe ``params['model']`` on ``(X, y)`` (labels mapped onto ``classes``)."""
    encoder = TabularEncoder().fit(X)
    Z = encoder.transform(X)
    yi = class_index(y, classes)
    if (yi < 0).any():
        raise DataValidationError(
            f"The training labels hold values not among the classes {list(classes)!r}. Give the "
            "full list of classes."
        )
    model = params["model"]
    hidden = [int(h) for h in params["hidden"]]
    wd = float(params["weight_decay"])
    if model == "torch_mlp":
        module, privacy = _train_torch(
            Z,
            yi,
            len(classes),
            hidden=hidden,
            epochs=int(params["epochs"]),
            weight_decay=wd,
            learning_rate=float(params["learning_rate"]),
            batch_size=int(params["batch_size"]),
            noise_multiplier=params.get("noise_multiplier"),
            max_grad_norm=float(params["max_grad_norm"]),
            delta=float(params["delta"]),
            seed=seed,
        )
        return TorchMLP(encoder, module, classes, hidden, privacy)
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    est: Any
    if model == "logistic":
        from sklearn.linear_model import LogisticRegression

        est = LogisticRegression(
            C=1.0 / wd if wd > 0 else 1e12, max_iter=max(int(params["epochs"]), 100)
        )
    else:
        from sklearn.neural_network import MLPClassifier

        est = MLPClassifier(
            hidden_layer_sizes=tuple(hidden),
            alpha=wd,
            max_iter=int(params["epochs"]),
            learning_rate_init=float(params["learning_rate"]),
            batch_size=min(int(params["batch_size"]), len(Z)),
            random_state=seed % (2**32 - 1),
            tol=0.0,
            n_iter_no_change=int(params["epochs"]) + 1,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(Z, yi)
    return EncodedSklearn(encoder, est, classes)


class OnnxBackend:
    """An ONNX classifier run by onnxruntime: its input is the float32 matrix of ``features``
    (already numeric, in that order); its output the class probabilities (the output named
    ``probabilities``, else the last float output of shape (n, n_classes))."""

    def __init__(self, path: str, features: Sequence[str], classes: Sequence[Any]) -> None:
        import onnxruntime as ort

        self.path = path
        self.features = [str(f) for f in features]
        self.classes_ = list(classes)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        self.session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        self._input = self.session.get_inputs()[0].name

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        missing = [f for f in self.features if f not in X.columns]
        if missing:
            raise DataValidationError(
                f"The ONNX model {self.path} reads the columns {self.features}; the data lacks "
                f"{missing}. Give records with these columns."
            )
        x = X[self.features].to_numpy(dtype=np.float32)
        outs = self.session.run(None, {self._input: x})
        names = [o.name for o in self.session.get_outputs()]
        chosen = None
        for name, val in zip(names, outs, strict=True):
            if isinstance(val, list) and val and isinstance(val[0], dict):  # skl2onnx ZipMap
                chosen = np.array(
                    [[row.get(c, 0.0) for c in range(len(self.classes_))] for row in val]
                )
            elif name == "probabilities" or (
                isinstance(val, np.ndarray) and val.ndim == 2 and val.shape[1] == len(self.classes_)
            ):
                chosen = np.asarray(val, dtype=np.float64)
        if chosen is None:
            raise DataValidationError(
                f"The ONNX model {self.path} has no output of shape (n, {len(self.classes_)}) "
                f"(outputs: {names}). Export the class probabilities."
            )
        return np.asarray(chosen, dtype=np.float64)

    def weight_chunks(self) -> Iterator[bytes]:
        from pathlib import Path

        yield Path(self.path).read_bytes()


class ProbaTable:
    """Stored per-record probabilities (no model access): one row per record, an id column and
    one column per class; ``predict_proba`` looks records up by their id."""

    def __init__(
        self, table: pd.DataFrame, id_column: str, classes: Sequence[Any], source: str
    ) -> None:
        self.id_column = id_column
        self.classes_ = list(classes)
        self.source = source
        cols = [str(c) for c in self.classes_]
        self.table = table.set_index(table[id_column].astype(str))[cols].astype(float)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if self.id_column not in X.columns:
            raise DataValidationError(
                f"Stored probabilities ({self.source}) are looked up by the column "
                f"{self.id_column!r}, which the records lack. Keep the id column in the data."
            )
        ids = X[self.id_column].astype(str)
        missing = ids[~ids.isin(self.table.index)]
        if len(missing):
            raise DataValidationError(
                f"{self.source} has no probabilities for {len(missing)} record(s) with "
                f"{self.id_column!r} = {list(missing[:5])}. Store the probabilities of every "
                "member and non-member."
            )
        return self.table.loc[ids.to_numpy()].to_numpy(dtype=np.float64)

    def weight_chunks(self) -> Iterator[bytes]:
        yield pd.util.hash_pandas_object(self.table).to_numpy().tobytes()
