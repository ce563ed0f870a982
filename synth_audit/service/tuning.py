"""Tuning runs: the parameter fields the tuning form offers for a generator, and queueing one run in
the study of a shipped sample (``samples/<dataset>/study.toml``), so the new run lands on the same
frontier as the study's earlier runs and is evaluated in exactly the same way."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from synth_audit.errors import ConfigError, StoreError, format_names
from synth_audit.service._common import samples_root
from synth_audit.service.evaluations import Submission, _add_or_reuse

if TYPE_CHECKING:
    from synth_audit.store import Store
    from synth_audit.study.spec import StudySpec


def tuning_datasets() -> list[str]:
    """Names of the shipped samples that have a study (``samples/<name>/study.toml``)."""
    root = samples_root()
    if not root.is_dir():
        return []
    return sorted(d.name for d in root.iterdir() if (d / "study.toml").is_file())


@lru_cache(maxsize=16)
def _load_study_cached(path: str, mtime_ns: int) -> StudySpec:
    from synth_audit.study.spec import load_study

    return load_study(path)


def tuning_spec(dataset: str) -> StudySpec:
    """The study of a shipped sample (``samples/<dataset>/study.toml``), validated."""
    names = tuning_datasets()
    if dataset not in names:
        raise ConfigError(
            f"There is no dataset {dataset!r} to tune on (datasets: "
            f"{format_names(names) if names else 'none'}). A dataset is a folder of samples/ with "
            "a study.toml."
        )
    path = samples_root() / dataset / "study.toml"
    return _load_study_cached(str(path), path.stat().st_mtime_ns)


@dataclass(frozen=True)
class ParamField:
    """One parameter of a generator, as the tuning form shows it."""

    name: str
    kind: Literal["int", "float", "bool", "choice", "text"]
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    options: tuple[Any, ...] = ()
    optional: bool = False  # None is allowed (the generator then chooses)
    primary: bool = False


def generator_choices() -> dict[str, dict[str, Any]]:
    """Every generator: ``{name: {"description", "has_epsilon", "needs_holdout"}}``."""
    from generators import available_generators

    return {
        name: {
            "description": info.description,
            "has_epsilon": info.has_epsilon,
            "needs_holdout": info.needs_holdout,
        }
        for name, info in available_generators().items()
    }


def _tuning_hints(generator: str, factory: Any) -> tuple[tuple[str, ...], frozenset[str]]:
    """The generator's ``primary_params`` (shown first, in order) and ``runtime_params`` (not
    offered); a factory that declares none gets :class:`~generators.base.BaseGenerator`'s."""
    from generators.base import BaseGenerator

    hints: list[Any] = []
    for attr in ("primary_params", "runtime_params"):
        value = getattr(factory, attr, getattr(BaseGenerator, attr))
        if isinstance(value, str):
            value = (value,)
        if not isinstance(value, Iterable) or not all(isinstance(v, str) for v in value):
            raise ConfigError(
                f"The generator {generator!r} declares {attr} = {value!r}; it must be a tuple of "
                "parameter names (str). Fix the generator class, or remove the attribute to use "
                "the defaults."
            )
        hints.append(tuple(value))
    return hints[0], frozenset(hints[1])


def _field_for(
    name: str, default: Any, constraints: Sequence[Any], *, primary: bool = False
) -> ParamField | None:
    from synth_audit.validation import Interval, Options, TypeIs

    optional = any(isinstance(c, TypeIs) and type(None) in c.types for c in constraints)
    interval = next((c for c in constraints if isinstance(c, Interval)), None)
    options = next((c for c in constraints if isinstance(c, Options)), None)
    if options is not None:
        return ParamField(name, "choice", default, options=tuple(options.values), primary=primary)
    if isinstance(default, bool):
        return ParamField(name, "bool", default, primary=primary)
    kind: Literal["int", "float"] | None = None
    if interval is not None:
        kind = "int" if interval.kind is int else "float"
    elif isinstance(default, int):
        kind = "int"
    elif isinstance(default, float):
        kind = "float"
    if kind is not None:
        lo = None if interval is None else interval.left
        hi = None if interval is None else interval.right
        if lo is not None and interval is not None and interval.closed in ("neither", "right"):
            lo = lo + (1 if kind == "int" else 1e-9)
        return ParamField(
            name, kind, default, minimum=lo, maximum=hi, optional=optional, primary=primary
        )
    if isinstance(default, str):
        return ParamField(name, "text", default, primary=primary)
    return None  # tuples, dicts: not offered in the form (set them in a study.toml)


def generator_param_fields(generator: str, *, dataset: str | None = None) -> list[ParamField]:
    """The parameters the tuning form offers for ``generator``, primary ones first.

    The generator declares which are primary (``primary_params``, in display order) and which are
    about where it runs rather than what it learns (``runtime_params``, not offered); see
    :class:`generators.base.BaseGenerator` for the defaults.

    Defaults are the generator's own, replaced by the values the dataset's study.toml gives for this
    generator (e.g. ``epochs = 30`` for the demo's CTGAN), so a first run finishes in reasonable time.
    """
    from generators.registry import generator_factory

    factory = generator_factory(generator)
    primary, runtime = _tuning_hints(generator, factory)
    constraints: Mapping[str, Sequence[Any]] = getattr(factory, "_parameter_constraints", {}) or {}
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return []
    study_params: dict[str, Any] = {}
    if dataset is not None:
        for g in tuning_spec(dataset).generators:
            if g.name == generator:
                study_params = dict(g.params)
                break
    fields = []
    for p in sig.parameters.values():
        if p.kind not in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) or p.name in runtime:
            continue
        default = None if p.default is inspect.Parameter.empty else p.default
        f = _field_for(p.name, default, constraints.get(p.name, ()), primary=p.name in primary)
        if f is None:
            continue
        if p.name in study_params:
            f = ParamField(**{**f.__dict__, "default": study_params[p.name]})
        fields.append(f)
    order = {n: i for i, n in enumerate(primary)}
    fields.sort(key=lambda f: (not f.primary, order.get(f.name, 99)))
    return fields


def _generator_defaults(generator: str) -> dict[str, Any]:
    from generators.registry import generator_factory

    try:
        sig = inspect.signature(generator_factory(generator))
    except (TypeError, ValueError):
        return {}
    return {
        p.name: p.default
        for p in sig.parameters.values()
        if p.default is not inspect.Parameter.empty
    }


def _clean_params(generator: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters that differ from the generator's defaults (shorter labels, same run keys for
    the same configuration), with numbers as plain Python numbers."""
    defaults = _generator_defaults(generator)
    out: dict[str, Any] = {}
    for k, v in params.items():
        if hasattr(v, "item"):
            v = v.item()
        if isinstance(v, float) and v.is_integer() and isinstance(defaults.get(k), int):
            v = int(v)
        if k in defaults and defaults[k] == v and type(defaults[k]) is type(v):
            continue
        out[k] = v
    return out


def _record_tuning_study(store: Store, spec: StudySpec) -> None:
    from synth_audit.store import canonical_json
    from synth_audit.study.spec import StudySpec

    try:
        stored = store.get_study(spec.name)
    except StoreError:
        store.ensure_study(spec.name, spec.to_dict())
        return
    old = StudySpec.from_dict(stored.spec, source=f"The stored spec of study {spec.name!r}")
    if canonical_json(old.evaluation_identity()) != canonical_json(spec.evaluation_identity()):
        raise ConfigError(
            f"The study {spec.name!r} in the store {store.url} was run with other settings (data, "
            "split or evaluation) than its study.toml now has, so a new run would not be comparable "
            "with its earlier runs. Run the study under a new name, or use another store."
        )


def enqueue_run(
    store: Store,
    spec: StudySpec,
    *,
    generator: str,
    params: Mapping[str, Any] | None = None,
    seed_index: int = 0,
) -> str:
    """Queue one run of ``generator`` with ``params`` in the study ``spec``; return its id (see
    :func:`submit_run`, which also says whether a stored run was reused)."""
    return submit_run(store, spec, generator=generator, params=params, seed_index=seed_index).run_id


def submit_run(
    store: Store,
    spec: StudySpec,
    *,
    generator: str,
    params: Mapping[str, Any] | None = None,
    seed_index: int = 0,
) -> Submission:
    """Queue one run of ``generator`` with ``params`` in the study ``spec``.

    The seed is the study's child seed ``seed_index`` (so the run is paired with the study's own
    runs of that seed). The generator and its parameters are checked now (a ConfigError lists every
    problem). The same configuration twice gives the same run (re-queued if it had failed).
    """
    from generators import make_generator
    from synth_audit.store import make_run_key
    from synth_audit.study.data import load_study_data
    from synth_audit.study.provenance import code_version
    from synth_audit.study.spec import child_seed

    if isinstance(seed_index, bool) or not isinstance(seed_index, int) or seed_index < 0:
        raise ConfigError(f"The seed index must be an int >= 0. Got {seed_index!r}.")
    clean = _clean_params(generator, dict(params or {}))
    make_generator(generator, **clean)  # ConfigError for unknown names, parameters or values
    seed = child_seed(spec.seed, seed_index)
    data = load_study_data(spec)
    fps = {k: dict(v) for k, v in data.fingerprints.items()}
    _record_tuning_study(store, spec)
    key = make_run_key(study=spec.name, generator=generator, params=clean, seed=seed)
    return _add_or_reuse(
        store,
        what="configuration",
        study=spec.name,
        run_key=key,
        generator=generator,
        params=clean,
        seed=seed,
        code_version=code_version(),
        data_fingerprints=fps,
    )


def enqueue_tuning_run(
    store: Store,
    dataset: str,
    generator: str,
    params: Mapping[str, Any] | None = None,
    seed_index: int = 0,
) -> str:
    """Queue one run in the study of the shipped sample ``dataset`` (see :func:`enqueue_run`)."""
    return submit_tuning_run(store, dataset, generator, params, seed_index=seed_index).run_id


def submit_tuning_run(
    store: Store,
    dataset: str,
    generator: str,
    params: Mapping[str, Any] | None = None,
    seed_index: int = 0,
) -> Submission:
    """Queue one run in the study of the shipped sample ``dataset`` (see :func:`submit_run`)."""
    return submit_run(
        store, tuning_spec(dataset), generator=generator, params=params, seed_index=seed_index
    )
