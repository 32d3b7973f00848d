"""The hub's GraphQL schema: an Apollo Federation v2 subgraph assembled from the domain modules."""

from __future__ import annotations

from typing import Any, NoReturn

import strawberry
from graphql import GraphQLObjectType
from strawberry.exceptions import DuplicatedTypeName
from strawberry.federation.schema import FederationAny
from strawberry.tools import merge_types
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from adapters.base import Capability, Need
from adapters.registry import load_departments, source_mappings
from hub.core.errors import MappingError
from hub.core.settings import Settings
from resolvers.trends import NEEDS as TREND_NEEDS
from schema.admin import AdminMutation, AdminQuery
from schema.allocation import AllocationQuery
from schema.annual import AnnualQuery
from schema.change_events import ChangeEventsMutation, ChangeEventsQuery
from schema.custom import CustomSchema, custom_schema
from schema.enums import install_departments
from schema.execution.executor import HubExecutor
from schema.execution.extensions.audit import PERSONAL_TYPES
from schema.federation import FEDERATION_VERSION, Info, ServiceQuery, check_representations
from schema.forecast import ForecastQuery
from schema.idempotency import idempotent
from schema.institution import Institution
from schema.masking import MASKABLE
from schema.person import Person
from schema.query import Query
from schema.reorganization import ReorganizationQuery
from schema.reports import ReportsMutation, ReportsQuery
from schema.role_schema import role_schema_cache
from schema.stats import StatsQuery
from schema.supervision import SupervisionMutation, SupervisionQuery
from schema.trends import TrendQuery
from schema.workflow import WorkflowMutation, WorkflowQuery

_QUERIES = "查询 / queries"
_STATS = "统计 / statistics"
# What answering queries asks of the sources (checked with their capabilities when the hub starts):
# every entity read by key and by keyset pages, units streamed into the crosswalk, and counts on the
# registry's keeper (institutions, people, quotas of a type); statistics group the posts, appointments and
# pay lines in their sources and stream the registry and HR's person records (resolvers/stats.py).
NEEDS: tuple[Need, ...] = (
    Need("*", Capability.READ, _QUERIES),
    Need("unit", Capability.STREAM, "机构对照 / the institution crosswalk"),
    Need("registry_slot", Capability.AGGREGATE, _QUERIES),
    Need("quota", Capability.AGGREGATE, _QUERIES),
    *TREND_NEEDS,
    *(Need(e, Capability.AGGREGATE, _STATS) for e in ("leadership_post", "appointment", "pay_line")),
    *(Need(e, Capability.STREAM, _STATS) for e in ("registry_slot", "personnel", "title", "post_assignment")),
)


class HubSchema(strawberry.federation.Schema):
    """The federation schema. Operations are answered by schema.execution.Execution, never by strawberry's
    `execute`: that would skip the policy, the limits and the audit log, so it refuses. It keeps the
    role schemas made from it (schema/role_schema.py), so they live and go with the app that built it."""

    def __init__(self, *args: Any, custom: CustomSchema | None = None, **kwargs: Any) -> None:
        self.custom = custom or CustomSchema()  # read by get_fields while the types are converted
        super().__init__(*args, **kwargs)
        self.role_schemas = role_schema_cache()
        self.maskable: dict[tuple[str, str], str] = {**MASKABLE, **self.custom.maskable}  # (Type, field) -> mask
        self.personal_types: frozenset[str] = PERSONAL_TYPES | self.custom.personal  # reads audited

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        """A type's fields, with those the mappings' custom entities add to it (schema/custom.py)."""
        return [*type_definition.fields, *self.custom.fields.get(type_definition.name, ())]

    async def execute(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise TypeError("operations are answered by schema.execution.Execution")

    def execute_sync(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise TypeError("operations are answered by schema.execution.Execution")

    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        """strawberry's `_entities`, after every representation is checked to name an entity type."""
        check_representations(info, representations)
        return super().entities_resolver(info, representations)


def build_schema(settings: Settings | None = None) -> HubSchema:
    """The schema: its types, and the executor graphql-core runs it with (schema/execution/); its
    `Department` enum lists the departments the settings' mappings declare, and their custom
    entities add types and fields (schema/custom.py)."""
    settings = settings or Settings()
    custom = custom_schema(source_mappings(settings).values())
    for owner in (Institution, Person):
        have = {f.python_name for f in owner.__strawberry_definition__.fields}  # type: ignore[attr-defined, union-attr]
        taken = sorted(have & {f.python_name for f in custom.fields.get(owner.__name__, ())})
        if taken:
            raise MappingError(f"自定义实体的字段与 {owner.__name__} 已有字段重名：{taken} / custom entity fields {taken} are "
                               f"fields {owner.__name__} has already; name them otherwise")
    try:
        schema = HubSchema(
            query=merge_types("Query", (Query, StatsQuery, AdminQuery, SupervisionQuery, WorkflowQuery, ChangeEventsQuery,
                                        ForecastQuery, TrendQuery, ReportsQuery, AllocationQuery, ReorganizationQuery,
                                        AnnualQuery, ServiceQuery)),
            mutation=idempotent(merge_types("Mutation", (AdminMutation, SupervisionMutation, WorkflowMutation,
                                                         ChangeEventsMutation, ReportsMutation))),
            types=[Institution, Person, *custom.types],
            execution_context_class=HubExecutor,
            federation_version=FEDERATION_VERSION,
            custom=custom,
        )
    except DuplicatedTypeName as exc:  # a custom entity's `type` names one of the hub's own types
        raise MappingError(f"自定义实体的类型名与枢纽已有类型重名 / a custom entity's type is named as a type the hub has: {exc}") from None
    install_departments(schema._schema, load_departments(settings))
    return schema


def schema_fields(schema: HubSchema) -> list[tuple[str, str]]:
    """Every (Type, field) of the schema's object types, the objects policies speak of."""
    return [
        (name, field)
        for name, gql_type in schema._schema.type_map.items()
        if isinstance(gql_type, GraphQLObjectType) and not name.startswith("__")
        for field in gql_type.fields
    ]
