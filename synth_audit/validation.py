"""Parameter constraints and their messages, in the scikit-learn style: the one validation module.

Generators, audits and targets declare ``_parameter_constraints = {"epochs": [Interval(int, 1, None)], ...}``; each
parameter must satisfy at least one of its constraints. A violation raises one
:class:`~synth_audit.errors.ConfigError` of the form::

    The 'epochs' parameter of CTGANGenerator must be an int >= 1. Got 0.

Every violated parameter is collected first, so a configuration with three mistakes is told about all
three at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from synth_audit.errors import ConfigError

__all__ = [
    "BOOL",
    "DICT",
    "NONE",
    "NON_NEGATIVE_INT",
    "POSITIVE_FLOAT",
    "POSITIVE_INT",
    "STR",
    "Constraint",
    "Interval",
    "Options",
    "Predicate",
    "TypeIs",
    "check_params",
    "param_error",
]


class Constraint:
    """One acceptable form of a parameter value."""

    def is_satisfied_by(self, value: Any) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class Interval(Constraint):
    """A number of ``kind`` (``int`` or ``float``) within bounds; ``None`` bounds are open-ended.

    ``float`` accepts ints too (``epsilon=1`` is as good as ``epsilon=1.0``); NaN is never accepted.
    """

    kind: type
    left: float | None
    right: float | None
    closed: str = "both"  # "both", "left", "right", "neither"

    def is_satisfied_by(self, value: Any) -> bool:
        if self.kind is int:
            if not _is_int(value):
                return False
        elif not _is_real(value) or math.isnan(float(value)):
            return False
        v = float(value)
        left_closed = self.closed in ("both", "left")
        right_closed = self.closed in ("both", "right")
        if self.left is not None and (v < self.left or (v == self.left and not left_closed)):
            return False
        return not (
            self.right is not None and (v > self.right or (v == self.right and not right_closed))
        )

    def describe(self) -> str:
        noun = "an int" if self.kind is int else "a float"
        left_closed = self.closed in ("both", "left")
        right_closed = self.closed in ("both", "right")
        lo, hi = self.left, self.right
        if lo is not None and hi is not None:
            return (
                f"{noun} in the range {'[' if left_closed else '('}{_num(lo)}, "
                f"{_num(hi)}{']' if right_closed else ')'}"
            )
        if lo is not None:
            return f"{noun} {'>=' if left_closed else '>'} {_num(lo)}"
        if hi is not None:
            return f"{noun} {'<=' if right_closed else '<'} {_num(hi)}"
        return noun


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


@dataclass(frozen=True)
class Options(Constraint):
    """One of a fixed set of values."""

    values: tuple[Any, ...]

    def is_satisfied_by(self, value: Any) -> bool:
        try:
            return value in self.values
        except TypeError:  # unhashable or incomparable
            return False

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class TypeIs(Constraint):
    """An instance of one of ``types`` (``bool`` is not an int here, nor an int a bool)."""

    types: tuple[type, ...]
    label: str

    def is_satisfied_by(self, value: Any) -> bool:
        if value is None:
            return type(None) in self.types
        if isinstance(value, bool) and bool not in self.types:
            return False
        return isinstance(value, self.types)

    def describe(self) -> str:
        return self.label


@dataclass(frozen=True)
class Predicate(Constraint):
    """Any value for which ``func`` returns True, described by ``label``."""

    func: Callable[[Any], bool]
    label: str

    def is_satisfied_by(self, value: Any) -> bool:
        try:
            return bool(self.func(value))
        except Exception:
            return False

    def describe(self) -> str:
        return self.label


NONE = TypeIs((type(None),), "None")
BOOL = TypeIs((bool,), "a bool")
STR = TypeIs((str,), "a str")
DICT = TypeIs((dict,), "a dict")
POSITIVE_INT = Interval(int, 1, None)
NON_NEGATIVE_INT = Interval(int, 0, None)
POSITIVE_FLOAT = Interval(float, 0, None, closed="neither")
INT_TUPLE = Predicate(
    lambda v: isinstance(v, (tuple, list)) and all(_is_int(x) and x >= 1 for x in v),
    "a tuple of ints >= 1",
)


def _describe_all(constraints: Iterable[Constraint]) -> str:
    parts = [c.describe() for c in constraints]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def param_error(param: str, owner: str, constraints: Iterable[Constraint], value: Any) -> str:
    return (
        f"The {param!r} parameter of {owner} must be {_describe_all(constraints)}. "
        f"Got {_show(value)}."
    )


def check_params(
    params: Mapping[str, Any],
    constraints: Mapping[str, list[Constraint]],
    owner: str,
    *,
    extra_problems: Iterable[str] = (),
) -> None:
    """Raise one ConfigError listing every parameter that satisfies none of its constraints."""
    problems = []
    for name, allowed in constraints.items():
        if name not in params or not allowed:
            continue
        value = params[name]
        if not any(c.is_satisfied_by(value) for c in allowed):
            problems.append(param_error(name, owner, allowed, value))
    problems.extend(extra_problems)
    if problems:
        raise ConfigError(" ".join(problems))
