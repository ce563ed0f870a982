"""What is attacked: the :class:`Target` protocol, its :class:`Capability` tags and :class:`TargetInfo`.

A target is described by what an attacker can ask of it, in the manner of scikit-learn's estimator
tags. The capabilities *are* the threat model a report states:

==================  ==============================================================================
``release``         it gives a synthetic dataset (no box: the attacker holds the release only)
``refit``           ``get_params`` / ``clone`` / ``fit``: it can be re-trained on chosen data, so
                    shadow and reference models can be made (black box)
``predict_proba``   class probabilities for a record (a classifier)
``loss``            a per-unit loss (cross-entropy, a language model's NLL, a denoising loss)
``token_logprobs``  per-token log-probabilities of a text (a causal language model)
``noise_prediction`` a diffusion model's predicted noise for a noised input and a timestep
==================  ==============================================================================

An audit declares the capabilities it ``requires``; :func:`require` refuses, naming what is
missing, before any work is done. ``info()`` is the provenance every finding and report carries:
kind, name, parameters, the formal privacy guarantee claimed (ε, δ) and a fingerprint.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol, runtime_checkable

from synth_audit.errors import ConfigError, DataValidationError

__all__ = [
    "Capability",
    "Target",
    "TargetInfo",
    "require",
]


class Capability(StrEnum):
    """What an attacker can ask of a target (see the module docstring)."""

    RELEASE = "release"
    REFIT = "refit"
    PREDICT_PROBA = "predict_proba"
    LOSS = "loss"
    TOKEN_LOGPROBS = "token_logprobs"
    NOISE_PREDICTION = "noise_prediction"


# The methods a target must have for each capability it declares (checked by
# :func:`synth_audit.testing.check_target`).
CAPABILITY_METHODS: Mapping[Capability, tuple[str, ...]] = {
    Capability.RELEASE: ("release",),
    Capability.REFIT: ("get_params", "set_params", "clone", "fit"),
    Capability.PREDICT_PROBA: ("predict_proba",),
    Capability.LOSS: ("loss",),
    Capability.TOKEN_LOGPROBS: ("token_logprobs",),
    Capability.NOISE_PREDICTION: ("predict_noise",),
}


def _plain(value: Any) -> Any:
    """Parameters as plain JSON values (numpy scalars to Python; tuples to lists; others to str)."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, str | bytes):
        with contextlib.suppress(TypeError, ValueError):
            value = item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return repr(value)


@dataclass(frozen=True)
class TargetInfo:
    """Provenance of a target: goes into every finding, the store and the report.

    ``privacy`` holds the formal guarantee the target *claims* (``{"epsilon": 1.0, "delta": 1e-5}``,
    empty when it claims none); an empirical ε lower bound above a claimed ε is a finding.
    ``fingerprint`` identifies the exact object attacked (a release's content hash, a model's weights
    hash), ``None`` before a target is fitted.
    """

    kind: str
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    privacy: Mapping[str, Any] = field(default_factory=dict)
    fingerprint: str | None = None
    capabilities: tuple[Capability, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _plain(dict(self.params)))
        object.__setattr__(self, "privacy", _plain(dict(self.privacy)))
        caps = tuple(sorted({Capability(c) for c in self.capabilities}, key=str))
        object.__setattr__(self, "capabilities", caps)

    @property
    def epsilon(self) -> float | None:
        eps = self.privacy.get("epsilon")
        return None if eps is None else float(eps)

    @property
    def delta(self) -> float | None:
        delta = self.privacy.get("delta")
        return None if delta is None else float(delta)

    def describe(self) -> str:
        """One line for people: ``generator 'dpgan' (epsilon=1, n_iter=50; ε = 1, δ = 1e-05)``."""
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        priv = []
        if self.epsilon is not None:
            priv.append(f"ε = {self.epsilon:g}")
        if self.delta is not None:
            priv.append(f"δ = {self.delta:g}")
        inner = "; ".join(p for p in (shown, ", ".join(priv)) if p)
        return f"{self.kind} {self.name!r}" + (f" ({inner})" if inner else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "params": dict(self.params),
            "privacy": dict(self.privacy),
            "fingerprint": self.fingerprint,
            "capabilities": [str(c) for c in self.capabilities],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TargetInfo:
        try:
            return cls(
                kind=str(d["kind"]),
                name=str(d["name"]),
                params=dict(d.get("params") or {}),
                privacy=dict(d.get("privacy") or {}),
                fingerprint=None if d.get("fingerprint") is None else str(d["fingerprint"]),
                capabilities=tuple(Capability(c) for c in d.get("capabilities", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataValidationError(
                f"The stored target description is malformed ({type(exc).__name__}: {exc}). "
                "Re-run the audit to regenerate it."
            ) from None


@runtime_checkable
class Target(Protocol):
    """What the engine needs of anything it attacks.

    ``kind`` names the family ("release", "tabular_generator", "classifier", ...);
    ``capabilities`` the queries it answers (see :class:`Capability`); ``info()`` its provenance.
    The methods behind each capability are listed in ``CAPABILITY_METHODS``; a target need not
    inherit from anything.
    """

    kind: ClassVar[str]

    @property
    def capabilities(self) -> frozenset[Capability]: ...

    def info(self) -> TargetInfo: ...


def require(target: Target, needs: Iterable[Capability | str], *, who: str) -> None:
    """Refuse (ConfigError) when ``target`` lacks a capability that ``who`` (an audit) needs."""
    wanted = {Capability(n) for n in needs}
    missing = sorted(str(c) for c in wanted - set(target.capabilities))
    if missing:
        has = ", ".join(sorted(str(c) for c in target.capabilities)) or "(none)"
        raise ConfigError(
            f"{who} needs the capabilit{'y' if len(missing) == 1 else 'ies'} "
            f"{', '.join(repr(m) for m in missing)}, which the {target.kind} target "
            f"{target.info().name!r} does not offer (it offers: {has}). Choose an audit that "
            f"needs only what this target offers, or give a target that offers it."
        )


def content_fingerprint(parts: Iterable[bytes]) -> str:
    """SHA-256 over byte chunks (weights, a table's row hashes): the ``fingerprint`` of a target."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest()
