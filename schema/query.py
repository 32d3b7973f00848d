"""The root Query: lookups by key and keyset-paged lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry

from hub.core.codes import REGIONS
from hub.core.errors import HubError
from resolvers import institutions as inst
from resolvers import people
from resolvers.batch import Reads, batched, reading, reads
from resolvers.context import HubContext
from resolvers.loaders import SlotsByPerson
from resolvers.pages import Page
from schema import pagination
from schema.enums import InstitutionType, QuotaType
from schema.institution import Institution, views_of
from schema.pagination import Connection, PageInfo, decode_cursor, encode_cursor, page_size
from schema.person import Person, find_person

Info = strawberry.Info[HubContext, None]


@strawberry.type(description="行政区划 / administrative division")
class Region:
    code: str = strawberry.field(description="区划代码 / division code")
    name: str = strawberry.field(description="名称 / name")


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


def _connection(found: Page[Any]) -> Connection[Any]:
    end = encode_cursor(found.end) if found.end is not None else None
    return Connection(edges=pagination.edges(found.items, found.positions),
                      page_info=PageInfo(has_next_page=found.more, end_cursor=end), _count=found.count)


async def _institutions(
    ctx: HubContext,
    first: int | None,
    after: str | None,
    region_code: str | None,
    types: list[InstitutionType] | None,
    quota_type: QuotaType | None,
    name: str | None,
) -> Connection[Institution]:
    found = await inst.page(ctx, page_size(first, ctx.settings.max_page_size), decode_cursor(after, str), region_code,
                            [t.value for t in types] if types else None, quota_type.value if quota_type else None, name)
    return _connection(Page(views_of(found.items), found.positions, found.more, found.end, found.count))


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
    return _connection(await people.page(ctx, page_size(first, ctx.settings.max_page_size), decode_cursor(after, str),
                                              region_code, institution_code, quota_type.value if quota_type else None, name,
                                              include_left))


async def _persons(ctx: HubContext, first: int | None, after: str | None, region_code: str | None,
                   institution_code: str | None, quota_type: QuotaType | None) -> Connection[Person]:
    return _connection(await people.person_page(ctx, page_size(first, ctx.settings.max_page_size), decode_cursor(after, str),
                                                region_code, institution_code, quota_type.value if quota_type else None))


async def _person_count(ctx: HubContext, region_code: str | None, institution_code: str | None,
                        quota_type: QuotaType | None) -> int:
    where = await people.slot_where(ctx, region_code, institution_code, quota_type.value if quota_type else None, None, False)
    return await people.person_count(ctx, where)


INSTITUTION, INSTITUTIONS, PERSON, PEOPLE = _root(_institution), _root(_institutions), _root(find_person), _root(_people)
PERSONS, PERSON_COUNT = _root(_persons), _root(_person_count)
# What listing persons reads of the slots: the scan's, and what choosing each person's describing slot reads.
_PERSONS_READS = reads(registry_slot={"slot_id", "id_number"},
                       via={SlotsByPerson: {"slot_id", "status", "left_on", "quota_type", "unit_local_id"}})


@strawberry.type
class Query:
    @strawberry.field(description="按统一社会信用代码（或枢纽交叉码）查机构 / an institution by USCC or crosswalk code", metadata=batched(INSTITUTION, reads(unit=())))
    async def institution(self, info: Info, code: str) -> Institution | None:
        return await info.context.batchers.load(INSTITUTION, self, code=code)  # type: ignore[no-any-return]

    @strawberry.field(description="机构列表（键集分页） / institutions, keyset-paged", metadata=batched(INSTITUTIONS, reads(unit={"local_id"})))
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
        metadata=batched(PERSON, Reads(entities={facet.entity: frozenset() for facet in people.FACETS})),  # whether any facet has them
    )
    async def person(self, info: Info, id_number: str) -> Person | None:
        return await info.context.batchers.load(PERSON, self, id_number=id_number)  # type: ignore[no-any-return]

    @strawberry.field(description="人员列表：每人一次（一人多编只列一次；totalCount 计人数） / persons, each once however "
                      "many registry slots they hold, keyset-paged (totalCount counts persons); a page may hold fewer "
                      "than `first` while more follow", metadata=batched(PERSONS, _PERSONS_READS))
    async def persons(
        self,
        info: Info,
        first: int | None = 100,
        after: str | None = None,
        region_code: str | None = None,
        institution_code: str | None = None,
        quota_type: QuotaType | None = None,
    ) -> Connection[Person] | None:
        return await info.context.batchers.load(  # type: ignore[no-any-return]
            PERSONS, self, first=first, after=after, region_code=region_code, institution_code=institution_code,
            quota_type=quota_type,
        )

    @strawberry.field(description="在编人数（按人计，非编制记录） / persons holding an active registry slot (persons, not slots)",
                      metadata=batched(PERSON_COUNT, reads()))
    async def person_count(
        self, info: Info, region_code: str | None = None, institution_code: str | None = None,
        quota_type: QuotaType | None = None,
    ) -> int | None:
        return await info.context.batchers.load(  # type: ignore[no-any-return]
            PERSON_COUNT, self, region_code=region_code, institution_code=institution_code, quota_type=quota_type)

    @strawberry.field(description="实名制人员列表：按编制记录，一人多编出现多次（totalCount 计记录数） / registry slots, "
                      "keyset-paged: a person holding two slots appears twice (totalCount counts slots)", metadata=batched(PEOPLE, reads(registry_slot={"slot_id", "id_number"})))
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

    @strawberry.field(description="行政区划 / divisions of the league", metadata=reading())
    def regions(self) -> list[Region]:
        return [Region(code=c, name=n) for c, n in REGIONS.items()]
