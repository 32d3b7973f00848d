"""The subgraph's federation fields: `_service { sdl }` answers the caller's own schema, and
`_entities` checks its representations.

strawberry's `_service` prints the whole schema for anyone; the hub defines the field itself
(strawberry then adds no other), and its SDL is the role's (schema/role_schema.py): the fields
the caller may read, the same view introspection gives. A gateway composing the supergraph
therefore uses a credential that reads everything the supergraph should expose (`admin`).
A representation that is not an object naming an entity type is `BAD_USER_INPUT` (strawberry
would fail on it with an internal error, or build an object of any type from it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import strawberry
from graphql import GraphQLUnionType

from hub.core.errors import BadUserInput
from resolvers.context import HubContext
from schema.role_schema import role_schema

Info = strawberry.Info[HubContext, None]

# The lowest Apollo Federation version with everything the schema uses (`@key` only). strawberry
# refuses to build the schema if a directive of a later version is used: raise this with it.
FEDERATION_VERSION: Final = "2.0"


@strawberry.type(name="_Service", description="子图描述 / the subgraph's description, for a federation gateway")
class Service:
    @strawberry.field(description="调用者可见部分的 SDL / the SDL of what the caller may read")
    def sdl(self, info: Info) -> str:
        return role_schema(info.schema._schema, info.context.grants).sdl


@strawberry.type
class ServiceQuery:
    @strawberry.field(name="_service", description="联邦网关用的子图信息 / the subgraph, for a federation gateway")
    def service(self) -> Service:
        return Service()


def check_representations(info: Info, representations: Sequence[object]) -> None:
    """BAD_USER_INPUT, before any is resolved, unless every representation is an object naming an entity type."""
    union = info.schema._schema.type_map["_Entity"]
    assert isinstance(union, GraphQLUnionType)
    names = sorted(t.name for t in union.types)
    for index, representation in enumerate(representations):
        if not isinstance(representation, dict) or representation.get("__typename") not in names:
            raise BadUserInput(f"representations[{index}] 须为实体（{'、'.join(names)}）的表示 / must be the representation of "
                               f"an entity ({', '.join(names)}): an object with __typename and the key fields",
                               field="representations")
