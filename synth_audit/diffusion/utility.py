"""Image utility measured with a small classifier trained here on real images.

The classifier is a one-hidden-layer MLP (scikit-learn) fitted on real images with their labels;
its hidden layer (ReLU activations) is the feature space. Nothing is downloaded, so this is **not**
the Inception FID or Inception-based precision/recall: the numbers compare models audited with the
same classifier, not with figures published elsewhere.

* ``class_accuracy``: for a class-conditional model, the share of generated images the classifier
  puts in the class they were generated for (Wilson interval); ``classifier_accuracy_real`` is the
  same classifier on held-out real images (the ceiling);
* ``precision`` / ``recall``: Kynkäänniemi et al. (2019): the real (generated) manifold is the union
  of balls around each real (generated) feature vector with radius its k-th nearest-neighbour
  distance; precision is the share of generated images inside the real manifold, recall the share
  of real images inside the generated one;
* ``frechet_distance``: the Fréchet distance between Gaussians fitted to the real and generated
  features, ‖μ_r − μ_g‖² + tr(Σ_r + Σ_g − 2 (Σ_r Σ_g)^½) (Heusel et al. 2017's formula, in this
  classifier's feature space).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from synth_audit.diffusion.model import ImageData
from synth_audit.errors import DataValidationError
from synth_audit.report.sections import finding, make_section

__all__ = [
    "FeatureClassifier",
    "ImageUtility",
    "frechet_distance",
    "image_utility",
    "precision_recall",
]


class FeatureClassifier:
    """An MLP digit classifier fitted on real images; ``features`` is its hidden layer."""

    def __init__(self, *, hidden: int = 64, pixel_range: tuple[float, float] = (0.0, 16.0)) -> None:
        self.hidden = hidden
        self.pixel_range = pixel_range
        self._mlp: Any = None

    def _x(self, data: ImageData) -> np.ndarray:
        lo, hi = self.pixel_range
        return (data.flat() - lo) / (hi - lo)  # type: ignore[no-any-return]

    def fit(self, data: ImageData, *, random_state: int = 0) -> FeatureClassifier:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        if data.labels is None:
            raise DataValidationError(
                "The utility classifier is trained on labelled real images; the images given "
                "have no label column. Add the label column (e.g. 'label') to the data."
            )
        self._mlp = MLPClassifier(
            hidden_layer_sizes=(self.hidden,),
            max_iter=300,
            alpha=1e-3,
            random_state=int(random_state),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self._mlp.fit(self._x(data), data.labels)
        return self

    def features(self, data: ImageData) -> np.ndarray:
        w, b = self._mlp.coefs_[0], self._mlp.intercepts_[0]
        return np.maximum(self._x(data) @ w + b, 0.0)  # type: ignore[no-any-return]

    def predict(self, data: ImageData) -> np.ndarray:
        return self._mlp.predict(self._x(data))  # type: ignore[no-any-return]


def _kth_radius(x: np.ndarray, k: int) -> np.ndarray:
    from scipy.spatial.distance import cdist

    d = cdist(x, x)
    kk = min(k, len(x) - 1)
    return np.sort(d, axis=1)[:, kk]  # column 0 is the point itself


def precision_recall(real: np.ndarray, generated: np.ndarray, *, k: int = 3) -> tuple[float, float]:
    """Kynkäänniemi et al. (2019) improved precision and recall with k-NN manifolds."""
    from scipy.spatial.distance import cdist

    r = np.asarray(real, dtype=np.float64)
    g = np.asarray(generated, dtype=np.float64)
    if len(r) < 2 or len(g) < 2:
        raise DataValidationError(
            f"precision_recall needs at least 2 real and 2 generated images; got {len(r)} and "
            f"{len(g)}."
        )
    d = cdist(g, r)  # generated x real
    precision = float(np.mean((d <= _kth_radius(r, k)[None, :]).any(axis=1)))
    recall = float(np.mean((_kth_radius(g, k)[None, :] >= d.T).any(axis=1)))
    return precision, recall


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to the rows of ``a`` and ``b`` (≥ 0)."""
    from scipy import linalg

    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if len(x) < 2 or len(y) < 2 or x.shape[1] != y.shape[1]:
        raise DataValidationError(
            f"frechet_distance needs two sets of at least 2 feature vectors of one width; got "
            f"{x.shape} and {y.shape}."
        )
    mu = x.mean(axis=0) - y.mean(axis=0)
    s1 = np.atleast_2d(np.cov(x, rowvar=False))
    s2 = np.atleast_2d(np.cov(y, rowvar=False))
    import warnings

    with warnings.catch_warnings():
        # A singular product (few images, dead ReLU features) is handled below; stay silent.
        warnings.simplefilter("ignore")
        covmean = linalg.sqrtm(s1 @ s2)
        if not np.isfinite(covmean).all():
            eps = np.eye(len(s1)) * 1e-6
            covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = np.real(covmean)
    value = float(mu @ mu + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))
    return max(0.0, value)


@dataclass(frozen=True)
class ImageUtility:
    class_accuracy: float | None
    class_accuracy_ci: tuple[float, float] | None
    classifier_accuracy_real: float
    precision: float
    recall: float
    frechet_distance: float
    frechet_distance_real: float
    n_generated: int
    n_real: int
    confidence_level: float
    params: dict[str, Any] = field(default_factory=dict)

    def section(self) -> dict[str, Any]:
        conf = self.confidence_level
        found = []
        if self.class_accuracy is not None:
            found.append(
                finding(
                    "class_accuracy",
                    self.class_accuracy,
                    role="utility",
                    ci=self.class_accuracy_ci,
                    confidence_level=conf,
                    direction="higher_is_better",
                    bounds=(0.0, 1.0),
                    reading="Share of generated images that a classifier trained on real images "
                    "puts in the class they were generated for.",
                )
            )
        found += [
            finding(
                "precision",
                self.precision,
                role="utility",
                direction="higher_is_better",
                bounds=(0.0, 1.0),
                reading="Share of generated images inside the real images' k-NN manifold "
                "(fidelity; Kynkäänniemi et al. 2019, in the classifier's features).",
            ),
            finding(
                "recall",
                self.recall,
                role="utility",
                direction="higher_is_better",
                bounds=(0.0, 1.0),
                reading="Share of real images inside the generated images' k-NN manifold "
                "(diversity).",
            ),
            finding(
                "frechet_distance",
                self.frechet_distance,
                role="diagnostic",
                direction="lower_is_better",
                bounds=(0.0, float("inf")),
                reading="Fréchet distance between real and generated images in the features of "
                "a digit classifier trained here (not the Inception FID).",
            ),
            finding(
                "frechet_distance_real",
                self.frechet_distance_real,
                role="evidence",
                reading="The same distance between two halves of real images (its floor).",
            ),
            finding(
                "classifier_accuracy_real",
                self.classifier_accuracy_real,
                role="evidence",
                bounds=(0.0, 1.0),
                reading="The classifier's accuracy on held-out real images.",
            ),
        ]
        acc = "" if self.class_accuracy is None else f"class accuracy {self.class_accuracy:.1%}, "
        return make_section(
            "Image utility",
            "diffusion_image_utility",
            summary=(
                f"On {self.n_generated} generated images: {acc}precision {self.precision:.2f}, "
                f"recall {self.recall:.2f}, Fréchet distance {self.frechet_distance:.3g} in the "
                f"features of a classifier trained here (real vs real: "
                f"{self.frechet_distance_real:.3g})."
            ),
            findings=found,
            data={"params": self.params},
        )


def image_utility(
    generated: ImageData,
    real_train: ImageData,
    real_test: ImageData,
    *,
    pixel_range: tuple[float, float] = (0.0, 16.0),
    k: int = 3,
    confidence_level: float = 0.95,
    random_state: int = 0,
) -> ImageUtility:
    """Fit the classifier on ``real_train``; compare ``generated`` with ``real_test``."""
    from statsmodels.stats.proportion import proportion_confint

    clf = FeatureClassifier(pixel_range=pixel_range).fit(real_train, random_state=random_state)
    acc_real = float(np.mean(clf.predict(real_test) == real_test.labels))
    acc = ci = None
    if generated.labels is not None:
        hits = int(np.sum(clf.predict(generated) == generated.labels))
        acc = hits / len(generated)
        lo, hi = proportion_confint(hits, len(generated), 1 - confidence_level, method="wilson")
        ci = (float(lo), float(hi))
    fr = clf.features(real_test)
    fg = clf.features(generated)
    precision, recall = precision_recall(fr, fg, k=k)
    half = len(fr) // 2
    return ImageUtility(
        class_accuracy=acc,
        class_accuracy_ci=ci,
        classifier_accuracy_real=acc_real,
        precision=precision,
        recall=recall,
        frechet_distance=frechet_distance(fr, fg),
        frechet_distance_real=frechet_distance(fr[:half], fr[half:]) if half >= 2 else 0.0,
        n_generated=len(generated),
        n_real=len(real_test),
        confidence_level=confidence_level,
        params={"k": k, "hidden": clf.hidden, "random_state": int(random_state)},
    )
