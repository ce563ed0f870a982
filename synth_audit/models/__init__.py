"""Auditing trained classifiers: membership (LOSS, confidence, entropy, modified entropy, LiRA,
RMIA), attribute inference with the model's outputs, risk factors and an empirical ε.

* :class:`~synth_audit.models.target.ClassifierTarget`: the target kind ``classifier``;
* :func:`~synth_audit.models.audit.audit_model`: one audit, an :class:`AuditReport`;
* :mod:`~synth_audit.models.loaders`: model files in formats that cannot run code.

Heavy dependencies (torch, opacus, skops, onnxruntime) are imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["ClassifierTarget", "audit_model"]

if TYPE_CHECKING:
    from synth_audit.models.audit import audit_model
    from synth_audit.models.target import ClassifierTarget


def __getattr__(name: str) -> Any:
    if name == "ClassifierTarget":
        from synth_audit.models.target import ClassifierTarget

        return ClassifierTarget
    if name == "audit_model":
        from synth_audit.models.audit import audit_model

        return audit_model
    raise AttributeError(f"module 'synth_audit.models' has no attribute {name!r}")
