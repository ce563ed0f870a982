"""DPIA evidence from an audit: the profile, exposed data subjects, the CNIL risk rating, and the
``dpia.md`` / ``dpia.json`` documents (GDPR Art. 35)."""

from synth_audit.dpia.evidence import DpiaEvidence, build_dpia, dpia_files, with_dpia_section
from synth_audit.dpia.profile import DpiaProfile, load_profile

__all__ = [
    "DpiaEvidence",
    "DpiaProfile",
    "build_dpia",
    "dpia_files",
    "load_profile",
    "with_dpia_section",
]
