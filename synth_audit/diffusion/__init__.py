"""Image diffusion models: a DDPM trained here, its membership attacks, memorisation and utility.

* :mod:`.model`: :class:`DiffusionConfig`, :class:`DiffusionModel` (UNet2DModel + DDPMScheduler from
  ``diffusers``; seeded DDPM/DDIM sampling; safetensors weights only);
* :mod:`.target`: :class:`DiffusionTarget` (kind ``diffusion``) and :func:`audit_diffusion`;
* :mod:`.attacks`: denoising loss, PIA and SecMI, each a ``MembershipResult`` (unit "image");
* :mod:`.shadow`: shadow modelling (LiRA on the denoising loss) with cached shadow fits;
* :mod:`.memorisation`: extraction rate (Carlini et al. 2023) calibrated on held-out images;
* :mod:`.utility`: class accuracy, precision/recall and a Fréchet distance in the features of a
  classifier trained here;
* :mod:`.images`: image grids as PNG.

Importing this package imports neither torch nor diffusers; they are loaded when a model is built.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DiffusionConfig", "DiffusionModel", "DiffusionTarget", "audit_diffusion", "load_model"]


def __getattr__(name: str) -> Any:
    if name in ("DiffusionConfig", "DiffusionModel", "load_model"):
        from synth_audit.diffusion import model

        return getattr(model, name)
    if name in ("DiffusionTarget", "audit_diffusion"):
        from synth_audit.diffusion import target

        return getattr(target, name)
    raise AttributeError(name)
