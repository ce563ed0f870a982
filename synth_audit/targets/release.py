"""A given synthetic release: the no-box target (the attacker holds the released dataset only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pandas as pd

from synth_audit.errors import ConfigError
from synth_audit.targets.base import Capability, TargetInfo

__all__ = ["ReleaseTarget"]


class ReleaseTarget:
    """A synthetic dataset that was released (or is about to be), made by someone else.

    ``name`` labels it in reports (default ``"release"``); ``params`` and ``privacy`` record what the
    releaser states about how it was made (for example ``{"generator": "ctgan"}`` and
    ``{"epsilon": 1.0}``): they are provenance, not something the engine can check.
    """

    kind: ClassVar[str] = "release"

    def __init__(
        self,
        synthetic: pd.DataFrame,
        *,
        name: str = "release",
        params: Mapping[str, Any] | None = None,
        privacy: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(synthetic, pd.DataFrame):
            raise ConfigError(
                f"ReleaseTarget expects the release as a pandas DataFrame. Got "
                f"{type(synthetic).__name__}; load files with synth_audit.data.load_table."
            )
        self.synthetic = synthetic
        self.name = name
        self.params = dict(params or {})
        self.privacy = dict(privacy or {})

    @property
    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.RELEASE})

    def release(self, n: int | None = None, *, random_state: int | None = None) -> pd.DataFrame:
        """The release itself. A given release cannot be re-sampled: ``n`` must be None or its size."""
        if n is not None and n != len(self.synthetic):
            raise ConfigError(
                f"The release {self.name!r} has {len(self.synthetic)} rows and cannot be sampled "
                f"again; asked for {n}. Audit it as it is, or give a generator target."
            )
        return self.synthetic

    def info(self) -> TargetInfo:
        from synth_audit.data import fingerprint

        return TargetInfo(
            kind=self.kind,
            name=self.name,
            params=self.params,
            privacy=self.privacy,
            fingerprint=fingerprint(self.synthetic)["sha256"],
            capabilities=tuple(self.capabilities),
        )
