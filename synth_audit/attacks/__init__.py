"""The three anonymisation criteria of the Article 29 Working Party, as attacks on a release."""

from synth_audit.attacks.inference import inference_attack
from synth_audit.attacks.linkability import linkability_attack
from synth_audit.attacks.singling_out import singling_out_attack

__all__ = ["inference_attack", "linkability_attack", "singling_out_attack"]
