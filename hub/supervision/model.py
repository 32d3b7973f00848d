"""What the cross-check produces: rules (as data), findings, and the scope a run covers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from hub.codes import in_scope


class Severity(StrEnum):
    """How urgent a finding is; SEVERE findings propose a freeze of their institution."""

    SEVERE = "SEVERE"  # 严重
    WARNING = "WARNING"  # 警告
    NOTICE = "NOTICE"  # 提示 (data quality)


class FreezeKind(StrEnum):
    """What a freeze stops."""

    HIRING = "HIRING"  # 冻结进人
    PAYROLL = "PAYROLL"  # 冻结工资变动


@dataclass(frozen=True, slots=True)
class Rule:
    """One cross-check rule: id, severity, the departments it needs, bilingual title and message.

    The message templates are `str.format` strings over the finding's evidence keys, e.g.
    Rule("R01", Severity.SEVERE, frozenset({"finance", "establishment"}), "person", "吃空饷", "ghost pay",
         "{month} 由财政发放 {amount} 元…", "paid {amount} in {month} by finance …").
    """

    id: str
    severity: Severity
    needs: frozenset[str]
    subject: Literal["person", "institution", "both"]
    title_zh: str
    title_en: str
    template_zh: str
    template_en: str
    freeze: FreezeKind | None = None  # what a severe alert of this rule proposes to freeze

    def message(self, evidence: dict[str, Any]) -> str:
        """The bilingual message naming the evidence."""
        return f"{self.template_zh.format(**evidence)} / {self.template_en.format(**evidence)}"


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule function returns: the stable facts, the evidence to show, the institution involved."""

    facts: dict[str, Any]
    evidence: dict[str, Any]
    institution_code: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding of one rule about one person or institution, as of a reference month."""

    rule: str
    severity: Severity
    month: str
    id_number: str | None
    institution_code: str | None
    region_code: str | None
    facts: dict[str, Any]
    evidence: dict[str, Any]
    message: str
    institutions: tuple[str, ...] = field(default=(), compare=False)  # every institution involved (scope)

    @property
    def subject(self) -> str:
        """The person's ID number, else the institution code."""
        return self.id_number or self.institution_code or ""

    @property
    def fingerprint(self) -> str:
        """Rule + subject + a hash of the facts: the same finding on the same facts across runs."""
        facts = json.dumps(self.facts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        return hashlib.sha256(f"{self.rule}|{self.subject}|{facts}".encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """The stable line format of `hub check --format jsonl`."""
        out: dict[str, Any] = {"rule": self.rule, "severity": self.severity.value, "month": self.month}
        if self.id_number is not None:
            out["idNumber"] = self.id_number
        if self.institution_code is not None:
            out["institutionCode"] = self.institution_code
        if self.region_code is not None:
            out["regionCode"] = self.region_code
        out["evidence"] = self.evidence
        out["message"] = self.message
        return out


@dataclass(frozen=True, slots=True)
class Scope:
    """Which findings a run reports: institutions (canonical codes) and/or a region prefix."""

    institutions: frozenset[str] | None = None
    region: str | None = None

    @property
    def everything(self) -> bool:
        """Whether the run covers the whole league."""
        return self.institutions is None and self.region is None

    def admits_institution(self, code: str | None, region: str | None) -> bool:
        """Whether an institution (code and its region) is inside the scope."""
        if self.institutions is not None and code not in self.institutions:
            return False
        return self.region is None or in_scope(region, self.region)
