"""Per-token log-probabilities of texts under a causal LM: computed once per model and text,
batched (texts sorted by length, padded on the right), cached, on the GPU when one is present.

For each text (``<|endoftext|>`` + its tokens, cut to the model's context) :class:`TokenStats`
holds, for every position t >= 1:

* ``logprobs[t-1] = log p(x_t | x_<t)``;
* ``mean[t-1] = E_{z ~ p(. | x_<t)} log p(z | x_<t)`` and ``std[t-1]``, the standard deviation of
  ``log p(z | x_<t)`` under the same distribution (what Min-K%++ normalises by).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["LogProbCache", "TokenStats", "default_device", "score_texts"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class TokenStats:
    """Per-token statistics of one text (see the module docstring)."""

    logprobs: FloatArray
    mean: FloatArray
    std: FloatArray

    @property
    def n_tokens(self) -> int:
        return int(self.logprobs.size)

    @property
    def nll(self) -> float:
        """Mean negative log-likelihood per token (nats); ``nan`` for a text of no token."""
        return float(-self.logprobs.mean()) if self.logprobs.size else float("nan")


class LogProbCache:
    """An in-memory LRU cache of :class:`TokenStats` keyed by (model fingerprint, text hash)."""

    def __init__(self, max_items: int = 200_000) -> None:
        self.max_items = int(max_items)
        self._items: OrderedDict[tuple[str, str], TokenStats] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def text_key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get(self, model_key: str, text: str) -> TokenStats | None:
        key = (model_key, self.text_key(text))
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return hit

    def put(self, model_key: str, text: str, stats: TokenStats) -> None:
        key = (model_key, self.text_key(text))
        with self._lock:
            self._items[key] = stats
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def default_device() -> str:
    """``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def score_texts(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    context: int,
    batch_size: int = 32,
    device: str | None = None,
    cache: LogProbCache | None = None,
    model_key: str | None = None,
) -> list[TokenStats]:
    """:class:`TokenStats` for each of ``texts`` (in order). Texts already in ``cache`` under
    ``model_key`` are not scored again."""
    import torch

    from synth_audit.lm.train import encode_texts

    out: list[TokenStats | None] = [None] * len(texts)
    todo: list[int] = []
    for i, t in enumerate(texts):
        hit = cache.get(model_key, t) if cache is not None and model_key is not None else None
        if hit is None:
            todo.append(i)
        else:
            out[i] = hit
    if todo:
        dev = torch.device(device or default_device())
        model.to(dev)
        model.eval()
        ids = encode_texts(tokenizer, [texts[i] for i in todo], int(context))
        order = sorted(range(len(todo)), key=lambda j: -len(ids[j]))
        pad = int(tokenizer.pad_token_id)
        with torch.inference_mode():
            for start in range(0, len(order), int(batch_size)):
                chunk = order[start : start + int(batch_size)]
                width = max(len(ids[j]) for j in chunk)
                x = torch.full((len(chunk), width), pad, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for r, j in enumerate(chunk):
                    x[r, : len(ids[j])] = torch.tensor(ids[j], dtype=torch.long)
                    mask[r, : len(ids[j])] = 1
                logits = model(input_ids=x.to(dev), attention_mask=mask.to(dev)).logits
                logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
                tgt = x[:, 1:].to(dev)
                lp = logp.gather(-1, tgt.unsqueeze(-1)).squeeze(-1)
                p = logp.exp()
                mu = (p * logp).sum(-1)
                var = (p * logp.square()).sum(-1) - mu.square()
                sd = var.clamp(min=0.0).sqrt()
                lp_np = lp.double().cpu().numpy()
                mu_np = mu.double().cpu().numpy()
                sd_np = sd.double().cpu().numpy()
                for r, j in enumerate(chunk):
                    n = len(ids[j]) - 1
                    stats = TokenStats(
                        logprobs=lp_np[r, :n].copy(),
                        mean=mu_np[r, :n].copy(),
                        std=sd_np[r, :n].copy(),
                    )
                    i = todo[j]
                    out[i] = stats
                    if cache is not None and model_key is not None:
                        cache.put(model_key, texts[i], stats)
    return [s for s in out if s is not None]
