"""Memorisation and extraction (no box: the attacker holds generated images only).

For every generated image x̂ we find its nearest training image and its nearest held-out image
(L2 in pixel space). Carlini et al. (2023, "Extracting training data from diffusion models", §4.1)
call x̂ an extraction of a training image x when the *relative* distance

    ℓ(x̂, x) = ‖x̂ − x‖₂ / (α · mean of ‖x̂ − y‖₂ over the n training images y nearest to x̂)

is below a threshold: an image much closer to one training image than to the others is a copy,
while an image in a dense region is not. The threshold here is **calibrated on held-out images**:
the same relative distance is computed against an equally large held-out set the model never saw,
and the threshold is the ``calibration_quantile`` of those values. The held-out rate is therefore
about ``calibration_quantile`` by construction; the extraction rate (generated images under the
threshold against the training set) above it is memorisation. The rate carries a Clopper–Pearson
interval; the closest pairs are shown as a grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from synth_audit.diffusion.images import pairs_png
from synth_audit.diffusion.model import ImageData
from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.membership.stats import clopper_pearson
from synth_audit.report.sections import finding, image, make_section, table

__all__ = ["MemorisationResult", "memorisation", "relative_nn_distance"]


def relative_nn_distance(
    generated: np.ndarray, pool: np.ndarray, *, n_neighbours: int = 50, alpha: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(relative distance, nearest index, nearest L2 distance) of each generated row in ``pool``.

    Relative distance = d₁ / (α · mean(d₁ … d_n)), with n = min(``n_neighbours``, len(pool)).
    An exact copy has 0; a generated image equidistant from its n neighbours has 1/α.
    """
    from scipy.spatial.distance import cdist

    g = np.asarray(generated, dtype=np.float64)
    p = np.asarray(pool, dtype=np.float64)
    if g.ndim != 2 or p.ndim != 2 or g.shape[1] != p.shape[1] or len(p) == 0:
        raise DataValidationError(
            f"relative_nn_distance needs two tables of flattened images with the same number of "
            f"pixels and a non-empty pool; got {g.shape} and {p.shape}."
        )
    d = cdist(g, p)
    n = max(1, min(int(n_neighbours), p.shape[0]))
    part = np.sort(np.partition(d, n - 1, axis=1)[:, :n], axis=1)
    nearest = np.argmin(d, axis=1)
    d1 = part[:, 0]
    denom = alpha * part.mean(axis=1)
    rel = np.divide(d1, denom, out=np.zeros_like(d1), where=denom > 0)
    return rel, nearest, d1


@dataclass(frozen=True)
class MemorisationResult:
    extraction_rate: float
    extraction_ci: tuple[float, float]
    heldout_rate: float
    heldout_ci: tuple[float, float]
    threshold: float
    n_generated: int
    n_extracted: int
    n_pool: int
    calibration_quantile: float
    confidence_level: float
    relative_train: np.ndarray
    relative_heldout: np.ndarray
    nearest_train: np.ndarray
    l2_train: np.ndarray
    params: dict[str, Any]

    def section(
        self,
        generated: ImageData,
        train: ImageData,
        *,
        pixel_range: tuple[float, float],
        n_pairs: int = 8,
    ) -> dict[str, Any]:
        """The report section ``memorisation``: the rate (role risk) with its CI, the held-out
        control rate, the threshold, a table and a grid of the closest pairs."""
        order = np.argsort(self.relative_train, kind="stable")[: max(1, n_pairs)]
        grid = pairs_png(
            generated.pixels[order],
            train.pixels[self.nearest_train[order]],
            pixel_range=pixel_range,
        )
        conf = self.confidence_level
        return make_section(
            "Memorisation and extraction",
            "diffusion_memorisation",
            summary=(
                f"{self.n_extracted} of {self.n_generated} generated images "
                f"({self.extraction_rate:.1%}) are near copies of a training image (relative L2 "
                f"distance under {self.threshold:.3f}, the {self.calibration_quantile:g} quantile "
                f"of the same distance to held-out images, where the rate is "
                f"{self.heldout_rate:.1%})."
            ),
            findings=[
                finding(
                    "extraction_rate",
                    self.extraction_rate,
                    role="risk",
                    ci=self.extraction_ci,
                    confidence_level=conf,
                    direction="lower_is_better",
                    bounds=(0.0, 1.0),
                    unit="share of generated images",
                    reading="Generated images that copy a training image (Carlini et al. 2023 "
                    "relative L2, threshold calibrated on held-out images).",
                ),
                finding(
                    "heldout_rate",
                    self.heldout_rate,
                    role="diagnostic",
                    ci=self.heldout_ci,
                    confidence_level=conf,
                    direction="lower_is_better",
                    bounds=(0.0, 1.0),
                    unit="share of generated images",
                    reading="The same test against held-out images (the control: about the "
                    "calibration quantile by construction).",
                ),
                finding(
                    "threshold",
                    self.threshold,
                    role="evidence",
                    unit="relative L2 distance",
                    reading="The calibrated distance threshold.",
                ),
                finding(
                    "median_relative_distance",
                    float(np.median(self.relative_train)),
                    role="diagnostic",
                    direction="higher_is_better",
                    unit="relative L2 distance",
                    reading="Median relative distance of a generated image to its nearest "
                    "training image.",
                ),
            ],
            tables=[
                table(
                    "Closest generated–training pairs",
                    ["generated", "training image", "relative distance", "L2 distance"],
                    [
                        [
                            int(i),
                            int(self.nearest_train[i]),
                            round(float(self.relative_train[i]), 4),
                            round(float(self.l2_train[i]), 4),
                        ]
                        for i in order
                    ],
                )
            ],
            images=[
                image(
                    "Closest pairs (top: generated, bottom: nearest training image)",
                    grid,
                    alt="generated images above their nearest training images",
                )
            ],
            data={"params": self.params},
        )


def memorisation(
    generated: ImageData,
    train: ImageData,
    heldout: ImageData,
    *,
    calibration_quantile: float = 0.01,
    n_neighbours: int = 50,
    alpha: float = 0.5,
    confidence_level: float = 0.95,
    random_state: int = 0,
) -> MemorisationResult:
    """Extraction rate of ``generated`` against ``train``, calibrated on ``heldout`` (module doc).

    The larger of ``train`` and ``heldout`` is subsampled (seeded) to the size of the smaller, so
    both distances are taken in pools of one size (a larger pool has closer neighbours).
    """
    if not 0.0 < calibration_quantile < 1.0:
        raise ConfigError(
            "The 'calibration_quantile' parameter of memorisation must be in (0, 1). Got "
            f"{calibration_quantile!r}."
        )
    if len(generated) == 0 or len(train) == 0 or len(heldout) == 0:
        raise DataValidationError(
            "memorisation needs generated, training and held-out images; one of them is empty "
            f"({len(generated)}, {len(train)}, {len(heldout)}). Give the study a holdout or "
            "control split."
        )
    rng = np.random.default_rng(int(random_state))
    m = min(len(train), len(heldout))
    train_idx = np.sort(rng.choice(len(train), m, replace=False))
    held_idx = np.sort(rng.choice(len(heldout), m, replace=False))
    g = generated.flat()
    rel_t, near_t, d_t = relative_nn_distance(
        g, train.flat()[train_idx], n_neighbours=n_neighbours, alpha=alpha
    )
    rel_h, _, _ = relative_nn_distance(
        g, heldout.flat()[held_idx], n_neighbours=n_neighbours, alpha=alpha
    )
    threshold = float(np.quantile(rel_h, calibration_quantile, method="lower"))
    k = int(np.count_nonzero(rel_t < threshold))
    kh = int(np.count_nonzero(rel_h < threshold))
    n = len(g)
    lo, hi = clopper_pearson(k, n, confidence_level)
    hlo, hhi = clopper_pearson(kh, n, confidence_level)
    return MemorisationResult(
        extraction_rate=k / n,
        extraction_ci=(float(lo), float(hi)),
        heldout_rate=kh / n,
        heldout_ci=(float(hlo), float(hhi)),
        threshold=threshold,
        n_generated=n,
        n_extracted=k,
        n_pool=m,
        calibration_quantile=float(calibration_quantile),
        confidence_level=float(confidence_level),
        relative_train=rel_t,
        relative_heldout=rel_h,
        nearest_train=train_idx[near_t],
        l2_train=d_t,
        params={
            "calibration_quantile": float(calibration_quantile),
            "n_neighbours": int(n_neighbours),
            "alpha": float(alpha),
            "n_pool": m,
            "random_state": int(random_state),
        },
    )
