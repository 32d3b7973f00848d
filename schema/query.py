"""The root Query: lookups by key and keyset-paged lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry

from adapters.base import Contains
from hub.core.codes import REGIONS
from hub.core.errors import HubError
from resolvers import institutions as inst
from resolvers import people
from resolvers.batch import batched, reading
from resolvers.context import HubContext
from resolvers.institutions import ACTIVE_SLOT, InstitutionView
from schema import pagination
from schema.enums import InstitutionType, QuotaType
from schema.institution import Institution
from schema.pagination import Connection, Edge, PageInfo, decode_cursor, encode_cursor, page_size
from schema.person import Person, find_person, listed

Info = strawberry.Info[HubContext, None]


@strawberry.type(description="行政区划 / administrative division")
class Region:
    code: str = strawberry.field(description="区划代码 / division code")
    name: str = strawberry.field(description="名称 / name")


async def _page(ctx: HubContext, entity: str, key: str, where: dict[str, Any], first: int | None, after: str | None) -> tuple[list[Any], bool]:
    size = page_size(first, ctx.settings.max_page_size)
    base = ctx.sources.base
    scoped = ctx.scoped(base, entity, where)
    rows = await ctx.sources[base].scan(
        entity, order_by=key, where=scoped, after=decode_cursor(after, str), limit=size + 1, fields=ctx.loaders.fields.get(entity)
    )
    return rows[:size], len(rows) > size


async def _count(ctx: HubContext, entity: str, where: dict[str, Any]) -> int:
    base = ctx.sources.base
    return int(sum(row[-1] for row in await ctx.sources[base].count(entity, where=ctx.scoped(base, entity, where))))


def _root(fn):  # type: ignore[no-untyped-def]
    """A root field's logic as a batch function over the one root value."""

    async def batch(ctx: HubContext, roots: Sequence[Any], **args: Any) -> list[Any]:
        try:
            return [await fn(ctx, **args)]
        except HubError as exc:
            return [exc]

    return batch


async def _institution(ctx: HubContext, code: str) -> Institution | None:
    view = await inst.by_code(ctx, code)
    return Institution(view=view) if view else None


async def _institutions(
    ctx: HubContext,
    first: int | None,
    after: str | None,
    region_code: str | None,
    types: list[InstitutionType] | None,
    quota_type: QuotaType | None,
    name: str | None,
) -> Connection[Institution]:
    where = inst.list_where(region_code, [t.value for t in types] if types else None, name)
    if quota_type is not None:
        base = ctx.sources.base
        scoped = ctx.scoped(base, "quota", {"quota_type": quota_type.value})
        counts = await ctx.sources[base].count("quota", group_by=["unit_local_id"], where=scoped)
        where["local_id"] = sorted({row[0] for row in counts})
    units, more = await _page(ctx, "unit", "local_id", where, first, after)
    cw = await ctx.crosswalk.get()
    edges = []
    for unit in units:
        ident = cw.identity(cw.code_of(cw.base, unit.local_id) or "")
        if ident is not None:
            edges.append(Edge(node=Institution(view=InstitutionView(ident, unit)), position=unit.local_id))
    end = encode_cursor(units[-1].local_id) if units else None
    return Connection(edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=end), _count=lambda: _count(ctx, "unit", where))


async def _people(
    ctx: HubContext,
    first: int | None,
    after: str | None,
    region_code: str | None,
    institution_code: str | None,
    quota_type: QuotaType | None,
    name: str | None,
    include_left: bool,
) -> Connection[Person]:
    where: dict[str, Any] = {} if include_left else dict(ACTIVE_SLOT)
    if quota_type is not None:
        where["quota_type"] = quota_type.value
    if name:
        where["name"] = Contains(name.strip())
    if region_code or institution_code:
        cw = await ctx.crosswalk.get()
        codes = [institution_code] if institution_code else list(cw.by_code)
        idents = [cw.identity(c) for c in codes]
        where["unit_local_id"] = [
            i.local_id(cw.base)
            for i in idents
            if i and i.local_id(cw.base) and (not region_code or (i.region_code or "").startswith(region_code))
        ]
    slots, more = await _page(ctx, "registry_slot", "slot_id", where, first, after)
    named = [s for s in slots if s.id_number]
    edges = pagination.edges(listed(named), [s.slot_id for s in named])
    end = encode_cursor(slots[-1].slot_id) if slots else None
    return Connection(edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=end), _count=lambda: _count(ctx, "registry_slot", where))


INSTITUTION, INSTITUTIONS, PERSON, PEOPLE = _root(_institution), _root(_institutions), _root(find_person), _root(_people)


@strawberry.type
class Query:
    @strawberry.field(description="按统一社会信用代码（或枢纽交叉码）查机构 / an institution by USCC or crosswalk code", metadata=batched(INSTITUTION, {"unit": ()}))
    async def institution(self, info: Info, code: str) -> Institution | None:
        return await info.context.batchers.load(INSTITUTION, self, code=code)  # type: ignore[no-any-return]

    @strawberry.field(description="机构列表（键集分页） / institutions, keyset-paged", metadata=batched(INSTITUTIONS, {"unit": {"local_id"}}))
    async def institutions(
        self,
        info: Info,
        first: int | None = 100,
        after: str | None = None,
        region_code: str | None = None,
        types: list[InstitutionType] | None = None,
        quota_type: QuotaType | None = None,
        name: str | None = None,
    ) -> Connection[Institution] | None:
        return await info.context.batchers.load(  # type: ignore[no-any-return]
            INSTITUTIONS, self, first=first, after=after, region_code=region_code, types=types, quota_type=quota_type, name=name
        )

    @strawberry.field(
        description="按身份证号查人员（15位、小写x、全角均可） / a person by resident ID number",
        metadata=batched(PERSON, {entity: () for _, entity in people.FACETS.values()}),  # whether any facet has them
    )
    async def person(self, info: Info, id_number: str) -> Person | None:
        return await info.context.batchers.load(PERSON, self, id_number=id_number)  # type: ignore[no-any-return]

    @strawberry.field(description="实名制人员列表（键集分页） / people in the real-name registry, keyset-paged", metadata=batched(PEOPLE, {"registry_slot": {"slot_id", "id_number"}}))
    async def people(
        self,
        info: Info,
        first: int | None = 100,
        after: str | None = None,
        region_code: str | None = None,
        institution_code: str | None = None,
        quota_type: QuotaType | None = None,
        name: str | None = None,
        include_left: bool = False,
    ) -> Connection[Person] | None:
        return await info.context.batchers.load(  # type: ignore[no-any-return]
            PEOPLE, self, first=first, after=after, region_code=region_code, institution_code=institution_code,
            quota_type=quota_type, name=name, include_left=include_left,
        )

    @strawberry.field(description="行政区划 / divisions of the league", metadata=reading({}))
    def regions(self) -> list[Region]:
        return [Region(code=c, name=n) for c, n in REGIONS.items()]
