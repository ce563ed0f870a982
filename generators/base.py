"""The generator protocol, a scikit-learn-style base class and ``clone``.

A generator learns a distribution from real training records and samples synthetic ones. The engine
needs four things of it: its parameters can be read back (so a shadow-model attack can :func:`clone`
it hundreds of times), ``fit`` is seeded, ``sample`` is seeded, and a failure inside the modelling
library becomes one error type that a study records before it goes on (:class:`GeneratorFitError`).

Implementations need not inherit from :class:`BaseGenerator`; anything that has the members of
:class:`Generator` will do. :class:`BaseGenerator` supplies the plumbing:

* the constructor only stores its keyword arguments; ``get_params`` reads them back through the
  ``__init__`` signature, ``set_params`` sets them, ``clone`` builds an unfitted copy;
* ``fit`` validates the parameters (one ConfigError listing every problem, in the form
  "The 'epochs' parameter of CTGANGenerator must be an int >= 1. Got 0."), resolves the schema, puts
  the data in canonical form, and calls ``_fit``; any exception the library raises becomes a
  :class:`GeneratorFitError` naming the generator, its parameters and the original error;
* ``sample`` refuses to run before ``fit`` (:class:`~synth_audit.errors.NotFittedError`), calls
  ``_sample`` and returns exactly the training columns, in order, in the training dtype conventions.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import pandas as pd

from generators._frames import TableLayout, canonical, resolve_schema
from generators._runtime import MAX_SEED, first_line, resolve_seed
from synth_audit.errors import (
    ConfigError,
    DataValidationError,
    NotFittedError,
    SynthAuditError,
    format_names,
)
from synth_audit.schema import Schema
from synth_audit.validation import NONE, Constraint, Interval, check_params, param_error

__all__ = [
    "BaseGenerator",
    "Generator",
    "GeneratorFitError",
    "GeneratorSampleError",
    "clone",
    "privacy_params",
]

_SEED = Interval(int, 0, MAX_SEED)


class GeneratorFitError(SynthAuditError):
    """The generator's library failed while fitting (or sampling, see the subclass).

    A study records the failure for that run (generator, parameters, first line of the cause) and
    goes on with the others. ``generator``, ``params`` and ``cause`` hold the pieces of the message;
    ``detail`` the original error's whole text (libraries such as SDV put the useful part on the
    lines after the first), at most 2,000 characters.
    """

    def __init__(
        self,
        message: str,
        *,
        generator: str = "",
        params: dict[str, Any] | None = None,
        cause: str = "",
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.generator = generator
        self.params = dict(params or {})
        self.cause = cause
        self.detail = detail


class GeneratorSampleError(GeneratorFitError):
    """The generator's library failed while sampling from a fitted model.

    A subclass of :class:`GeneratorFitError` so that code recording failed runs catches both.
    """


@runtime_checkable
class Generator(Protocol):
    """What the engine needs of a tabular generator.

    ``fit(train, schema=, random_state=, holdout=)`` learns from ``train`` and returns ``self``.
    ``holdout`` holds real records that were *not* used for training; only the calibration baselines
    (``leaky``) use it. ``sample(n, random_state=)`` returns ``n`` synthetic records with the same
    columns, order, kinds and dtype conventions as ``train``. The same ``random_state`` gives the same
    model and the same sample. A generator may also define ``privacy_params() -> dict`` (for example
    ``{"epsilon": 1.0, "delta": 1e-5}``); use :func:`privacy_params` to read it from any generator.
    """

    @property
    def name(self) -> str: ...

    def get_params(self, deep: bool = False) -> dict[str, Any]: ...

    def set_params(self, **params: Any) -> Self: ...

    def fit(
        self,
        train: pd.DataFrame,
        *,
        schema: Schema | None = None,
        random_state: int | None = None,
        holdout: pd.DataFrame | None = None,
    ) -> Self: ...

    def sample(self, n: int, *, random_state: int | None = None) -> pd.DataFrame: ...


def privacy_params(generator: Any) -> dict[str, Any]:
    """The formal privacy guarantee a generator claims (``{}`` when it claims none)."""
    method = getattr(generator, "privacy_params", None)
    return dict(method()) if callable(method) else {}


class BaseGenerator:
    """Plumbing for generators in the scikit-learn style (see the module docstring).

    Subclasses define ``__init__`` with keyword-only parameters that it stores unchanged under the
    same names, a ``_parameter_constraints`` mapping, ``_fit(train, seed, holdout)`` and
    ``_sample(n, seed)``. ``_fit`` receives the training data in canonical form; the fitted layout
    is in ``self.layout_`` and the resolved schema in ``self.schema_``.
    """

    name: str = "base"
    description: ClassVar[str] = ""
    needs_holdout: ClassVar[bool] = False
    has_epsilon: ClassVar[bool] = False
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {}
    #: Parameters the tuning form shows first, in this order (the rest go under "more parameters").
    primary_params: ClassVar[tuple[str, ...]] = (
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
    #: Parameters the tuning form does not offer: where the generator runs, not what it learns.
    runtime_params: ClassVar[frozenset[str]] = frozenset({"n_threads", "enable_gpu", "device"})

    layout_: TableLayout
    schema_: Schema

    # ---------------------------------------------------------------- parameters
    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        names = []
        for p in inspect.signature(init).parameters.values():
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(
                    f"{cls.__name__}.__init__ must name every parameter (no *args or **kwargs), "
                    f"so that get_params and clone can read them back."
                )
            names.append(p.name)
        return sorted(names)

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """The constructor's parameters and their current values.

        With ``deep=True`` the parameters of nested objects that have ``get_params`` are included as
        ``"<param>__<sub>"``, as in scikit-learn.
        """
        out: dict[str, Any] = {}
        for key in self._get_param_names():
            value = getattr(self, key)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{key}__{k}", v) for k, v in value.get_params(deep=True).items())
            out[key] = value
        return out

    def set_params(self, **params: Any) -> Self:
        """Set parameters (validated at the next ``fit``); unknown names are a ConfigError."""
        valid = self._get_param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            head, _, sub = key.partition("__")
            if head not in valid:
                raise ConfigError(unknown_param_message(type(self).__name__, head, valid))
            if sub:
                nested.setdefault(head, {})[sub] = value
            else:
                setattr(self, head, value)
        for head, sub_params in nested.items():
            getattr(self, head).set_params(**sub_params)
        return self

    def validate_params(self) -> None:
        """Raise one ConfigError naming every invalid parameter (called by ``fit``)."""
        check_params(
            self.get_params(),
            self._parameter_constraints,
            type(self).__name__,
            extra_problems=self._cross_param_problems(),
        )

    def _cross_param_problems(self) -> list[str]:
        """Problems that involve several parameters (override where they exist)."""
        return []

    def privacy_params(self) -> dict[str, Any]:
        """The formal privacy guarantee of the fitted model: ``{}`` (none) unless overridden."""
        return {}

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.default is not p.empty
        }
        shown = []
        for key, value in self.get_params().items():
            if key not in defaults or not _same(value, defaults[key]):
                shown.append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    # ---------------------------------------------------------------- fit / sample
    @property
    def is_fitted(self) -> bool:
        return getattr(self, "fitted_", False)

    def fit(
        self,
        train: pd.DataFrame,
        *,
        schema: Schema | None = None,
        random_state: int | None = None,
        holdout: pd.DataFrame | None = None,
    ) -> Self:
        """Learn from ``train`` (and, for calibration baselines only, ``holdout``); return self."""
        owner = type(self).__name__
        self.validate_params()
        _check_seed(random_state, owner, "fit")
        self.fitted_ = False
        schema = resolve_schema(train, schema, owner)
        data = canonical(train, schema, owner)
        if holdout is not None:
            holdout = _align_holdout(holdout, data, schema, owner)
        elif self.needs_holdout:
            raise ConfigError(
                f"{owner} ({self.name!r}) needs real records that were not used for training: pass "
                f"them as fit(train, holdout=...). In a study they are the control split."
            )
        self.schema_ = schema
        self.layout_ = TableLayout.from_frame(data, schema)
        self.fit_seed_ = resolve_seed(random_state)
        try:
            self._fit(data, self.fit_seed_, holdout)
        except SynthAuditError:
            raise
        except Exception as exc:
            raise self._failure(GeneratorFitError, "fit", exc) from exc
        self.fitted_ = True
        return self

    def sample(self, n: int, *, random_state: int | None = None) -> pd.DataFrame:
        """``n`` synthetic records with the training columns, in order and in the training dtypes."""
        owner = type(self).__name__
        if not self.is_fitted:
            raise NotFittedError(
                f"This {owner} ({self.name!r}) is not fitted yet. Call fit(train, ...) before "
                f"sample(n)."
            )
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ConfigError(
                f"The number of rows to sample from {owner} must be an int >= 0. Got {n!r}."
            )
        _check_seed(random_state, owner, "sample")
        if n == 0:
            return self.layout_.empty()
        seed = resolve_seed(random_state)
        try:
            raw = self._sample(n, seed)
            return self.layout_.conform(raw, n, owner)
        except SynthAuditError:
            raise
        except Exception as exc:
            raise self._failure(GeneratorSampleError, "sample", exc) from exc

    def _fit(self, train: pd.DataFrame, seed: int, holdout: pd.DataFrame | None) -> None:
        raise NotImplementedError

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        raise NotImplementedError

    def _failure(
        self, cls: type[GeneratorFitError], stage: str, exc: BaseException
    ) -> GeneratorFitError:
        params = self.get_params()
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
        cause = f"{type(exc).__name__}: {first_line(exc)}"
        return cls(
            f"Generator {self.name!r} ({type(self).__name__}({shown})) failed to {stage}: {cause}. "
            f"Check its parameters against the data (size, column kinds); the run is recorded as "
            f"failed.",
            generator=self.name,
            params=params,
            cause=cause,
            detail=str(exc).strip()[:2000],
        )


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:
        return a is b


def _check_seed(random_state: Any, owner: str, method: str) -> None:
    if random_state is not None and not _SEED.is_satisfied_by(random_state):
        raise ConfigError(
            param_error("random_state", f"{owner}.{method}", [_SEED, NONE], random_state)
        )


def _align_holdout(
    holdout: pd.DataFrame, data: pd.DataFrame, schema: Schema, owner: str
) -> pd.DataFrame:
    if not isinstance(holdout, pd.DataFrame):
        raise ConfigError(f"{owner}.fit expects holdout as a pandas DataFrame or None.")
    cols = [str(c) for c in holdout.columns]
    missing = set(data.columns) - set(cols)
    extra = set(cols) - set(data.columns)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"it lacks {format_names(missing)}")
        if extra:
            parts.append(f"it has {format_names(extra)} that train lacks")
        raise DataValidationError(
            f"The holdout given to {owner}.fit does not have the training columns: "
            f"{'; '.join(parts)}."
        )
    return canonical(holdout.rename(columns=str)[list(data.columns)], schema, owner, role="holdout")


def unknown_param_message(owner: str, name: str, valid: list[str]) -> str:
    listed = ", ".join(repr(v) for v in valid) if valid else "(none)"
    return f"{owner} has no parameter {name!r}. Valid parameters: {listed}."


def clone(generator: Any) -> Any:
    """An unfitted copy of ``generator`` with the same parameters (deep-copied).

    Works on anything with ``get_params`` whose class accepts those parameters as keywords; this is
    how shadow-model attacks make their hundreds of independent models.
    """
    if not hasattr(generator, "get_params"):
        raise ConfigError(
            f"Cannot clone {generator!r}: it has no get_params(). Generators must expose their "
            f"parameters (see generators.base.Generator)."
        )
    params = {k: copy.deepcopy(v) for k, v in generator.get_params(deep=False).items()}
    new = type(generator)(**params)
    # Keep a name given to the instance (plugins registered under another name).
    if "name" in vars(generator):
        new.name = generator.name
    return new
