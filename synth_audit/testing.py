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

__all__ = ["check_audit", "check_generator", "check_metric", "check_target"]


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


def check_generator(
    make: Callable[[], Any],
    train: pd.DataFrame,
    *,
    holdout: pd.DataFrame | None = None,
    schema: Any = None,
    n: int = 60,
) -> None:
    """Run the generator contract on generators from ``make()`` (unfitted, fresh each time).

    Checks: the :class:`generators.Generator` protocol; ``sample`` before ``fit`` raises
    ``NotFittedError`` saying to call fit; ``get_params`` round-trips through ``set_params`` and an
    unknown parameter is a ConfigError naming it; ``clone`` gives an unfitted copy with equal,
    unshared parameters; a sample has the training columns in order, ``n`` rows and a RangeIndex;
    ``sample(0)`` is empty with the columns; the same fit and sample seeds give the same sample;
    ``privacy_params`` (where defined) is a dict.
    """
    from generators import Generator, clone, privacy_params
    from synth_audit.errors import ConfigError, NotFittedError

    gen = make()
    if not isinstance(gen, Generator):
        raise _fail(make, "it does not have the members of generators.Generator")
    try:
        gen.sample(5)
    except NotFittedError as exc:
        if "fit" not in str(exc):
            raise _fail(make, "sampling before fit must say to call fit()") from None
    else:
        raise _fail(make, "sample() before fit() must raise NotFittedError")
    params = gen.get_params()
    if gen.set_params(**params) is not gen or gen.get_params() != params:
        raise _fail(make, "set_params(**get_params()) must return self with the same parameters")
    try:
        make().set_params(no_such_parameter=1)
    except ConfigError as exc:
        if "no_such_parameter" not in str(exc):
            raise _fail(make, "an unknown parameter's error must name it") from None
    else:
        raise _fail(make, "set_params must refuse an unknown parameter")

    fitted = make().fit(train, schema=schema, random_state=0, holdout=holdout)
    twin = clone(fitted)
    if twin is fitted or type(twin) is not type(fitted) or twin.get_params() != fitted.get_params():
        raise _fail(make, "clone() must return a new generator with the same parameters")
    for key, value in fitted.get_params().items():
        if isinstance(value, dict | list) and twin.get_params()[key] is value:
            raise _fail(make, f"clone() must copy the parameter {key!r}, not share it")
    try:
        twin.sample(5)
    except NotFittedError:
        pass
    else:
        raise _fail(make, "a clone must be unfitted")
    sample = fitted.sample(n, random_state=1)
    if list(sample.columns) != list(train.columns) or len(sample) != n:
        raise _fail(make, f"sample({n}) must have the training columns in order and {n} rows")
    if not isinstance(sample.index, pd.RangeIndex):
        raise _fail(make, "a sample must have a RangeIndex")
    empty = fitted.sample(0)
    if list(empty.columns) != list(train.columns) or len(empty):
        raise _fail(make, "sample(0) must be empty with the training columns")
    again = make().fit(train, schema=schema, random_state=0, holdout=holdout)
    try:
        pd.testing.assert_frame_equal(sample, again.sample(n, random_state=1))
    except AssertionError:
        raise _fail(make, "the same fit and sample seeds must give the same sample") from None
    if not isinstance(privacy_params(fitted), dict):
        raise _fail(make, "privacy_params() must return a dict")


def check_metric(metric: Any, data: Any, **params: Any) -> None:
    """Run the metric contract on ``metric`` (a :class:`metrics.Metric`) over ``data`` (AuditData).

    Checks: direction and bounds are declared (lower < upper) with a description; the result names
    the metric, repeats its direction and bounds, lies within them and records the seed; it
    round-trips through JSON exactly; the same seed gives the same result; an unknown parameter is
    a ConfigError naming it. ``params`` are the metric's required parameters (e.g. ``target``).
    """
    from metrics import Metric, MetricResult
    from synth_audit.errors import ConfigError

    def _make() -> Any:
        return metric

    if not isinstance(metric, Metric):
        raise _fail(_make, "it does not have the members of metrics.Metric")
    if metric.direction not in ("maximize", "minimize"):
        raise _fail(_make, f"direction must be 'maximize' or 'minimize'; got {metric.direction!r}")
    lo, hi = metric.bounds
    if not lo < hi or not (isinstance(metric.description, str) and metric.description):
        raise _fail(_make, "bounds must be (lower, upper) with lower < upper, and a description")

    def compute(**extra: Any) -> Any:
        return metric.compute(
            data.train, data.synthetic, data.control, schema=data.schema, **params, **extra
        )

    r = compute(random_state=0)
    if r.name != metric.name or r.direction != metric.direction:
        raise _fail(_make, "the result must repeat the metric's name and direction")
    if r.bounds != (float(lo), float(hi)) or not lo <= r.value <= hi:
        raise _fail(_make, f"the value {r.value!r} must lie within the bounds {metric.bounds}")
    if r.seed != 0:
        raise _fail(_make, "the result must record the seed it was computed with")
    if MetricResult.from_dict(json.loads(json.dumps(r.to_dict(), allow_nan=False))) != r:
        raise _fail(_make, "the result must round-trip through JSON exactly")
    if compute(random_state=0) != r:
        raise _fail(_make, "the same seed must give the same result")
    try:
        compute(no_such_parameter=1)
    except ConfigError as exc:
        if "no_such_parameter" not in str(exc):
            raise _fail(_make, "an unknown parameter's error must name it") from None
    else:
        raise _fail(_make, "an unknown parameter must be refused")
