"""A small denoising diffusion model (DDPM) on images held as pixel columns.

The model is a ``diffusers`` :class:`~diffusers.UNet2DModel` with a
:class:`~diffusers.DDPMScheduler` (Ho et al. 2020), built from a :class:`DiffusionConfig` and trained
here: no weights are ever fetched. Images travel as tables, one row per image and one column per
pixel (row-major, e.g. scikit-learn's ``pixel_0_0`` … ``pixel_7_7``), with an optional label column
that makes the model class-conditional. Pixels are mapped from ``pixel_range`` to [-1, 1] for the
network and back for releases.

Randomness is explicit: training draws from a :class:`torch.Generator` seeded with ``random_state``
(batches, timesteps, noise), sampling from one seeded with its own ``random_state``; the same seeds
give the same weights and images on the same device. Sampling is ancestral DDPM (every training
timestep) or deterministic DDIM (Song et al. 2021) with ``sample_steps`` steps.

Weights are saved as ``model.safetensors`` beside a ``config.json`` and loaded only from those
(:func:`load_model`); any other weight file is refused, since pickled formats can run code.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synth_audit._logging import get_logger
from synth_audit.errors import ConfigError, DataValidationError, format_names

if TYPE_CHECKING:
    import torch

__all__ = [
    "DiffusionConfig",
    "DiffusionModel",
    "ImageData",
    "image_data",
    "load_model",
    "pick_device",
]

_log = get_logger(__name__)

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
FORMAT = "synth_audit.diffusion"
FORMAT_VERSION = 1
_REFUSED_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".npy", ".npz")


# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffusionConfig:
    """Everything that defines a model and its training (JSON-plain; stored with the weights).

    ``block_out_channels`` / ``layers_per_block`` / ``norm_num_groups``: the UNet's size (every
    channel count must be a multiple of ``norm_num_groups``). ``num_train_timesteps`` and
    ``beta_schedule``: the DDPM noise schedule. ``epochs`` passes over the training images in
    batches of ``batch_size`` (Adam-W at ``learning_rate``). ``sampler`` ("ddim" or "ddpm") and
    ``sample_steps`` (DDIM steps) are how releases are drawn. ``pixel_range``: the data's pixel
    scale (scikit-learn's digits: 0 to 16). ``label_column``: the class column of a class-
    conditional model (None: unconditional). ``device``: "auto" (a CUDA GPU when present), "cpu" or
    "cuda".
    """

    block_out_channels: tuple[int, ...] = (16, 32)
    layers_per_block: int = 1
    norm_num_groups: int = 8
    num_train_timesteps: int = 100
    beta_schedule: str = "linear"
    epochs: int = 50
    batch_size: int = 32
    learning_rate: float = 1e-3
    sampler: str = "ddim"
    sample_steps: int = 20
    pixel_range: tuple[float, float] = (0.0, 16.0)
    label_column: str | None = "label"
    device: str = "auto"
    num_classes: int | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "block_out_channels", tuple(int(c) for c in self.block_out_channels)
        )
        object.__setattr__(self, "pixel_range", tuple(float(v) for v in self.pixel_range))
        problems = self.problems()
        if problems:
            raise ConfigError(
                "Invalid diffusion model parameters: "
                + "; ".join(problems)
                + ". Fix them in the study's [[generators]] params or the DiffusionConfig."
            )

    def problems(self) -> list[str]:
        out: list[str] = []

        def positive_int(name: str, value: Any) -> None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                out.append(f"the {name!r} parameter must be an int >= 1 (got {value!r})")

        for name in ("layers_per_block", "norm_num_groups", "epochs", "batch_size", "sample_steps"):
            positive_int(name, getattr(self, name))
        positive_int("num_train_timesteps", self.num_train_timesteps)
        if isinstance(self.num_train_timesteps, int) and self.num_train_timesteps < 2:
            out.append(f"'num_train_timesteps' must be >= 2 (got {self.num_train_timesteps})")
        if not self.block_out_channels or any(c < 1 for c in self.block_out_channels):
            out.append(
                f"'block_out_channels' must be positive ints (got {self.block_out_channels})"
            )
        elif isinstance(self.norm_num_groups, int) and self.norm_num_groups >= 1:
            bad = [c for c in self.block_out_channels if c % self.norm_num_groups]
            if bad:
                out.append(
                    f"every 'block_out_channels' value must be a multiple of 'norm_num_groups' "
                    f"({self.norm_num_groups}); {bad} are not"
                )
        if self.beta_schedule not in ("linear", "scaled_linear", "squaredcos_cap_v2"):
            out.append(
                "'beta_schedule' must be 'linear', 'scaled_linear' or 'squaredcos_cap_v2' "
                f"(got {self.beta_schedule!r})"
            )
        if not isinstance(self.learning_rate, int | float) or not self.learning_rate > 0:
            out.append(f"'learning_rate' must be > 0 (got {self.learning_rate!r})")
        if self.sampler not in ("ddim", "ddpm"):
            out.append(f"'sampler' must be 'ddim' or 'ddpm' (got {self.sampler!r})")
        if (
            isinstance(self.sample_steps, int)
            and isinstance(self.num_train_timesteps, int)
            and self.sample_steps > self.num_train_timesteps
        ):
            out.append(
                f"'sample_steps' ({self.sample_steps}) must not exceed 'num_train_timesteps' "
                f"({self.num_train_timesteps})"
            )
        lo, hi = self.pixel_range if len(self.pixel_range) == 2 else (0.0, 0.0)
        if len(self.pixel_range) != 2 or not hi > lo:
            out.append(
                f"'pixel_range' must be [low, high] with low < high (got {self.pixel_range})"
            )
        if self.device not in ("auto", "cpu", "cuda"):
            out.append(f"'device' must be 'auto', 'cpu' or 'cuda' (got {self.device!r})")
        if self.num_classes is not None and (
            isinstance(self.num_classes, bool)
            or not isinstance(self.num_classes, int)
            or self.num_classes < 1
        ):
            out.append(f"'num_classes' must be an int >= 1 or None (got {self.num_classes!r})")
        return out

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any], *, who: str = "DiffusionConfig"
    ) -> DiffusionConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ConfigError(
                f"{who} does not accept the parameter(s) {format_names(unknown)}. Known "
                f"parameters: {format_names(known, limit=30)}."
            )
        try:
            return cls(**dict(params))
        except TypeError as exc:
            raise ConfigError(f"{who}: invalid parameters ({exc}).") from None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["block_out_channels"] = list(self.block_out_channels)
        d["pixel_range"] = list(self.pixel_range)
        return d


def pick_device(device: str = "auto") -> str:
    """ "cuda" when asked for or (with "auto") when a CUDA GPU is present, else "cpu"."""
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "The diffusion model's 'device' is 'cuda', but no CUDA GPU is available here. Use "
            "device = 'auto' (a GPU when present) or 'cpu'."
        )
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


# --------------------------------------------------------------------------------------------------
# Images as tables
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageData:
    """Images from a table: ``pixels`` (n, side, side) in the table's scale, ``labels`` or None."""

    pixels: np.ndarray
    labels: np.ndarray | None
    columns: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def side(self) -> int:
        return int(self.pixels.shape[1])

    def flat(self) -> np.ndarray:
        return self.pixels.reshape(len(self), self.side * self.side)


def image_data(
    frame: pd.DataFrame,
    *,
    label_column: str | None = "label",
    pixel_columns: Sequence[str] | None = None,
    pixel_range: tuple[float, float] | None = None,
    what: str = "the image table",
) -> ImageData:
    """Check and read a table of images (one row per image, one numeric column per pixel).

    Every column except ``label_column`` is a pixel unless ``pixel_columns`` names them; their
    number must be a square (8×8 = 64). Pixels must be finite and, with ``pixel_range``, inside it.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}.")
    if len(frame) == 0:
        raise DataValidationError(f"{what} has no rows; give at least one image.")
    labels = None
    if label_column is not None and label_column in frame.columns:
        lab = pd.to_numeric(frame[label_column], errors="coerce")
        if lab.isna().any() or (lab != lab.round()).any() or (lab < 0).any():
            raise DataValidationError(
                f"{what}: the label column {label_column!r} must hold class numbers 0, 1, 2, ...; "
                f"{int(lab.isna().sum())} row(s) are missing or not numbers. Fix the column or set "
                "label_column = None for an unconditional model."
            )
        labels = lab.to_numpy(dtype=np.int64)
    if pixel_columns is None:
        cols = [str(c) for c in frame.columns if c != label_column]
    else:
        cols = [str(c) for c in pixel_columns]
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataValidationError(
                f"{what} lacks the pixel column(s) {format_names(missing)} that the model was "
                "trained on. Give images with the same columns as the training images."
            )
    side = round(math.sqrt(len(cols)))
    if not cols or side * side != len(cols):
        raise DataValidationError(
            f"{what} has {len(cols)} pixel column(s) (every column but the label "
            f"{label_column!r}); square images need a square number of them (8×8 = 64). Drop the "
            "columns that are not pixels, or name the label column."
        )
    sub = frame[cols]
    nonnum = [c for c in cols if not pd.api.types.is_numeric_dtype(sub[c])]
    if nonnum:
        raise DataValidationError(
            f"{what}: the pixel column(s) {format_names(nonnum)} are not numeric. Pixels are "
            "numbers (e.g. 0 to 16 for the digits); drop or convert those columns."
        )
    arr = sub.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        where = sorted({cols[j] for j in np.flatnonzero(bad.any(axis=0))})
        raise DataValidationError(
            f"{what}: the pixel column(s) {format_names(where)} hold missing or infinite values. "
            "Every pixel needs a finite value."
        )
    if pixel_range is not None:
        lo, hi = pixel_range
        out = (arr < lo - 1e-9) | (arr > hi + 1e-9)
        if out.any():
            where = sorted({cols[j] for j in np.flatnonzero(out.any(axis=0))})
            raise DataValidationError(
                f"{what}: the pixel column(s) {format_names(where)} hold values outside the "
                f"model's pixel_range [{lo:g}, {hi:g}] (from {arr.min():g} to {arr.max():g}). Set "
                "pixel_range to the data's scale."
            )
    return ImageData(arr.reshape(len(arr), side, side), labels, tuple(cols))


# --------------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------------


def _build_unet(config: DiffusionConfig, side: int, num_classes: int | None) -> Any:
    from diffusers import UNet2DModel

    n = len(config.block_out_channels)
    return UNet2DModel(
        sample_size=side,
        in_channels=1,
        out_channels=1,
        block_out_channels=config.block_out_channels,
        layers_per_block=config.layers_per_block,
        down_block_types=("DownBlock2D",) * n,
        up_block_types=("UpBlock2D",) * n,
        norm_num_groups=config.norm_num_groups,
        num_class_embeds=num_classes,
    )


def _scheduler(config: DiffusionConfig) -> Any:
    from diffusers import DDPMScheduler

    return DDPMScheduler(
        num_train_timesteps=config.num_train_timesteps,
        beta_schedule=config.beta_schedule,
        clip_sample=True,
    )


class DiffusionModel:
    """A trained (or loaded) DDPM: the network, its noise schedule and the data's layout.

    Built by :meth:`train` or :func:`load_model`. ``predict_noise`` is the network's ε prediction
    for noised inputs in network scale ([-1, 1]); ``loss`` the per-image denoising loss;
    ``sample`` seeded DDPM/DDIM sampling back to the table's pixel scale.
    """

    def __init__(
        self,
        config: DiffusionConfig,
        unet: Any,
        *,
        side: int,
        columns: Sequence[str],
        num_classes: int | None,
        class_counts: Sequence[int] | None = None,
        device: str = "cpu",
        history: Sequence[float] = (),
    ) -> None:
        self.config = config
        self.unet = unet
        self.side = int(side)
        self.columns = tuple(columns)
        self.num_classes = num_classes
        self.class_counts = None if class_counts is None else tuple(int(c) for c in class_counts)
        self.device = device
        self.history = tuple(float(h) for h in history)
        self.scheduler = _scheduler(config)
        import torch

        self.alphas_cumprod = self.scheduler.alphas_cumprod.to(torch.float32)

    # ------------------------------------------------------------------------------- scale

    def to_unit(self, pixels: np.ndarray) -> np.ndarray:
        """Table scale → network scale [-1, 1]."""
        lo, hi = self.config.pixel_range
        return (2.0 * (np.asarray(pixels, dtype=np.float64) - lo) / (hi - lo) - 1.0).astype(
            np.float32
        )

    def from_unit(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self.config.pixel_range
        return lo + (np.clip(x, -1.0, 1.0) + 1.0) / 2.0 * (hi - lo)

    def tensor(self, data: ImageData) -> torch.Tensor:
        import torch

        x = self.to_unit(data.pixels)[:, None, :, :]
        return torch.from_numpy(x).to(self.device)

    def class_tensor(self, data: ImageData) -> torch.Tensor | None:
        import torch

        if self.num_classes is None:
            return None
        if data.labels is None:
            raise DataValidationError(
                f"This model is class-conditional (label column {self.config.label_column!r}); "
                "the images given have no such column. Give the images with their labels."
            )
        if (data.labels >= self.num_classes).any():
            raise DataValidationError(
                f"The label column {self.config.label_column!r} holds classes up to "
                f"{int(data.labels.max())}; the model knows {self.num_classes} classes (from "
                "its training images or its num_classes parameter). Train it with num_classes "
                "set to the number of classes in the population."
            )
        return torch.from_numpy(data.labels).to(self.device)

    # ------------------------------------------------------------------------------- training

    @classmethod
    def train(
        cls,
        data: ImageData,
        config: DiffusionConfig,
        *,
        random_state: int,
        on_epoch: Callable[[int, DiffusionModel], None] | None = None,
    ) -> DiffusionModel:
        """Train a new model on ``data`` (ε-prediction MSE, uniform timesteps, Adam-W).

        ``on_epoch(epoch, model)`` is called after each epoch (1-based) with the model so far
        (checkpoints for the epochs × AUC curve; progress).
        """
        import torch

        device = pick_device(config.device)
        torch.manual_seed(int(random_state))  # weight initialisation
        gen = torch.Generator(device="cpu").manual_seed(int(random_state))
        num_classes = None
        class_counts = None
        if config.label_column is not None and data.labels is not None:
            num_classes = config.num_classes or int(data.labels.max()) + 1
            class_counts = np.bincount(data.labels, minlength=num_classes).tolist()
        unet = _build_unet(config, data.side, num_classes).to(device)
        model = cls(
            config,
            unet,
            side=data.side,
            columns=data.columns,
            num_classes=num_classes,
            class_counts=class_counts,
            device=device,
        )
        x_all = model.tensor(data)
        y_all = model.class_tensor(data)
        opt = torch.optim.AdamW(unet.parameters(), lr=float(config.learning_rate))
        acp = model.alphas_cumprod.to(device)
        n = len(data)
        history: list[float] = []
        t0 = time.perf_counter()
        unet.train()
        for epoch in range(1, config.epochs + 1):
            perm = torch.randperm(n, generator=gen)
            total = 0.0
            for start in range(0, n, config.batch_size):
                idx = perm[start : start + config.batch_size].to(device)
                x0 = x_all[idx]
                t = torch.randint(0, config.num_train_timesteps, (len(idx),), generator=gen)
                noise = torch.randn(x0.shape, generator=gen).to(device)
                t = t.to(device)
                a = acp[t].view(-1, 1, 1, 1)
                xt = a.sqrt() * x0 + (1.0 - a).sqrt() * noise
                labels = None if y_all is None else y_all[idx]
                pred = unet(xt, t, class_labels=labels).sample
                loss = torch.nn.functional.mse_loss(pred, noise)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
            history.append(total / n)
            if on_epoch is not None:
                unet.eval()
                model.history = tuple(history)
                on_epoch(epoch, model)
                unet.train()
        unet.eval()
        model.history = tuple(history)
        _log.debug(
            "trained a diffusion model on %d images for %d epochs in %.1f s on %s",
            n,
            config.epochs,
            time.perf_counter() - t0,
            device,
        )
        return model

    def copy(self) -> DiffusionModel:
        """An independent copy (a checkpoint that later training does not change)."""
        import copy as _copy

        return DiffusionModel(
            self.config,
            _copy.deepcopy(self.unet),
            side=self.side,
            columns=self.columns,
            num_classes=self.num_classes,
            class_counts=self.class_counts,
            device=self.device,
            history=self.history,
        )

    # ------------------------------------------------------------------------------- queries

    def predict_noise(
        self,
        x_t: torch.Tensor,
        t: torch.Tensor | int,
        labels: torch.Tensor | None = None,
        *,
        batch_size: int = 256,
    ) -> torch.Tensor:
        """ε_θ(x_t, t) for noised images in network scale (n, 1, side, side)."""
        import torch

        x_t = x_t.to(self.device)
        if isinstance(t, int):
            t = torch.full((x_t.shape[0],), int(t), dtype=torch.long)
        t = t.to(self.device)
        out = []
        with torch.no_grad():
            for s in range(0, x_t.shape[0], batch_size):
                lab = None if labels is None else labels[s : s + batch_size].to(self.device)
                out.append(
                    self.unet(
                        x_t[s : s + batch_size], t[s : s + batch_size], class_labels=lab
                    ).sample
                )
        return torch.cat(out) if out else x_t.clone()

    def loss(
        self,
        data: ImageData,
        *,
        timesteps: Sequence[int],
        n_noise: int = 1,
        random_state: int = 0,
    ) -> np.ndarray:
        """Per-image denoising loss ‖ε − ε_θ(x_t, t)‖² (mean over pixels), averaged over the
        ``timesteps`` and ``n_noise`` seeded noise draws (the same draws for every image)."""
        import torch

        self._check_timesteps(timesteps)
        x0 = self.tensor(data)
        labels = self.class_tensor(data)
        gen = torch.Generator(device="cpu").manual_seed(int(random_state))
        acp = self.alphas_cumprod
        total = torch.zeros(len(data))
        for t in timesteps:
            for _ in range(n_noise):
                noise = torch.randn(x0.shape, generator=gen).to(self.device)
                a = float(acp[int(t)])
                xt = math.sqrt(a) * x0 + math.sqrt(1.0 - a) * noise
                pred = self.predict_noise(xt, int(t), labels)
                total += ((pred - noise) ** 2).mean(dim=(1, 2, 3)).cpu()
        return (total / (len(timesteps) * n_noise)).numpy().astype(np.float64)

    def _check_timesteps(self, timesteps: Sequence[int]) -> None:
        T = self.config.num_train_timesteps
        bad = [
            t
            for t in timesteps
            if isinstance(t, bool) or not isinstance(t, int | np.integer) or not 0 <= t < T
        ]
        if bad or not len(timesteps):
            raise ConfigError(
                f"The attack's timesteps must be ints in [0, {T - 1}] (the model's "
                f"num_train_timesteps is {T}); got {list(timesteps)!r}."
            )

    # ------------------------------------------------------------------------------- sampling

    def sample(
        self,
        n: int,
        *,
        random_state: int,
        labels: np.ndarray | None = None,
        sampler: str | None = None,
        steps: int | None = None,
    ) -> ImageData:
        """``n`` images in the table's pixel scale. A conditional model draws labels in the
        training class proportions unless ``labels`` are given. DDIM is deterministic given
        the initial noise; DDPM adds seeded noise at each step."""
        import torch
        from diffusers import DDIMScheduler

        sampler = sampler or self.config.sampler
        steps = steps or self.config.sample_steps
        gen = torch.Generator(device="cpu").manual_seed(int(random_state))
        lab_t = None
        if self.num_classes is not None:
            if labels is None:
                counts = np.asarray(self.class_counts or [1] * self.num_classes, dtype=np.float64)
                rng = np.random.default_rng(int(random_state))
                labels = rng.choice(self.num_classes, size=n, p=counts / counts.sum())
            lab_t = torch.as_tensor(np.asarray(labels, dtype=np.int64))
        if n == 0:
            empty = np.zeros((0, self.side, self.side))
            return ImageData(empty, None if lab_t is None else np.zeros(0, np.int64), self.columns)
        x = torch.randn((n, 1, self.side, self.side), generator=gen).to(self.device)
        if sampler == "ddim":
            sched = DDIMScheduler.from_config(self.scheduler.config)
            sched.set_timesteps(int(steps))
        else:
            sched = self.scheduler
            sched.set_timesteps(self.config.num_train_timesteps)
        for t in sched.timesteps:
            eps = self.predict_noise(x, int(t), lab_t)
            kw: dict[str, Any] = {"generator": gen} if sampler == "ddpm" else {"eta": 0.0}
            x = sched.step(eps.cpu(), int(t), x.cpu(), **kw).prev_sample.to(self.device)
        pixels = self.from_unit(x[:, 0].cpu().numpy().astype(np.float64))
        return ImageData(pixels, None if lab_t is None else lab_t.numpy(), self.columns)

    def frame(self, images: ImageData) -> pd.DataFrame:
        """Images as a table with the training columns (and the label column)."""
        out = pd.DataFrame(images.flat(), columns=list(self.columns))
        if images.labels is not None and self.config.label_column is not None:
            out[self.config.label_column] = images.labels.astype(np.int64)
        return out

    # ------------------------------------------------------------------------------- files

    def state_bytes(self) -> list[bytes]:
        """The weights as bytes in a fixed order (for fingerprints)."""
        return [
            k.encode() + v.detach().cpu().contiguous().numpy().tobytes()
            for k, v in sorted(self.unet.state_dict().items())
        ]

    def save(self, folder: str | Path) -> Path:
        """Write ``model.safetensors`` and ``config.json`` into ``folder`` (created)."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.unet.state_dict().items()}
        save_file(state, str(folder / WEIGHTS_FILE), metadata={"format": FORMAT})
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "config": self.config.to_dict(),
            "side": self.side,
            "columns": list(self.columns),
            "num_classes": self.num_classes,
            "class_counts": None if self.class_counts is None else list(self.class_counts),
            "history": list(self.history),
        }
        (folder / CONFIG_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return folder


def load_model(path: str | Path, *, device: str = "auto") -> DiffusionModel:
    """Load a model saved by :meth:`DiffusionModel.save`: ``config.json`` + ``model.safetensors``.

    ``path`` is the folder or its ``model.safetensors``. Pickle-based weight files (``.bin``,
    ``.pt``, ``.ckpt``, …) are refused, never read: unpickling can run arbitrary code.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    p = Path(path)
    if p.suffix.lower() in _REFUSED_SUFFIXES:
        raise ConfigError(
            f"Refusing to load {p}: {p.suffix} weight files are pickled and can run code when "
            "read. Save the model as safetensors (DiffusionModel.save writes model.safetensors "
            "and config.json) and give that folder."
        )
    folder = p if p.is_dir() else p.parent
    if p.is_file() and p.name != WEIGHTS_FILE:
        raise ConfigError(
            f"Refusing to load {p}: a diffusion model is read only from a folder holding "
            f"{WEIGHTS_FILE} and {CONFIG_FILE}. Give that folder."
        )
    weights, cfg = folder / WEIGHTS_FILE, folder / CONFIG_FILE
    if not weights.is_file() or not cfg.is_file():
        others = sorted(f.name for f in folder.glob("*") if f.suffix.lower() in _REFUSED_SUFFIXES)
        extra = (
            f" It holds {format_names(others)}, which are never read (pickle)." if others else ""
        )
        raise ConfigError(
            f"The folder {folder} lacks {WEIGHTS_FILE} or {CONFIG_FILE}.{extra} Save the model "
            "with DiffusionModel.save, or convert the weights to safetensors."
        )
    try:
        meta = json.loads(cfg.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or int(meta.get("format_version", 0)) > FORMAT_VERSION:
            raise ConfigError(
                f"{cfg} is not a synth-audit diffusion model config (format "
                f"{meta.get('format')!r}, version {meta.get('format_version')!r})."
            )
        params = dict(meta["config"])
        params["device"] = device
        config = DiffusionConfig.from_params(params, who=f"The model config {cfg}")
        state = load_file(str(weights))
    except (KeyError, TypeError, ValueError, SafetensorError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(
            f"Cannot read the diffusion model in {folder} ({type(exc).__name__}: {exc}). Save it "
            "again with DiffusionModel.save."
        ) from None
    dev = pick_device(device)
    unet = _build_unet(config, int(meta["side"]), meta.get("num_classes"))
    try:
        unet.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ConfigError(
            f"The weights in {weights} do not fit the architecture in {cfg}: {str(exc)[:300]}"
        ) from None
    unet.to(dev).eval()
    return DiffusionModel(
        config,
        unet,
        side=int(meta["side"]),
        columns=meta["columns"],
        num_classes=meta.get("num_classes"),
        class_counts=meta.get("class_counts"),
        device=dev,
        history=meta.get("history", ()),
    )
