"""synth-audit: privacy risk evaluation for synthetic data and trained models.

Singling out, linkability and attribute inference (the Article 29 Working Party's anonymisation
criteria) and membership inference, each against a baseline and a control attack, with confidence
intervals, per-record outcomes and utility metrics beside every privacy number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synth_audit import _logging  # noqa: F401  (installs the NullHandler)

__version__ = "0.1.0"

__all__ = ["AuditConfig", "AuditReport", "__version__", "audit_model", "evaluate_release"]

if TYPE_CHECKING:
    from synth_audit.config import AuditConfig
    from synth_audit.evaluate import evaluate_release
    from synth_audit.models.audit import audit_model
    from synth_audit.report.model import AuditReport


def __getattr__(name: str) -> Any:
    # Lazy: importing the package stays cheap (the CLI's --help, the app's first paint).
    if name == "evaluate_release":
        from synth_audit.evaluate import evaluate_release

        return evaluate_release
    if name == "audit_model":
        from synth_audit.models.audit import audit_model

        return audit_model
    if name == "AuditReport":
        from synth_audit.report.model import AuditReport

        return AuditReport
    if name == "AuditConfig":
        from synth_audit.config import AuditConfig

        return AuditConfig
    raise AttributeError(f"module 'synth_audit' has no attribute {name!r}")
