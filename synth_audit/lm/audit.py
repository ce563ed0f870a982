"""Audit a causal language model: document membership attacks with a blind baseline, canary
exposure, extraction and held-out perplexity, as one :class:`~synth_audit.report.AuditReport`.

* :func:`audit_lm`: audit a :class:`~synth_audit.lm.target.CausalLMTarget` on given member and
  non-member texts (and canaries, a reference set, held-out text);
* :func:`audit_lm_from_toml`: the same from a TOML file (``synth-audit audit-model FILE`` with
  ``[target] kind = "causal_lm"``); see ``samples/lm/model_audit.toml`` for every key;
* :func:`execute_lm_run`: a study run of kind ``causal_lm``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import logging
import math
import threading
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.lm.attacks import ATTACKS, attack_scores, check_k
from synth_audit.lm.baseline import blind_baseline
from synth_audit.lm.canaries import Canary, canary_exposures, insert_canaries, make_canaries
from synth_audit.lm.target import CausalLMTarget, texts_of
from synth_audit.membership import MembershipResult
from synth_audit.report.model import AuditReport
from synth_audit.report.sections import finding, image, make_section, table
from synth_audit.results import AuditWarning
from synth_audit.seeding import check_seed, named_seeds

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LMReferenceFitTask",
    "audit_lm",
    "audit_lm_from_config",
    "audit_lm_from_toml",
    "execute_lm_run",
    "exposure_chart",
    "plan_lm_fits",
    "reference_fit_key",
    "reference_losses",
]

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

_ref_cache: dict[str, CausalLMTarget] = {}
_ref_lock = threading.Lock()


def _sha(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(hashlib.sha256(t.encode("utf-8")).digest())
    return h.hexdigest()


def reference_model(
    target: CausalLMTarget, texts: Sequence[str], random_state: int
) -> CausalLMTarget:
    """The target's recipe fine-tuned on ``texts`` with the target's tokenizer (a cached fit: the
    same recipe, tokenizer, texts and seed give the same model without training it again)."""
    assert target.recipe is not None
    key = _sha(
        [
            json.dumps(target.recipe.to_dict(), sort_keys=True),
            json.dumps(target.tokenizer.get_vocab(), sort_keys=True),
            _sha(texts),
            str(random_state),
        ]
    )
    with _ref_lock:
        hit = _ref_cache.get(key)
    if hit is not None:
        return hit
    ref = target.clone()
    ref.name = f"{target.name} (reference)"
    ref.fit(list(texts), random_state=random_state, tokenizer=target.tokenizer)
    with _ref_lock:
        if len(_ref_cache) > 4:
            _ref_cache.clear()
        _ref_cache[key] = ref
    return ref


#: the child seeds audit_lm draws from its random_state, in its order
_AUDIT_SEEDS = ("baseline", "reference", "canaries")


def _tokenizer_text(tokenizer: Any) -> str:
    """The tokenizer as text for a key: its full JSON (vocabulary, merges, normalisation) when it
    is a fast tokenizer, else its vocabulary."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        return str(backend.to_str())
    return json.dumps(tokenizer.get_vocab(), sort_keys=True)


def reference_fit_key(
    target: CausalLMTarget, reference_texts: Sequence[str], seed: int, texts: Sequence[str]
) -> str:
    """The fit-cache key of the reference model's per-text losses on ``texts``: SHA-256 of the
    recipe, the tokenizer, the reference texts, the seed, the scored texts and the versions of
    torch, transformers and tokenizers (64 hex digits)."""
    from synth_audit.store import canonical_json

    assert target.recipe is not None
    payload = {
        "kind": "causal_lm_reference",
        "recipe": target.recipe.to_dict(),
        "tokenizer": hashlib.sha256(_tokenizer_text(target.tokenizer).encode()).hexdigest(),
        "reference": _sha(list(reference_texts)),
        "seed": int(seed),
        "texts": _sha(list(texts)),
        "versions": _lm_versions(),
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def _lm_versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {}
    for name in ("torch", "transformers", "tokenizers"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _reference_losses(
    target: CausalLMTarget, reference_texts: Sequence[str], seed: int, texts: Sequence[str]
) -> tuple[pd.DataFrame, float]:
    """Fit the reference model (:func:`reference_model`) and score ``texts``: a frame with each
    text's mean negative log-likelihood per token (``nll``), and the seconds it took."""
    import pandas as pd

    t0 = time.perf_counter()
    ref = reference_model(target, list(reference_texts), seed)
    nll = np.array([s.nll for s in ref.token_stats(list(texts))], dtype=float)
    return pd.DataFrame({"nll": nll}), time.perf_counter() - t0


def reference_losses(
    target: CausalLMTarget,
    reference_texts: Sequence[str],
    seed: int,
    texts: Sequence[str],
    cache: Any = None,
) -> tuple[np.ndarray, bool]:
    """The reference model's loss on each of ``texts`` and whether it came from ``cache`` (an
    :class:`~synth_audit.models.attacks.OutputCache`: a directory from the CLI, the store's fit
    cache in studies) under :func:`reference_fit_key`; a miss is fitted here and cached."""
    key = reference_fit_key(target, reference_texts, seed, texts) if cache is not None else ""
    if cache is not None:
        got = cache.get(key)
        if got is not None and len(got) == len(texts) and "nll" in got.columns:
            return np.asarray(got["nll"], dtype=float), True
    frame, secs = _reference_losses(target, reference_texts, seed, texts)
    if cache is not None:
        assert target.recipe is not None
        cache.put(
            key,
            frame,
            recipe={
                "kind": "causal_lm_reference",
                "name": target.name,
                "subset": _sha(list(reference_texts)),
                **_recipe_of(target),
            },
            seed=seed,
            fit_seconds=secs,
        )
    return np.asarray(frame["nll"], dtype=float), False


def _recipe_of(target: CausalLMTarget) -> dict[str, Any]:
    assert target.recipe is not None
    return {"recipe": target.recipe.to_dict(), "versions": _lm_versions()}


@dataclass(frozen=True, eq=False)
class LMReferenceFitTask:
    """The reference model of a ``causal_lm`` study run as a fit task on the study's executor
    (:func:`synth_audit.study.fits.run_fit_task`): the run's recipe (``name``, ``recipe``,
    ``audit``, ``batch_size``, ``device``) fine-tuned on ``reference_texts`` with the run's
    ``tokenizer`` and ``seed``, its losses on ``texts`` cached in the store's fit cache under
    :meth:`key`, as :func:`reference_losses` would cache them in the run."""

    cache_key: str
    name: str
    seed: int
    recipe: Mapping[str, Any] = field(repr=False)
    audit: Mapping[str, Any] = field(repr=False)
    batch_size: int = field(repr=False)
    device: str | None = field(repr=False)
    tokenizer: Any = field(repr=False)
    reference_texts: Sequence[str] = field(repr=False)
    texts: Sequence[str] = field(repr=False)

    #: One fit: one thread, no GPU requested (passed to Dask as ``resources=``).
    resources: ClassVar[Mapping[str, int]] = {"threads": 1, "gpus": 0}

    def key(self) -> str:
        return self.cache_key

    def target(self) -> CausalLMTarget:
        """The run's target as the run holds it before the audit: recipe and tokenizer."""
        t = CausalLMTarget(
            name=self.name,
            recipe=dict(self.recipe),
            audit=dict(self.audit),
            batch_size=self.batch_size,
            device=self.device,
        )
        t.tokenizer = self.tokenizer
        return t

    def run(self, store: Any) -> None:
        """Fit, score and cache (what the study's executor runs)."""
        from synth_audit.models.attacks import StoreCache

        reference_losses(
            self.target(), self.reference_texts, self.seed, self.texts, StoreCache(store)
        )


# --------------------------------------------------------------------------------------------------
# Chart
# --------------------------------------------------------------------------------------------------


def exposure_chart(rows: Sequence[Mapping[str, Any]]) -> tuple[bytes, str]:
    """Exposure per canary by insertion count: PNG (matplotlib) or an SVG written here."""
    counts = sorted({int(r["inserted"]) for r in rows})
    top = max([float(r["log2_space"]) for r in rows] or [1.0])
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        return _svg_chart(rows, counts, top), "image/svg+xml"
    fig, ax = plt.subplots(figsize=(5.0, 3.2), dpi=100)
    try:
        for i, c in enumerate(counts):
            ys = [float(r["exposure"]) for r in rows if int(r["inserted"]) == c]
            xs = i + np.linspace(-0.15, 0.15, len(ys)) if len(ys) > 1 else [i]
            ax.scatter(xs, ys, s=22, color="#b2182b" if c else "#4d4d4d", zorder=3)
            ax.hlines(np.mean(ys), i - 0.3, i + 0.3, color="black", lw=1)
        ax.axhline(top, ls="--", color="#888", lw=0.8)
        ax.set_xticks(range(len(counts)), [f"{c}×" for c in counts])
        ax.set_xlabel("times the canary was inserted")
        ax.set_ylabel("exposure (bits)")
        ax.set_ylim(0, top * 1.08)
        ax.set_title("Canary exposure (dashed: the maximum, log2 |R|)", fontsize=9)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return buf.getvalue(), "image/png"


def _svg_chart(rows: Sequence[Mapping[str, Any]], counts: list[int], top: float) -> bytes:
    w, h, pad = 420, 240, 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">']
    for i, c in enumerate(counts):
        x = pad + (i + 0.5) * (w - 2 * pad) / max(len(counts), 1)
        parts.append(f'<text x="{x:.0f}" y="{h - 10}" font-size="11">{c}x</text>')
        for r in rows:
            if int(r["inserted"]) == c:
                y = h - pad - float(r["exposure"]) / top * (h - 2 * pad)
                parts.append(f'<circle cx="{x:.0f}" cy="{y:.1f}" r="4" fill="#b2182b"/>')
    parts.append("</svg>")
    return "".join(parts).encode()


# --------------------------------------------------------------------------------------------------
# The audit
# --------------------------------------------------------------------------------------------------


def _t_ci(values: Sequence[float], confidence: float) -> tuple[float, float, float]:
    from scipy import stats as sps

    v = np.asarray(values, dtype=float)
    m = float(v.mean())
    if v.size < 2:
        return m, float("nan"), float("nan")
    se = float(v.std(ddof=1) / math.sqrt(v.size))
    q = float(sps.t.ppf(0.5 + confidence / 2, v.size - 1))
    return m, m - q * se, m + q * se


def _canary_sections(
    rows: list[dict[str, Any]], confidence: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    counts = sorted({int(r["inserted"]) for r in rows})
    per = []
    findings = []
    for c in counts:
        ex = [float(r["exposure"]) for r in rows if int(r["inserted"]) == c]
        m, lo, hi = _t_ci(ex, confidence)
        per.append(
            [
                c,
                len(ex),
                round(m, 3),
                None if math.isnan(lo) else round(lo, 3),
                None if math.isnan(hi) else round(hi, 3),
            ]
        )
        findings.append(
            finding(
                f"mean_exposure_{c}x",
                m,
                role="evidence",
                ci=(lo, hi),
                confidence_level=confidence,
                unit="bits",
                reading=f"mean exposure of the canaries inserted {c} time(s) (t interval)",
            )
        )
    space = max(float(r["log2_space"]) for r in rows)
    inserted = [r for r in rows if int(r["inserted"]) > 0] or rows
    mx = max(float(r["exposure"]) for r in inserted)
    png, media = exposure_chart(rows)
    canaries = make_section(
        "Canary exposure",
        "canary_exposure",
        summary=(
            f"The most exposed inserted canary reaches {mx:.1f} of {space:.1f} bits "
            f"(exposure = log2 |R| − log2 rank). Exposure near the maximum means the model ranks "
            "the secret first among all candidates: it memorised it."
        ),
        findings=[
            finding(
                "max_exposure",
                mx,
                role="risk",
                direction="lower_is_better",
                bounds=(0.0, space),
                unit="bits",
                reading="highest exposure of a canary inserted into the fine-tuning text",
            ),
            *findings,
        ],
        tables=[
            table(
                "Exposure by insertion count", ["inserted", "n", "mean", "ci_low", "ci_high"], per
            ),
            table(
                "Exposure per canary",
                ["canary_id", "inserted", "exposure", "rank", "method"],
                [
                    [r["canary_id"], r["inserted"], round(r["exposure"], 3), r["rank"], r["method"]]
                    for r in rows
                ],
            ),
        ],
        images=[
            image(
                "Canary exposure by insertion count",
                png,
                media_type=media,
                alt="exposure (bits) of each canary against the times it was inserted",
            )
        ],
        data={"canaries": rows},
    )
    ext = [r for r in rows if r["extracted"]]
    n_ins = sum(1 for r in rows if int(r["inserted"]) > 0)
    ext_ins = sum(1 for r in ext if int(r["inserted"]) > 0)
    extraction = make_section(
        "Extraction",
        "canary_extraction",
        summary=(
            f"Greedy decoding from the prefix returns the secret of {ext_ins} of {n_ins} inserted "
            f"canaries ({len(ext) - ext_ins} never-inserted ones by chance)."
        ),
        findings=[
            finding(
                "extracted_fraction",
                ext_ins / n_ins if n_ins else 0.0,
                role="risk",
                direction="lower_is_better",
                bounds=(0.0, 1.0),
                reading="share of inserted canaries whose secret greedy decoding returns",
            ),
            finding("extracted", float(ext_ins), role="evidence", unit="canaries"),
        ],
        tables=[
            table(
                "Greedy decoding per canary",
                ["canary_id", "inserted", "greedy", "extracted"],
                [[r["canary_id"], r["inserted"], r["greedy"], bool(r["extracted"])] for r in rows],
            )
        ],
    )
    return canaries, extraction


def _perplexity(target: CausalLMTarget, texts: Sequence[str]) -> float:
    stats = target.token_stats(texts)
    tot = sum(float(-s.logprobs.sum()) for s in stats)
    n = sum(s.n_tokens for s in stats)
    return math.exp(tot / n) if n else float("nan")


def audit_lm(
    target: CausalLMTarget,
    members: Sequence[str],
    nonmembers: Sequence[str],
    *,
    member_ids: Sequence[Any] | None = None,
    nonmember_ids: Sequence[Any] | None = None,
    reference_texts: Sequence[str] | None = None,
    reference_target: CausalLMTarget | None = None,
    canaries: Sequence[Canary] = (),
    heldout: Sequence[str] | None = None,
    attacks: Sequence[str] = ATTACKS,
    min_k: float = 0.2,
    baseline: bool = True,
    random_state: int = 0,
    confidence_level: float = 0.95,
    exact_limit: int = 100_000,
    n_samples: int = 2000,
    config: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Progress | None = None,
    reference_cache: Any = None,
) -> AuditReport:
    """Audit ``target`` (already trained on ``members``) and return the report.

    The reference model (``reference_texts`` and a recipe) is a cached fit: its losses on the
    audited texts are read from ``reference_cache`` (an
    :class:`~synth_audit.models.attacks.OutputCache`) when there, else fitted and cached; the
    report's ``config["reference_model"]`` says which."""
    from synth_audit import __version__
    from synth_audit.schema import Schema

    seed = check_seed(random_state, "audit_lm")
    k = check_k(min_k)
    members, nonmembers = list(members), list(nonmembers)
    if len(members) < 2 or len(nonmembers) < 2:
        raise DataValidationError(
            f"A language-model audit needs at least 2 member and 2 non-member texts; got "
            f"{len(members)} and {len(nonmembers)}."
        )
    seeds = named_seeds(seed, list(_AUDIT_SEEDS))
    timings: dict[str, float] = {}
    warnings: list[AuditWarning] = []
    steps = ["score", "reference", "attacks", "baseline", "canaries", "model"]

    def tick(i: int) -> None:
        if progress is not None:
            progress(steps[i] if i < len(steps) else "done", i, len(steps))

    t0 = time.perf_counter()
    tick(0)
    texts = [*members, *nonmembers]
    ids: list[Any] = [
        *(member_ids or [f"m{i}" for i in range(len(members))]),
        *(nonmember_ids or [f"n{i}" for i in range(len(nonmembers))]),
    ]
    labels = np.r_[np.ones(len(members), dtype=int), np.zeros(len(nonmembers), dtype=int)]
    stats = target.token_stats(texts)
    lower = target.token_stats([t.lower() for t in texts]) if "lowercase" in attacks else None
    timings["score"] = round(time.perf_counter() - t0, 3)

    tick(1)
    attacks = list(attacks)
    ref_stats = None
    ref_nll = None
    ref_info: dict[str, Any] = {}
    if "reference" in attacks:
        t = time.perf_counter()
        ref = reference_target
        if ref is None and reference_texts and target.recipe is not None:
            ref_nll, hit = reference_losses(
                target, list(reference_texts), seeds["reference"], texts, reference_cache
            )
            ref_info = {"cache_hits": int(hit), "fitted": int(not hit)}
        elif ref is None:
            attacks.remove("reference")
            warnings.append(
                AuditWarning(
                    "reference_unavailable",
                    "The reference-model attack was skipped: give reference texts (non-member "
                    "text of the same distribution) and a target with a recipe, or a reference "
                    "model directory.",
                )
            )
        else:
            ref_stats = ref.token_stats(texts)
        timings["reference"] = round(time.perf_counter() - t, 3)

    tick(2)
    scores = attack_scores(
        texts,
        stats,
        attacks=attacks,
        k=k,
        lower_stats=lower,
        reference_stats=ref_stats,
        reference_nll=ref_nll,
    )
    tick(3)
    base = None
    if baseline:
        t = time.perf_counter()
        base = blind_baseline(
            members,
            nonmembers,
            target=target.name,
            record_ids=ids,
            random_state=seeds["baseline"],
            confidence_level=confidence_level,
        )
        warnings.extend(w for w in base.warnings if w.code == "blind_baseline_separates")
        timings["baseline"] = round(time.perf_counter() - t, 3)
    membership: dict[str, MembershipResult] = {}
    for name, s in scores.items():
        params: dict[str, Any] = {"k": k} if name in ("min_k", "min_k_pp") else {}
        res = MembershipResult.from_scores(
            s,
            labels,
            attack=name,
            target=target.name,
            record_ids=ids,
            confidence_level=confidence_level,
            seed=seed,
            params=params,
            unit="document",
        )
        membership[name] = res.with_baseline(base) if base is not None else res

    sections: dict[str, dict[str, Any]] = {}
    if base is not None:
        lo, hi = base.auc_ci
        sections["baseline"] = make_section(
            "Blind baseline",
            "blind_baseline",
            summary=(
                f"A bag-of-n-grams classifier that never sees the model scores AUC {base.auc:.3f} "
                f"[{lo:.3f}, {hi:.3f}] on the same members and non-members"
                + (": the split itself is distinguishable." if lo > 0.5 else ".")
            ),
            findings=[
                finding(
                    "blind_auc",
                    base.auc,
                    role="diagnostic",
                    ci=(lo, hi),
                    confidence_level=confidence_level,
                    bounds=(0.0, 1.0),
                )
            ],
            warnings=[w.to_dict() for w in base.warnings if w.code == "blind_baseline_separates"],
        )

    tick(4)
    if canaries:
        t = time.perf_counter()
        rows = canary_exposures(
            target.model,
            target.tokenizer,
            canaries,
            exact_limit=exact_limit,
            n_samples=n_samples,
            random_state=seeds["canaries"],
        )
        sections["canaries"], sections["extraction"] = _canary_sections(rows, confidence_level)
        timings["canaries"] = round(time.perf_counter() - t, 3)

    tick(5)
    held = list(heldout) if heldout else nonmembers
    ppl = _perplexity(target, held)
    train_ppl = _perplexity(target, members)
    sections["model"] = make_section(
        "Model",
        "language_model",
        summary=(
            f"Perplexity {ppl:.2f} on {len(held)} held-out texts and {train_ppl:.2f} on the "
            f"{len(members)} members."
        ),
        findings=[
            finding(
                "heldout_perplexity",
                ppl,
                role="utility",
                direction="lower_is_better",
                reading="perplexity on text the model was not trained on",
            ),
            finding(
                "heldout_log_likelihood",
                -math.log(ppl),
                role="utility",
                direction="higher_is_better",
                unit="nats per token",
                reading="mean token log-probability on held-out text (-log perplexity; what a "
                "frontier, which takes higher utility as better, plots)",
            ),
            finding("member_perplexity", train_ppl, role="diagnostic"),
        ],
        data={
            "fit": {k_: v for k_, v in target.fit_summary.items() if k_ != "train_loss"},
            "train_loss": list(target.fit_summary.get("train_loss", [])),
        },
    )
    tick(len(steps))
    timings["total"] = round(time.perf_counter() - t0, 3)
    return AuditReport(
        created_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        tool_version=__version__,
        seed=seed,
        config={
            **dict(config or {"attacks": attacks, "min_k": k}),
            **({"reference_model": ref_info} if ref_info else {}),
        },
        inputs=dict(inputs or {}),
        schema=Schema(columns=()),
        attacks={},
        inference={},
        membership={name: r.to_dict() for name, r in membership.items()},
        warnings=tuple(warnings),
        timings_s=timings,
        target=target.info().to_dict(),
        sections=sections,
    )


# --------------------------------------------------------------------------------------------------
# TOML
# --------------------------------------------------------------------------------------------------

_KEYS: dict[str, set[str]] = {
    "": {"target", "data", "canaries", "attacks", "audit", "name", "description"},
    "target": {"kind", "name", "path", "recipe", "batch_size", "device"},
    "data": {
        "path",
        "text_column",
        "id_column",
        "where",
        "members",
        "nonmembers",
        "reference",
        "heldout",
        "seed",
        "members_path",
        "nonmembers_path",
        "reference_path",
        "heldout_path",
    },
    "canaries": {"counts", "per_count", "digits", "exact_limit", "n_samples", "items"},
    "attacks": {"names", "min_k", "baseline"},
    "audit": {"random_state", "confidence_level", "cache_dir"},
}


def _check_keys(src: str, where: str, table_: Any) -> None:
    label = f"[{where}]" if where else "the top level"
    if not isinstance(table_, dict):
        raise ConfigError(f"{src}: {label} must be a table.")
    unknown = sorted(set(table_) - _KEYS[where])
    if unknown:
        raise ConfigError(
            f"{src}: unknown key(s) {', '.join(map(repr, unknown))} in {label}. Known keys: "
            f"{', '.join(sorted(_KEYS[where]))}."
        )


def _read_texts(path: Path, column: str, src: str, key: str) -> Any:
    import pandas as pd

    if not path.exists():
        raise ConfigError(
            f"{src}: [data] {key} = {str(path)!r} does not exist. Give a CSV path "
            "relative to the TOML file."
        )
    df = pd.read_csv(path)
    if column not in df.columns:
        raise DataValidationError(
            f"{src}: [data] {key} ({path.name}) has no column {column!r} (its columns: "
            f"{', '.join(map(str, df.columns))}). Set [data] text_column."
        )
    return df


def _int(src: str, where: str, v: Any, lo: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ConfigError(f"{src}: {where} must be an int >= {lo}. Got {v!r}.")
    return v


def audit_lm_from_toml(path: str | Path, progress: Progress | None = None) -> AuditReport:
    """Run the language-model audit described by the TOML file ``path``."""
    p = Path(path)
    src = str(p)
    if not p.exists():
        raise ConfigError(f"The audit file {src!r} does not exist.")
    try:
        cfg = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{src} is not valid TOML: {exc}.") from None
    return audit_lm_from_config(cfg, base=p.parent, source=src, progress=progress)


def audit_lm_from_config(
    cfg: Mapping[str, Any],
    *,
    base: str | Path = ".",
    source: str = "the audit configuration",
    progress: Progress | None = None,
) -> AuditReport:
    """:func:`audit_lm_from_toml` for a parsed configuration (paths relative to ``base``)."""
    src = source
    cfg = dict(cfg)
    _check_keys(src, "", cfg)
    for sec in ("target", "data", "canaries", "attacks", "audit"):
        _check_keys(src, sec, cfg.get(sec, {}))
    tgt, data = cfg.get("target", {}), cfg.get("data", {})
    if tgt.get("kind", "causal_lm") != "causal_lm":
        raise ConfigError(
            f"{src}: [target] kind must be 'causal_lm' here. Got {tgt.get('kind')!r}."
        )
    aud, att, can = cfg.get("audit", {}), cfg.get("attacks", {}), cfg.get("canaries", {})
    seed = check_seed(aud.get("random_state", 0), src, "[audit] random_state")
    conf = aud.get("confidence_level", 0.95)
    names = att.get("names", list(ATTACKS))
    if not isinstance(names, list) or any(n not in ATTACKS for n in names):
        raise ConfigError(
            f"{src}: [attacks] names must be a list of {', '.join(ATTACKS)}. Got {names!r}."
        )
    min_k = check_k(att.get("min_k", 0.2), "[attacks] min_k")
    base = Path(base)
    cache = None
    if aud.get("cache_dir") is not None:
        from synth_audit.models.attacks import DirCache

        if not isinstance(aud["cache_dir"], str):
            raise ConfigError(f"{src}: [audit] cache_dir must be a directory path (str).")
        cache = DirCache(base / aud["cache_dir"])  # reference-model losses, relative to the file
    col = str(data.get("text_column", "text"))
    idcol = data.get("id_column")
    seeds = named_seeds(seed, ["split", "canaries", "insert", "fit"])

    def ids_of(df: Any) -> list[Any]:
        if idcol is None:
            return [str(i) for i in df.index]
        if idcol not in df.columns:
            raise DataValidationError(f"{src}: [data] id_column {idcol!r} is not a column.")
        return [str(v) for v in df[idcol]]

    parts: dict[str, Any] = {}
    if "path" in data:
        df = _read_texts(base / str(data["path"]), col, src, "path")
        where = data.get("where", {})
        if not isinstance(where, dict):
            raise ConfigError(f"{src}: [data] where must be a table of column = value.")
        for c, v in where.items():
            if c not in df.columns:
                raise DataValidationError(
                    f"{src}: [data] where names {c!r}, not a column of {data['path']}."
                )
            df = df[df[c] == v]
        sizes = {
            k_: _int(src, f"[data] {k_}", data.get(k_, d), 0)
            for k_, d in (("members", 200), ("nonmembers", 200), ("reference", 0), ("heldout", 0))
        }
        if sum(sizes.values()) > len(df):
            raise DataValidationError(
                f"{src}: [data] asks for {sum(sizes.values())} texts (members + nonmembers + "
                f"reference + heldout) but {data['path']} has {len(df)} after 'where'. Ask for "
                "fewer."
            )
        order = np.random.default_rng(int(data.get("seed", seeds["split"]))).permutation(len(df))
        start = 0
        for k_, n in sizes.items():
            parts[k_] = df.iloc[order[start : start + n]]
            start += n
    else:
        for k_ in ("members", "nonmembers", "reference", "heldout"):
            if f"{k_}_path" in data:
                parts[k_] = _read_texts(base / str(data[f"{k_}_path"]), col, src, f"{k_}_path")
        if "members" not in parts or "nonmembers" not in parts:
            raise ConfigError(
                f"{src}: [data] needs 'path' (one CSV split here) or both "
                "'members_path' and 'nonmembers_path'."
            )
    texts = {k_: texts_of(v, col, f"{src} [data] {k_}") for k_, v in parts.items()}

    canaries: list[Canary] = []
    if can:
        if "items" in can:
            for i, it in enumerate(can["items"]):
                try:
                    canaries.append(
                        Canary(
                            str(it.get("id", f"c{i:03d}")),
                            str(it["prefix"]),
                            str(it["secret"]),
                            int(it["inserted"]),
                        )
                    )
                except (KeyError, TypeError, ValueError, AttributeError):
                    raise ConfigError(
                        f"{src}: [canaries] items[{i}] needs prefix, secret "
                        "(digits) and inserted (int)."
                    ) from None
        else:
            canaries = make_canaries(
                can.get("counts", [0, 1, 4, 16]),
                can.get("per_count", 4),
                can.get("digits", 4),
                seeds["canaries"],
            )
    name = str(tgt.get("name", cfg.get("name", "causal_lm")))
    bs = _int(src, "[target] batch_size", tgt.get("batch_size", 32))
    from synth_audit.lm.train import Recipe

    if "recipe" in tgt and not isinstance(tgt["recipe"], dict):
        raise ConfigError(f"{src}: [target.recipe] must be a table.")
    recipe = (
        Recipe.from_params(dict(tgt["recipe"]), where=f"{src}: [target.recipe]")
        if "recipe" in tgt
        else None
    )
    if "path" in tgt:
        target = CausalLMTarget.from_pretrained(
            base / str(tgt["path"]), name=name, recipe=recipe, device=tgt.get("device")
        )
        target.batch_size = bs
        if "items" not in can:
            canaries = []  # a loaded model was not trained with canaries made here
    else:
        if recipe is None:
            raise ConfigError(
                f"{src}: [target] needs 'path' (a model directory) or a "
                "[target.recipe] table to train one here."
            )
        target = CausalLMTarget(name=name, recipe=recipe, batch_size=bs, device=tgt.get("device"))
        if progress is not None:
            progress("fit", 0, 1)
        train = insert_canaries(texts["members"], canaries, seeds["insert"])
        # the tokenizer learns from public text (the reference set, else the held-out set), as a
        # pretrained model's tokenizer does; canary prefixes and digits are always encodable
        public = texts.get("reference") or texts.get("heldout")
        target.fit(train, random_state=seeds["fit"], tokenizer_texts=public)
    return audit_lm(
        target,
        texts["members"],
        texts["nonmembers"],
        member_ids=ids_of(parts["members"]),
        nonmember_ids=ids_of(parts["nonmembers"]),
        reference_texts=texts.get("reference"),
        canaries=canaries,
        heldout=texts.get("heldout"),
        attacks=names,
        min_k=min_k,
        baseline=bool(att.get("baseline", True)),
        random_state=seed,
        confidence_level=conf,
        reference_cache=cache,
        exact_limit=int(can.get("exact_limit", 100_000)),
        n_samples=int(can.get("n_samples", 2000)),
        config=cfg,
        inputs={k_: {"source": src, "n_rows": len(v)} for k_, v in texts.items()},
        progress=progress,
    )


# --------------------------------------------------------------------------------------------------
# Study runs
# --------------------------------------------------------------------------------------------------


def _run_texts(target: CausalLMTarget, data: Any) -> dict[str, list[str] | None]:
    """A study run's texts: members (``train``), non-members (``control``), reference and
    held-out texts (None when the split is empty)."""
    col = str(target.audit["text_column"])

    def part(frame: Any, name: str) -> list[str] | None:
        return texts_of(frame, col, f"the study's {name} split") if len(frame) else None

    return {
        "members": texts_of(data.train, col, "the study's train split"),
        "nonmembers": texts_of(data.control, col, "the study's control split"),
        "reference": part(data.reference, "reference"),
        "heldout": part(data.holdout, "holdout"),
    }


def plan_lm_fits(store: Any, run: Any, data: Any = None) -> list[LMReferenceFitTask]:
    """The reference model of a ``causal_lm`` study run as a fit task, for the study runner to
    make on its executor before the run (none without a reference split): the tokenizer the run's
    target is given (trained on the reference texts), the seed and the key :func:`execute_lm_run`
    looks up, so the run reads the reference model's losses from the store's fit cache."""
    from synth_audit.lm.train import train_tokenizer
    from synth_audit.study.data import load_study_data
    from synth_audit.study.tasks import check_fingerprints, run_seeds, spec_of
    from synth_audit.targets.registry import make_target

    if run.study is None:
        return []
    spec = spec_of(store, run.study)
    data = load_study_data(spec) if data is None else data
    check_fingerprints(run, data)
    target = make_target(run.target_kind, run.generator, run.params)
    texts = _run_texts(target, data)
    reference = texts["reference"]
    if not reference or target.recipe is None:
        return []
    # as CausalLMTarget.fit(..., tokenizer_texts=reference) trains it in the run
    target.tokenizer = train_tokenizer(list(reference), target.recipe.vocab_size)
    seed = named_seeds(run_seeds(run.seed)["audit"], list(_AUDIT_SEEDS))["reference"]
    scored = [*(texts["members"] or []), *(texts["nonmembers"] or [])]
    return [
        LMReferenceFitTask(
            cache_key=reference_fit_key(target, reference, seed, scored),
            name=target.name,
            seed=seed,
            recipe=target.recipe.to_dict(),
            audit=dict(target.audit),
            batch_size=target.batch_size,
            device=target.device,
            tokenizer=target.tokenizer,
            reference_texts=list(reference),
            texts=scored,
        )
    ]


def execute_lm_run(store: Any, run: Any, beat: Any) -> Any:
    """A study run of kind ``causal_lm``: fit the recipe in ``run.params`` on ``train`` (with
    canaries inserted), audit it against ``control`` (non-members), with a reference model
    fine-tuned on ``reference``; held-out perplexity on ``holdout`` (else ``control``)."""
    import pandas as pd

    from synth_audit import __version__
    from synth_audit.frontier import run_risk
    from synth_audit.models.attacks import StoreCache
    from synth_audit.study import tasks as T
    from synth_audit.study.data import load_study_data
    from synth_audit.study.rows import membership_rows, report_rows
    from synth_audit.targets.registry import make_target

    spec_of = getattr(T, "spec_of", None) or T._spec_of
    run_seeds = getattr(T, "run_seeds", None) or T._seeds
    check_fp = getattr(T, "check_fingerprints", None) or T._check_fingerprints
    seed_index = getattr(T, "seed_index", None) or T._seed_index

    assert run.study is not None
    spec = spec_of(store, run.study)
    seeds = run_seeds(run.seed)
    beat.update(0.01, "data")
    data = load_study_data(spec)
    check_fp(run, data)
    target = make_target(run.target_kind, run.generator, run.params)
    texts = _run_texts(target, data)
    members, nonmembers = texts["members"], texts["nonmembers"]
    reference, heldout = texts["reference"], texts["heldout"]
    assert members is not None and nonmembers is not None
    canaries = make_canaries(
        list(target.audit["canary_counts"]),
        int(target.audit["canary_per_count"]),
        int(target.audit["canary_digits"]),
        seeds["sample"],
    )
    beat.update(0.05, "fit")
    target.fit(
        insert_canaries(members, canaries, seeds["sample"]),
        random_state=seeds["fit"],
        tokenizer_texts=reference or heldout,
    )

    def prog(step: str, done: int, total: int) -> None:
        beat.update(0.3 + 0.6 * done / max(total, 1), f"audit: {step}")

    report = audit_lm(
        target,
        members,
        nonmembers,
        member_ids=[f"train:{i}" for i in data.train.index],
        nonmember_ids=[f"control:{i}" for i in data.control.index],
        reference_texts=reference,
        canaries=canaries,
        heldout=heldout,
        min_k=float(target.audit["min_k"]),
        random_state=seeds["audit"],
        confidence_level=spec.confidence_level,
        progress=prog,
        reference_cache=StoreCache(store),
    )
    import dataclasses

    report = dataclasses.replace(report, study=run.study, run_id=run.id)
    rows = report_rows(report)
    results = {n: MembershipResult.from_dict(d) for n, d in report.membership.items()}
    for n, r in results.items():
        rows.extend(membership_rows(n, r))
    beat.update(0.95, "artefacts")
    arts = [
        st_art
        for st_art in (
            store.write_artefact(
                run.id, "report", pd.DataFrame({"report_json": [report.to_json()]})
            ),
            store.write_artefact(
                run.id,
                "canaries",
                pd.DataFrame(
                    report.sections.get("canaries", {}).get("data", {}).get("canaries", [])
                ),
            ),
        )
    ]
    by_metric = {r.metric: r for r in rows}
    risk = run_risk(by_metric, spec.frontier.risk)
    utility = by_metric.get(spec.frontier.utility)
    info = target.info()
    summary: dict[str, Any] = {
        "risk": None if risk is None else risk.value,
        "risk_ci_low": None if risk is None else risk.ci_low,
        "risk_ci_high": None if risk is None else risk.ci_high,
        "risk_attack": None if risk is None else risk.attack,
        "risk_definition": spec.frontier.risk,
        "utility": None if utility is None else utility.value,
        "utility_metric": spec.frontier.utility,
        "target": info.to_dict(),
        "seeds": seeds,
        "seed_index": seed_index(spec, run.seed),
        "n_warnings": len(report.all_warnings()),
        "worker_code_version": f"synth-audit {__version__}",
        "timings_s": dict(report.timings_s),
        "membership_auc": {k_: v.auc for k_, v in results.items()},
    }
    ref_info = dict(report.config.get("reference_model") or {})
    if ref_info:
        summary["reference_cache_hits"] = int(ref_info.get("cache_hits", 0))
        summary["reference_fitted"] = int(ref_info.get("fitted", 0))
    return summary, rows, arts
