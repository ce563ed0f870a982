"""The diffusion target: contract, seeded sampling, safetensors-only weights, clear input errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from synth_audit.diffusion.images import grid_png  # noqa: E402
from synth_audit.diffusion.model import DiffusionConfig, image_data, load_model  # noqa: E402
from synth_audit.diffusion.target import DiffusionTarget  # noqa: E402
from synth_audit.errors import ConfigError, DataValidationError, NotFittedError  # noqa: E402
from synth_audit.targets import Capability  # noqa: E402
from synth_audit.testing import check_target  # noqa: E402

DIGITS = Path(__file__).resolve().parents[1] / "samples" / "digits" / "digits.csv"
TINY = {"epochs": 2, "batch_size": 16, "num_train_timesteps": 50, "sample_steps": 5}


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    torch.set_num_threads(1)
    return pd.read_csv(DIGITS).iloc[:32]


@pytest.fixture(scope="module")
def fitted(train: pd.DataFrame) -> DiffusionTarget:
    return DiffusionTarget(name="tiny", **TINY).fit(train, random_state=0)


@pytest.mark.slow
def test_the_diffusion_target_passes_the_contract_suite(train: pd.DataFrame) -> None:
    check_target(lambda: DiffusionTarget(name="tiny", **TINY), data=train, n=8)
    target = DiffusionTarget()
    assert target.capabilities == {
        Capability.RELEASE,
        Capability.REFIT,
        Capability.LOSS,
        Capability.NOISE_PREDICTION,
    }


def test_the_registry_builds_it_from_a_study_config() -> None:
    from synth_audit.targets.registry import make_target

    target = make_target("diffusion", "ddpm-small", {"epochs": 3, "attacks": ["loss"]})
    assert isinstance(target, DiffusionTarget)
    assert target.name == "ddpm-small" and target.get_params()["epochs"] == 3
    with pytest.raises(ConfigError, match="no_such"):
        make_target("diffusion", "x", {"no_such": 1})


def test_release_is_seeded_and_keeps_the_columns(
    fitted: DiffusionTarget, train: pd.DataFrame
) -> None:
    a = fitted.release(6, random_state=1)
    b = fitted.release(6, random_state=1)
    c = fitted.release(6, random_state=2)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.drop(columns="label"), c.drop(columns="label"))
    assert list(a.columns) == list(train.columns)
    pixels = a.drop(columns="label").to_numpy()
    assert pixels.min() >= 0.0 and pixels.max() <= 16.0
    assert set(a["label"]) <= set(range(10))
    assert len(fitted.release(0)) == 0
    ddpm = fitted.model.sample(3, random_state=4, sampler="ddpm")  # type: ignore[union-attr]
    assert ddpm.pixels.shape == (3, 8, 8)


def test_loss_and_noise_prediction_answer_per_image(
    fitted: DiffusionTarget, train: pd.DataFrame
) -> None:
    loss = fitted.loss(train.iloc[:5], timesteps=[5, 10])
    assert loss.shape == (5,) and np.all(loss > 0)
    np.testing.assert_allclose(loss, fitted.loss(train.iloc[:5], timesteps=[5, 10]))
    x = torch.zeros(2, 1, 8, 8)
    eps = fitted.predict_noise(x, 3, torch.tensor([0, 1]))
    assert eps.shape == (2, 1, 8, 8)
    with pytest.raises(ConfigError, match="timesteps"):
        fitted.loss(train.iloc[:2], timesteps=[50])


def test_weights_round_trip_through_safetensors_only(
    fitted: DiffusionTarget, train: pd.DataFrame, tmp_path: Path
) -> None:
    folder = fitted.save(tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    again = DiffusionTarget.load(folder, name="tiny", device="cpu")
    assert again.info().fingerprint == fitted.info().fingerprint
    pd.testing.assert_frame_equal(
        again.release(4, random_state=9), fitted.release(4, random_state=9)
    )
    np.testing.assert_allclose(
        again.loss(train.iloc[:4], timesteps=[7]), fitted.loss(train.iloc[:4], timesteps=[7])
    )
    # Pickled weights are refused without being read.
    for name in ("pytorch_model.bin", "model.pt", "weights.ckpt"):
        bad = tmp_path / name
        bad.write_bytes(b"not read")
        with pytest.raises(ConfigError, match="pickled"):
            load_model(bad)
    only_bin = tmp_path / "only_bin"
    only_bin.mkdir()
    (only_bin / "pytorch_model.bin").write_bytes(b"not read")
    with pytest.raises(ConfigError, match=r"pytorch_model\.bin"):
        load_model(only_bin)
    # A corrupt safetensors file is a clear error, not a crash.
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((folder / "config.json").read_text())
    (broken / "model.safetensors").write_bytes(b"\x00" * 16)
    with pytest.raises(ConfigError, match="Cannot read"):
        load_model(broken)


def test_no_torch_load_anywhere_in_the_package() -> None:
    root = Path(__file__).resolve().parents[1] / "synth_audit" / "diffusion"
    for path in root.glob("*.py"):
        text = path.read_text()
        assert "torch.load(" not in text and "import pickle" not in text, path


def test_bad_parameters_and_images_get_clear_errors(train: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="norm_num_groups"):
        DiffusionTarget(block_out_channels=[12, 32], norm_num_groups=8)
    with pytest.raises(ConfigError, match="'sampler'"):
        DiffusionConfig(sampler="euler")
    with pytest.raises(ConfigError, match=r"'attacks'.*'gan'"):
        DiffusionTarget(attacks=["loss", "gan"])
    with pytest.raises(NotFittedError, match="fit"):
        DiffusionTarget().release(3)
    with pytest.raises(DataValidationError, match="square"):
        image_data(train.iloc[:, :60])
    hot = train.copy()
    hot.loc[0, "pixel_3_4"] = 99
    with pytest.raises(DataValidationError, match=r"pixel_3_4.*pixel_range"):
        image_data(hot, pixel_range=(0, 16))
    text = train.astype({"pixel_0_1": str})
    with pytest.raises(DataValidationError, match=r"pixel_0_1.*not numeric"):
        image_data(text)
    with pytest.raises(DataValidationError, match="'label'"):
        image_data(train.assign(label=-1))


def test_a_grid_is_a_png_of_the_expected_size() -> None:
    from io import BytesIO

    from PIL import Image

    png = grid_png(np.zeros((10, 8, 8)), columns=4, scale=3, pad=1)
    img = Image.open(BytesIO(png))
    assert img.format == "PNG"
    assert img.size == (4 * (8 * 3 + 1) + 1, 3 * (8 * 3 + 1) + 1)
    with pytest.raises(DataValidationError):
        grid_png(np.zeros((2, 8, 7)))


def test_asking_for_a_gpu_where_there_is_none_is_a_clear_error(train: pd.DataFrame) -> None:
    from synth_audit.diffusion.model import pick_device

    if torch.cuda.is_available():
        assert pick_device("cuda") == "cuda" and pick_device("auto") == "cuda"
        return
    assert pick_device("auto") == "cpu"
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        DiffusionTarget(device="cuda", **{k: v for k, v in TINY.items()}).fit(train.iloc[:4])
