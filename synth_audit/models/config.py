"""``model_audit.toml``: what ``synth-audit audit-model`` reads.

::

    [target]
    kind = "classifier"           # "causal_lm" hands the file to the language-model audit
    name = "overfit_mlp"
    label = "health"              # the column the model predicts
    model = "mlp"                 # a recipe the audit trains on the members: logistic, mlp, torch_mlp
    params = { hidden = [256], epochs = 300 }   # ClassifierTarget's parameters
    # or a fitted model from a file (formats that cannot run code; see synth_audit.models.loaders):
    # file = "model.skops"        # .skops, .safetensors (+ config), .onnx, .csv/.parquet probabilities
    # trusted = ["sklearn.neural_network._multilayer_perceptron.MLPClassifier"]
    # config = "model.json"; features = [...]; classes = [...]; id_column = "id"

    [data]                        # one pool, split at random (a person once) ...
    path = "../randhie/population.csv"
    group_by = "person_id"        # keep one random row per person
    drop = ["person_id", "year"]
    # builtin = "digits"          # ... or scikit-learn's bundled digits (label "digit")
    # ... or given parts: members = "train.csv", nonmembers = "control.csv", reference = "ref.csv"

    [split]
    members = 500
    nonmembers = 500
    reference = 2000
    seed = 0

    [audit]
    attacks = ["loss", "lira_online", "rmia"]   # default: all
    n_reference = 4
    reference_mode = "online"     # online | offline | none (default: none without a recipe)
    rmia_gamma = 2.0
    rmia_a = 0.3
    n_population = 500
    sensitive = ["race"]          # attribute inference and feature influence
    subgroups = ["sex"]
    seed = 0
    confidence_level = 0.95
    workers = 1                   # processes for reference models
    cache_dir = ".model_audit_cache"   # reference-model outputs (Parquet), relative to this file
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from synth_audit.config import format_validation_error
from synth_audit.errors import ConfigError

__all__ = ["ModelAuditConfig", "load_model_audit_config"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetSection(_Strict):
    kind: str = "classifier"
    name: str | None = None
    label: str | None = None
    model: Literal["logistic", "mlp", "torch_mlp"] | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    file: str | None = None
    trusted: list[str] = Field(default_factory=list)
    config: str | None = None
    features: list[str] | None = None
    classes: list[Any] | None = None
    id_column: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> TargetSection:
        if self.kind != "classifier":
            return self
        if self.label is None:
            raise ValueError("label is required: the column the model predicts")
        if self.model is None and self.file is None:
            raise ValueError(
                "give either model (a recipe the audit trains: logistic, mlp, torch_mlp) or file "
                "(a fitted model)"
            )
        return self


class DataSection(_Strict):
    path: str | None = None
    builtin: Literal["digits"] | None = None
    group_by: str | None = None
    drop: list[str] = Field(default_factory=list)
    members: str | None = None
    nonmembers: str | None = None
    reference: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DataSection:
        pool = (self.path is not None) + (self.builtin is not None)
        parts = self.members is not None or self.nonmembers is not None
        if pool > 1 or (pool and parts) or (not pool and not parts):
            raise ValueError(
                'give one source: path (a pool split at random), builtin ("digits") or '
                "members and nonmembers (given parts)"
            )
        if parts and (self.members is None or self.nonmembers is None):
            raise ValueError("members and nonmembers are given together")
        return self


class SplitSection(_Strict):
    members: int = Field(500, ge=5)
    nonmembers: int = Field(500, ge=5)
    reference: int = Field(2000, ge=0)
    seed: int = Field(0, ge=0)


class AuditSection(_Strict):
    attacks: list[str] | None = None
    n_reference: int = Field(4, ge=1, le=256)
    reference_mode: Literal["online", "offline", "none"] | None = None
    rmia_gamma: float = Field(2.0, gt=0)
    rmia_a: float = Field(0.3, ge=0, le=1)
    n_population: int = Field(500, ge=10)
    sensitive: list[str] = Field(default_factory=list)
    subgroups: list[str] = Field(default_factory=list)
    seed: int = Field(0, ge=0)
    confidence_level: float = Field(0.95, gt=0, lt=1)
    workers: int = Field(1, ge=1, le=64)
    cache_dir: str | None = None


class ModelAuditConfig(_Strict):
    target: TargetSection
    data: DataSection = Field(
        default_factory=lambda: DataSection.model_validate({"builtin": "digits"})
    )
    split: SplitSection = Field(default_factory=lambda: SplitSection.model_validate({}))
    audit: AuditSection = Field(default_factory=lambda: AuditSection.model_validate({}))

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def load_model_audit_config(path: str | Path) -> tuple[ModelAuditConfig, Path]:
    """The config and the directory its relative paths are read from."""
    p = Path(path)
    where = f"The model-audit file {str(p)!r}"
    if not p.is_file():
        raise ConfigError(f"{where} does not exist. Give the path of a model_audit.toml.")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}.") from None
    return parse_model_audit_config(raw, source=where), p.resolve().parent


def parse_model_audit_config(raw: dict[str, Any], *, source: str) -> ModelAuditConfig:
    try:
        return ModelAuditConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from None


def read_kind(path: str | Path) -> str:
    """``[target] kind`` of a model-audit file (``classifier`` when absent)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(
            f"The model-audit file {str(p)!r} does not exist. Give the path of a model_audit.toml."
        )
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The model-audit file {str(p)!r} is not valid TOML: {exc}.") from None
    target = raw.get("target")
    if not isinstance(target, dict):
        raise ConfigError(
            f"The model-audit file {str(p)!r} has no [target] table; add one with kind = "
            '"classifier" (or "causal_lm") and its settings.'
        )
    return str(target.get("kind", "classifier"))
