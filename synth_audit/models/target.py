"""The target kind ``classifier``: a trained classifier, attacked through its class probabilities.

Build one from

* a **recipe** (parameters; the audit trains it, and re-trains clones as reference models):
  ``ClassifierTarget(label="health", model="mlp", hidden=[128], epochs=200)``;
* a fitted **scikit-learn estimator** handed over in-process (``from_estimator``): it takes the
  feature frame (the data without the label) and refits as ``sklearn.base.clone`` of itself;
* any model handed over in-process as a ``predict_proba`` function (``from_callable``; a torch
  module its owner wraps), re-trainable when a training function comes with it;
* a torch MLP, a skops file, an ONNX file or stored probabilities, through
  :mod:`synth_audit.models.loaders` (formats that cannot run code; pickle is refused).

Capabilities: ``predict_proba`` and ``loss`` (per-record cross-entropy of the true label) always
(stored probabilities: the members' and non-members' only); ``refit`` when there is a recipe, an
estimator to clone or a training function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError, DataValidationError, NotFittedError
from synth_audit.models.features import class_index, split_label
from synth_audit.seeding import check_seed
from synth_audit.targets.base import Capability, TargetInfo, content_fingerprint

__all__ = ["MODELS", "ClassifierTarget"]

MODELS = ("logistic", "mlp", "torch_mlp")

_DEFAULTS: dict[str, Any] = {
    "label": None,
    "model": "mlp",
    "hidden": [64],
    "epochs": 100,
    "weight_decay": 0.0,
    "learning_rate": 1e-3,
    "batch_size": 64,
    "noise_multiplier": None,
    "max_grad_norm": 1.0,
    "delta": 1e-5,
    "classes": None,
    # PETs on the training data (synth_audit.pet.training); None: off, and then left out of
    # get_params() so that reference-model cache keys of earlier recipes do not change
    "anonymise_k": None,
    "minimise_accuracy": None,
    "quasi_identifiers": None,
}
_PET_KEYS = ("anonymise_k", "minimise_accuracy", "quasi_identifiers")


def _check_params(p: Mapping[str, Any], who: str) -> dict[str, Any]:
    """Every problem of a recipe's parameters, raised once."""
    unknown = sorted(set(p) - set(_DEFAULTS))
    problems: list[str] = []
    if unknown:
        problems.append(
            f"unknown parameter(s) {', '.join(map(repr, unknown))}; the known ones are "
            f"{', '.join(sorted(_DEFAULTS))}"
        )
    out = {**_DEFAULTS, **{k: v for k, v in p.items() if k in _DEFAULTS}}
    if out["label"] is not None and not isinstance(out["label"], str):
        problems.append(f"'label' must be a column name (str); got {out['label']!r}")
    if out["model"] not in MODELS:
        problems.append(
            f"'model' must be one of {', '.join(map(repr, MODELS))}; got {out['model']!r}"
        )
    hidden = out["hidden"]
    if isinstance(hidden, int | np.integer) and not isinstance(hidden, bool):
        hidden = [int(hidden)]
    if not isinstance(hidden, list | tuple) or not all(
        isinstance(h, int | np.integer) and not isinstance(h, bool) and h >= 1 for h in hidden
    ):
        problems.append(f"'hidden' must be a list of layer widths (ints >= 1); got {hidden!r}")
    else:
        out["hidden"] = [int(h) for h in hidden]
    for key, lo, kind in (
        ("epochs", 1, int),
        ("batch_size", 1, int),
    ):
        v = out[key]
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
            problems.append(f"{key!r} must be an int >= {lo}; got {v!r}")
        else:
            out[key] = kind(v)
    for key, positive in (
        ("weight_decay", False),
        ("learning_rate", True),
        ("max_grad_norm", True),
        ("delta", True),
    ):
        v = out[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or v < 0 or (positive and v == 0):
            problems.append(f"{key!r} must be a number {'> 0' if positive else '>= 0'}; got {v!r}")
        else:
            out[key] = float(v)
    nm = out["noise_multiplier"]
    if nm is not None:
        if isinstance(nm, bool) or not isinstance(nm, int | float) or nm <= 0:
            problems.append(f"'noise_multiplier' must be a number > 0 (or absent); got {nm!r}")
        elif out["model"] != "torch_mlp":
            problems.append(
                "'noise_multiplier' (DP-SGD) needs model = 'torch_mlp'; got model = "
                f"{out['model']!r}"
            )
        else:
            out["noise_multiplier"] = float(nm)
    if out["classes"] is not None:
        out["classes"] = list(out["classes"])
    problems.extend(_check_pets(out))
    if problems:
        raise ConfigError(
            f"{who} has {len(problems)} problem(s):\n"
            + "\n".join(f"  - {m}" for m in problems)
            + "\nFix them in the target's params."
        )
    return out


def _check_pets(out: dict[str, Any]) -> list[str]:
    """Problems of the PET parameters (``out`` is normalised in place)."""
    problems: list[str] = []
    k = out["anonymise_k"]
    if k is not None:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            problems.append(f"'anonymise_k' must be an int >= 1 (1 or absent: off); got {k!r}")
        else:
            out["anonymise_k"] = int(k)
    acc = out["minimise_accuracy"]
    if acc is not None:
        if isinstance(acc, bool) or not isinstance(acc, int | float) or not 0 < acc <= 1:
            problems.append(
                f"'minimise_accuracy' must be a number in (0, 1] or absent; got {acc!r}"
            )
        else:
            out["minimise_accuracy"] = float(acc)
    qi = out["quasi_identifiers"]
    if qi is not None:
        if (
            isinstance(qi, str)
            or not isinstance(qi, list | tuple)
            or not qi
            or not all(isinstance(c, str) for c in qi)
        ):
            problems.append(
                f"'quasi_identifiers' must be a non-empty list of column names; got {qi!r}"
            )
        else:
            out["quasi_identifiers"] = list(qi)
            if out["label"] in qi:
                problems.append(
                    f"'quasi_identifiers' holds the label {out['label']!r}; only features can be "
                    "generalised"
                )
    on = (isinstance(out["anonymise_k"], int) and out["anonymise_k"] > 1) or isinstance(
        out["minimise_accuracy"], float
    )
    if on and out["noise_multiplier"] is not None:
        problems.append(
            "'noise_multiplier' (DP-SGD) cannot be combined with anonymise_k or "
            "minimise_accuracy: the ε DP-SGD claims would not cover the data-dependent "
            "generalisation of the training data before it. Search one PET at a time"
        )
    return problems


class ClassifierTarget:
    """A classifier under audit (target kind ``classifier``).

    Recipe parameters (what a study's ``[[generators]] kind = "classifier"`` entry sets in
    ``params`` and ``grid``; all keyword-only, all optional except ``label``):

    ===================  =======================================================================
    ``label``            the column the classifier predicts (required)
    ``model``            ``"logistic"``, ``"mlp"`` (scikit-learn) or ``"torch_mlp"`` (default mlp)
    ``hidden``           layer widths of an MLP, e.g. ``[128, 64]`` (default ``[64]``)
    ``epochs``           training epochs (``max_iter`` of scikit-learn models; default 100)
    ``weight_decay``     L2 penalty (``alpha`` of MLPClassifier, ``1/C`` of logistic, Adam's
                         weight decay; default 0: no penalty)
    ``learning_rate``    default 1e-3
    ``batch_size``       default 64
    ``noise_multiplier`` DP-SGD noise (opacus; ``torch_mlp`` only); absent: no DP
    ``max_grad_norm``    DP-SGD per-example clipping norm (default 1.0)
    ``delta``            the δ at which the DP accountant reports ε (default 1e-5)
    ``classes``          the label's values, in order (default: those of the training data)
    ``anonymise_k``      k-anonymise the members over ``quasi_identifiers`` before training
                         (model-guided, Goldsteen et al.; 1 or absent: off); the model is still
                         asked about the original records (:mod:`synth_audit.pet.training`)
    ``minimise_accuracy`` data minimisation of ``quasi_identifiers`` to this accuracy of an
                         initial model (in (0, 1]; absent: off); queries are minimised alike
    ``quasi_identifiers`` the columns the two act on (default: every feature)
    ===================  =======================================================================

    Features are every column but the label: numeric ones standardised, the others one-hot
    encoded (:class:`~synth_audit.models.features.TabularEncoder`). In a study the target trains
    on the ``train`` split, is tested on ``control`` and its reference models train on
    ``reference`` (see :meth:`execute_run`).
    """

    kind: ClassVar[str] = "classifier"

    def __init__(self, *, name: str = "classifier", **params: Any) -> None:
        self.name = name
        self._params = _check_params(params, f"The classifier target {name!r}")
        self._estimator: Any = None  # a handed-over sklearn estimator to clone (refit)
        self._backend: Any = None  # the fitted model (see synth_audit.models.backends)
        self._refit = True
        self._privacy: dict[str, float] = {}
        self._random_state: int | None = None
        self._source: str | None = None
        self._train_fn: Any = None  # a training function handed over in-process (refit)
        self._pets: dict[str, Any] = {}  # what the training-data PETs did (after fit)

    # ---------------------------------------------------------------------------- constructors
    @classmethod
    def from_config(cls, name: str, params: Mapping[str, Any]) -> ClassifierTarget:
        """What a study run builds: an unfitted recipe target (``audit_*`` settings, which
        :mod:`synth_audit.models.study` reads, are not part of the recipe)."""
        from synth_audit.models.study import split_params

        recipe, _ = split_params(params)
        return cls(name=name, **recipe)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        *,
        label: str,
        name: str | None = None,
        classes: Sequence[Any] | None = None,
        fitted: bool = True,
    ) -> ClassifierTarget:
        """A scikit-learn estimator (or pipeline) that takes the feature frame; ``fitted=False``
        when the audit should train it (``fit``). It refits as ``sklearn.base.clone`` of itself."""
        from synth_audit.models.backends import EstimatorBackend

        t = cls(name=name or type(estimator).__name__, label=label, classes=classes)
        t._estimator = estimator
        if fitted:
            t._backend = EstimatorBackend(estimator, classes)
        return t

    @classmethod
    def from_callable(
        cls,
        predict_proba: Any,
        *,
        label: str,
        classes: Sequence[Any],
        name: str = "model",
        train: Any = None,
    ) -> ClassifierTarget:
        """A model handed over in-process as ``predict_proba(features) -> (n, n_classes)`` (e.g.
        a torch module its owner wraps). With ``train(data, random_state) -> predict_proba`` (a
        training function) it can be re-trained, so reference models can be made (refit)."""
        from synth_audit.models.backends import CallableBackend

        t = cls(name=name, label=label, classes=list(classes))
        t._backend = CallableBackend(predict_proba, classes)
        t._train_fn = train
        t._refit = train is not None
        return t

    @classmethod
    def from_backend(
        cls,
        backend: Any,
        *,
        label: str,
        name: str,
        source: str | None = None,
        refit: bool = False,
        params: Mapping[str, Any] | None = None,
    ) -> ClassifierTarget:
        """A fitted model from :mod:`.backends` (what the loaders build); no refit unless a recipe
        (``params``) says how to train it again."""
        t = cls(name=name, label=label, **dict(params or {}))
        t._backend = backend
        t._refit = refit
        t._privacy = dict(getattr(backend, "privacy", {}) or {})
        t._source = source
        if t._params["classes"] is None:
            t._params["classes"] = list(backend.classes_)
        return t

    # ---------------------------------------------------------------------------- protocol
    @property
    def capabilities(self) -> frozenset[Capability]:
        caps = {Capability.PREDICT_PROBA, Capability.LOSS}
        if self._refit:
            caps.add(Capability.REFIT)
        return frozenset(caps)

    @property
    def label(self) -> str:
        if self._params["label"] is None:
            raise ConfigError(
                f"The classifier target {self.name!r} has no 'label' (the column it predicts). "
                "Set label in its params."
            )
        return str(self._params["label"])

    @property
    def classes(self) -> list[Any]:
        if self._backend is not None:
            return list(self._backend.classes_)
        if self._params["classes"] is None:
            raise NotFittedError(
                f"The classes of the classifier target {self.name!r} are known after fit(); call "
                "fit() first or give 'classes'."
            )
        return list(self._params["classes"])

    @property
    def fitted(self) -> bool:
        return self._backend is not None

    def get_params(self) -> dict[str, Any]:
        out = {k: v for k, v in self._params.items() if not (k in _PET_KEYS and v is None)}
        if self._estimator is not None:
            out["estimator"] = self._estimator
        return out

    def set_params(self, **params: Any) -> ClassifierTarget:
        est = params.pop("estimator", self._estimator)
        self._params = _check_params(
            {**self._params, **params}, f"The classifier target {self.name!r}"
        )
        self._estimator = est
        return self

    def clone(self) -> ClassifierTarget:
        """A new, unfitted target with the same recipe (or a clone of the same estimator)."""
        if not self._refit:
            raise ConfigError(
                f"The classifier target {self.name!r} was loaded from {self._source or 'a file'} "
                "without a training recipe, so it cannot be re-trained. Give a recipe (model, "
                "hidden, epochs, ...) or audit it with reference_mode = 'none'."
            )
        t = ClassifierTarget(name=self.name, **self._params)
        t._train_fn = self._train_fn
        if self._estimator is not None:
            from sklearn.base import clone

            t._estimator = clone(self._estimator)
        return t

    def fit(
        self, data: pd.DataFrame, *, random_state: int | None = None, **_: Any
    ) -> ClassifierTarget:
        """Train on ``data`` (features and the label column); returns ``self``."""
        from synth_audit.models.backends import EstimatorBackend, fit_recipe

        if not self._refit:
            raise ConfigError(
                f"The classifier target {self.name!r} was loaded without a training recipe; it "
                "cannot be fitted. Give a recipe instead."
            )
        seed = 0 if random_state is None else check_seed(random_state, "ClassifierTarget.fit")
        X, y = split_label(data, self.label, where=f"the training data of {self.name!r}")
        if len(X) < 2:
            raise DataValidationError(
                f"The classifier target {self.name!r} needs at least 2 training records; got "
                f"{len(X)}."
            )
        classes = self._params["classes"]
        if classes is None:
            classes = sorted({v for v in y.tolist()}, key=str)
            self._params["classes"] = list(classes)
        from synth_audit.pet import training

        if (self._train_fn is not None or self._estimator is not None) and training.active(
            self._params
        ):
            raise ConfigError(
                f"The classifier target {self.name!r} applies anonymise_k/minimise_accuracy to "
                "recipes (model, hidden, epochs, ...) only, not to a handed-over estimator or "
                "training function. Anonymise the data yourself (synth_audit.pet.anonymise)."
            )
        if self._train_fn is not None:
            from synth_audit.models.backends import CallableBackend

            fn = self._train_fn(data, random_state=seed)
            self._backend = CallableBackend(fn, classes)
        elif self._estimator is not None:
            from sklearn.base import clone

            est = clone(self._estimator)
            if "random_state" in est.get_params():
                est.set_params(random_state=seed)
            est.fit(X, y)
            self._estimator = est
            self._backend = EstimatorBackend(est, classes)
        else:
            self._pets = {}
            if training.active(self._params):
                pets = training.apply_training_pets(
                    self._params, X, y, classes, seed, who=repr(self.name)
                )
                self._backend = fit_recipe(self._params, pets.features, y, classes, seed)
                if pets.minimisation is not None:
                    self._backend = training.MinimisedBackend(self._backend, pets.minimisation)
                self._pets = pets.summary
            else:
                self._backend = fit_recipe(self._params, X, y, classes, seed)
            self._privacy = dict(getattr(self._backend, "privacy", {}) or {})
        self._random_state = seed
        return self

    # ---------------------------------------------------------------------------- queries
    def _require_fitted(self) -> Any:
        if self._backend is None:
            raise NotFittedError(
                f"The classifier target {self.name!r} is not fitted; call fit() (or load a "
                "fitted model) first."
            )
        return self._backend

    def predict_proba(self, data: pd.DataFrame) -> np.ndarray:
        """Class probabilities, one row per record, columns in the order of :attr:`classes`.
        ``data`` may hold the label column (it is dropped)."""
        backend = self._require_fitted()
        X = data.drop(columns=[self.label]) if self.label in data.columns else data
        p = np.asarray(backend.predict_proba(X), dtype=np.float64)
        return p

    def true_class_proba(self, data: pd.DataFrame) -> np.ndarray:
        """The probability each record's true label gets (labels not among the classes: 0)."""
        p = self.predict_proba(data)
        _, y = split_label(data, self.label, where="the records scored")
        idx = class_index(y, self.classes)
        out = np.zeros(len(data))
        ok = idx >= 0
        out[ok] = p[np.flatnonzero(ok), idx[ok]]
        return out

    def loss(self, data: pd.DataFrame) -> np.ndarray:
        """Per-record cross-entropy of the true label (probabilities clipped at 1e-12)."""
        return -np.log(np.clip(self.true_class_proba(data), 1e-12, 1.0))

    def info(self) -> TargetInfo:
        params = {k: v for k, v in self._params.items() if v is not None}
        if self._estimator is not None:
            params["estimator"] = type(self._estimator).__name__
        if self._train_fn is not None:
            params["train"] = getattr(self._train_fn, "__qualname__", repr(self._train_fn))
        if self._source is not None:
            params["source"] = self._source
        if self._pets:
            params["pets"] = self._pets
        fp = None
        if self._backend is not None:
            chunks = list(self._backend.weight_chunks())
            fp = content_fingerprint(chunks) if chunks else None
        return TargetInfo(
            kind=self.kind,
            name=self.name,
            params=params,
            privacy=self._privacy,
            fingerprint=fp,
            capabilities=tuple(self.capabilities),
        )

    def save_torch(self, weights: str, config: str) -> None:
        """Store a fitted ``torch_mlp`` as safetensors weights and a JSON config."""
        from synth_audit.models.backends import TorchMLP

        backend = self._require_fitted()
        if not isinstance(backend, TorchMLP):
            raise ConfigError(
                f"save_torch stores torch MLPs; {self.name!r} is a {type(backend).__name__}. "
                "Store scikit-learn models with skops.io.dump."
            )
        backend.save(weights, config)

    # ---------------------------------------------------------------------------- studies
    @staticmethod
    def result_names() -> tuple[list[str], list[str]]:
        """(risk-like, utility) result names a classifier run records (checked by a study's
        ``[frontier]`` at load): every attack's membership measures; ``model.test_accuracy``."""
        from synth_audit.membership.result import DEFAULT_FPRS
        from synth_audit.models.attacks import ATTACKS

        measures = ["auc_advantage", "auc", *(f"tpr_at_{f:g}_fpr" for f in DEFAULT_FPRS)]
        measures.append("epsilon_lb")
        risks = [f"membership.{a}.{m}" for a in ATTACKS for m in measures]
        risks += ["model.accuracy_gap", "dp.epsilon_lower_bound"]
        return risks, ["model.test_accuracy"]

    @staticmethod
    def plan_fits(store: Any, run: Any, data: Any = None) -> list[Any]:
        """The run's reference models as fit tasks for the study's executor, made before the run
        (see :func:`synth_audit.models.study.plan_classifier_fits`)."""
        from synth_audit.models.study import plan_classifier_fits

        return plan_classifier_fits(store, run, data)

    @staticmethod
    def execute_run(store: Any, run: Any, beat: Any) -> Any:
        """One study run: train on ``train``, audit against ``control`` with reference models
        from ``reference`` (see :func:`synth_audit.models.study.execute_classifier_run`)."""
        from synth_audit.models.study import execute_classifier_run

        return execute_classifier_run(store, run, beat)
