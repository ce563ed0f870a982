"""The library is silent: module loggers carry a NullHandler; the CLI and app decide what to show."""

from __future__ import annotations

import logging

logging.getLogger("synth_audit").addHandler(logging.NullHandler())


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name if name.startswith("synth_audit") else f"synth_audit.{name}")
