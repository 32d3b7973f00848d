"""Reorganization planning (the data: resolvers/reorganization.py)."""

from __future__ import annotations

from typing import Any

import strawberry

from hub.core.errors import HubError
from resolvers import reorganization as data
from resolvers.batch import batched
from resolvers.context import HubContext
from schema.enums import PostLevel, PostScope, QuotaType
from schema.institution import Institution, LeadershipPost, QuotaSummary

Info = strawberry.Info[HubContext, None]


@strawberry.input(description="合并后某编制类型的目标核定数 / the merged institution's target approved quota of a type")
class QuotaTarget:
    quota_type: QuotaType = strawberry.field(description="编制类型 / quota type")
    approved: int = strawberry.field(description="目标核定编制数 / target approved quota")


@strawberry.input(description="合并后某类领导职数的目标核定数 / the merged institution's target leadership posts of a kind")
class PostTarget:
    level: PostLevel = strawberry.field(description="正职或副职 / head or deputy")
    scope: PostScope = strawberry.field(description="单位或内设机构 / unit-level or internal")
    approved: int = strawberry.field(description="目标核定职数 / target approved posts")


@strawberry.type(description="人员结构的一项 / one line of the staff structure")
class StructureCount:
    institution_code: str | None = strawberry.field(description="机构代码（空为全部合计） / institution code; null for the whole set")
    dimension: str = strawberry.field(description="维度（QUOTA_TYPE、POST_CATEGORY、EDUCATION、AGE_BAND、SEX） / dimension")
    value: str | None = strawberry.field(description="取值 / value")
    persons: int = strawberry.field(description="人数（按人计） / persons")


@strawberry.type(description="一个机构的编制和领导职数 / one institution's quotas and leadership posts")
class PlanInstitution:
    institution: Institution = strawberry.field(description="机构 / institution")
    quotas: list[QuotaSummary] = strawberry.field(description="编制（核定、实有） / quotas: approved and occupied")
    posts: list[LeadershipPost] = strawberry.field(description="领导职数（核定、在任） / leadership posts: approved and filled")


@strawberry.type(description="五年内退休 / retirements within five years")
class PlanRetirement:
    institution_code: str = strawberry.field(description="机构代码 / institution code")
    quota_type: QuotaType | None = strawberry.field(description="编制类型 / quota type")
    persons: int = strawberry.field(description="退休人数（按所在编制类型） / persons retiring (by their describing slot's type)")
    slots: int = strawberry.field(description="腾出的编制数 / slots freed")


@strawberry.type(description="合并后某编制类型：核定与转入人员 / the merged institution's quota of a type against the people moved in")
class MergedQuota:
    quota_type: QuotaType | None = strawberry.field(description="编制类型 / quota type")
    approved: int = strawberry.field(description="合并后核定数（目标或合计） / approved after the merger (target, else the sum)")
    summed: int = strawberry.field(description="原各机构核定合计 / the institutions' approved, added up")
    persons: int = strawberry.field(description="转入人数 / persons moved in")
    over: int = strawberry.field(description="超编数 / persons over the approved quota")
    under: int = strawberry.field(description="空编数 / approved slots left vacant")
    freed_in_five_years: int = strawberry.field(description="五年内退休腾出的编制 / slots freed by retirements within five years")


@strawberry.type(description="合并后某类领导职数：核定与在任 / the merged institution's leadership posts of a kind against those in post")
class MergedPost:
    level: PostLevel = strawberry.field(description="正职或副职 / head or deputy")
    scope: PostScope = strawberry.field(description="单位或内设机构 / unit-level or internal")
    approved: int = strawberry.field(description="合并后核定职数（目标或合计） / approved after the merger (target, else the sum)")
    summed: int = strawberry.field(description="原各机构核定合计 / the institutions' approved, added up")
    filled: int = strawberry.field(description="在任人数 / appointments in post")
    over: int = strawberry.field(description="超职数 / appointments over the approved posts")
    under: int = strawberry.field(description="空缺职数 / approved posts left vacant")


@strawberry.type(description="机构改革方案 / a reorganization plan")
class ReorganizationPlan:
    institutions: list[PlanInstitution] = strawberry.field(description="所涉机构 / the institutions")
    structure: list[StructureCount] = strawberry.field(description="人员结构 / staff structure")
    retirements: list[PlanRetirement] = strawberry.field(description="五年内退休 / retirements within five years")
    merged_quotas: list[MergedQuota] = strawberry.field(description="合并后编制 / the merged institution's quotas")
    merged_posts: list[MergedPost] = strawberry.field(description="合并后领导职数 / the merged institution's leadership posts")
    persons: int = strawberry.field(description="人员合计（按人计） / persons, each once")


def answer(found: data.Plan) -> ReorganizationPlan:
    return ReorganizationPlan(
        institutions=[PlanInstitution(institution=Institution(view=v), quotas=q, posts=p)  # type: ignore[arg-type]
                      for (v, q), (_, p) in zip(found.quotas, found.posts, strict=True)],
        structure=[StructureCount(institution_code=c.institution, dimension=c.dimension.value, value=c.value, persons=c.persons)
                   for c in found.structure],
        retirements=[PlanRetirement(institution_code=r.institution, quota_type=r.quota_type, persons=r.persons,  # type: ignore[arg-type]
                                    slots=r.slots) for r in found.retirements],
        merged_quotas=[MergedQuota(quota_type=b.key[0] or None, approved=b.approved, summed=b.summed,  # type: ignore[arg-type]
                                   persons=b.moved, over=b.over, under=b.under, freed_in_five_years=b.freed)
                       for b in found.merged_quotas],
        merged_posts=[MergedPost(level=b.key[0], scope=b.key[1], approved=b.approved, summed=b.summed,  # type: ignore[arg-type]
                                 filled=b.moved, over=b.over, under=b.under) for b in found.merged_posts],
        persons=found.persons,
    )


async def _plan(ctx: HubContext, roots: Any, institution_codes: list[str], target_quotas: list[QuotaTarget] | None,
                target_posts: list[PostTarget] | None) -> list[Any]:
    try:
        quotas: dict[str, int] = {}
        for q in target_quotas or ():
            quotas[q.quota_type.value] = quotas.get(q.quota_type.value, 0) + q.approved
        posts: dict[tuple[str, str], int] = {}
        for p in target_posts or ():
            key = (p.level.value, p.scope.value)
            posts[key] = posts.get(key, 0) + p.approved
        return [answer(await data.plan(ctx, institution_codes, quotas, posts))]
    except HubError as exc:
        return [exc]


@strawberry.type
class ReorganizationQuery:
    @strawberry.field(
        description="机构改革方案：所选机构的人员结构、编制和领导职数、五年内退休，及合并后核定（合计或目标）与转入人员的比较 / "
                    "a reorganization plan: the chosen institutions' staff structure, quotas and posts, retirements within "
                    "five years, and the merged institution's approvals (sum or targets) against the people moved in",
        metadata=batched(_plan))
    async def reorganization_plan(self, info: Info, institution_codes: list[str], target_quotas: list[QuotaTarget] | None = None,
                                  target_posts: list[PostTarget] | None = None) -> ReorganizationPlan | None:
        return await info.context.batchers.load(  # type: ignore[no-any-return]
            _plan, self, institution_codes=institution_codes, target_quotas=target_quotas, target_posts=target_posts)
