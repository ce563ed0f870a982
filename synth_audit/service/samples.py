"""The shipped sample releases (``samples/<name>`` with train, synthetic and control) and their
``audit.toml`` settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synth_audit.errors import ConfigError, format_names
from synth_audit.service._common import ROLES, samples_root

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd


def sample_releases() -> list[str]:
    """Names of the shipped sample releases (``samples/<name>`` with train, synthetic and control)."""
    root = samples_root()
    if not root.is_dir():
        return []
    return sorted(
        d.name
        for d in root.iterdir()
        if d.is_dir() and all((d / f"{r}.csv").is_file() for r in ROLES)
    )


def _sample_dir(name: str) -> Path:
    names = sample_releases()
    if name not in names:
        raise ConfigError(
            f"There is no sample {name!r} (samples: {format_names(names) if names else 'none'}). "
            "The samples ship with a source checkout of synth-audit, in samples/."
        )
    return samples_root() / name


def sample_release(name: str) -> dict[str, pd.DataFrame]:
    """The train, synthetic and control tables of a shipped sample."""
    from synth_audit.data import load_table

    d = _sample_dir(name)
    return {role: load_table(d / f"{role}.csv") for role in ROLES}


def sample_config(name: str) -> dict[str, Any]:
    """The sample's ``audit.toml`` as a plain dict ({} when it has none)."""
    from synth_audit.config import load_audit_config

    path = _sample_dir(name) / "audit.toml"
    if not path.is_file():
        return {}
    return load_audit_config(path).to_dict()
