"""A target plugin defined only in the tests: registered through a real entry point (tmp dist-info)."""

from __future__ import annotations

from typing import Any, ClassVar, Self

import pandas as pd

from synth_audit.targets import Capability, TargetInfo


class EchoTarget:
    """Releases a bootstrap resample of its training rows (a leaky toy generator)."""

    kind: ClassVar[str] = "echo"

    def __init__(self, *, noise: float = 0.0) -> None:
        self.noise = noise
        self.train_: pd.DataFrame | None = None

    @property
    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.RELEASE, Capability.REFIT})

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {"noise": self.noise}

    def set_params(self, **params: Any) -> Self:
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def clone(self) -> EchoTarget:
        return type(self)(**self.get_params())

    def fit(self, train: pd.DataFrame, *, random_state: int | None = None, **_: Any) -> Self:
        self.train_ = train.reset_index(drop=True)
        return self

    def release(self, n: int, *, random_state: int | None = None) -> pd.DataFrame:
        assert self.train_ is not None
        return self.train_.sample(n, replace=True, random_state=random_state).reset_index(drop=True)

    def info(self) -> TargetInfo:
        fp = None if self.train_ is None else str(pd.util.hash_pandas_object(self.train_).sum())
        return TargetInfo(
            kind=self.kind,
            name="echo",
            params=self.get_params(),
            fingerprint=fp,
            capabilities=tuple(self.capabilities),
        )
