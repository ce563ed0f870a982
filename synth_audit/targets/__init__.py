"""Targets: what an audit attacks, described by what an attacker can ask of it.

* :class:`ReleaseTarget`: a given synthetic release (capability ``release``, no box);
* :class:`GeneratorTarget`: a generator the engine fits itself (``release`` and ``refit``);
* plugins through the entry-point group ``synth_audit.targets`` (see :mod:`.registry`).

:func:`synth_audit.testing.check_target` is the contract suite every target passes.
"""

from __future__ import annotations

from synth_audit.targets.base import Capability, Target, TargetInfo, require
from synth_audit.targets.generator import GeneratorTarget
from synth_audit.targets.registry import available_targets, target_class
from synth_audit.targets.release import ReleaseTarget

__all__ = [
    "Capability",
    "GeneratorTarget",
    "ReleaseTarget",
    "Target",
    "TargetInfo",
    "available_targets",
    "require",
    "target_class",
]
