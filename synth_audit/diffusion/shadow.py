"""Shadow modelling against a diffusion model: LiRA on the denoising loss, through the fit cache.

The attack ``shadow`` (capability ``refit``: the attacker can train the target's recipe) is the
likelihood-ratio attack of Carlini et al. 2022 ("Membership Inference Attacks From First
Principles", LiRA) on the per-image denoising loss, as carried over to diffusion models by
Matsumoto et al. 2023 ("Membership Inference Attacks against Diffusion Models", shadow models on
the loss) and Carlini et al. 2023 ("Extracting Training Data from Diffusion Models", §5: LiRA with
shadow diffusion models on the loss at fixed timesteps):

1. **Plan** (:func:`plan_shadow`, deterministic from its seeds). ``n_shadow`` (even) shadow DDPMs
   of the target's recipe (:class:`~synth_audit.diffusion.model.DiffusionConfig`, with the
   target's number of classes) are trained in pairs on complementary random halves of the
   challenge images (members and non-members together, the attacker does not know which is
   which), so each challenge image is IN exactly half of the models; each side is filled up with
   the attacker's reference images to the target's training-set size (LiRA's shadow models match
   the target's training size; a side is never cut below half the challenge images, so when the
   challenge set is more than twice the target's training set the shadows train on more images:
   ``shadow_train_size`` in the result's params says how many).
2. **Fit** (:class:`ShadowFitTask`, one per shadow model: a picklable fit task with ``key()`` and
   ``run(store)`` for the study executor, see :func:`synth_audit.study.fits.run_fit_task`). It
   trains the shadow model and computes its per-image denoising loss on the challenge images at
   the loss attack's timesteps (10 %, 20 %, 30 % of the schedule) and noise seed. What is cached is
   that table (one row per challenge image, column ``loss``), not the weights. Its key is the
   SHA-256 of the recipe (model config, library versions, timesteps, number of noise draws, the
   challenge images' content hash), the training subset's content hash (in fit order) and the
   seeds (training, loss noise).
3. **Attack** (:func:`shadow_attack`). With φ = −log(loss) per image (log scale: a loss is
   positive and its spread multiplicative), the IN and OUT values of each image give Gaussians
   (per-image means; with fewer than 64 shadow models one pooled variance per side, as the LiRA
   paper recommends for few models) and the target's φ on the same noised inputs is scored
   **online**: log N(φ; μ_in, σ_in) − log N(φ; μ_out, σ_out), or **offline**: log Φ((φ − μ_out) /
   σ_out), the one-sided test against the OUT models only (:func:`synth_audit.models.lira.lira_scores`).
   ``shadow_mode = "auto"`` is online from 4 shadow models on, offline with 2.

Outside studies :func:`shadow_losses` fits the missing shadow models inline or on an executor (and
caches them when given a store); in a study the runner fits them first as fit tasks
(:meth:`~synth_audit.diffusion.target.DiffusionTarget.plan_fits`) and the run reads them from the
cache, fitting only what is missing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synth_audit._logging import get_logger
from synth_audit.diffusion.model import DiffusionConfig, DiffusionModel, ImageData, image_data
from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.membership import MembershipResult

__all__ = [
    "FIT_KIND",
    "LOSS_FRACTIONS",
    "SHADOW_MODES",
    "ShadowFitTask",
    "ShadowLosses",
    "ShadowPlan",
    "check_shadow_settings",
    "plan_shadow",
    "shadow_attack",
    "shadow_losses",
]

_log = get_logger(__name__)

#: The ``kind`` in a shadow fit's recipe (the fit cache holds fits of every kind).
FIT_KIND = "diffusion_shadow"
#: Where the losses are taken: the loss attack's timesteps (fractions of the schedule).
LOSS_FRACTIONS = (0.1, 0.2, 0.3)
#: Noise draws per timestep (the loss attack's default).
LOSS_NOISE = 4
SHADOW_MODES = ("auto", "online", "offline")
#: From this many shadow models on, each image's IN/OUT Gaussians get their own variance.
PER_IMAGE_VARIANCE_FROM = 64


def _json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def loss_timesteps(config: DiffusionConfig) -> list[int]:
    """The loss attack's timesteps for ``config``'s schedule (:data:`LOSS_FRACTIONS`)."""
    T = config.num_train_timesteps
    return sorted({min(T - 1, max(0, round(f * T))) for f in LOSS_FRACTIONS})


def check_shadow_settings(n_shadow: Any, mode: Any, *, who: str = "the shadow attack") -> None:
    """``n_shadow`` an even int >= 2, ``mode`` one of :data:`SHADOW_MODES` (ConfigError)."""
    if isinstance(n_shadow, bool) or not isinstance(n_shadow, int) or n_shadow < 2 or n_shadow % 2:
        raise ConfigError(
            f"The 'n_shadow' parameter of {who} must be an even int >= 2 (shadow models are "
            f"trained in pairs on complementary halves, so each image is IN half of them). Got "
            f"{n_shadow!r}."
        )
    if mode not in SHADOW_MODES:
        raise ConfigError(
            f"The 'shadow_mode' parameter of {who} must be one of "
            f"{', '.join(map(repr, SHADOW_MODES))}. Got {mode!r}."
        )


def _online(n_shadow: int, mode: str) -> bool:
    return mode == "online" or (mode == "auto" and n_shadow >= 4)


# --------------------------------------------------------------------------------------------------
# Fit tasks
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShadowFitTask:
    """One shadow model: train ``config`` on ``train`` (seed ``seed``), then its per-image loss on
    ``challenge`` (noise seed ``loss_seed``). A fit task for the study executor: :meth:`key`,
    :meth:`run` (fit and cache), :attr:`resources`. ``train`` and ``challenge`` travel with the
    task; its identity is :meth:`key`."""

    config_json: str
    columns: tuple[str, ...]
    subset: str
    challenge_hash: str
    n_challenge: int
    seed: int
    loss_seed: int
    timesteps: tuple[int, ...]
    n_noise: int
    versions_json: str
    train: pd.DataFrame = field(compare=False, repr=False)
    challenge: pd.DataFrame = field(compare=False, repr=False)

    @property
    def config(self) -> DiffusionConfig:
        return DiffusionConfig.from_params(json.loads(self.config_json), who="A shadow fit")

    @property
    def resources(self) -> dict[str, int]:
        """One thread; a GPU only when the recipe asks for one (``device = "cuda"``)."""
        return {"threads": 1, "gpus": 1 if self.config.device == "cuda" else 0}

    def recipe(self) -> dict[str, Any]:
        """What is fitted and measured, apart from the training subset and the seeds."""
        return {
            "kind": FIT_KIND,
            "config": json.loads(self.config_json),
            "columns": list(self.columns),
            "versions": json.loads(self.versions_json),
            "evaluate": {
                "challenge": self.challenge_hash,
                "n_challenge": self.n_challenge,
                "timesteps": list(self.timesteps),
                "n_noise": self.n_noise,
            },
        }

    def key(self) -> str:
        """SHA-256 of the recipe's hash, the subset hash and the two seeds (64 hex digits)."""
        return _sha(
            _json(
                {
                    "recipe": _sha(_json(self.recipe())),
                    "subset": self.subset,
                    "seed": self.seed,
                    "sample_seed": self.loss_seed,
                }
            )
        )

    def _images(self, frame: pd.DataFrame, what: str) -> ImageData:
        cfg = self.config
        return image_data(
            frame,
            label_column=cfg.label_column,
            pixel_columns=self.columns,
            pixel_range=cfg.pixel_range,
            what=what,
        )

    def fit(self) -> tuple[pd.DataFrame, float]:
        """Train the shadow model; its losses on the challenge images (one row each) and the
        seconds it took."""
        t0 = time.perf_counter()
        model = DiffusionModel.train(
            self._images(self.train, "a shadow model's training images"),
            self.config,
            random_state=self.seed,
        )
        losses = model.loss(
            self._images(self.challenge, "the challenge images"),
            timesteps=list(self.timesteps),
            n_noise=self.n_noise,
            random_state=self.loss_seed,
        )
        return pd.DataFrame({"loss": losses}), time.perf_counter() - t0

    def put(self, store: Any, sample: pd.DataFrame, seconds: float | None = None) -> None:
        """Cache ``sample`` (the losses) under :meth:`key`."""
        from synth_audit.study.provenance import worker_id

        store.put_fit(
            self.key(),
            recipe=self.recipe(),
            subset_hash=self.subset,
            seed=self.seed,
            sample_seed=self.loss_seed,
            sample=sample,
            worker_id=worker_id(),
            fit_seconds=seconds,
        )

    def run(self, store: Any) -> None:
        """Fit and cache (what :func:`synth_audit.study.fits.run_fit_task` calls)."""
        sample, seconds = self.fit()
        self.put(store, sample, seconds)


def _fit_task(task: ShadowFitTask) -> tuple[pd.DataFrame, float]:
    """Top-level (picklable) job for an executor (whose workers set their own thread limits)."""
    return task.fit()


# --------------------------------------------------------------------------------------------------
# Plan
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShadowPlan:
    """The shadow fits and, per shadow model, which challenge images it trained on."""

    tasks: tuple[ShadowFitTask, ...]
    in_mask: np.ndarray  # (n_shadow, n_challenge)
    online: bool
    mode: str
    timesteps: tuple[int, ...]
    n_noise: int
    loss_seed: int
    train_size: int

    def keys(self) -> list[str]:
        return [t.key() for t in self.tasks]


def plan_shadow(
    config: DiffusionConfig,
    challenge: pd.DataFrame,
    reference: pd.DataFrame | None,
    *,
    train_size: int,
    columns: Sequence[str],
    n_shadow: int = 4,
    mode: str = "auto",
    seed: int,
    loss_seed: int,
    n_noise: int = LOSS_NOISE,
) -> ShadowPlan:
    """The shadow fits of the attack (module docstring, step 1); the same inputs and seeds give
    the same tasks and keys.

    ``config``: the target's recipe (with its ``num_classes``). ``challenge``: the images to
    score, members and non-members in the order the attack scores them. ``reference``: the
    attacker's own images (fill; may be None). ``train_size``: the target's number of training
    images. ``columns``: the pixel columns. ``seed`` draws the subsets and the shadow models'
    training seeds; ``loss_seed`` is the loss attack's noise seed.
    """
    from synth_audit.seeding import spawn_seeds
    from synth_audit.study.fits import library_versions, subset_hash

    check_shadow_settings(n_shadow, mode)
    n_c = len(challenge)
    if n_c < 2:
        raise DataValidationError(
            f"The shadow attack needs at least 2 challenge images; got {n_c}."
        )
    label = config.label_column
    keep = list(columns) + ([label] if label is not None and label in challenge.columns else [])
    chal = challenge[keep].reset_index(drop=True)
    ref = (
        chal.iloc[:0]
        if reference is None or not len(reference)
        else reference[keep].reset_index(drop=True)
    )
    pool = pd.concat([chal, ref], ignore_index=True)
    rng = np.random.default_rng(int(seed))
    fit_seeds = spawn_seeds(int(seed), n_shadow)
    timesteps = tuple(loss_timesteps(config))
    config_json = _json(config.to_dict())
    versions_json = _json(library_versions("diffusers"))
    chal_hash = subset_hash(chal)
    in_mask = np.zeros((n_shadow, n_c), dtype=bool)
    tasks: list[ShadowFitTask] = []
    sizes: list[int] = []
    for pair in range(n_shadow // 2):
        perm = rng.permutation(n_c)
        for j, side in enumerate((perm[: n_c // 2], perm[n_c // 2 :])):
            r = 2 * pair + j
            fill = min(max(0, int(train_size) - len(side)), len(ref))
            extra = np.zeros(0, dtype=np.int64)
            if fill:
                extra = n_c + rng.choice(len(ref), size=fill, replace=False)
            idx = rng.permutation(np.r_[side, extra])
            in_mask[r, side] = True
            train = pool.iloc[idx].reset_index(drop=True)
            sizes.append(len(train))
            tasks.append(
                ShadowFitTask(
                    config_json=config_json,
                    columns=tuple(columns),
                    subset=subset_hash(train),
                    challenge_hash=chal_hash,
                    n_challenge=n_c,
                    seed=int(fit_seeds[r]),
                    loss_seed=int(loss_seed),
                    timesteps=timesteps,
                    n_noise=int(n_noise),
                    versions_json=versions_json,
                    train=train,
                    challenge=chal,
                )
            )
    return ShadowPlan(
        tasks=tuple(tasks),
        in_mask=in_mask,
        online=_online(n_shadow, mode),
        mode=mode,
        timesteps=timesteps,
        n_noise=int(n_noise),
        loss_seed=int(loss_seed),
        train_size=max(sizes),
    )


# --------------------------------------------------------------------------------------------------
# Fit (or read) the shadow models' losses
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShadowLosses:
    """Every shadow model's loss on every challenge image, with the plan it came from."""

    plan: ShadowPlan
    losses: np.ndarray  # (n_shadow, n_challenge)
    hits: int = 0  # read from the fit cache
    fitted: int = 0  # fitted by this call
    fit_seconds: float = 0.0


def shadow_losses(
    plan: ShadowPlan,
    *,
    store: Any = None,
    executor: Executor | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> ShadowLosses:
    """The losses of ``plan``'s shadow models: read from ``store``'s fit cache when there, the
    others fitted here (inline, or on ``executor``) and cached in ``store`` (a Store or its URL)
    when given."""
    if store is not None:
        from synth_audit.store import shared_store

        store = shared_store(store)
    n = len(plan.tasks)
    rows: list[np.ndarray | None] = [None] * n
    hits = 0
    if store is not None:
        from synth_audit.study.fits import cached

        for i, task in enumerate(plan.tasks):
            got = cached(store, task.key())
            if got is not None and "loss" in got.columns and len(got) == task.n_challenge:
                rows[i] = got["loss"].to_numpy(dtype=np.float64)
                hits += 1
    missing = [i for i in range(n) if rows[i] is None]
    done = hits
    say = progress or (lambda step, d, t: None)
    say("shadow models", done, n)
    seconds = 0.0

    def record(i: int, sample: pd.DataFrame, secs: float) -> None:
        nonlocal done, seconds
        rows[i] = sample["loss"].to_numpy(dtype=np.float64)
        seconds += secs
        if store is not None:
            try:
                plan.tasks[i].put(store, sample, secs)
            except Exception as exc:  # a store that cannot take it: use it uncached
                _log.warning("shadow fit %s could not be cached (%s)", plan.tasks[i].key(), exc)
        done += 1
        say("shadow models", done, n)

    if executor is None:
        for i in missing:
            record(i, *plan.tasks[i].fit())
    else:
        futures = {i: executor.submit(_fit_task, plan.tasks[i]) for i in missing}
        for i, fut in futures.items():
            record(i, *fut.result())
    losses = np.vstack([r for r in rows if r is not None])
    return ShadowLosses(plan, losses, hits=hits, fitted=len(missing), fit_seconds=seconds)


# --------------------------------------------------------------------------------------------------
# The attack
# --------------------------------------------------------------------------------------------------


def _concat(a: ImageData, b: ImageData) -> ImageData:
    labels = None if a.labels is None or b.labels is None else np.concatenate([a.labels, b.labels])
    return ImageData(np.concatenate([a.pixels, b.pixels]), labels, a.columns)


def _phi(loss: np.ndarray) -> np.ndarray:
    return -np.log(np.maximum(np.asarray(loss, dtype=np.float64), 1e-12))


def shadow_attack(
    model: DiffusionModel,
    members: ImageData,
    nonmembers: ImageData,
    *,
    shadow: ShadowLosses,
    target: str = "diffusion",
    confidence_level: float = 0.95,
    random_state: int = 0,
    record_ids: Sequence[Any] | None = None,
) -> MembershipResult:
    """LiRA on the denoising loss with the shadow models of ``shadow`` (module docstring).

    The challenge images are ``members`` then ``nonmembers``, in the order ``shadow`` was
    planned on; the target's loss is taken at the plan's timesteps and noise seed."""
    from synth_audit.diffusion.attacks import _result
    from synth_audit.models.lira import lira_scores

    plan = shadow.plan
    n_m, n = len(members), len(members) + len(nonmembers)
    if shadow.losses.shape != (len(plan.tasks), n):
        raise DataValidationError(
            f"The shadow models' losses have shape {shadow.losses.shape}; the attack has "
            f"{len(plan.tasks)} shadow models and {n} challenge images. Plan the shadow fits on "
            "the same members and non-members."
        )
    if model.config.num_train_timesteps != plan.tasks[0].config.num_train_timesteps:
        raise ConfigError(
            "The shadow models must use the target's noise schedule (num_train_timesteps "
            f"{model.config.num_train_timesteps}); they have "
            f"{plan.tasks[0].config.num_train_timesteps}. Plan them with the target's recipe."
        )
    challenge = _concat(members, nonmembers)
    target_loss = model.loss(
        challenge,
        timesteps=list(plan.timesteps),
        n_noise=plan.n_noise,
        random_state=plan.loss_seed,
    )
    n_shadow = len(plan.tasks)
    global_variance = n_shadow < PER_IMAGE_VARIANCE_FROM
    scores = lira_scores(
        _phi(target_loss),
        _phi(shadow.losses),
        plan.in_mask,
        online=plan.online,
        global_variance=global_variance,
    )
    return _result(
        scores[:n_m],
        scores[n_m:],
        attack="shadow",
        target=target,
        seed=random_state,
        params={
            "n_shadow": n_shadow,
            "shadow_mode": plan.mode,
            "online": plan.online,
            "variance": "global" if global_variance else "per_image",
            "signal": "-log(denoising loss)",
            "timesteps": list(plan.timesteps),
            "n_noise": plan.n_noise,
            "queries_per_image": len(plan.timesteps) * plan.n_noise,
            "shadow_train_size": plan.train_size,
        },
        confidence_level=confidence_level,
        record_ids=record_ids,
    )
