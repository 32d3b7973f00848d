"""The department table: which departments the hub joins, their names and the order they are trusted in.

A department is data, not code. Each one is declared by the header of its mapping file
(`department:`, `title: 中文 / English`, `trust:`); adapters.registry.load_departments reads the
shipped mappings and those configured with `HUB_SOURCE_<ID>_MAPPING` into a `Departments` table.
Core only holds the typed table (core reads no mapping), and the modules that need the known
departments (claims in hub.core.principal, policy subjects) are handed one.

Which department keeps what is asked of the mappings by entity (`Sources.holder("personnel")`),
never by naming a department in code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hub.core.errors import BadUserInput

# Lower-case letters and digits: the id is also the settings key HUB_SOURCE_<ID>_URL, split on "_".
DEPARTMENT_ID = re.compile(r"^[a-z][a-z0-9]*$")


@dataclass(frozen=True, slots=True)
class Department:
    """One department: id, Chinese and English names, trust rank and the mapping file declaring it."""

    id: str
    name_zh: str
    name_en: str
    trust: int  # identity fields (name, birth date, sex) are taken from the lowest rank first
    mapping: Path | None = None

    def __post_init__(self) -> None:
        if not DEPARTMENT_ID.match(self.id):
            raise BadUserInput(f"部门标识 {self.id!r} 只能含小写字母和数字且以字母开头 / "
                               f"department id {self.id!r} must be lower-case letters and digits, starting with a letter")

    @property
    def label(self) -> str:
        """'中文 / English'."""
        return f"{self.name_zh} / {self.name_en}"

    @property
    def settings_prefix(self) -> str:
        """The environment prefix of this department's source settings (HUB_SOURCE_<ID>_URL, …_MAPPING)."""
        return f"HUB_SOURCE_{self.id.upper()}_"

    @classmethod
    def titled(cls, id: str, title: str, trust: int, mapping: Path | None = None) -> Department:
        """A department from a bilingual title '中文 / English' (the English part defaults to the whole title)."""
        zh, _, en = title.partition(" / ")
        return cls(id, zh.strip(), (en or zh).strip(), trust, mapping)


class Departments:
    """The departments, in trust order (then by id): iterable, `in`, lookup by id."""

    __slots__ = ("_by_id",)

    def __init__(self, departments: Iterable[Department]) -> None:
        ordered = sorted(departments, key=lambda d: (d.trust, d.id))
        by_id: dict[str, Department] = {}
        for department in ordered:
            if department.id in by_id:
                raise BadUserInput(f"部门 {department.id!r} 重复声明 / department {department.id!r} declared twice")
            by_id[department.id] = department
        self._by_id = by_id

    def __iter__(self) -> Iterator[Department]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, department: object) -> bool:
        return department in self._by_id

    @property
    def ids(self) -> tuple[str, ...]:
        """The department ids in trust order."""
        return tuple(self._by_id)

    def get(self, department: str) -> Department:
        """A department by id, or BAD_USER_INPUT naming the known ones."""
        found = self._by_id.get(department)
        if found is None:
            raise BadUserInput(f"未知部门 {department!r} / unknown department; known: {', '.join(self._by_id)}")
        return found
