"""The tuning form's parameter hints come from the generator (``primary_params``, ``runtime_params``
on :class:`generators.base.BaseGenerator`), not from a list in the service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pandas as pd
import pytest

from generators.base import BaseGenerator
from generators.registry import register_generator, unregister_generator
from synth_audit import service
from synth_audit.errors import ConfigError


class _Hinted(BaseGenerator):
    """A generator that declares its own tuning hints."""

    name = "hinted"
    primary_params: ClassVar[tuple[str, ...]] = ("width", "epochs")
    runtime_params: ClassVar[frozenset[str]] = frozenset({"workers"})

    def __init__(
        self, *, epochs: int = 10, width: float = 1.0, workers: int = 1, n_threads: int = 1
    ) -> None:
        self.epochs = epochs
        self.width = width
        self.workers = workers
        self.n_threads = n_threads

    def _fit(self, train: pd.DataFrame, seed: int, holdout: pd.DataFrame | None) -> None:
        pass

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        raise NotImplementedError


def _plain_factory(*, epochs: int = 5, width: float = 1.0, device: str = "cpu") -> Any:
    """A plugin factory function: no hints declared, so the defaults apply."""
    return _Hinted(epochs=epochs, width=width)


class _BadHints(_Hinted):
    primary_params = 3  # type: ignore[assignment]


@pytest.fixture
def registered() -> Iterator[None]:
    names: dict[str, Callable[..., Any]] = {
        "hinted_gen": _Hinted,
        "plain_gen": _plain_factory,
        "bad_hints_gen": _BadHints,
    }
    for name, factory in names.items():
        register_generator(name, factory)
    try:
        yield
    finally:
        for name in names:
            unregister_generator(name)


def test_defaults_are_the_lists_the_service_used_to_hard_code() -> None:
    assert BaseGenerator.primary_params == (
        "epochs",
        "n_iter",
        "batch_size",
        "epsilon",
        "delta",
        "fraction",
        "default_distribution",
        "k",
        "n_bins",
        "plugin",
    )
    assert frozenset({"n_threads", "enable_gpu", "device"}) == BaseGenerator.runtime_params


def test_the_generator_declares_primary_and_runtime_params(registered: None) -> None:
    fields = service.generator_param_fields("hinted_gen")
    names = [f.name for f in fields]
    # Its own primary order (width before epochs); 'workers' is runtime, so not offered; the
    # default runtime names are not hidden any more (the generator's declaration replaces them).
    assert names == ["width", "epochs", "n_threads"]
    assert [f.primary for f in fields] == [True, True, False]


def test_a_factory_without_hints_gets_the_defaults(registered: None) -> None:
    fields = service.generator_param_fields("plain_gen")
    assert [f.name for f in fields] == ["epochs", "width"]  # 'device' is a default runtime param
    assert [f.primary for f in fields] == [True, False]


def test_hints_of_the_wrong_type_are_refused_with_a_message(registered: None) -> None:
    with pytest.raises(ConfigError, match=r"bad_hints_gen.*primary_params.*names"):
        service.generator_param_fields("bad_hints_gen")
