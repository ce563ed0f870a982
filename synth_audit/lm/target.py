"""The ``causal_lm`` target: a ``transformers`` causal language model and its tokenizer.

Three ways to make one:

* in-process: ``CausalLMTarget(model, tokenizer)`` (a model already loaded by the user);
* from a directory: :meth:`CausalLMTarget.from_pretrained` reads ``config.json``,
  ``model.safetensors`` and ``tokenizer.json`` only (never ``.bin`` / pickle weights, which can run
  code when loaded);
* from a recipe (:class:`synth_audit.lm.train.Recipe`): :meth:`from_config` / ``fit`` train a
  tokenizer and a tiny GPT-2 here (what study runs and the sample do).

Capabilities: ``token_logprobs`` and ``loss`` always; ``refit`` when a recipe is given (then
reference models can be trained with the same recipe). Per-token statistics are computed once per
model and text (:class:`~synth_audit.lm.logprobs.LogProbCache`), batched, on the GPU when present.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.lm.logprobs import LogProbCache, TokenStats, score_texts
from synth_audit.lm.train import Recipe, build_model, fine_tune, train_tokenizer
from synth_audit.seeding import check_seed, named_seeds
from synth_audit.targets.base import Capability, TargetInfo, content_fingerprint

__all__ = ["AUDIT_DEFAULTS", "CausalLMTarget", "texts_of"]

log = logging.getLogger(__name__)

#: Audit settings a study run's params may carry beside the recipe (see :meth:`execute_run`).
AUDIT_DEFAULTS: dict[str, Any] = {
    "canary_counts": [0, 1, 4, 16],
    "canary_per_count": 4,
    "canary_digits": 4,
    "min_k": 0.2,
    "text_column": "text",
}

_WEIGHT_PICKLES = ("pytorch_model.bin", "model.bin", "pytorch_model.bin.index.json", "model.pt")


def texts_of(data: Any, column: str = "text", where: str = "the data") -> list[str]:
    """Texts from a list of strings or a DataFrame's ``column`` (missing values refused)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        if column not in data.columns:
            raise DataValidationError(
                f"{where} has no column {column!r} (its columns: "
                f"{', '.join(map(str, data.columns))}). Name the text column (text_column)."
            )
        col = data[column]
        if col.isna().any():
            raise DataValidationError(
                f"{where}: column {column!r} has {int(col.isna().sum())} missing value(s). Drop "
                "those rows or fill them with text."
            )
        return [str(t) for t in col.tolist()]
    if isinstance(data, str) or not isinstance(data, Sequence):
        raise DataValidationError(
            f"{where} must be a list of texts or a DataFrame with a {column!r} column; got "
            f"{type(data).__name__}."
        )
    bad = [i for i, t in enumerate(data) if not isinstance(t, str)]
    if bad:
        raise DataValidationError(f"{where}: item {bad[0]} is not a string ({data[bad[0]]!r}).")
    return list(data)


class CausalLMTarget:
    """A causal LM and its tokenizer as an audit target (see the module docstring)."""

    kind: ClassVar[str] = "causal_lm"

    def __init__(
        self,
        model: Any = None,
        tokenizer: Any = None,
        *,
        name: str = "causal_lm",
        recipe: Recipe | Mapping[str, Any] | None = None,
        audit: Mapping[str, Any] | None = None,
        context: int | None = None,
        batch_size: int = 32,
        device: str | None = None,
        privacy: Mapping[str, Any] | None = None,
    ) -> None:
        if (model is None) != (tokenizer is None):
            raise ConfigError(
                "CausalLMTarget needs both a model and its tokenizer (or neither, with a recipe to "
                "train one)."
            )
        if model is None and recipe is None:
            raise ConfigError(
                "CausalLMTarget needs a model and tokenizer, a directory (from_pretrained) or a "
                "recipe (from_config) to train one."
            )
        self.name = str(name)
        self.recipe = (
            recipe
            if recipe is None or isinstance(recipe, Recipe)
            else Recipe.from_params(dict(recipe), where=f"the causal LM {name!r} recipe")
        )
        unknown = sorted(set(audit or {}) - set(AUDIT_DEFAULTS))
        if unknown:
            raise ConfigError(
                f"Unknown audit setting(s) {', '.join(map(repr, unknown))} for the causal LM "
                f"{name!r}. Known: {', '.join(sorted(AUDIT_DEFAULTS))}."
            )
        self.audit = {**copy.deepcopy(AUDIT_DEFAULTS), **dict(audit or {})}
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = int(batch_size)
        self.device = device
        self._context = context
        self._privacy = dict(privacy or {})
        self._cache = LogProbCache()
        self._fingerprint: str | None = None
        self.fit_summary: dict[str, Any] = {}

    # ------------------------------------------------------------------------------ make

    @classmethod
    def from_config(cls, name: str, params: Mapping[str, Any]) -> CausalLMTarget:
        """An unfitted target with the recipe (and audit settings) in ``params``."""
        p = dict(params)
        audit = {k: p.pop(k) for k in list(p) if k in AUDIT_DEFAULTS}
        return cls(
            name=name, recipe=Recipe.from_params(p, where=f"the params of {name!r}"), audit=audit
        )

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        *,
        name: str | None = None,
        recipe: Recipe | Mapping[str, Any] | None = None,
        device: str | None = None,
    ) -> CausalLMTarget:
        """Load ``config.json`` + ``model.safetensors`` + tokenizer files from a directory."""
        d = Path(path)
        if not d.is_dir():
            raise ConfigError(
                f"The model directory {str(d)!r} does not exist. Give a directory holding "
                "config.json, model.safetensors and tokenizer.json."
            )
        pickles = [f for f in _WEIGHT_PICKLES if (d / f).exists()]
        has_st = any(d.glob("*.safetensors"))
        if not has_st:
            why = (
                f" It holds {', '.join(pickles)}: pickled weights, which can run arbitrary code "
                "when loaded, so synth-audit refuses them."
                if pickles
                else ""
            )
            raise ConfigError(
                f"The model directory {str(d)!r} has no *.safetensors weights.{why} Convert them "
                "where you trust the file: model = AutoModelForCausalLM.from_pretrained(dir); "
                "model.save_pretrained(out_dir, safe_serialization=True)."
            )
        for need in ("config.json",):
            if not (d / need).exists():
                raise ConfigError(
                    f"The model directory {str(d)!r} lacks {need}. Save the model with "
                    "save_pretrained(out_dir)."
                )
        if not (d / "tokenizer.json").exists() and not (d / "tokenizer_config.json").exists():
            raise ConfigError(
                f"The model directory {str(d)!r} lacks tokenizer files (tokenizer.json). Save the "
                "tokenizer beside the model with tokenizer.save_pretrained(out_dir)."
            )
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model = AutoModelForCausalLM.from_pretrained(
            str(d), use_safetensors=True, local_files_only=True
        )
        tok = AutoTokenizer.from_pretrained(str(d), local_files_only=True)
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token
        model.eval()
        return cls(model, tok, name=name or d.name, recipe=recipe, device=device)

    def save_pretrained(self, path: str | Path) -> Path:
        """Write the model (safetensors) and tokenizer to ``path``."""
        self._check_fitted("save_pretrained")
        d = Path(path)
        d.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(d), safe_serialization=True)
        self.tokenizer.save_pretrained(str(d))
        return d

    # ------------------------------------------------------------------------------ protocol

    @property
    def capabilities(self) -> frozenset[Capability]:
        caps = {Capability.TOKEN_LOGPROBS, Capability.LOSS}
        if self.recipe is not None:
            caps.add(Capability.REFIT)
        return frozenset(caps)

    @property
    def context(self) -> int:
        if self._context is not None:
            return int(self._context)
        if self.model is not None:
            n = getattr(self.model.config, "n_positions", None) or getattr(
                self.model.config, "max_position_embeddings", None
            )
            if n:
                return int(min(int(n), 1024))
        return self.recipe.context if self.recipe is not None else 1024

    def get_params(self) -> dict[str, Any]:
        out = dict(self.recipe.to_dict()) if self.recipe is not None else {}
        out.update(copy.deepcopy(self.audit))
        return out

    def set_params(self, **params: Any) -> CausalLMTarget:
        audit = {k: params.pop(k) for k in list(params) if k in AUDIT_DEFAULTS}
        base = self.recipe.to_dict() if self.recipe is not None else {}
        self.recipe = Recipe.from_params({**base, **params}, where=f"the params of {self.name!r}")
        self.audit.update(audit)
        return self

    def clone(self) -> CausalLMTarget:
        """A new, unfitted target with the same recipe and settings."""
        if self.recipe is None:
            raise ConfigError(
                f"The causal LM {self.name!r} has no recipe, so it cannot be re-trained. Give "
                "a recipe (the settings it was fine-tuned with) to make reference models."
            )
        return CausalLMTarget(
            name=self.name,
            recipe=self.recipe,
            audit=self.audit,
            batch_size=self.batch_size,
            device=self.device,
        )

    def fit(
        self,
        data: Any,
        random_state: int = 0,
        *,
        tokenizer: Any = None,
        tokenizer_texts: Sequence[str] | None = None,
        **_: Any,
    ) -> CausalLMTarget:
        """Train a tokenizer (unless ``tokenizer`` is given) and a GPT-2 from the recipe on the
        texts of ``data`` (a list, or a DataFrame with the ``text_column``).

        The tokenizer is trained on ``tokenizer_texts`` when given, else on the training texts.
        Audits pass public text (the reference set): a tokenizer trained on the members encodes
        them in fewer, rarer tokens, which shifts every per-token score and leaks membership on
        its own (a model that never saw the members would then look leaky, or anti-leaky).
        """
        if self.recipe is None:
            raise ConfigError(
                f"The causal LM {self.name!r} has no recipe to train with; give one "
                "(CausalLMTarget.from_config)."
            )
        seed = check_seed(random_state, f"{type(self).__name__}.fit")
        texts = texts_of(
            data, str(self.audit["text_column"]), f"The training data of {self.name!r}"
        )
        seeds = named_seeds(seed, ["init", "train"])
        tok = tokenizer or train_tokenizer(
            list(tokenizer_texts) if tokenizer_texts else texts, self.recipe.vocab_size
        )
        model = build_model(tok, self.recipe, seeds["init"])
        summary = fine_tune(model, tok, texts, self.recipe, seeds["train"], device=self.device)
        self.model, self.tokenizer = model, tok
        self._context = self.recipe.context
        self._cache = LogProbCache()
        self._fingerprint = None
        self.fit_summary = {**summary, "random_state": seed}
        if summary.get("dp"):
            self._privacy = {"epsilon": summary.get("epsilon"), "delta": summary.get("delta")}
        else:
            self._privacy = {}
        return self

    def _check_fitted(self, who: str) -> None:
        if self.model is None:
            raise ConfigError(
                f"{who}: the causal LM {self.name!r} is not trained yet. Call fit() first or load "
                "a model."
            )

    @property
    def fingerprint(self) -> str | None:
        if self.model is None:
            return None
        if self._fingerprint is None:
            state = self.model.state_dict()
            parts = []
            for k in sorted(state):
                t = state[k].detach().cpu().contiguous()
                parts.append(k.encode())
                parts.append(t.view(-1).view(__import__("torch").uint8).numpy().tobytes())
            self._fingerprint = content_fingerprint(parts)
        return self._fingerprint

    def info(self) -> TargetInfo:
        return TargetInfo(
            kind=self.kind,
            name=self.name,
            params=self.get_params(),
            privacy={k: v for k, v in self._privacy.items() if v is not None},
            fingerprint=self.fingerprint,
            capabilities=tuple(self.capabilities),
        )

    # ------------------------------------------------------------------------------ queries

    def token_stats(self, texts: Sequence[str]) -> list[TokenStats]:
        """Per-token log-probabilities and the model's mean/sd at each position (cached)."""
        self._check_fitted("token_stats")
        return score_texts(
            self.model,
            self.tokenizer,
            list(texts),
            context=self.context,
            batch_size=self.batch_size,
            device=self.device,
            cache=self._cache,
            model_key=self.fingerprint,
        )

    def token_logprobs(self, texts: Sequence[str]) -> list[NDArray[np.float64]]:
        """``log p(x_t | x_<t)`` for every token of every text after the first."""
        return [s.logprobs for s in self.token_stats(texts)]

    def loss(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Mean negative log-likelihood per token of each text (nats)."""
        return np.array([s.nll for s in self.token_stats(texts)])

    # ------------------------------------------------------------------------------ studies

    @staticmethod
    def result_names() -> tuple[list[str], list[str]]:
        """(risk-like, utility) result names a study run of this kind records (for the
        ``[frontier]`` checks of a study)."""
        from synth_audit.lm.attacks import ATTACKS
        from synth_audit.membership.result import DEFAULT_FPRS

        measures = [
            "auc_advantage",
            "auc",
            *(f"tpr_at_{f:g}_fpr" for f in DEFAULT_FPRS),
            "epsilon_lb",
        ]
        risks = [f"membership.{a}.{m}" for a in ATTACKS for m in measures]
        risks += ["canaries.max_exposure", "extraction.extracted_fraction"]
        return risks, ["model.heldout_log_likelihood", "model.heldout_perplexity"]

    @staticmethod
    def plan_fits(store: Any, run: Any, data: Any = None) -> list[Any]:
        """The run's reference model as a fit task for the study's executor, made before the run
        (see :func:`synth_audit.lm.audit.plan_lm_fits`)."""
        from synth_audit.lm.audit import plan_lm_fits

        return plan_lm_fits(store, run, data)

    @staticmethod
    def execute_run(store: Any, run: Any, beat: Any) -> Any:
        """A study run: see :func:`synth_audit.lm.audit.execute_lm_run`."""
        from synth_audit.lm.audit import execute_lm_run

        return execute_lm_run(store, run, beat)
