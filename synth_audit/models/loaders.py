"""Model files, only in formats that cannot run code when read.

=================  ============================================================================
``.skops``         a scikit-learn estimator saved with ``skops.io.dump``; loaded with an explicit
                   list of trusted types (``trusted``): any other type in the file is refused,
                   named, before anything is built
``.safetensors``   a torch MLP's state dict, with its JSON config beside it (``<stem>.json`` or
                   ``config``), as :meth:`ClassifierTarget.save_torch` writes them
``.onnx``          run by onnxruntime; its input is the float32 matrix of ``features``
``.csv/.parquet``  stored per-record probabilities (an id column and one column per class), for
                   audits without model access
=================  ============================================================================

Pickle-based files (``.pkl``, ``.pickle``, ``.joblib``, torch's ``.pt``/``.pth``/``.bin``/``.ckpt``)
are refused without being opened: unpickling runs arbitrary code. The message says how to convert.
Any file that starts like a pickle is refused too, whatever its name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from synth_audit.errors import ConfigError, DataValidationError, format_names
from synth_audit.models.target import ClassifierTarget

__all__ = ["PICKLE_SUFFIXES", "load_model"]

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".bin", ".ckpt", ".sav", ".dill")
_HOW = (
    "Convert it where it was trained: a scikit-learn model with skops.io.dump(model, "
    "'model.skops'); a torch MLP as a safetensors state dict (safetensors.torch.save_file("
    "model.state_dict(), 'model.safetensors')) plus a JSON config; any model to ONNX; or store its "
    "per-record probabilities as CSV/Parquet."
)


def _refuse_pickle(path: Path, why: str) -> ConfigError:
    return ConfigError(
        f"The model file {str(path)!r} {why}. synth-audit never loads pickle (nor joblib or "
        f"torch.load files): unpickling runs whatever code the file contains. {_HOW}"
    )


def _looks_like_pickle(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(2)
    except OSError:
        return False
    # Protocol 2+ pickles start with PROTO (0x80) and the protocol number; zip (skops), protobuf
    # (ONNX), safetensors (8-byte little-endian header length) and text do not.
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def load_model(
    path: str | Path,
    *,
    label: str,
    name: str | None = None,
    classes: Sequence[Any] | None = None,
    trusted: Sequence[str] = (),
    config: str | Path | None = None,
    features: Sequence[str] | None = None,
    id_column: str | None = None,
    recipe: Mapping[str, Any] | None = None,
) -> ClassifierTarget:
    """A fitted :class:`ClassifierTarget` from a model file (see the module's table)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        raise _refuse_pickle(p, f"has the pickle-based suffix {suffix!r}")
    if not p.is_file():
        raise ConfigError(f"The model file {str(p)!r} does not exist. Check [target] file.")
    if _looks_like_pickle(p):
        raise _refuse_pickle(p, "is a pickle (its first bytes say so), whatever its suffix")
    nm = name or p.stem
    if suffix == ".skops":
        return _load_skops(p, label=label, name=nm, classes=classes, trusted=trusted)
    if suffix == ".safetensors":
        return _load_safetensors(p, label=label, name=nm, config=config, recipe=recipe)
    if suffix == ".onnx":
        return _load_onnx(p, label=label, name=nm, classes=classes, features=features)
    if suffix in (".csv", ".parquet", ".tsv"):
        return _load_probabilities(p, label=label, name=nm, classes=classes, id_column=id_column)
    raise ConfigError(
        f"The model file {str(p)!r} has the suffix {suffix!r}, which synth-audit does not read. "
        "Give a .skops, .safetensors (+ .json config), .onnx, or stored probabilities "
        f"(.csv/.parquet). {_HOW}"
    )


def _load_skops(
    p: Path, *, label: str, name: str, classes: Sequence[Any] | None, trusted: Sequence[str]
) -> ClassifierTarget:
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=str(p))
    except Exception as exc:
        raise DataValidationError(
            f"The skops file {str(p)!r} cannot be read ({type(exc).__name__}: {exc}). Save it "
            "again with skops.io.dump."
        ) from None
    refused = sorted(set(untrusted) - set(trusted))
    if refused:
        raise ConfigError(
            f"The skops file {str(p)!r} holds types that are not trusted: "
            f"{format_names(refused, limit=20)}. Check that they are what you expect, then list "
            "them in [target] trusted (or trusted=[...] in Python)."
        )
    est = sio.load(str(p), trusted=list(untrusted))
    return ClassifierTarget.from_estimator(est, label=label, name=name, classes=classes)


def _load_safetensors(
    p: Path,
    *,
    label: str,
    name: str,
    config: str | Path | None,
    recipe: Mapping[str, Any] | None,
) -> ClassifierTarget:
    from safetensors.torch import load_file

    from synth_audit.models.backends import TorchMLP

    cfg_path = Path(config) if config is not None else p.with_suffix(".json")
    if not cfg_path.is_file():
        raise ConfigError(
            f"The torch weights {str(p)!r} need their JSON config (layer widths, classes, feature "
            f"encoding); {str(cfg_path)!r} does not exist. Give [target] config, or write both "
            "with ClassifierTarget.save_torch."
        )
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataValidationError(
            f"The model config {str(cfg_path)!r} is not valid JSON ({exc})."
        ) from None
    state = load_file(str(p))
    backend = TorchMLP.from_state(state, cfg, source=f"The model config {str(cfg_path)!r}")
    params = dict(recipe or {})
    if params:
        params.setdefault("model", "torch_mlp")
        params.setdefault("hidden", backend.hidden)
    return ClassifierTarget.from_backend(
        backend, label=label, name=name, source=str(p), refit=bool(params), params=params
    )


def _load_onnx(
    p: Path,
    *,
    label: str,
    name: str,
    classes: Sequence[Any] | None,
    features: Sequence[str] | None,
) -> ClassifierTarget:
    from synth_audit.models.backends import OnnxBackend

    if not features or not classes:
        raise ConfigError(
            f"The ONNX model {str(p)!r} needs 'features' (the input columns, in order) and "
            "'classes' (the output order) in [target]."
        )
    return ClassifierTarget.from_backend(
        OnnxBackend(str(p), features, classes), label=label, name=name, source=str(p)
    )


def _load_probabilities(
    p: Path,
    *,
    label: str,
    name: str,
    classes: Sequence[Any] | None,
    id_column: str | None,
) -> ClassifierTarget:
    from synth_audit.data import load_table
    from synth_audit.models.backends import ProbaTable

    if id_column is None:
        raise ConfigError(
            f"Stored probabilities {str(p)!r} are matched to records by an id column; set "
            "[target] id_column (a column of both the probabilities and the data)."
        )
    table = load_table(p)
    if id_column not in table.columns:
        raise DataValidationError(
            f"The probabilities file {str(p)!r} lacks the id column {id_column!r}; its columns "
            f"are {format_names(table.columns)}."
        )
    cls = list(classes) if classes else [c for c in table.columns if c != id_column]
    missing = [str(c) for c in cls if str(c) not in map(str, table.columns)]
    if missing:
        raise DataValidationError(
            f"The probabilities file {str(p)!r} lacks a column per class: "
            f"{format_names(missing)}. Name each probability column after its class."
        )
    table.columns = [str(c) for c in table.columns]
    return ClassifierTarget.from_backend(
        ProbaTable(table, id_column, cls, str(p)), label=label, name=name, source=str(p)
    )
