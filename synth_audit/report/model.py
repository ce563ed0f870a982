"""The :class:`AuditReport` value: everything an audit found, with a versioned JSON form.

``report.json`` is a public contract (users gate releases on it). Its top-level keys::

    schema_version   "1.0"; a reader refuses a newer major version
    tool             {"name", "version"}
    created_at       ISO 8601, UTC
    seed             the audit's seed (every attack's own seed is recorded beside it)
    config           the full configuration used
    inputs           per input: source, sha256, n_rows, n_columns
    schema           column kinds used and why
    attacks          singling_out_univariate, singling_out_multivariate, linkability: risk objects;
                     inference: {secret column: risk object}
    membership       {attack name: membership result} (empty for a release audit)
    diagnostics      {"dcr": ...} labelled as diagnostics, not proof of privacy
    utility          {metric name: metric result}
    summary          max_risk, max_risk_attack, max_risk_ci_high, max_risk_ci_high_attack (over
                     measurable criteria only), unmeasurable (names left out of those), control
                     ("ok", "overlap" or "none"), utility_score, n_warnings
    warnings         every warning of the audit, each {"code", "message"} (attack warnings are
                     repeated here with the attack's name prefixed)
    timings_s        seconds per step
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from synth_audit.diagnostics import DcrDiagnostic
from synth_audit.errors import DataValidationError
from synth_audit.results import AttackResult, AuditWarning, jsonable
from synth_audit.schema import Schema

__all__ = ["REPORT_SCHEMA_VERSION", "AuditReport"]

REPORT_SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class AuditReport:
    created_at: str
    tool_version: str
    seed: int
    config: Mapping[str, Any]
    inputs: Mapping[str, Mapping[str, Any]]
    schema: Schema
    attacks: Mapping[str, AttackResult]
    inference: Mapping[str, AttackResult]
    membership: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    dcr: DcrDiagnostic | None = None
    utility: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    utility_score: float | None = None
    warnings: tuple[AuditWarning, ...] = ()
    timings_s: Mapping[str, float] = field(default_factory=dict)
    schema_version: str = REPORT_SCHEMA_VERSION

    # ---- derived views -------------------------------------------------------------------------
    def risks(self) -> Iterator[tuple[str, AttackResult]]:
        """(name, result) for every attack, inference secrets as ``inference[<secret>]``."""
        yield from self.attacks.items()
        for secret, r in self.inference.items():
            yield f"inference[{secret}]", r

    def max_risk(self, *, include_unmeasurable: bool = False) -> tuple[str, AttackResult] | None:
        """The risk with the highest estimate (ties: the higher upper bound), with its own CI.

        Criteria that could not be measured (:attr:`AttackResult.measurable` is False: their
        interval says nothing) are left out unless ``include_unmeasurable``.
        """
        items = [(n, r) for n, r in self.risks() if include_unmeasurable or r.measurable]
        if not items:
            return None
        return max(items, key=lambda kv: (kv[1].risk.value, kv[1].risk.ci_high))

    def max_ci_high(self, *, include_unmeasurable: bool = False) -> tuple[str, AttackResult] | None:
        """The risk with the highest upper CI bound (the conservative headline)."""
        items = [(n, r) for n, r in self.risks() if include_unmeasurable or r.measurable]
        if not items:
            return None
        return max(items, key=lambda kv: (kv[1].risk.ci_high, kv[1].risk.value))

    def unmeasurable(self) -> list[str]:
        """Names of the criteria that could not be measured (shown, but out of the headline)."""
        return [n for n, r in self.risks() if not r.measurable]

    def control_status(self) -> str:
        """``"ok"``, ``"overlap"`` (rows shared between train and control) or ``"none"`` (the
        ``no_control`` warning, or risks all computed without a control rate)."""
        codes = {w.code for w in self.warnings}
        results = [r for _, r in self.risks()]
        if "no_control" in codes or (results and all(r.control_rate is None for r in results)):
            return "none"
        if "control_overlap" in codes:
            return "overlap"
        return "ok"

    def summary(self) -> dict[str, Any]:
        worst = self.max_risk()
        hi = self.max_ci_high()
        return {
            "max_risk": None if worst is None else worst[1].risk.value,
            "max_risk_attack": None if worst is None else worst[0],
            "max_risk_ci_high": None if hi is None else hi[1].risk.ci_high,
            "max_risk_ci_high_attack": None if hi is None else hi[0],
            "unmeasurable": self.unmeasurable(),
            "control": self.control_status(),
            "utility_score": self.utility_score,
            "n_warnings": len(self.all_warnings()),
        }

    def all_warnings(self) -> list[AuditWarning]:
        out = list(self.warnings)
        for name, r in self.risks():
            out.extend(AuditWarning(w.code, f"[{name}] {w.message}") for w in r.warnings)
        if self.dcr is not None:
            out.extend(AuditWarning(w.code, f"[dcr] {w.message}") for w in self.dcr.warnings)
        for name, mr in self.membership.items():
            for w in mr.get("warnings", ()):
                code = w.get("code", "membership") if isinstance(w, Mapping) else "membership"
                msg = w.get("message", "") if isinstance(w, Mapping) else str(w)
                out.append(AuditWarning(str(code), f"[membership.{name}] {msg}"))
        for name, m in self.utility.items():
            out.extend(
                AuditWarning(str(w["code"]), f"[utility.{name}] {w['message']}")
                for w in m.get("warnings", ())
            )
        return out

    def per_record(self) -> pd.DataFrame:
        """One row per (attack, attacked record): who is exposed, by which attack."""
        frames = []
        for name, r in self.risks():
            if r.per_record is not None and len(r.per_record):
                f = r.per_record.copy()
                f.insert(0, "attack", name)
                frames.append(f)
        if not frames:
            return pd.DataFrame(columns=["attack", "role", "record"])
        return pd.concat(frames, ignore_index=True, sort=False)

    def exposed_records(self, top: int = 20) -> pd.DataFrame:
        """Training records ranked by how many attacks succeeded against them."""
        per = self.per_record()
        if per.empty:
            return pd.DataFrame(columns=["record", "n_successful_attacks", "attacks"])
        per = per[per["role"] == "train"].copy()
        ok = pd.Series(False, index=per.index)
        for col in ("linked", "correct", "singled_out"):
            if col in per:
                ok |= per[col].astype("boolean").fillna(False).astype(bool)
        per = per[ok]
        if per.empty:
            return pd.DataFrame(columns=["record", "n_successful_attacks", "attacks"])
        g = per.groupby("record")["attack"]
        out = pd.DataFrame(
            {
                "n_successful_attacks": g.size(),
                "attacks": g.apply(lambda s: ", ".join(sorted(set(s)))),
            }
        ).reset_index()
        return out.sort_values(["n_successful_attacks", "record"], ascending=[False, True]).head(
            top
        )

    # ---- JSON ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        attacks: dict[str, Any] = {k: v.to_dict() for k, v in self.attacks.items()}
        attacks["inference"] = {k: v.to_dict() for k, v in self.inference.items()}
        return jsonable(
            {
                "schema_version": self.schema_version,
                "tool": {"name": "synth-audit", "version": self.tool_version},
                "created_at": self.created_at,
                "seed": self.seed,
                "config": dict(self.config),
                "inputs": {k: dict(v) for k, v in self.inputs.items()},
                "schema": self.schema.to_dict(),
                "attacks": attacks,
                "membership": dict(self.membership),
                "diagnostics": {"dcr": None if self.dcr is None else self.dcr.to_dict()},
                "utility": {k: dict(v) for k, v in self.utility.items()},
                "summary": self.summary(),
                "warnings": [w.to_dict() for w in self.all_warnings()],
                "audit_warnings": [w.to_dict() for w in self.warnings],
                "timings_s": dict(self.timings_s),
            }
        )

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AuditReport:
        if not isinstance(d, Mapping) or "schema_version" not in d or "attacks" not in d:
            raise DataValidationError(
                "This is not a synth-audit report.json (no 'schema_version' or 'attacks' key). "
                "Pass the report.json written by 'synth-audit evaluate'."
            )
        version = str(d.get("schema_version", ""))
        major = version.split(".")[0]
        if major != REPORT_SCHEMA_VERSION.split(".")[0]:
            raise DataValidationError(
                f"This report has schema_version {version!r}; this synth-audit reads "
                f"{REPORT_SCHEMA_VERSION}. Re-run the audit with this version or upgrade synth-audit."
            )
        attacks = dict(d["attacks"])
        inference = attacks.pop("inference", {}) or {}
        dcr = d.get("diagnostics", {}).get("dcr")
        util = dict(d.get("utility", {}))
        return cls(
            created_at=str(d["created_at"]),
            tool_version=str(d["tool"]["version"]),
            seed=int(d["seed"]),
            config=dict(d["config"]),
            inputs={k: dict(v) for k, v in d["inputs"].items()},
            schema=Schema.from_dict(d["schema"]),
            attacks={k: AttackResult.from_dict(v) for k, v in attacks.items()},
            inference={k: AttackResult.from_dict(v) for k, v in inference.items()},
            membership=dict(d.get("membership", {})),
            dcr=None if dcr is None else DcrDiagnostic.from_dict(dcr),
            utility=util,
            utility_score=d.get("summary", {}).get("utility_score"),
            warnings=tuple(AuditWarning.from_dict(w) for w in d.get("audit_warnings", ())),
            timings_s=dict(d.get("timings_s", {})),
            schema_version=version,
        )

    @classmethod
    def read_json(cls, path: str | Path) -> AuditReport:
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataValidationError(
                f"Report {str(p)!r} does not exist. Check the path."
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataValidationError(f"Report {str(p)!r} is not valid JSON: {exc}.") from None
        try:
            return cls.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataValidationError(
                f"Report {str(p)!r} is not a synth-audit report.json (missing or malformed {exc})."
            ) from None
