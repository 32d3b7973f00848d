"""The league's institutions: kinds, names, ranks, codes in each department, persons per unit."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from hub.core import ids
from hub.core.codes import (
    REGIONS,
    UNIT_LEVELS,
    Funding,
    InstitutionType,
    PostLevel,
    PostScope,
    QuotaType,
    Rank,
    region_of,
)
from hub.demo import names as N


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of institution: how many per 400, average staff, type, funding and quota mix."""

    key: str
    per400: int
    size: float
    type: InstitutionType
    funding: Funding
    quotas: tuple[tuple[QuotaType, float], ...]
    male: float = 0.55
    pi_mix: tuple[float, float, float] = (0.3, 0.55, 0.15)  # management, technical, worker (SY/JS)
    cadres: bool = True  # whether 组织部 manages its leaders
    internal: bool = False  # whether it has internal sections with their own leaders


def _quotas(text: str) -> tuple[tuple[QuotaType, float], ...]:
    """'XZ .88 GQ .12' -> ((XZ, 0.88), (GQ, 0.12)): quota types and their share of a unit's staff."""
    parts = text.split()
    return tuple((QuotaType(parts[i]), float(parts[i + 1])) for i in range(0, len(parts), 2))


T, F = InstitutionType, Funding
KINDS = (
    Kind("agency", 76, 22, T.AGENCY, F.FULL, _quotas("XZ .88 GQ .12"), 0.58, internal=True),
    Kind("politics", 14, 45, T.AGENCY, F.FULL, _quotas("ZF .82 XZ .1 GQ .08"), 0.66, internal=True),
    Kind("town", 22, 20, T.AGENCY, F.FULL, _quotas("XZ .85 GQ .15"), 0.6, internal=True),
    Kind("cg", 28, 14, T.CIVIL_SERVICE_PI, F.FULL, _quotas("CG .9 GQ .1"), internal=True),
    Kind("mass", 22, 7, T.MASS_ORG, F.FULL, _quotas("XZ .75 CG .15 GQ .1"), 0.45),
    Kind("school", 75, 52, T.PI_CLASS_1, F.FULL, _quotas("JS .94 GQ .06"), 0.36, (0.03, 0.95, 0.02), False),
    Kind("hospital", 10, 100, T.PI_CLASS_2, F.PARTIAL, _quotas("SY 1"), 0.35, (0.1, 0.82, 0.08)),
    Kind("clinic", 20, 14, T.PI_CLASS_1, F.FULL, _quotas("SY 1"), 0.45, (0.1, 0.8, 0.1)),
    Kind("service", 98, 10, T.PI_CLASS_1, F.FULL, _quotas("SY .92 GQ .08")),
    Kind("pi2", 20, 14, T.PI_CLASS_2, F.PARTIAL, _quotas("SY 1")),
    Kind("commercial", 15, 10, T.COMMERCIAL_PI, F.SELF, _quotas("SY 1"), 0.6),
)
_REGISTRATION = {T.AGENCY: "11", T.MASS_ORG: "13"}  # else 12: public institutions
_BUDGET_PREFIX = {T.AGENCY: "101", T.MASS_ORG: "105", T.COMMERCIAL_PI: "401"}  # else 301: public institutions
USCC_SOURCES = ("T_JG", "RS_DW", "GZ_DW", "B01")
BASES = {"agency": N.DEPARTMENTS, "politics": N.POLITICS, "cg": N.CIVIL_SERVICE_UNITS, "mass": N.MASS_ORGS}
RUN_BY = {"service": N.SERVICES, "pi2": N.PI2_UNITS, "commercial": N.COMMERCIAL}  # (unit, parent department)


@dataclass(slots=True, eq=False)
class Institution:
    """One institution with its true identity and how each department records it."""

    idx: int
    kind: Kind
    name: str  # canonical, with full-width brackets around a 挂牌 name
    region: str  # XZQH, zones as 8-digit sub-codes
    rank: Rank
    uscc: str
    founded: dt.date
    parent: int | None = None
    school: str | None = None
    size: int = 0  # persons allocated (active and departed)
    posts: dict[tuple[PostLevel, PostScope], int] = field(default_factory=dict)  # approved leadership posts
    written: dict[str, str | None] = field(default_factory=dict)  # source table -> code as written
    hds: dict[QuotaType, int] = field(default_factory=dict)  # approved quota per type (T_BZ.HDS)
    jgid: str = ""
    b0111: str = ""
    dwbm: str = ""
    dwdm: str = ""

    @property
    def type(self) -> InstitutionType:
        """Institution type (机构类别)."""
        return self.kind.type

    @property
    def funding(self) -> Funding:
        """Funding mode (经费形式)."""
        return self.kind.funding

    @property
    def home(self) -> str:
        """The 6-digit division this institution belongs to."""
        return region_of(self.region) or self.region


class _Namer:
    """Unique names per kind and region: real names first, then numbered branches."""

    def __init__(self) -> None:
        self.used: dict[tuple[str, str], int] = {}

    def next(self, key: str, region: str, bases: tuple[str, ...]) -> tuple[str, int]:
        j = self.used.get((key, region), 0)
        self.used[(key, region)] = j + 1
        n = len(bases)
        base = bases[j % n]
        return (base if j < n else f"{base}第{N.chinese_number(j // n + 1)}分部"), j % n


def _school(rng: random.Random, namer: _Namer, prefix: str, region: str) -> tuple[str, str]:
    level = rng.choices(("小学", "初中", "高中", "完全中学"), (55, 20, 10, 15))[0]
    special = namer.used.get(("special", region), 0)
    if special < len(N.SPECIAL_SCHOOLS) and rng.random() < 0.3:
        namer.used[("special", region)] = special + 1
        return prefix + N.SPECIAL_SCHOOLS[special], "完全中学" if special == 0 else "小学"
    stem = {"小学": "小学", "初中": "中学", "高中": "高级中学", "完全中学": "中学"}[level]
    j = namer.used.get(("school", region + stem), 0) + 1
    namer.used[("school", region + stem)] = j
    return f"{prefix}第{N.chinese_number(j)}{stem}", level


def _bases(kind: Kind, region: str) -> tuple[str, ...]:
    """The real names an institution of this kind can take in a region (then numbered branches)."""
    if kind.key in ("town", "clinic"):
        return N.TOWNS.get(region, ())
    if kind.key == "hospital":
        return N.HOSPITALS.get("banner" if region in N.BANNERS else region, ())
    if kind.key in RUN_BY:
        return tuple(b for b, _ in RUN_BY[kind.key])
    return BASES.get(kind.key, ("",))


def _region(kind: Kind, rng: random.Random, namer: _Namer) -> str:
    """A region for a new institution, preferring those where a real name of its kind is still free."""
    pairs = [
        (r, w * len(_bases(kind, r)) if kind.key in ("town", "clinic") else w)
        for r, w in N.INSTITUTION_REGIONS.items()
        if _bases(kind, r)
    ]
    if kind.key == "school":
        pairs = list(N.INSTITUTION_REGIONS.items())
    free = [(r, w) for r, w in pairs if namer.used.get((kind.key, r), 0) < len(_bases(kind, r))]
    pool = free or pairs
    return rng.choices([r for r, _ in pool], [w for _, w in pool])[0]


def _name(
    kind: Kind, rng: random.Random, namer: _Namer, region: str
) -> tuple[str, str, str | None, str | None]:
    """(name, name without its bracketed alias, school type, parent department) of a new institution."""
    prefix = REGIONS[region]
    if kind.key == "school":
        name, level = _school(rng, namer, prefix, region)
        return name, name, level, "教育体育局"
    base, i = namer.next(kind.key, region, _bases(kind, region))
    if kind.key in ("town", "clinic"):
        name = prefix + base + ("人民政府" if kind.key == "town" else "卫生院")
        return name, name, None, None if kind.key == "town" else "卫生健康委员会"
    if kind.key == "hospital":
        return prefix + base, prefix + base, None, "卫生健康委员会"
    if kind.key in RUN_BY:
        return prefix + base, prefix + base, None, RUN_BY[kind.key][i][1]
    alias = N.ALIASES.get(base)
    return prefix + base + (f"（{prefix}{alias}）" if alias else ""), prefix + base, None, None


def _rank(kind: Kind, rng: random.Random, region: str, school: str | None) -> Rank:
    league = region == "152900"
    if kind.key == "cg" and league:
        return Rank.SECTION_HEAD if rng.random() < 0.7 else Rank.DEPARTMENT_DEPUTY
    if kind.key in ("agency", "politics", "mass") and league:
        return Rank.DEPARTMENT_HEAD
    if kind.key in ("agency", "politics", "town"):
        return Rank.SECTION_HEAD
    if kind.key == "school":
        return {"高中": Rank.SECTION_HEAD, "完全中学": Rank.SECTION_HEAD, "初中": Rank.SECTION_DEPUTY}.get(
            school or "", rng.choice((Rank.SECTION_DEPUTY, Rank.UNIT))
        )
    if kind.key == "hospital":
        return Rank.DEPARTMENT_HEAD if league and rng.random() < 0.5 else Rank.SECTION_HEAD
    options = {
        "cg": (Rank.SECTION_HEAD, Rank.SECTION_DEPUTY),
        "mass": (Rank.SECTION_HEAD, Rank.SECTION_DEPUTY),
        "pi2": (Rank.SECTION_HEAD, Rank.SECTION_DEPUTY),
        "clinic": (Rank.UNIT, Rank.SECTION_DEPUTY),
        "service": (Rank.SECTION_HEAD, Rank.SECTION_DEPUTY, Rank.UNIT)
        if league
        else (Rank.SECTION_DEPUTY, Rank.UNIT),
        "commercial": (Rank.UNIT, Rank.SECTION_DEPUTY),
    }
    return rng.choice(options[kind.key])


def _org_body(inst_type: InstitutionType, idx: int) -> str:
    # An affine permutation of the index keeps codes unique while looking scattered.
    if inst_type == InstitutionType.AGENCY:
        return f"0{(idx * 7919 + 1161941) % 10**7:07d}"
    if inst_type == InstitutionType.MASS_ORG:
        return f"5{(idx * 7919 + 7654321) % 10**7:07d}"
    return f"MB{(idx * 7919 + 195703) % 10**6:06d}"


def _posts(inst: Institution) -> dict[tuple[PostLevel, PostScope], int]:
    head, deputy = UNIT_LEVELS[inst.rank]
    if not head:
        return {}
    key, size = inst.kind.key, inst.size
    posts = {(PostLevel.HEAD, PostScope.UNIT): 1}
    if deputy:
        n = {"agency": 2, "politics": 3, "town": 3, "hospital": 3, "school": 2}.get(
            key, 1 if size >= 8 else 0
        )
        bigger = inst.rank == Rank.DEPARTMENT_HEAD and key in ("agency", "politics")
        posts[(PostLevel.DEPUTY, PostScope.UNIT)] = n + bigger
    if inst.kind.internal and size >= 10:
        posts[(PostLevel.HEAD, PostScope.INTERNAL)] = size // 10
        if size >= 30:
            posts[(PostLevel.DEPUTY, PostScope.INTERNAL)] = size // 30
    return {k: v for k, v in posts.items() if v}


def _written(inst: Institution, rng: random.Random) -> dict[str, str | None]:
    """The code each source writes; every institution keeps its valid USCC in at least one."""
    org = inst.uscc[8:17]
    b01 = rng.random()  # 组织部: USCC, 9-character organization code (some with the old hyphen), or blank
    written = {
        "T_JG": inst.uscc if rng.random() < 0.92 else None,
        "RS_DW": inst.uscc if rng.random() < 0.97 else None,
        "GZ_DW": inst.uscc if rng.random() < 0.90 else None,
        "B01": inst.uscc
        if b01 < 0.6
        else org
        if b01 < 0.78
        else f"{org[:8]}-{org[8]}"
        if b01 < 0.95
        else None,
    }
    if not any(v == inst.uscc for v in written.values()):
        written["RS_DW"] = inst.uscc
    return written


def _allocate(weights: list[float], total: int) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder, ties by position)."""
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    sizes = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (sizes[i] - raw[i], i))
    for i in order[: total - sum(sizes)]:
        sizes[i] += 1
    return sizes


def build_institutions(count: int, persons: int, seed: int) -> list[Institution]:
    """All institutions in generation order (parents first), each with its persons allocated."""
    rng = random.Random(f"{seed}:institutions")
    namer = _Namer()
    per_kind = _allocate([k.per400 for k in KINDS], count)
    out: list[Institution] = []
    by_name: dict[str, int] = {}  # normalized full name -> index, to prove names unique
    plain: dict[str, int] = {}  # name without alias -> index, to find parents
    region_seq: dict[str, int] = {}
    regions = tuple(N.INSTITUTION_REGIONS)
    for kind, n in zip(KINDS, per_kind, strict=True):
        for _ in range(n):
            region = _region(kind, rng, namer)
            name, bare, school, parent = _name(kind, rng, namer, region)
            idx = len(out)
            registration = _REGISTRATION.get(kind.type, "12")
            start = 1985 if region in ("152900",) + N.BANNERS else 2003
            inst = Institution(
                idx,
                kind,
                name,
                region,
                _rank(kind, rng, region, school),
                ids.make_uscc(registration, region[:6], _org_body(kind.type, idx)),
                dt.date(rng.randint(start, 2019), rng.randint(1, 12), rng.randint(1, 28)),
                school=school,
            )
            if parent:
                inst.parent = plain.get(REGIONS[region] + parent, plain.get(REGIONS[inst.home] + parent))
            seq = region_seq[region] = region_seq.get(region, 0) + 1
            inst.jgid = f"JG{idx + 1:06d}"
            inst.b0111 = f"{regions.index(region) + 1:03d}.{seq:05d}"
            inst.dwbm = f"{inst.home}{regions.index(region)}{seq:05d}"
            inst.dwdm = f"{_BUDGET_PREFIX.get(kind.type, '301')}{idx + 1:06d}"
            key = ids.normalize_name(name) or name
            if key in by_name:
                raise AssertionError(f"duplicate institution name {name}")
            by_name[key] = plain[bare] = idx
            out.append(inst)
    weights = [inst.kind.size * rng.lognormvariate(0, 0.45) for inst in out]
    for inst, size in zip(out, _allocate(weights, persons), strict=True):
        inst.size = size
        inst.posts = _posts(inst)
        inst.written = _written(inst, rng)
    return out
