"""Statistics of the image audits: hand-checked fixtures and property tests (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from synth_audit.diffusion.memorisation import memorisation, relative_nn_distance
from synth_audit.diffusion.model import ImageData
from synth_audit.diffusion.utility import frechet_distance, precision_recall
from synth_audit.errors import ConfigError

finite = st.floats(-5, 5, allow_nan=False, allow_infinity=False, width=32)


def _images(pixels: np.ndarray) -> ImageData:
    side = int(np.sqrt(pixels.shape[1]))
    return ImageData(pixels.reshape(len(pixels), side, side), None, ())


def test_frechet_distance_of_a_shift_is_the_squared_shift() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 3))
    shift = np.array([1.0, -2.0, 0.5])
    # Equal covariances: the trace term vanishes and the distance is ‖shift‖² = 5.25.
    assert frechet_distance(a, a + shift) == pytest.approx(5.25, rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_of_two_gaussians_by_hand() -> None:
    # 1-D: (μ1 − μ2)² + σ1² + σ2² − 2 σ1 σ2 = (μ1 − μ2)² + (σ1 − σ2)².
    a = np.array([[-1.0], [1.0]])  # mean 0, sample variance 2
    b = np.array([[1.0], [5.0]])  # mean 3, sample variance 8
    assert frechet_distance(a, b) == pytest.approx(9.0 + (np.sqrt(2) - np.sqrt(8)) ** 2)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (12, 3), elements=finite), arrays(np.float64, (9, 3), elements=finite))
def test_frechet_distance_is_non_negative_and_symmetric(a: np.ndarray, b: np.ndarray) -> None:
    d = frechet_distance(a, b)
    assert d >= 0.0
    assert d == pytest.approx(frechet_distance(b, a), rel=1e-4, abs=1e-4)


def test_precision_and_recall_by_hand() -> None:
    real = np.array([[0.0], [1.0], [2.0], [10.0]])
    # k = 1: radii 1, 1, 1, 8. 0.5 and 12 lie inside; 100 does not.
    gen = np.array([[0.5], [12.0], [100.0]])
    p, r = precision_recall(real, gen, k=1)
    assert p == pytest.approx(2 / 3)
    # Generated radii (k = 1): 11.5, 11.5, 88: every real point lies within 11.5 of 0.5 or 12.
    assert r == 1.0


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (10, 2), elements=finite), arrays(np.float64, (7, 2), elements=finite))
def test_precision_and_recall_are_rates_and_a_set_covers_itself(
    real: np.ndarray, gen: np.ndarray
) -> None:
    p, r = precision_recall(real, gen, k=3)
    assert 0.0 <= p <= 1.0 and 0.0 <= r <= 1.0
    assert precision_recall(real, real, k=3) == (1.0, 1.0)


def test_relative_distance_is_zero_for_a_copy_and_two_when_equidistant() -> None:
    pool = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    rel, nearest, d1 = relative_nn_distance(pool[[1]], pool, n_neighbours=3)
    assert rel[0] == 0.0 and nearest[0] == 1 and d1[0] == 0.0
    # The centre of four points at distance 1: equidistant from its neighbours.
    square = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    rel, _, _ = relative_nn_distance(np.zeros((1, 2)), square, n_neighbours=4)
    assert rel[0] == pytest.approx(2.0)  # d1 / (0.5 · mean) with every distance 1


def test_copies_of_training_images_are_extracted_and_held_out_ones_are_not() -> None:
    rng = np.random.default_rng(1)
    train = _images(rng.uniform(0, 16, size=(40, 16)))
    held = _images(rng.uniform(0, 16, size=(40, 16)))
    copies = memorisation(_images(train.flat()[:20]), train, held, calibration_quantile=0.05)
    assert copies.extraction_rate == 1.0 and copies.n_extracted == 20
    assert copies.heldout_rate <= 0.05
    # Copies of held-out images: as "extracted" from train as held-out images are (about none).
    fresh = memorisation(_images(held.flat()[:20]), train, held, calibration_quantile=0.05)
    assert fresh.extraction_rate <= 0.1
    assert fresh.extraction_ci[0] == 0.0 or fresh.extraction_rate > 0
    with pytest.raises(ConfigError, match="calibration_quantile"):
        memorisation(train, train, held, calibration_quantile=1.5)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_the_extraction_rate_is_a_rate_inside_its_interval(seed: int) -> None:
    rng = np.random.default_rng(seed)
    train = _images(rng.integers(0, 17, size=(15, 4)).astype(float))
    held = _images(rng.integers(0, 17, size=(12, 4)).astype(float))
    gen = _images(rng.integers(0, 17, size=(9, 4)).astype(float))
    m = memorisation(gen, train, held, calibration_quantile=0.2, random_state=seed)
    assert 0.0 <= m.extraction_ci[0] <= m.extraction_rate <= m.extraction_ci[1] <= 1.0
    assert m.n_pool == 12 and m.n_extracted == round(m.extraction_rate * 9)
