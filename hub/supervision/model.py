"""What the cross-check produces: rules (as data), observations (a run's findings, stored alerts), the scope of a run."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from hub.core.codes import in_scope


class Severity(StrEnum):
    """How urgent a finding is; SEVERE findings propose a freeze of their institution."""

    SEVERE = "SEVERE"  # 严重
    WARNING = "WARNING"  # 警告
    NOTICE = "NOTICE"  # 提示 (data quality)


class FreezeKind(StrEnum):
    """What a freeze stops: each kind is governed by one department (which role may freeze it is policy data)."""

    QUOTA_USE = "QUOTA_USE"  # 冻结用编 (establishment office)
    HIRING = "HIRING"  # 冻结招聘/进人 (HR)
    PAYROLL = "PAYROLL"  # 冻结工资变动 (finance)
    APPOINTMENT = "APPOINTMENT"  # 冻结干部任免 (organization department)


FREEZE_KIND_LABELS = {
    FreezeKind.QUOTA_USE: ("用编", "quota use"),
    FreezeKind.HIRING: ("招聘进人", "hiring"),
    FreezeKind.PAYROLL: ("工资变动", "payroll changes"),
    FreezeKind.APPOINTMENT: ("干部任免", "cadre appointments"),
}


Masks = Mapping[str, Callable[[str], str]]  # kind of personal value -> its mask; a kind absent is shown whole
NO_MASKS: Masks = {}
# How evidence stored before it was structured listed values: "value (source/source), value (source)"
_LISTED = re.compile(r"(.+?) \(([^()]*)\)(?:, |$)")


def listing(values: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """(source, value) pairs as evidence: each distinct value with the sources that hold it."""
    seen: dict[str, list[str]] = {}
    for source, value in values:
        sources = seen.setdefault(value, [])
        if source not in sources:
            sources.append(source)
    return [{"value": value, "sources": sources} for value, sources in seen.items()]


def _structured(value: Any) -> Any:
    """A personal value as stored: a listing, a plain value, or an old "v (a/b), w (c)" text as a listing."""
    if isinstance(value, str) and value.endswith(")"):
        found = _LISTED.findall(value)
        if found and "".join(f"{v} ({s}), " for v, s in found) == value + ", ":
            return [{"value": v, "sources": s.split("/")} for v, s in found]
    return value


def _masked(value: Any, mask: Callable[[str], str]) -> Any:
    if isinstance(value, list):
        return [{**item, "value": mask(str(item.get("value", "")))} if isinstance(item, dict) else mask(str(item))
                for item in value]
    return value if value in (None, "—") else mask(str(value))


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(f"{i['value']} ({'/'.join(i['sources'])})" if isinstance(i, dict) else str(i) for i in value)
    return str(value)


@dataclass(frozen=True, slots=True)
class Rule:
    """One cross-check rule: id, severity, the entities it reads, bilingual title and message.

    `needs` names entities (hub.core.records), never departments: the rule runs when the departments
    keeping them (adapters.registry.Sources.holder) answer. The message templates are `str.format`
    strings over the finding's evidence keys, e.g.
    Rule("R01", Severity.SEVERE, frozenset({"pay_line", "payee", "registry_slot"}), "person", "吃空饷", "ghost pay",
         "{month} 由财政发放 {amount} 元…", "paid {amount} in {month} by finance …").
    Evidence is stored as facts (a personal value whole, a listing of values by source); `personal`
    names the evidence keys holding personal values and their kind (id_number, name, birth), and
    the message is rendered when it is read, with the reader's masks (`evidence`, `message`).
    """

    id: str
    severity: Severity
    needs: frozenset[str]  # entities
    subject: Literal["person", "institution", "both"]
    title_zh: str
    title_en: str
    template_zh: str
    template_en: str
    freeze: FreezeKind | None = None  # what a severe alert of this rule proposes to freeze
    personal: Mapping[str, str] = field(default_factory=dict)  # evidence key -> kind of personal value

    def evidence(self, evidence: dict[str, Any], masks: Masks = NO_MASKS) -> dict[str, Any]:
        """The evidence with each personal value masked as the reader must see it."""
        out = dict(evidence)
        for key, kind in self.personal.items():
            if key in out:
                out[key] = _structured(out[key])
                mask = masks.get(kind)
                if mask is not None:
                    out[key] = _masked(out[key], mask)
        return out

    def message(self, evidence: dict[str, Any], masks: Masks = NO_MASKS) -> str:
        """The bilingual message naming the evidence, personal values masked for the reader."""
        text = {k: _text(v) for k, v in self.evidence(evidence, masks).items()}
        return f"{self.template_zh.format(**text)} / {self.template_en.format(**text)}"

    def departments(self, holders: Mapping[str, str]) -> list[str]:
        """The departments the rule reads: the keepers of its entities (`holders`: entity -> department;
        an entity no department keeps is listed as itself)."""
        return sorted({holders.get(entity, entity) for entity in self.needs})


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule function returns: the stable facts, the evidence to show, the institution involved."""

    facts: dict[str, Any]
    evidence: dict[str, Any]
    institution_code: str | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """What one rule observed about one person or institution as of a month.

    A run's `Finding` and a stored alert (hub.supervision.alerts.Alert: the same observation kept
    across runs, `month` its latest, with a lifecycle) are both observations.
    """

    rule: str
    severity: Severity
    month: str
    id_number: str | None
    institution_code: str | None
    region_code: str | None
    facts: dict[str, Any]
    evidence: dict[str, Any]
    message: str

    @property
    def subject(self) -> str:
        """The person's ID number, else the institution code."""
        return self.id_number or self.institution_code or ""

    def observed(self) -> dict[str, Any]:
        """The observation's fields by name as the alerts table keeps them (the month aside)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(Observation) if f.name != "month"}
        out["severity"] = self.severity.value
        return out


@dataclass(frozen=True, slots=True)
class Finding(Observation):
    """One finding of one rule about one person or institution in one run."""

    institutions: tuple[str, ...] = field(default=(), compare=False)  # every institution involved (scope)

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
