"""Progress reporting: the library calls a callback; the CLI renders it with rich, the app with
``st.progress``. The default callback does nothing (the library is silent)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["ProgressCallback", "silent"]


class ProgressCallback(Protocol):
    """Called twice per step: when it starts (``done`` = steps finished before it) and when it
    ends (``done`` one higher), with the same ``step`` name; ``total`` is the number of steps."""

    def __call__(self, step: str, done: int, total: int) -> None: ...


def silent(step: str, done: int, total: int) -> None:
    """A callback that ignores progress."""
