"""Language-model audit throughput: tokens scored per second, and the time to score 2,000
documents with every attack (loss, zlib, lowercase, Min-K%, Min-K%++, reference model).

Trains a tiny GPT-2 (the sample's size: 2 layers, n_embd 64, vocab 1,024, context 64) for one
epoch on 200 documents of ``samples/lm/corpus.csv`` and a reference model on 200 others (training
is not what is timed: scoring does not depend on how well a model is trained), then times

* ``score``: :meth:`CausalLMTarget.token_stats` on ``--docs`` documents, cold cache
  (per-token log-probabilities plus the mean and sd of the model's distribution at each position);
* ``all attacks``: the same documents scored by the target, their lowercased copies by the target
  and the documents by the reference model, then the six attacks' scores and MembershipResults
  (half the documents labelled members), cold caches;
* ``cached``: the target's scores again (a cache hit per document).

Runs on the GPU when torch sees one (``--device cpu`` forces the CPU).

    python benchmarks/lm_audit.py [--docs 2000] [--threads 2] [--batch-size 32] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

CORPUS = Path(__file__).resolve().parents[1] / "samples" / "lm" / "corpus.csv"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--device", default=None)
    ap.add_argument("--n-embd", type=int, default=64)
    ap.add_argument("--n-layer", type=int, default=2)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from synth_audit.lm.attacks import ATTACKS, attack_scores
    from synth_audit.lm.target import CausalLMTarget
    from synth_audit.membership import MembershipResult

    df = pd.read_csv(CORPUS)
    texts = df.text.tolist()
    ops = df[df.source == "operation"].text.tolist()
    docs = (texts * (1 + args.docs // len(texts)))[: args.docs]
    recipe = {
        "epochs": 1,
        "n_embd": args.n_embd,
        "n_layer": args.n_layer,
        "n_head": 2,
        "context": 64,
        "vocab_size": 1024,
    }
    target = CausalLMTarget(
        name="bench", recipe=recipe, batch_size=args.batch_size, device=args.device
    )
    target.fit(ops[:200], random_state=0, tokenizer_texts=ops[200:400])
    ref = CausalLMTarget(name="ref", recipe=recipe, batch_size=args.batch_size, device=args.device)
    ref.fit(ops[200:400], random_state=1, tokenizer=target.tokenizer)
    device = str(next(target.model.parameters()).device)

    t = time.perf_counter()
    stats = target.token_stats(docs)
    score_s = time.perf_counter() - t
    n_tokens = sum(s.n_tokens + 1 for s in stats)

    target._cache = type(target._cache)()  # cold cache again for the full run
    t = time.perf_counter()
    stats = target.token_stats(docs)
    lower = target.token_stats([d.lower() for d in docs])
    ref_stats = ref.token_stats(docs)
    scores = attack_scores(
        docs, stats, attacks=ATTACKS, k=0.2, lower_stats=lower, reference_stats=ref_stats
    )
    labels = np.arange(len(docs)) % 2
    for name, s in scores.items():
        MembershipResult.from_scores(s, labels, attack=name, target="bench", unit="document")
    all_s = time.perf_counter() - t

    t = time.perf_counter()
    target.token_stats(docs)
    cached_s = time.perf_counter() - t

    print(
        json.dumps(
            {
                "device": device,
                "threads": args.threads,
                "docs": len(docs),
                "tokens": n_tokens,
                "model": {k: recipe[k] for k in ("n_layer", "n_embd", "context", "vocab_size")},
                "score_s": round(score_s, 3),
                "tokens_per_s": round(n_tokens / score_s),
                "all_attacks_s": round(all_s, 3),
                "cached_s": round(cached_s, 4),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
