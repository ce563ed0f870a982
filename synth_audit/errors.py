"""Exceptions that reach users.

Every error a user can cause (bad file, bad column, bad config) is a :class:`SynthAuditError`. The CLI
and the app catch this one type and show its message without a traceback; anything else is a bug.
Messages name the file, the column and what to do instead.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ConfigError",
    "DataValidationError",
    "NotFittedError",
    "StoreError",
    "SynthAuditError",
    "format_names",
]


class SynthAuditError(Exception):
    """A problem the user can fix. ``str(err)`` is a complete, one-paragraph explanation."""


class DataValidationError(SynthAuditError, ValueError):
    """Input data is unusable: missing/extra columns, incompatible types, empty inputs, ..."""


class ConfigError(SynthAuditError, ValueError):
    """A configuration (audit.toml, study.toml, parameters) is invalid."""


class StoreError(SynthAuditError):
    """The result store cannot be used (wrong schema version, unreachable URL, ...)."""


class NotFittedError(SynthAuditError, RuntimeError):
    """Results were asked for before the object was fitted / evaluated."""


def format_names(names: Iterable[object], limit: int = 8) -> str:
    """Sorted, quoted, truncated list of names: ``'a', 'b', 'c' and 4 more``."""
    items = sorted({str(n) for n in names})
    shown = ", ".join(repr(n) for n in items[:limit])
    if len(items) > limit:
        shown += f" and {len(items) - limit} more"
    return shown
