"""Seeds, silence and lazy imports for the library adapters.

SDV, ctgan, copulas and synthcity draw their randomness from the global ``random``, ``numpy.random``
and ``torch`` generators, and they talk: loggers (SDV even appends a CSV line per fit and sample to a
file in the user's data directory), warnings, tqdm progress bars, loguru sinks. A generator here must
be deterministic under a seed and silent, and it must leave the process as it found it, because a
shadow-model study fits hundreds of them in one worker. :func:`seeded` and :func:`quiet` do that.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import random
import warnings
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import Any

import numpy as np

from synth_audit._logging import get_logger
from synth_audit.errors import ConfigError

__all__ = [
    "MAX_SEED",
    "first_line",
    "in_process",
    "library_call",
    "quiet",
    "require",
    "resolve_seed",
    "seeded",
    "spawn_seeds",
]

_log = get_logger("generators")

MAX_SEED = 2**32 - 1  # numpy's legacy global generator takes seeds below 2**32

# Loggers of the libraries we drive. They are disabled inside ``quiet()`` and restored afterwards.
# "SingleTableSynthesizer" & co. are SDV's usage loggers (CSV lines into a file in the user's data dir).
THIRD_PARTY_LOGGERS = (
    "sdv",
    "rdt",
    "copulas",
    "ctgan",
    "SingleTableSynthesizer",
    "MultiTableSynthesizer",
    "Metadata",
    "SingleTableMetadata",
    "MultiTableMetadata",
    "synthcity",
    "pgmpy",
    "opacus",
    "optuna",
    "xgboost",
    "lightning",
    "pytorch_lightning",
    "py.warnings",
)


def resolve_seed(random_state: int | None) -> int:
    """The seed to use: ``random_state`` itself, or fresh OS entropy when it is None."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    return int(random_state)


def spawn_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent child seeds of ``seed`` (``numpy.random.SeedSequence.spawn``)."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


@contextlib.contextmanager
def seeded(seed: int, *, use_torch: bool = False, n_threads: int | None = None) -> Iterator[None]:
    """Seed ``random``, ``numpy.random`` (and torch) for the block; restore their states after.

    ``n_threads`` limits torch's intra-op threads inside the block (1 in a process-pool worker,
    so that two workers on two cores do not each start a thread per core).
    """
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch: Any = None
    torch_state = cuda_states = threads = None
    if use_torch:
        import torch as _torch

        torch = _torch
        torch_state = torch.get_rng_state()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            cuda_states = torch.cuda.get_rng_state_all()
        threads = torch.get_num_threads()
    try:
        random.seed(seed)
        np.random.seed(seed % (MAX_SEED + 1))
        if torch is not None:
            torch.manual_seed(seed)  # seeds the CUDA generators too
            if n_threads is not None:
                torch.set_num_threads(int(n_threads))
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        if torch is not None:
            torch.set_rng_state(torch_state)
            if cuda_states is not None:
                torch.cuda.set_rng_state_all(cuda_states)
            if threads is not None and torch.get_num_threads() != threads:
                torch.set_num_threads(threads)


@contextlib.contextmanager
def quiet(extra_loggers: Iterable[str] = ()) -> Iterator[io.StringIO]:
    """Silence warnings, third-party loggers and anything printed (progress bars) for the block.

    What was printed is kept and passed on to the ``synth_audit.generators`` logger at DEBUG level,
    so nothing is lost to someone who asks for it. Not thread-safe (it swaps ``sys.stdout`` and
    ``sys.stderr``); generators run in processes, one per worker.
    """
    buffer = io.StringIO()
    saved: list[tuple[logging.Logger, bool]] = []
    for name in (*THIRD_PARTY_LOGGERS, *extra_loggers):
        lg = logging.getLogger(name)
        saved.append((lg, lg.disabled))
        lg.disabled = True
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(buffer),
            contextlib.redirect_stderr(buffer),
        ):
            warnings.simplefilter("ignore")
            yield buffer
    finally:
        for lg, disabled in saved:
            lg.disabled = disabled
        text = buffer.getvalue().strip()
        if text:
            _log.debug("Output of the generator library:\n%s", text[-5000:])


@contextlib.contextmanager
def in_process(n_threads: int | None = None) -> Iterator[None]:
    """Run joblib work in threads of this process, not in child processes.

    Libraries (pgmpy, scikit-learn) call ``joblib.Parallel(n_jobs=-1)``, which starts worker
    processes: their warnings go straight to the terminal, and inside a process-pool worker they
    oversubscribe the machine. ``n_threads`` caps the threads (None: joblib's choice).
    """
    try:
        from joblib import parallel_config
    except ImportError:  # joblib < 1.3 or absent: nothing to configure
        yield
        return
    with parallel_config(backend="threading", n_jobs=n_threads):
        yield


@contextlib.contextmanager
def library_call(
    seed: int, *, use_torch: bool = False, n_threads: int | None = None
) -> Iterator[None]:
    """Everything a call into a modelling library needs: silence, seeds and in-process threads."""
    with quiet(), seeded(seed, use_torch=use_torch, n_threads=n_threads), in_process(n_threads):
        yield


def require(module: str, *, purpose: str, install: str) -> ModuleType:
    """Import ``module`` or raise a ConfigError that says how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(
            f"{purpose} needs the package {module.split('.')[0]!r}, which could not be imported "
            f"({type(exc).__name__}: {first_line(exc)}). Install it with: {install}"
        ) from None


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when the message is empty)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
