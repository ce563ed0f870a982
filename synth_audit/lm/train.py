"""Tiny causal language models made here: a BPE tokenizer trained with ``tokenizers``, a GPT-2
built from :class:`transformers.GPT2Config`, and fine-tuning (optionally differentially private
with Opacus DP-SGD).

Nothing is downloaded: the tokenizer is trained on the given texts and the model's weights are
initialised from a seed. Digits are split one per token so that a canary's secret is a fixed
number of tokens whatever its value (needed for exact exposure).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from synth_audit.errors import ConfigError
from synth_audit.seeding import named_seeds

__all__ = ["Recipe", "build_model", "fine_tune", "train_tokenizer"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipe:
    """How a tiny causal LM is made and fine-tuned (every field is a plain value, stored in runs).

    ``noise_multiplier > 0`` trains with DP-SGD (Opacus): per-example gradients clipped to
    ``max_grad_norm``, Poisson sampling with rate ``batch_size / n``; the ε spent at ``delta`` is
    recorded. ``noise_multiplier = 0`` is ordinary AdamW training.
    """

    vocab_size: int = 1024
    n_layer: int = 2
    n_embd: int = 64
    n_head: int = 2
    context: int = 64
    epochs: int = 10
    learning_rate: float = 3e-3
    batch_size: int = 16
    noise_multiplier: float = 0.0
    max_grad_norm: float = 1.0
    delta: float = 1e-5

    def __post_init__(self) -> None:
        ints = ("vocab_size", "n_layer", "n_embd", "n_head", "context", "epochs", "batch_size")
        for name in ints:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(
                    f"The causal LM recipe's {name!r} must be an int >= 1. Got {v!r}."
                )
        for name in ("learning_rate", "max_grad_norm", "delta"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
                raise ConfigError(
                    f"The causal LM recipe's {name!r} must be a number > 0. Got {v!r}."
                )
        nm = self.noise_multiplier
        if isinstance(nm, bool) or not isinstance(nm, int | float) or nm < 0:
            raise ConfigError(
                f"The causal LM recipe's 'noise_multiplier' must be a number >= 0 (0: no DP). "
                f"Got {nm!r}."
            )
        if self.n_embd % self.n_head:
            raise ConfigError(
                f"The causal LM recipe's 'n_embd' ({self.n_embd}) must be a multiple of 'n_head' "
                f"({self.n_head})."
            )
        if self.vocab_size < 300:
            raise ConfigError(
                f"The causal LM recipe's 'vocab_size' must be >= 300 (256 bytes plus merges). "
                f"Got {self.vocab_size}."
            )

    @classmethod
    def from_params(cls, params: dict[str, Any], where: str = "the causal LM recipe") -> Recipe:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ConfigError(
                f"Unknown key(s) {', '.join(map(repr, unknown))} in {where}. Known keys: "
                f"{', '.join(sorted(known))}."
            )
        return cls(**params)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _torch() -> Any:
    import torch

    return torch


def train_tokenizer(texts: Sequence[str], vocab_size: int = 1024) -> Any:
    """A byte-level BPE tokenizer trained on ``texts`` (deterministic), as a
    :class:`transformers.PreTrainedTokenizerFast` with ``<|endoftext|>`` as BOS/EOS/pad."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=int(vocab_size),
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )


def build_model(tokenizer: Any, recipe: Recipe, random_state: int) -> Any:
    """A GPT-2 of the recipe's size with weights initialised from ``random_state``."""
    torch = _torch()
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=recipe.context,
        n_embd=recipe.n_embd,
        n_layer=recipe.n_layer,
        n_head=recipe.n_head,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    torch.manual_seed(int(random_state))
    model = GPT2LMHeadModel(config)
    model.eval()
    return model


def encode_texts(tokenizer: Any, texts: Sequence[str], context: int) -> list[list[int]]:
    """Token ids per text: ``<|endoftext|>`` then the text, cut to ``context`` tokens."""
    bos = tokenizer.bos_token_id
    enc = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    return [([bos, *list(ids)])[:context] for ids in enc]


def _batches(
    ids: list[list[int]], order: np.ndarray, batch_size: int, pad: int
) -> list[tuple[Any, Any, Any]]:
    torch = _torch()
    out = []
    for start in range(0, len(order), batch_size):
        chunk = [ids[i] for i in order[start : start + batch_size]]
        width = max(len(c) for c in chunk)
        x = torch.full((len(chunk), width), pad, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for r, c in enumerate(chunk):
            x[r, : len(c)] = torch.tensor(c, dtype=torch.long)
            mask[r, : len(c)] = 1
        labels = x.masked_fill(mask == 0, -100)
        out.append((x, mask, labels))
    return out


def fine_tune(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    recipe: Recipe,
    random_state: int,
    device: str | None = None,
) -> dict[str, Any]:
    """Train ``model`` in place on ``texts``; returns a summary (losses, seconds, ε when DP)."""
    torch = _torch()
    if not texts:
        raise ConfigError("Fine-tuning needs at least one text; the training set is empty.")
    seeds = named_seeds(int(random_state), ["order", "torch", "dp"])
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model.to(dev)
    ids = encode_texts(tokenizer, texts, recipe.context)
    pad = int(tokenizer.pad_token_id)
    torch.manual_seed(seeds["torch"])
    t0 = time.perf_counter()
    summary: dict[str, Any] = {"n_texts": len(texts), "epochs": recipe.epochs}
    if recipe.noise_multiplier > 0:
        import warnings

        with warnings.catch_warnings():
            # Opacus/torch notes about hooks and CPU autocast: the library stays silent
            warnings.simplefilter("ignore", UserWarning)
            summary.update(_fine_tune_dp(model, ids, recipe, seeds, pad, dev))
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate, weight_decay=0.0)
        rng = np.random.default_rng(seeds["order"])
        model.train()
        losses = []
        for _ in range(recipe.epochs):
            tot, n = 0.0, 0
            for x, mask, labels in _batches(ids, rng.permutation(len(ids)), recipe.batch_size, pad):
                # the token cross-entropy computed here (mean over real tokens), not by passing
                # labels to the model, whose loss lookup logs a notice on every new config
                logits = model(input_ids=x.to(dev), attention_mask=mask.to(dev)).logits
                loss = torch.nn.functional.cross_entropy(
                    logits[:, :-1].reshape(-1, logits.shape[-1]).float(),
                    labels[:, 1:].reshape(-1).to(dev),
                    ignore_index=-100,
                )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                tot += float(loss.detach()) * len(x)
                n += len(x)
            losses.append(tot / max(n, 1))
        summary["train_loss"] = losses
    model.eval()
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    log.info("fine-tuned a causal LM on %d texts in %.1f s", len(texts), summary["seconds"])
    return summary


def _fine_tune_dp(
    model: Any, ids: list[list[int]], recipe: Recipe, seeds: dict[str, int], pad: int, dev: Any
) -> dict[str, Any]:
    """DP-SGD with Opacus (per-example clipping, Gaussian noise, Poisson sampling, RDP account).

    Sequences are padded to ``context`` so that Opacus sees one tensor shape; the loss is summed
    over each sequence's tokens and averaged over the batch (per-example gradients of the
    per-sequence mean loss).
    """
    torch = _torch()
    from opacus import PrivacyEngine
    from torch.utils.data import DataLoader, TensorDataset

    width = recipe.context
    x = torch.full((len(ids), width), pad, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for r, c in enumerate(ids):
        x[r, : len(c)] = torch.tensor(c, dtype=torch.long)
        mask[r, : len(c)] = 1
    gen = torch.Generator().manual_seed(seeds["order"])
    loader = DataLoader(
        TensorDataset(x, mask),
        batch_size=min(recipe.batch_size, len(ids)),
        shuffle=True,
        generator=gen,
    )
    # GPT-2 ties the LM head to the token embedding; Opacus needs each parameter in one module.
    model.config.tie_word_embeddings = False
    head = model.lm_head
    head.weight = torch.nn.Parameter(model.transformer.wte.weight.detach().clone())
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=recipe.learning_rate * 10)
    engine = PrivacyEngine(accountant="rdp", secure_mode=False)
    private, opt, loader = engine.make_private(
        module=model,
        optimizer=opt,
        data_loader=loader,
        noise_multiplier=float(recipe.noise_multiplier),
        max_grad_norm=float(recipe.max_grad_norm),
        poisson_sampling=True,
        noise_generator=torch.Generator(device=dev).manual_seed(seeds["dp"]),
        grad_sample_mode="functorch",
    )
    losses = []
    for _ in range(recipe.epochs):
        tot, n = 0.0, 0
        for xb, mb in loader:
            if len(xb) == 0:
                continue
            xb, mb = xb.to(dev), mb.to(dev)
            # explicit per-example positions: Opacus needs a batch dimension on every input
            pos = torch.arange(xb.shape[1], device=dev).unsqueeze(0).expand(xb.shape[0], -1)
            logits = private(input_ids=xb, attention_mask=mb, position_ids=pos).logits[:, :-1]
            tgt = xb[:, 1:]
            m = mb[:, 1:].float()
            lp = torch.log_softmax(logits.float(), dim=-1).gather(-1, tgt.unsqueeze(-1)).squeeze(-1)
            per_seq = -(lp * m).sum(1) / m.sum(1).clamp(min=1.0)
            loss = per_seq.mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * len(xb)
            n += len(xb)
        losses.append(tot / max(n, 1))
    eps = float(engine.get_epsilon(float(recipe.delta)))
    private.remove_hooks() if hasattr(private, "remove_hooks") else None
    return {
        "train_loss": losses,
        "dp": True,
        "epsilon": eps if math.isfinite(eps) else None,
        "delta": float(recipe.delta),
    }
