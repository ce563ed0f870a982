"""The :class:`AuditReport` value: everything an audit found, with a versioned JSON form.

``report.json`` is a public contract (users gate releases on it). Its top-level keys::

    schema_version   "1.2" (1.1 added target, study, run_id and the membership summary keys; 1.2
                     added sections); a reader accepts every 1.x and refuses another major version
    tool             {"name", "version"}
    created_at       ISO 8601, UTC
    seed             the audit's seed (every attack's own seed is recorded beside it)
    config           the full configuration used
    inputs           per input: source, sha256, n_rows, n_columns
    schema           column kinds used and why
    attacks          singling_out_univariate, singling_out_multivariate, linkability: risk objects;
                     inference: {secret column: risk object}
    membership       {attack name: MembershipResult.to_dict()} (empty when none was run)
    target           what was attacked: TargetInfo.to_dict() (kind, name, params, privacy ε/δ,
                     fingerprint, capabilities), or null for a plain evaluation of files
    study, run_id    the study and run that produced the report (null outside a study)
    sections         {name: section}: the findings of any other audit kind (model audits, canary
                     exposure, anonymity, DPIA, ...) in one shape, see synth_audit.report.sections
    diagnostics      {"dcr": ...} labelled as diagnostics, not proof of privacy
    utility          {metric name: metric result}
    summary          max_risk, max_risk_attack, max_risk_ci_high, max_risk_ci_high_attack (over
                     measurable criteria only), unmeasurable (names left out of those), control
                     ("ok", "overlap" or "none"), utility_score, n_warnings,
                     max_membership_auc and max_membership_attack (the membership attack with the
                     highest AUC; null when none was run)
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
from synth_audit.report.sections import validate_sections
from synth_audit.results import AttackResult, AuditWarning, jsonable
from synth_audit.schema import Schema

__all__ = ["REPORT_SCHEMA_VERSION", "AuditReport"]

REPORT_SCHEMA_VERSION = "1.2"
#: The versions this reader accepts (the same major version; 1.0 lacks target, study, run_id).
READABLE_MAJOR = REPORT_SCHEMA_VERSION.split(".")[0]


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
    target: Mapping[str, Any] | None = None
    study: str | None = None
    run_id: str | None = None
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

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

    def max_membership(self) -> tuple[str, Mapping[str, Any]] | None:
        """The membership attack with the highest AUC (ties: the higher CI upper bound)."""
        items = [
            (n, m)
            for n, m in self.membership.items()
            if isinstance(m, Mapping) and isinstance(m.get("auc"), int | float)
        ]
        if not items:
            return None

        def key(kv: tuple[str, Mapping[str, Any]]) -> tuple[float, float]:
            ci = kv[1].get("auc_ci") or [None, None]
            hi = ci[1] if len(ci) > 1 and isinstance(ci[1], int | float) else kv[1]["auc"]
            return float(kv[1]["auc"]), float(hi)

        return max(items, key=key)

    def target_info(self) -> Any:
        """:class:`~synth_audit.targets.TargetInfo` of :attr:`target` (None when not recorded)."""
        if self.target is None:
            return None
        from synth_audit.targets import TargetInfo

        return TargetInfo.from_dict(self.target)

    def summary(self) -> dict[str, Any]:
        worst = self.max_risk()
        hi = self.max_ci_high()
        mia = self.max_membership()
        return {
            "max_risk": None if worst is None else worst[1].risk.value,
            "max_risk_attack": None if worst is None else worst[0],
            "max_risk_ci_high": None if hi is None else hi[1].risk.ci_high,
            "max_risk_ci_high_attack": None if hi is None else hi[0],
            "unmeasurable": self.unmeasurable(),
            "control": self.control_status(),
            "utility_score": self.utility_score,
            "n_warnings": len(self.all_warnings()),
            "max_membership_auc": None if mia is None else float(mia[1]["auc"]),
            "max_membership_attack": None if mia is None else mia[0],
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
        for name, sec in self.sections.items():
            out.extend(
                AuditWarning(str(w["code"]), f"[{name}] {w['message']}")
                for w in sec.get("warnings", ())
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
                "target": None if self.target is None else dict(self.target),
                "study": self.study,
                "run_id": self.run_id,
                "sections": {k: dict(v) for k, v in self.sections.items()},
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
        if major != READABLE_MAJOR:
            raise DataValidationError(
                f"This report has schema_version {version!r}; this synth-audit reads "
                f"{READABLE_MAJOR}.x (up to {REPORT_SCHEMA_VERSION}). Re-run the audit with this "
                "version or upgrade synth-audit."
            )
        target = d.get("target")
        if target is not None and not isinstance(target, Mapping):
            raise DataValidationError(
                f"The report's 'target' must be an object (a TargetInfo) or null. Got "
                f"{type(target).__name__}. Re-run the audit to regenerate report.json."
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
            target=None if target is None else dict(target),
            study=None if d.get("study") is None else str(d["study"]),
            run_id=None if d.get("run_id") is None else str(d["run_id"]),
            sections=validate_sections(d.get("sections")),
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
