"""One registry implementation (synth_audit.registry.Registry) behind targets, generators, metrics."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from synth_audit.errors import ConfigError
from synth_audit.registry import Registry

ROOT = Path(__file__).resolve().parents[1]


class _EP:
    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def load(self) -> Any:
        module, _, attr = self.value.partition(":")
        return getattr(__import__(module, fromlist=[attr]), attr)


def test_builtins_are_imported_on_first_use_and_entry_points_read_once() -> None:
    calls: list[int] = []

    def discover() -> list[_EP]:
        calls.append(1)
        return [_EP("dumps", "json:dumps")]

    reg = Registry("codec", group="g", builtins={"sqrt": "math:sqrt"}, discover=discover)
    assert calls == []  # nothing is read at construction
    assert reg.get("sqrt")(9.0) == 3.0
    assert reg.get("dumps")([1]) == "[1]"
    assert reg.names() == ["dumps", "sqrt"]
    assert calls == [1]  # read once, whatever the number of lookups
    reg.invalidate()
    reg.names()
    assert calls == [1, 1]
    assert reg.entry("sqrt").source == "built-in"
    assert reg.entry("dumps").source == "entry point 'json:dumps'"


def test_duplicates_are_refused_naming_both_sides() -> None:
    eps = [_EP("sqrt", "json:dumps"), _EP("a", "json:loads"), _EP("a", "json:dumps")]
    strict = Registry("codec", group="grp", builtins={"sqrt": "math:sqrt"}, discover=lambda: eps)
    with pytest.raises(ConfigError) as err:
        strict.names()
    msg = str(err.value)
    assert "the codec 'sqrt' (json:dumps) is already registered (built-in 'math:sqrt')" in msg
    assert "the codec 'a' (json:dumps) is already registered (entry point 'json:loads')" in msg
    assert "'grp'" in msg
    lenient = Registry(
        "codec",
        group="g",
        builtins={"sqrt": "math:sqrt"},
        discover=lambda: eps,
        plugin_conflicts="skip",
    )
    assert lenient.names() == ["a", "sqrt"] and lenient.get("sqrt")(4.0) == 2.0
    assert [(p.name, p.reason) for p in lenient.problems] == [
        ("a", "duplicate"),
        ("sqrt", "duplicate"),
    ]
    lenient.register("mine", len)
    with pytest.raises(
        ConfigError, match=r"'mine' is already registered \(registered builtins\.len\)"
    ):
        lenient.register("mine", len)
    with pytest.raises(ConfigError, match=r"'sqrt' is already registered \(built-in 'math:sqrt'\)"):
        lenient.register("sqrt", len)
    lenient.register("sqrt", len, replace=True)
    assert lenient.get("sqrt") is len
    lenient.unregister("mine")
    with pytest.raises(ConfigError, match="registered: 'sqrt'"):
        lenient.unregister("mine")


def test_unknown_names_are_listed_and_load_errors_named() -> None:
    reg = Registry(
        "codec",
        group=None,
        builtins={"sqrt": "math:sqrt", "gone": "no_such_module_xyz:thing", "typo": "math:sqroot"},
        eager=False,
    )
    with pytest.raises(
        ConfigError,
        match=r"Unknown codec 'sqrtt'\. Did you mean 'sqrt'\? Known: 'gone', 'sqrt', 'typo'",
    ):
        reg.get("sqrtt")
    with pytest.raises(
        ConfigError, match=r"'gone' points at 'no_such_module_xyz:thing'.*ModuleNotFoundError"
    ):
        reg.get("gone")
    with pytest.raises(ConfigError, match=r"'typo' points at 'math:sqroot'.*AttributeError"):
        reg.get("typo")
    broken = Registry(
        "codec",
        group="g",
        discover=lambda: [_EP("bad", "no_such_module_xyz:thing"), _EP("ok", "json:dumps")],
        plugin_conflicts="skip",
        eager=True,
    )
    assert broken.names() == ["ok"]
    (problem,) = broken.problems
    assert problem.reason == "load" and "ModuleNotFoundError" in problem.detail


def test_the_three_registries_share_it_and_keep_their_messages() -> None:
    from generators import registry as generators
    from metrics import registry as metrics
    from synth_audit.targets import registry as targets

    assert isinstance(targets._registry, Registry) and isinstance(generators._registry, Registry)
    assert isinstance(metrics.default_registry._registry(), Registry)
    with pytest.raises(ConfigError, match=r"Unknown target kind 'llm'\. Known kinds: .*'release'"):
        targets.target_class("llm")
    with pytest.raises(ConfigError, match=r"Unknown generator 'ctgun'\. Did you mean 'ctgan'\?"):
        generators.generator_factory("ctgun")
    with pytest.raises(ConfigError, match=r"Unknown metric 'nope'\. Known metrics: .*'marginals'"):
        metrics.get_metric("nope")
    assert targets.available_targets()["classifier"] == "synth_audit.models.target:ClassifierTarget"


def test_importing_the_registries_reads_no_entry_points_and_imports_no_models() -> None:
    code = (
        "import sys, importlib.metadata as md\n"
        "calls = []\n"
        "orig = md.entry_points\n"
        "md.entry_points = lambda **kw: calls.append(kw) or orig(**kw)\n"
        "import synth_audit.targets.registry, generators.registry, metrics.registry\n"
        "print(len(calls), sorted(m for m in ('sdv', 'torch', 'synthcity') if m in sys.modules))\n"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=ROOT
    )
    assert out.stdout.split() == ["0", "[]"]
