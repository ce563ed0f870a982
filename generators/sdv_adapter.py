"""SDV 2.0 single-table synthesizers: GaussianCopula, CTGAN, TVAE, CopulaGAN.

Metadata is built from our schema (``Metadata.load_from_dict``), never detected by SDV: ``numeric``
columns are ``numerical``, ``categorical`` columns ``categorical``, ``boolean`` columns ``boolean``
when they hold the canonical "true"/"false" (``categorical`` otherwise), ``datetime`` columns
``datetime`` (handed to SDV as naive UTC timestamps; the time zone is put back on the sample).
Identifier columns are not modelled (see :mod:`generators._frames`).

Seeds. SDV trains with the global ``numpy`` and ``torch`` generators and samples with the model's own
random state (which it otherwise resets to a fixed seed after every fit) and with per-column states
of its RDT transformers (which decide, for example, where missing values go). ``fit`` runs inside
:func:`generators._runtime.seeded` (global state restored afterwards); ``sample`` resets SDV's
sampling state and seeds the model and each transformer from child seeds of ``random_state``. The
same seeds give the same model and sample on the CPU; GPU training (``enable_gpu=True``) is faster
but not bit-reproducible.

Silence. SDV writes one CSV line per fit and per sample into a log file in the user's data
directory, emits warnings and can show progress bars; all of it is switched off while our calls run
(:func:`generators._runtime.quiet`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from generators._runtime import library_call, require, spawn_seeds
from generators.base import BaseGenerator
from synth_audit.schema import ColumnKind
from synth_audit.validation import (
    BOOL,
    DICT,
    INT_TUPLE,
    NONE,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    Constraint,
    Interval,
    Options,
)

__all__ = [
    "CTGANGenerator",
    "CopulaGANGenerator",
    "GaussianCopulaGenerator",
    "TVAEGenerator",
]

TABLE = "data"
_INSTALL = 'pip install "sdv==2.0.0"'
DISTRIBUTIONS = ("norm", "beta", "truncnorm", "uniform", "gamma", "gaussian_kde")
_BOOL_VALUES = {"true": True, "false": False}

_NON_NEGATIVE_FLOAT = Interval(float, 0, None)
_THREADS = [Interval(int, 1, None), NONE]
_COMMON: dict[str, list[Constraint]] = {
    "enforce_min_max_values": [BOOL],
    "enforce_rounding": [BOOL],
}
_NEURAL: dict[str, list[Constraint]] = {
    **_COMMON,
    "epochs": [POSITIVE_INT],
    "batch_size": [POSITIVE_INT],
    "embedding_dim": [POSITIVE_INT],
    "enable_gpu": [BOOL],
    "n_threads": _THREADS,
}
_GAN: dict[str, list[Constraint]] = {
    **_NEURAL,
    "pac": [POSITIVE_INT],
    "generator_dim": [INT_TUPLE],
    "discriminator_dim": [INT_TUPLE],
    "generator_lr": [POSITIVE_FLOAT],
    "discriminator_lr": [POSITIVE_FLOAT],
    "generator_decay": [_NON_NEGATIVE_FLOAT],
    "discriminator_decay": [_NON_NEGATIVE_FLOAT],
    "discriminator_steps": [POSITIVE_INT],
    "log_frequency": [BOOL],
}
_COPULA: dict[str, list[Constraint]] = {
    "default_distribution": [Options(DISTRIBUTIONS)],
    "numerical_distributions": [DICT, NONE],
}


def sdv_table(train: pd.DataFrame, kinds: dict[str, ColumnKind]) -> tuple[pd.DataFrame, dict]:
    """The frame SDV is fitted on and its metadata dictionary (``Metadata.load_from_dict``)."""
    columns: dict[str, dict[str, str]] = {}
    data: dict[str, pd.Series] = {}
    for c, kind in kinds.items():
        s = train[c]
        if pd.api.types.is_float_dtype(s):  # numeric (and datetimes held as numbers)
            columns[c] = {"sdtype": "numerical"}
            data[c] = s
        elif kind is ColumnKind.DATETIME:
            columns[c] = {"sdtype": "datetime"}
            data[c] = s.dt.tz_convert(None) if s.dt.tz is not None else s
        elif kind is ColumnKind.BOOLEAN and set(s.dropna().unique()) <= set(_BOOL_VALUES):
            columns[c] = {"sdtype": "boolean"}
            data[c] = s.map(_BOOL_VALUES).astype(object)
        else:
            columns[c] = {"sdtype": "categorical"}
            data[c] = s
    metadata = {"tables": {TABLE: {"columns": columns}}, "METADATA_SPEC_VERSION": "V2"}
    return pd.DataFrame(data), metadata


class _SDVGenerator(BaseGenerator):
    """Shared fit/sample for SDV single-table synthesizers."""

    _synthesizer: ClassVar[str] = ""
    _uses_torch: ClassVar[bool] = False

    def _synthesizer_kwargs(self) -> dict[str, Any]:
        raise NotImplementedError

    def _fit(self, train: pd.DataFrame, seed: int, holdout: pd.DataFrame | None) -> None:
        single_table = require(
            "sdv.single_table", purpose=f"The {self.name!r} generator", install=_INSTALL
        )
        metadata_mod = require(
            "sdv.metadata", purpose=f"The {self.name!r} generator", install=_INSTALL
        )
        kinds = {c: self.layout_.kinds[c] for c in self.layout_.modelled}
        data, metadata_dict = sdv_table(train, kinds)
        with library_call(seed, use_torch=self._uses_torch, n_threads=self._n_threads()):
            metadata = metadata_mod.Metadata.load_from_dict(metadata_dict)
            cls = getattr(single_table, self._synthesizer)
            synth = cls(metadata, **self._synthesizer_kwargs())
            synth.fit({TABLE: data})
        self.synthesizer_ = synth

    def _n_threads(self) -> int | None:
        return getattr(self, "n_threads", None)

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        synth = self.synthesizer_
        with library_call(seed, use_torch=self._uses_torch, n_threads=self._n_threads()):
            synth.reset_sampling()
            transformers = {c: t for c, t in synth.get_transformers().items() if t is not None}
            seeds = spawn_seeds(seed, len(transformers) + 1)
            if hasattr(synth, "_set_random_state"):  # SDV's own sampling seed (else a fixed one)
                synth._set_random_state(seeds[0])
            for t, s in zip(transformers.values(), seeds[1:]):
                if hasattr(t, "set_random_state"):
                    t.set_random_state(np.random.RandomState(s), "reverse_transform")
            out = synth.sample(num_rows=n)
        return out[TABLE] if isinstance(out, dict) else out


class GaussianCopulaGenerator(_SDVGenerator):
    """SDV's GaussianCopulaSynthesizer: per-column marginals joined by a Gaussian copula.

    Parameters are SDV's: ``default_distribution`` (one of "norm", "beta", "truncnorm", "uniform",
    "gamma", "gaussian_kde"; SDV's default "beta"), ``numerical_distributions`` (column -> name),
    ``enforce_min_max_values`` and ``enforce_rounding``.
    """

    name = "gaussian_copula"
    description = "SDV GaussianCopula: fitted marginals joined by a Gaussian copula (fast)."
    _synthesizer = "GaussianCopulaSynthesizer"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {**_COMMON, **_COPULA}

    def __init__(
        self,
        *,
        default_distribution: str = "beta",
        numerical_distributions: dict[str, str] | None = None,
        enforce_min_max_values: bool = True,
        enforce_rounding: bool = True,
    ) -> None:
        self.default_distribution = default_distribution
        self.numerical_distributions = numerical_distributions
        self.enforce_min_max_values = enforce_min_max_values
        self.enforce_rounding = enforce_rounding

    def _synthesizer_kwargs(self) -> dict[str, Any]:
        return {
            "default_distribution": self.default_distribution,
            "numerical_distributions": self.numerical_distributions,
            "enforce_min_max_values": self.enforce_min_max_values,
            "enforce_rounding": self.enforce_rounding,
        }


class _GANMixin:
    batch_size: int
    pac: int

    def _cross_param_problems(self) -> list[str]:
        bs, pac = self.batch_size, self.pac
        ok = isinstance(bs, int) and isinstance(pac, int) and bs > 0 and pac > 0
        if ok and (bs % 2 or bs % pac):
            return [
                f"The 'batch_size' parameter of {type(self).__name__} must be even and a multiple "
                f"of 'pac' ({pac}). Got {bs}."
            ]
        return []


class CTGANGenerator(_GANMixin, _SDVGenerator):
    """SDV's CTGANSynthesizer (conditional tabular GAN).

    Parameters are SDV's with SDV's defaults (``epochs=300``, ``batch_size=500``, ``pac=10``, ...),
    except ``enable_gpu`` (False here: CPU runs are reproducible, GPU runs are not bit-exact).
    ``batch_size`` must be even and a multiple of ``pac``. ``n_threads`` limits torch's threads
    while fitting and sampling (1 in a process-pool worker).
    """

    name = "ctgan"
    description = "SDV CTGAN: conditional tabular GAN (torch)."
    _synthesizer = "CTGANSynthesizer"
    _uses_torch = True
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = _GAN

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int = 500,
        pac: int = 10,
        embedding_dim: int = 128,
        generator_dim: tuple[int, ...] = (256, 256),
        discriminator_dim: tuple[int, ...] = (256, 256),
        generator_lr: float = 2e-4,
        generator_decay: float = 1e-6,
        discriminator_lr: float = 2e-4,
        discriminator_decay: float = 1e-6,
        discriminator_steps: int = 1,
        log_frequency: bool = True,
        enforce_min_max_values: bool = True,
        enforce_rounding: bool = True,
        enable_gpu: bool = False,
        n_threads: int | None = None,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.pac = pac
        self.embedding_dim = embedding_dim
        self.generator_dim = generator_dim
        self.discriminator_dim = discriminator_dim
        self.generator_lr = generator_lr
        self.generator_decay = generator_decay
        self.discriminator_lr = discriminator_lr
        self.discriminator_decay = discriminator_decay
        self.discriminator_steps = discriminator_steps
        self.log_frequency = log_frequency
        self.enforce_min_max_values = enforce_min_max_values
        self.enforce_rounding = enforce_rounding
        self.enable_gpu = enable_gpu
        self.n_threads = n_threads

    def _synthesizer_kwargs(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "pac": self.pac,
            "embedding_dim": self.embedding_dim,
            "generator_dim": tuple(self.generator_dim),
            "discriminator_dim": tuple(self.discriminator_dim),
            "generator_lr": self.generator_lr,
            "generator_decay": self.generator_decay,
            "discriminator_lr": self.discriminator_lr,
            "discriminator_decay": self.discriminator_decay,
            "discriminator_steps": self.discriminator_steps,
            "log_frequency": self.log_frequency,
            "enforce_min_max_values": self.enforce_min_max_values,
            "enforce_rounding": self.enforce_rounding,
            "enable_gpu": self.enable_gpu,
            "verbose": False,
        }


class CopulaGANGenerator(CTGANGenerator):
    """SDV's CopulaGANSynthesizer: CTGAN on columns first mapped through fitted marginals.

    CTGAN's parameters plus ``default_distribution`` and ``numerical_distributions`` (as for
    :class:`GaussianCopulaGenerator`).
    """

    name = "copula_gan"
    description = "SDV CopulaGAN: CTGAN on copula-transformed columns (torch)."
    _synthesizer = "CopulaGANSynthesizer"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {**_GAN, **_COPULA}

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int = 500,
        pac: int = 10,
        embedding_dim: int = 128,
        generator_dim: tuple[int, ...] = (256, 256),
        discriminator_dim: tuple[int, ...] = (256, 256),
        generator_lr: float = 2e-4,
        generator_decay: float = 1e-6,
        discriminator_lr: float = 2e-4,
        discriminator_decay: float = 1e-6,
        discriminator_steps: int = 1,
        log_frequency: bool = True,
        enforce_min_max_values: bool = True,
        enforce_rounding: bool = True,
        enable_gpu: bool = False,
        n_threads: int | None = None,
        default_distribution: str = "beta",
        numerical_distributions: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            epochs=epochs,
            batch_size=batch_size,
            pac=pac,
            embedding_dim=embedding_dim,
            generator_dim=generator_dim,
            discriminator_dim=discriminator_dim,
            generator_lr=generator_lr,
            generator_decay=generator_decay,
            discriminator_lr=discriminator_lr,
            discriminator_decay=discriminator_decay,
            discriminator_steps=discriminator_steps,
            log_frequency=log_frequency,
            enforce_min_max_values=enforce_min_max_values,
            enforce_rounding=enforce_rounding,
            enable_gpu=enable_gpu,
            n_threads=n_threads,
        )
        self.default_distribution = default_distribution
        self.numerical_distributions = numerical_distributions

    def _synthesizer_kwargs(self) -> dict[str, Any]:
        return {
            **super()._synthesizer_kwargs(),
            "default_distribution": self.default_distribution,
            "numerical_distributions": self.numerical_distributions,
        }


class TVAEGenerator(_SDVGenerator):
    """SDV's TVAESynthesizer (tabular variational autoencoder).

    Parameters are SDV's with SDV's defaults (``epochs=300``, ``batch_size=500``, ...), except
    ``enable_gpu`` (False here, as for :class:`CTGANGenerator`) and ``n_threads``.
    """

    name = "tvae"
    description = "SDV TVAE: tabular variational autoencoder (torch)."
    _synthesizer = "TVAESynthesizer"
    _uses_torch = True
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        **_NEURAL,
        "compress_dims": [INT_TUPLE],
        "decompress_dims": [INT_TUPLE],
        "l2scale": [_NON_NEGATIVE_FLOAT],
        "loss_factor": [POSITIVE_FLOAT],
    }

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int = 500,
        embedding_dim: int = 128,
        compress_dims: tuple[int, ...] = (128, 128),
        decompress_dims: tuple[int, ...] = (128, 128),
        l2scale: float = 1e-5,
        loss_factor: float = 2,
        enforce_min_max_values: bool = True,
        enforce_rounding: bool = True,
        enable_gpu: bool = False,
        n_threads: int | None = None,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.embedding_dim = embedding_dim
        self.compress_dims = compress_dims
        self.decompress_dims = decompress_dims
        self.l2scale = l2scale
        self.loss_factor = loss_factor
        self.enforce_min_max_values = enforce_min_max_values
        self.enforce_rounding = enforce_rounding
        self.enable_gpu = enable_gpu
        self.n_threads = n_threads

    def _synthesizer_kwargs(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "embedding_dim": self.embedding_dim,
            "compress_dims": tuple(self.compress_dims),
            "decompress_dims": tuple(self.decompress_dims),
            "l2scale": self.l2scale,
            "loss_factor": self.loss_factor,
            "enforce_min_max_values": self.enforce_min_max_values,
            "enforce_rounding": self.enforce_rounding,
            "enable_gpu": self.enable_gpu,
            "verbose": False,
        }
