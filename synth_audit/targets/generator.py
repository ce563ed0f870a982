"""A generator the engine fits itself: releases on demand and can be re-fit (shadow modelling)."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar, Self

import pandas as pd

from synth_audit.errors import NotFittedError
from synth_audit.schema import Schema
from synth_audit.targets.base import Capability, TargetInfo

__all__ = ["GeneratorTarget"]


class GeneratorTarget:
    """Any :class:`generators.base.Generator` as a target: capabilities ``release`` and ``refit``.

    ``get_params``/``set_params`` are the generator's; :meth:`clone` gives an unfitted target with
    the same parameters (how shadow and reference fits are made). After :meth:`fit`, the fingerprint
    identifies the fitted model by its generator, parameters, fit seed and training data.
    """

    kind: ClassVar[str] = "tabular_generator"

    def __init__(self, generator: Any) -> None:
        self.generator = generator
        self._fit_fingerprint: str | None = None

    @classmethod
    def from_name(cls, name: str, **params: Any) -> GeneratorTarget:
        from generators import make_generator

        return cls(make_generator(name, **params))

    @property
    def name(self) -> str:
        return str(getattr(self.generator, "name", type(self.generator).__name__))

    @property
    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.RELEASE, Capability.REFIT})

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return dict(self.generator.get_params(deep=deep))

    def set_params(self, **params: Any) -> Self:
        self.generator.set_params(**params)
        self._fit_fingerprint = None
        return self

    def clone(self) -> GeneratorTarget:
        from generators import clone

        return type(self)(clone(self.generator))

    def fit(
        self,
        train: pd.DataFrame,
        *,
        schema: Schema | None = None,
        random_state: int | None = None,
        holdout: pd.DataFrame | None = None,
    ) -> Self:
        from synth_audit.data import fingerprint
        from synth_audit.store import canonical_json

        self.generator.fit(train, schema=schema, random_state=random_state, holdout=holdout)
        payload = canonical_json(
            {
                "generator": self.name,
                "params": self.get_params(),
                "random_state": random_state,
                "train": fingerprint(train)["sha256"],
            }
        )
        self._fit_fingerprint = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        return self

    def release(self, n: int, *, random_state: int | None = None) -> pd.DataFrame:
        if self._fit_fingerprint is None:
            raise NotFittedError(
                f"The generator target {self.name!r} is not fitted yet. Call fit(train, ...) "
                "before release(n)."
            )
        return self.generator.sample(n, random_state=random_state)  # type: ignore[no-any-return]

    def info(self) -> TargetInfo:
        from generators import privacy_params

        return TargetInfo(
            kind=self.kind,
            name=self.name,
            params=self.get_params(),
            privacy=privacy_params(self.generator),
            fingerprint=self._fit_fingerprint,
            capabilities=tuple(self.capabilities),
        )
