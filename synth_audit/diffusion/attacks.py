"""Membership attacks on a diffusion model, each a :class:`MembershipResult` with unit "image".

Gray box (the attacker queries the noise predictor ε_θ, capability ``noise_prediction`` / ``loss``):

``loss``   the denoising loss ‖ε − ε_θ(√ᾱ_t x₀ + √(1−ᾱ_t) ε, t)‖² at chosen timesteps, averaged over
           a few seeded noise draws (Carlini et al. 2023; Hu & Pang 2023). Members were fitted,
           so they have a lower loss: score = −loss.
``pia``    Proximal Initialisation (Kong et al. 2024, ICLR): ε₀ = ε_θ(x₀, 0) replaces random noise,
           x_t = √ᾱ_t x₀ + √(1−ᾱ_t) ε₀, and the score is −‖ε_θ(x_t, t) − ε₀‖_p (p = 4). Two queries per
           image, no randomness.
``secmi``  SecMI's t-error (Duan et al. 2023, ICML): x₀ is inverted deterministically (DDIM, η=0)
           to a mid timestep t; the error of one denoising step t → t−k followed by its inversion
           t−k → t is the score (−error). Members are reconstructed more faithfully, as long as
           the model generalises: on a tiny model that memorises its few training images the
           orientation flips at larger t (members' inversions are *less* consistent; measured
           in ``benchmarks/diffusion.py``), and the result then carries the ``auc_below_half``
           warning rather than a silent "no leak".

With a **reference model** (the same recipe trained on the attacker's reference images, never on
the challenge images; capability ``refit``):

``loss_calibrated``  the target's loss calibrated by the reference model's on the same noised
           inputs: score = loss_ref − loss_target (difficulty calibration, Watson et al. 2022;
           the offline one-reference-model case of LiRA). Images that are simply easy to denoise
           score low under both models and no longer pass for members.

With **shadow models** (``n_shadow`` models of the target's recipe trained on halves of the
challenge images and the attacker's reference images; capability ``refit``; :mod:`.shadow`):

``shadow``  LiRA on the denoising loss (Carlini et al. 2022; for diffusion models Matsumoto et al.
           2023 and Carlini et al. 2023, §5): per image, Gaussians of −log(loss) under the shadow
           models that trained on it (IN) and those that did not (OUT); the target's value is
           scored by their log likelihood ratio (online) or the one-sided OUT test (offline).

On a tiny model that memorises a handful of images, PIA's and SecMI's orientation can flip (members
score *lower*; ``benchmarks/diffusion.py``: 32 images, 200 epochs); such a result carries the
``auc_below_half`` warning instead of passing for "no leak", and the loss attack still measures it.

Every result carries a **baseline** (:meth:`MembershipResult.with_baseline`): a model-free attacker
who scores each image by its closeness to the attacker's own reference images (minus the distance
to the nearest one). When the attack does not beat it, the result warns that it shows only what
the images' typicality reveals, not the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from synth_audit.diffusion.model import DiffusionModel, ImageData
from synth_audit.errors import ConfigError
from synth_audit.membership import MembershipResult

if TYPE_CHECKING:
    from synth_audit.diffusion.shadow import ShadowLosses

__all__ = [
    "ATTACKS",
    "KNOWN_ATTACKS",
    "REFERENCE_ATTACKS",
    "SHADOW_ATTACKS",
    "calibrated_loss_attack",
    "loss_attack",
    "pia_attack",
    "reference_baseline",
    "run_attacks",
    "secmi_attack",
]

ATTACKS = ("loss", "pia", "secmi")
#: Attacks that need a reference model (not run by default).
REFERENCE_ATTACKS = ("loss_calibrated",)
#: Attacks that need shadow models (:mod:`.shadow`; not run by default).
SHADOW_ATTACKS = ("shadow",)
KNOWN_ATTACKS = ATTACKS + REFERENCE_ATTACKS + SHADOW_ATTACKS


def _fraction_timesteps(model: DiffusionModel, fractions: Sequence[float]) -> list[int]:
    T = model.config.num_train_timesteps
    return sorted({min(T - 1, max(0, round(f * T))) for f in fractions})


def _result(
    scores_m: np.ndarray,
    scores_n: np.ndarray,
    *,
    attack: str,
    target: str,
    seed: int,
    params: dict[str, Any],
    confidence_level: float,
    record_ids: Sequence[Any] | None,
) -> MembershipResult:
    scores = np.r_[scores_m, scores_n]
    labels = np.r_[np.ones(len(scores_m), dtype=int), np.zeros(len(scores_n), dtype=int)]
    return MembershipResult.from_scores(
        scores,
        labels,
        attack=attack,
        target=target,
        record_ids=record_ids,
        confidence_level=confidence_level,
        seed=seed,
        params=params,
        unit="image",
    )


def reference_baseline(
    members: ImageData,
    nonmembers: ImageData,
    reference: ImageData,
    *,
    target: str = "no target (reference images only)",
    confidence_level: float = 0.95,
    record_ids: Sequence[Any] | None = None,
) -> MembershipResult:
    """The model-free attacker: score = −(L2 distance to the nearest reference image)."""
    from scipy.spatial.distance import cdist

    ref = reference.flat()
    if len(ref) == 0:
        raise ConfigError(
            "The baseline of the diffusion attacks needs the attacker's reference images; the "
            "reference split is empty. Give [split] reference > 0 in the study."
        )

    def score(d: ImageData) -> np.ndarray:
        return -cdist(d.flat(), ref).min(axis=1)  # type: ignore[no-any-return]

    return _result(
        score(members),
        score(nonmembers),
        attack="nearest_reference_baseline",
        target=target,
        seed=0,
        params={"n_reference": len(ref)},
        confidence_level=confidence_level,
        record_ids=record_ids,
    )


def loss_attack(
    model: DiffusionModel,
    members: ImageData,
    nonmembers: ImageData,
    *,
    timestep_fractions: Sequence[float] = (0.1, 0.2, 0.3),
    n_noise: int = 4,
    random_state: int = 0,
    target: str = "diffusion",
    confidence_level: float = 0.95,
    record_ids: Sequence[Any] | None = None,
) -> MembershipResult:
    """Denoising-loss attack at ``timestep_fractions`` of the schedule (see the module doc)."""
    ts = _fraction_timesteps(model, timestep_fractions)
    lm = model.loss(members, timesteps=ts, n_noise=n_noise, random_state=random_state)
    ln = model.loss(nonmembers, timesteps=ts, n_noise=n_noise, random_state=random_state)
    return _result(
        -lm,
        -ln,
        attack="loss",
        target=target,
        seed=random_state,
        params={"timesteps": ts, "n_noise": n_noise, "queries_per_image": len(ts) * n_noise},
        confidence_level=confidence_level,
        record_ids=record_ids,
    )


def calibrated_loss_attack(
    model: DiffusionModel,
    members: ImageData,
    nonmembers: ImageData,
    *,
    reference_model: DiffusionModel,
    timestep_fractions: Sequence[float] = (0.1, 0.2, 0.3),
    n_noise: int = 4,
    random_state: int = 0,
    target: str = "diffusion",
    confidence_level: float = 0.95,
    record_ids: Sequence[Any] | None = None,
) -> MembershipResult:
    """Loss calibrated by a reference model: loss_ref − loss_target on the same noised inputs."""
    if reference_model.config.num_train_timesteps != model.config.num_train_timesteps:
        raise ConfigError(
            "The reference model of loss_calibrated must use the target's noise schedule "
            f"(num_train_timesteps {model.config.num_train_timesteps}); it has "
            f"{reference_model.config.num_train_timesteps}. Train it with the target's recipe."
        )
    ts = _fraction_timesteps(model, timestep_fractions)

    def score(d: ImageData) -> np.ndarray:
        kw = {"timesteps": ts, "n_noise": n_noise, "random_state": random_state}
        return reference_model.loss(d, **kw) - model.loss(d, **kw)  # type: ignore[arg-type]

    return _result(
        score(members),
        score(nonmembers),
        attack="loss_calibrated",
        target=target,
        seed=random_state,
        params={
            "timesteps": ts,
            "n_noise": n_noise,
            "queries_per_image": len(ts) * n_noise,
            "reference_models": 1,
        },
        confidence_level=confidence_level,
        record_ids=record_ids,
    )


def _pia_scores(model: DiffusionModel, data: ImageData, t: int, p: float) -> np.ndarray:
    x0 = model.tensor(data)
    labels = model.class_tensor(data)
    eps0 = model.predict_noise(x0, 0, labels)
    a = float(model.alphas_cumprod[t])
    xt = math.sqrt(a) * x0 + math.sqrt(1.0 - a) * eps0
    eps_t = model.predict_noise(xt, t, labels)
    err = (eps_t - eps0).abs().pow(p).flatten(1).sum(dim=1).pow(1.0 / p)
    return -err.cpu().numpy().astype(np.float64)  # type: ignore[no-any-return]


def pia_attack(
    model: DiffusionModel,
    members: ImageData,
    nonmembers: ImageData,
    *,
    timestep_fraction: float = 0.2,
    norm: float = 4.0,
    target: str = "diffusion",
    confidence_level: float = 0.95,
    random_state: int = 0,
    record_ids: Sequence[Any] | None = None,
) -> MembershipResult:
    """PIA: proximal initialisation ε₀ = ε_θ(x₀, 0), then ‖ε_θ(x_t, t) − ε₀‖_p (two queries)."""
    if not norm >= 1:
        raise ConfigError(f"The 'norm' parameter of pia_attack must be >= 1. Got {norm!r}.")
    (t,) = _fraction_timesteps(model, [timestep_fraction])
    t = max(t, 1)
    return _result(
        _pia_scores(model, members, t, norm),
        _pia_scores(model, nonmembers, t, norm),
        attack="pia",
        target=target,
        seed=random_state,
        params={"timestep": t, "norm": norm, "queries_per_image": 2},
        confidence_level=confidence_level,
        record_ids=record_ids,
    )


def _ddim_move(model: DiffusionModel, x: Any, t_from: int, t_to: int, labels: Any) -> Any:
    """One deterministic DDIM move from t_from to t_to (either direction; η = 0)."""
    acp = model.alphas_cumprod
    a_from = float(acp[t_from])
    a_to = float(acp[t_to])
    eps = model.predict_noise(x, t_from, labels)
    x0 = (x - math.sqrt(1.0 - a_from) * eps) / math.sqrt(a_from)
    return math.sqrt(a_to) * x0 + math.sqrt(1.0 - a_to) * eps


def _secmi_scores(model: DiffusionModel, data: ImageData, t_sec: int, k: int) -> np.ndarray:
    x = model.tensor(data)
    labels = model.class_tensor(data)
    # Deterministic inversion x_0 -> x_k -> x_2k -> ... -> x_t_sec.
    t = 0
    while t < t_sec:
        nxt = min(t + k, t_sec)
        x = _ddim_move(model, x, t, nxt, labels)
        t = nxt
    back = _ddim_move(model, x, t_sec, t_sec - k, labels)  # one denoising step
    again = _ddim_move(model, back, t_sec - k, t_sec, labels)  # and its inversion
    err = ((again - x) ** 2).flatten(1).sum(dim=1)
    return -err.cpu().numpy().astype(np.float64)  # type: ignore[no-any-return]


def secmi_attack(
    model: DiffusionModel,
    members: ImageData,
    nonmembers: ImageData,
    *,
    timestep_fraction: float = 0.1,
    step_fraction: float = 0.05,
    target: str = "diffusion",
    confidence_level: float = 0.95,
    random_state: int = 0,
    record_ids: Sequence[Any] | None = None,
) -> MembershipResult:
    """SecMI_stat: t-error after DDIM inversion to ``timestep_fraction`` of the schedule, in
    inversion steps of ``step_fraction`` (SecMI: t_sec = 100 of T = 1000; the coarser step
    k = 5 % of T did better than k = 2 % on the tiny digit models, see the module doc)."""
    T = model.config.num_train_timesteps
    k = max(1, round(step_fraction * T))
    t_sec = min(T - 1, max(2 * k, round(timestep_fraction * T)))
    return _result(
        _secmi_scores(model, members, t_sec, k),
        _secmi_scores(model, nonmembers, t_sec, k),
        attack="secmi",
        target=target,
        seed=random_state,
        params={"timestep": t_sec, "step": k, "queries_per_image": t_sec // k + 2},
        confidence_level=confidence_level,
        record_ids=record_ids,
    )


def run_attacks(
    model: DiffusionModel,
    members: ImageData,
    nonmembers: ImageData,
    reference: ImageData | None,
    *,
    attacks: Sequence[str] = ATTACKS,
    random_state: int = 0,
    target: str = "diffusion",
    confidence_level: float = 0.95,
    record_ids: Sequence[Any] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    reference_model: DiffusionModel | None = None,
    shadow: ShadowLosses | None = None,
) -> dict[str, MembershipResult]:
    """The named attacks, each with the reference baseline beside it when reference images exist.

    ``loss_calibrated`` needs ``reference_model``; ``shadow`` the shadow models' losses on
    ``members`` then ``nonmembers`` (:func:`synth_audit.diffusion.shadow.shadow_losses`)."""
    unknown = sorted(set(attacks) - set(KNOWN_ATTACKS))
    if unknown:
        raise ConfigError(
            f"Unknown diffusion attack(s) {unknown}. Known: {', '.join(KNOWN_ATTACKS)}."
        )
    funcs: dict[str, Any] = {"loss": loss_attack, "pia": pia_attack, "secmi": secmi_attack}
    options = {k: dict(v) for k, v in (options or {}).items()}
    if "loss_calibrated" in attacks:
        if reference_model is None:
            raise ConfigError(
                "The attack 'loss_calibrated' needs a reference model trained on the attacker's "
                "reference images; give reference_model, or drop the attack."
            )
        funcs["loss_calibrated"] = calibrated_loss_attack
        options.setdefault("loss_calibrated", {})["reference_model"] = reference_model
    if "shadow" in attacks:
        if shadow is None:
            raise ConfigError(
                "The attack 'shadow' needs the shadow models' losses on the challenge images "
                "(synth_audit.diffusion.shadow.plan_shadow and shadow_losses); give shadow, or "
                "drop the attack."
            )
        from synth_audit.diffusion.shadow import shadow_attack

        funcs["shadow"] = shadow_attack
        options.setdefault("shadow", {})["shadow"] = shadow
    base = None
    if reference is not None and len(reference):
        base = reference_baseline(
            members,
            nonmembers,
            reference,
            confidence_level=confidence_level,
            record_ids=record_ids,
        )
    out: dict[str, MembershipResult] = {}
    for name in attacks:
        res = funcs[name](
            model,
            members,
            nonmembers,
            target=target,
            confidence_level=confidence_level,
            random_state=random_state,
            record_ids=record_ids,
            **options.get(name, {}),
        )
        out[name] = res if base is None else res.with_baseline(base)
    return out
