"""Contract checks for plugin authors, in the manner of scikit-learn's ``check_estimator``.

``check_target(make)`` runs every check on targets built by ``make()`` (a fresh one each time) and
raises ``AssertionError`` naming the first broken contract. The project's own test suite runs the same
checks over every registered target kind, so a plugin that passes here joins studies, the store,
reports and the app like a built-in one.

Checks for a target:

* ``kind`` is a non-empty class attribute; ``capabilities`` is a set of :class:`Capability`;
* every declared capability has its methods (``CAPABILITY_METHODS``);
* ``info()`` gives a :class:`TargetInfo` of the same kind and capabilities, with JSON-plain
  params and privacy, and an exact ``to_dict``/``from_dict`` round trip;
* with ``refit``: ``get_params`` round-trips through ``set_params``; ``clone`` gives a target of
  the same type and parameters that is not the same object;
* with ``release`` and ``refit``: fitting on ``data`` with a seed and releasing with a seed is
  deterministic (same seeds, same release).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd

from synth_audit.targets.base import CAPABILITY_METHODS, Capability, TargetInfo

__all__ = ["check_audit", "check_target"]


def _fail(make: Callable[[], Any], what: str) -> AssertionError:
    return AssertionError(f"Target contract broken by {make!r}: {what}")


def check_target(make: Callable[[], Any], *, data: pd.DataFrame | None = None, n: int = 50) -> None:
    """Run the target contract on targets from ``make()``; ``data`` trains refit-able targets."""
    target = make()
    kind = getattr(type(target), "kind", None)
    if not isinstance(kind, str) or not kind:
        raise _fail(make, "the class must declare a non-empty str attribute 'kind'")
    caps = target.capabilities
    if not isinstance(caps, frozenset | set) or not all(isinstance(c, Capability) for c in caps):
        raise _fail(make, f"'capabilities' must be a set of Capability; got {caps!r}")
    for cap in caps:
        for method in CAPABILITY_METHODS[cap]:
            if not callable(getattr(target, method, None)):
                raise _fail(make, f"declares {cap.value!r} but has no method {method}()")

    info = target.info()
    if not isinstance(info, TargetInfo):
        raise _fail(make, f"info() must return a TargetInfo; got {type(info).__name__}")
    if info.kind != kind or set(info.capabilities) != set(caps):
        raise _fail(make, "info() must repeat the target's kind and capabilities")
    try:
        text = json.dumps(info.to_dict())
    except TypeError as exc:
        raise _fail(make, f"info().to_dict() is not JSON-serialisable: {exc}") from None
    if TargetInfo.from_dict(json.loads(text)) != info:
        raise _fail(make, "TargetInfo.from_dict(to_dict()) must equal the original")

    if Capability.REFIT in caps:
        params = target.get_params()
        again = make().set_params(**params)
        if again.get_params() != params:
            raise _fail(make, "set_params(**get_params()) must give the same parameters")
        twin = target.clone()
        if twin is target or type(twin) is not type(target) or twin.get_params() != params:
            raise _fail(make, "clone() must return a new target of the same type and parameters")
        if Capability.RELEASE in caps and data is not None:
            a = make().fit(data, random_state=0).release(n, random_state=1)
            b = make().fit(data, random_state=0).release(n, random_state=1)
            try:
                pd.testing.assert_frame_equal(a, b)
            except AssertionError:
                raise _fail(
                    make, "the same fit and release seeds must give the same release"
                ) from None
            if make().fit(data, random_state=0).info().fingerprint is None:
                raise _fail(make, "a fitted target's info() must carry a fingerprint")


def check_audit(make: Callable[[], Any], *, data: Any = None, random_state: int = 0) -> None:
    """Run the audit contract on audits from ``make()``; ``data`` (an ``AuditData``) runs them.

    Checks: ``name`` and ``requires`` (a set of :class:`Capability`) are declared; ``get_params``
    round-trips through ``set_params`` and ``clone`` (a new, equal object); an unknown parameter is
    a ConfigError naming it; with ``data``: the same seed gives the same finding (``to_dict``), and
    the finding round-trips through JSON.
    """
    from synth_audit.errors import ConfigError

    audit = make()
    name = getattr(type(audit), "name", None)
    if not isinstance(name, str) or not name:
        raise _fail(make, "the class must declare a non-empty str attribute 'name'")
    req = getattr(audit, "requires", None)
    if not isinstance(req, frozenset | set) or not all(isinstance(c, Capability) for c in req):
        raise _fail(make, f"'requires' must be a set of Capability; got {req!r}")
    params = audit.get_params()
    if make().set_params(**params).get_params() != params:
        raise _fail(make, "set_params(**get_params()) must give the same parameters")
    twin = audit.clone()
    if twin is audit or twin.get_params() != params:
        raise _fail(make, "clone() must return a new audit with the same parameters")
    try:
        make().set_params(no_such_parameter=1)
    except ConfigError as exc:
        if "no_such_parameter" not in str(exc):
            raise _fail(make, "an unknown parameter's error must name it") from None
    else:
        raise _fail(make, "set_params must refuse an unknown parameter")
    if data is not None:
        a = make().run(data, random_state=random_state)
        b = make().run(data, random_state=random_state)
        if a.to_dict() != b.to_dict():
            raise _fail(make, "the same seed must give the same finding")
        text = json.dumps(a.to_dict())
        if type(a).from_dict(json.loads(text)) != a:
            raise _fail(make, "the finding must round-trip through JSON (from_dict(to_dict()))")
