"""Canary exposure and extraction (Carlini et al. 2019, "The Secret Sharer").

A canary is a sentence ``"the secret code of <name> is <d1..dD>"`` with a random name and a random
D-digit secret, inserted 0, 1, 4 or 16 times into the fine-tuning text. Its **exposure** is
``log2 |R| - log2 rank``, where R is every D-digit secret (``|R| = 10**D``) and ``rank`` the
secret's place (1 = most likely) when the model ranks all candidates by ``log p(secret | prefix)``.

* exact: every candidate is scored (``10**(D-1)`` sequences, the last digit read from the final
  position's distribution), used while ``10**D <= exact_limit``;
* skew-normal (Carlini et al., section 4.3): the log-perplexities of ``n_samples`` random
  candidates are fitted with a skew-normal distribution and the exposure is
  ``-log2 F(log-perplexity of the secret)``.

**Extraction**: greedy decoding of D tokens from the prefix; extracted when it returns the secret.
Digits are single tokens (:func:`synth_audit.lm.train.train_tokenizer`), so every candidate is D
tokens after the same prefix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from synth_audit.errors import ConfigError

__all__ = [
    "Canary",
    "canary_exposures",
    "exposure_exact",
    "exposure_skew_normal",
    "greedy_extract",
    "insert_canaries",
    "make_canaries",
]

_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))


@dataclass(frozen=True)
class Canary:
    canary_id: str
    prefix: str
    secret: str
    inserted: int

    @property
    def text(self) -> str:
        return self.prefix + self.secret

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_canaries(
    counts: Sequence[int] = (0, 1, 4, 16),
    per_count: int = 4,
    digits: int = 4,
    random_state: int = 0,
) -> list[Canary]:
    """``per_count`` canaries for each insertion count, with random names and secrets."""
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 12:
        raise ConfigError(f"[canaries] digits must be an int in 1..12. Got {digits!r}.")
    if isinstance(per_count, bool) or not isinstance(per_count, int) or per_count < 1:
        raise ConfigError(f"[canaries] per_count must be an int >= 1. Got {per_count!r}.")
    bad = [c for c in counts if isinstance(c, bool) or not isinstance(c, int) or c < 0]
    if bad or not counts:
        raise ConfigError(
            f"[canaries] counts must be a non-empty list of ints >= 0 (times each canary is "
            f"inserted). Got {list(counts)!r}."
        )
    rng = np.random.default_rng(int(random_state))
    out: list[Canary] = []
    for count in counts:
        for _ in range(per_count):
            name = "".join(rng.choice(_LETTERS, size=6))
            secret = "".join(str(d) for d in rng.integers(0, 10, size=digits))
            out.append(
                Canary(f"c{len(out):03d}", f"the secret code of {name} is ", secret, int(count))
            )
    return out


def insert_canaries(
    texts: Sequence[str], canaries: Sequence[Canary], random_state: int
) -> list[str]:
    """``texts`` with each canary's text added ``inserted`` times, in a seeded random order."""
    extra = [c.text for c in canaries for _ in range(c.inserted)]
    allt = [*texts, *extra]
    order = np.random.default_rng(int(random_state)).permutation(len(allt))
    return [allt[i] for i in order]


def _prefix_ids(tokenizer: Any, canary: Canary) -> tuple[list[int], list[int]]:
    """Token ids of ``<bos> + prefix`` and of the ten digits; checks that the secret's tokens are
    its digits after the prefix's tokens."""
    bos = tokenizer.bos_token_id
    pre = [bos, *tokenizer(canary.prefix, add_special_tokens=False)["input_ids"]]
    digit_ids = [tokenizer.convert_tokens_to_ids(str(d)) for d in range(10)]
    full = [bos, *tokenizer(canary.text, add_special_tokens=False)["input_ids"]]
    expect = pre + [digit_ids[int(c)] for c in canary.secret]
    if full != expect or len(set(digit_ids)) != 10:
        raise ConfigError(
            f"Canary {canary.canary_id}: the tokenizer does not split the secret into one token "
            "per digit after the prefix, so exposure cannot be computed. Use a tokenizer with "
            "individual digits (synth_audit.lm.train.train_tokenizer does this)."
        )
    return pre, digit_ids


def _candidate_logprobs(
    model: Any, prefix: list[int], digit_ids: list[int], cands: NDArray[np.int64], batch_size: int
) -> NDArray[np.float64]:
    """``log p(candidate | prefix)`` for rows of digit values ``cands`` (m, D)."""
    import torch

    dev = next(model.parameters()).device
    digit_t = torch.tensor(digit_ids, device=dev)
    out = np.empty(len(cands))
    p = len(prefix)
    with torch.inference_mode():
        for s in range(0, len(cands), batch_size):
            c = torch.as_tensor(cands[s : s + batch_size], device=dev)
            toks = digit_t[c]
            x = torch.cat([torch.tensor(prefix, device=dev).expand(len(c), -1), toks], dim=1)
            xi = x[:, :-1]
            logits = model(input_ids=xi, attention_mask=torch.ones_like(xi)).logits
            logp = torch.log_softmax(logits[:, p - 1 :].float(), -1)
            lp = logp.gather(-1, toks.unsqueeze(-1)).squeeze(-1).sum(1)
            out[s : s + len(c)] = lp.double().cpu().numpy()
    return out


def _all_logprobs(
    model: Any, prefix: list[int], digit_ids: list[int], digits: int, batch_size: int
) -> NDArray[np.float64]:
    """``log p`` of every D-digit secret, indexed by its integer value (10**D values)."""
    import torch

    dev = next(model.parameters()).device
    digit_t = torch.tensor(digit_ids, device=dev)
    p = len(prefix)
    n_heads = 10 ** (digits - 1)
    out = np.empty((n_heads, 10))
    with torch.inference_mode():
        for s in range(0, n_heads, batch_size):
            vals = np.arange(s, min(s + batch_size, n_heads))
            heads = np.stack([(vals // 10**i) % 10 for i in range(digits - 2, -1, -1)], 1)
            hx = digit_t[torch.as_tensor(heads.reshape(len(vals), digits - 1), device=dev)]
            x = torch.cat([torch.tensor(prefix, device=dev).expand(len(vals), -1), hx], dim=1)
            logits = model(input_ids=x, attention_mask=torch.ones_like(x)).logits
            logp = torch.log_softmax(logits[:, p - 1 :].float(), -1)
            head_lp = (
                logp[:, :-1].gather(-1, hx.unsqueeze(-1)).squeeze(-1).sum(1)
                if digits > 1
                else torch.zeros(len(vals), device=dev)
            )
            last = logp[:, -1][:, digit_t]
            out[vals] = (head_lp.unsqueeze(1) + last).double().cpu().numpy()
    return out.reshape(-1)


def exposure_exact(
    model: Any, tokenizer: Any, canary: Canary, batch_size: int = 1000
) -> dict[str, float]:
    """Exact exposure: ``log2 10**D - log2 rank`` (rank = 1 + candidates strictly more likely)."""
    prefix, digit_ids = _prefix_ids(tokenizer, canary)
    d = len(canary.secret)
    lp = _all_logprobs(model, prefix, digit_ids, d, batch_size)
    mine = lp[int(canary.secret)]
    rank = 1 + int(np.sum(lp > mine + 1e-9))
    space = d * math.log2(10)
    return {"exposure": space - math.log2(rank), "rank": rank, "log2_space": space, "method": 0.0}


def exposure_skew_normal(
    model: Any,
    tokenizer: Any,
    canary: Canary,
    *,
    n_samples: int = 2000,
    random_state: int = 0,
    batch_size: int = 1000,
) -> dict[str, float]:
    """Exposure estimated from a skew-normal fit to random candidates' log-perplexities."""
    from scipy import stats as sps

    prefix, digit_ids = _prefix_ids(tokenizer, canary)
    d = len(canary.secret)
    rng = np.random.default_rng(int(random_state))
    cands = rng.integers(0, 10, size=(int(n_samples), d))
    nll = -_candidate_logprobs(model, prefix, digit_ids, cands, batch_size)
    mine = -_candidate_logprobs(
        model, prefix, digit_ids, np.array([[int(c) for c in canary.secret]]), 1
    )[0]
    a, loc, scale = sps.skewnorm.fit(nll)
    space = d * math.log2(10)
    log_cdf = float(sps.skewnorm.logcdf(mine, a, loc, scale))
    exposure = min(space, max(0.0, -log_cdf / math.log(2)))
    return {"exposure": exposure, "rank": float("nan"), "log2_space": space, "method": 1.0}


def greedy_extract(model: Any, tokenizer: Any, canary: Canary) -> str:
    """The D digits greedy decoding writes after the prefix (any token; non-digits shown as '?')."""
    import torch

    prefix, digit_ids = _prefix_ids(tokenizer, canary)
    dev = next(model.parameters()).device
    x = torch.tensor([prefix], device=dev)
    back = {t: str(i) for i, t in enumerate(digit_ids)}
    got = []
    with torch.inference_mode():
        for _ in range(len(canary.secret)):
            nxt = int(model(input_ids=x, attention_mask=torch.ones_like(x)).logits[0, -1].argmax())
            got.append(back.get(nxt, "?"))
            x = torch.cat([x, torch.tensor([[nxt]], device=dev)], dim=1)
    return "".join(got)


def canary_exposures(
    model: Any,
    tokenizer: Any,
    canaries: Sequence[Canary],
    *,
    exact_limit: int = 100_000,
    n_samples: int = 2000,
    random_state: int = 0,
) -> list[dict[str, Any]]:
    """One row per canary: id, inserted, exposure, rank, method, extracted, greedy output."""
    model.eval()
    rows = []
    for i, c in enumerate(canaries):
        if 10 ** len(c.secret) <= exact_limit:
            e = exposure_exact(model, tokenizer, c)
            method = "exact"
        else:
            e = exposure_skew_normal(
                model, tokenizer, c, n_samples=n_samples, random_state=int(random_state) + i
            )
            method = "skew_normal"
        greedy = greedy_extract(model, tokenizer, c)
        rows.append(
            {
                "canary_id": c.canary_id,
                "inserted": c.inserted,
                "exposure": float(e["exposure"]),
                "log2_space": float(e["log2_space"]),
                "rank": None if math.isnan(e["rank"]) else int(e["rank"]),
                "method": method,
                "greedy": greedy,
                "extracted": greedy == c.secret,
            }
        )
    return rows
