"""The schema walk over a hub with custom entities: the education bureau's types built from its mapping.

Every role's introspection is a valid schema of exactly what it may read and its subgraph SDL the
same view, with the bureau's types present for the roles its policy lines grant and gone (with
the `Institution` fields returning them) for the others; their reads are policed, scoped and
limited like every field (tests/e2e/test_custom_entities.py reads them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    assert_valid_schema,
    build_ast_schema,
    build_client_schema,
    parse,
)

from hub.core.settings import SourceSettings
from hub.demo.education import MAPPING, POLICY
from policies.grants import POLICY_PATH
from schema import build_schema
from tests.conftest import Hub, hub_settings, running_hub
from tests.security.test_role_schema import (
    FEDERATION_DEFINITIONS,
    INTROSPECTION,
    Role,
    ask,
    grants_of,
    object_fields,
    readable,
    sdl_fields,
)

ROLES: list[Role] = [(("admin",), None), (("auditor",), None), (("analyst",), None), (("officer",), "education"),
                     (("officer",), "hr"), (("officer",), "establishment")]
IDS = ["admin", "auditor", "analyst", "education.officer", "hr.officer", "establishment.officer"]
BUREAU_TYPES = {"SchoolProfile", "Enrolment", "SchoolClass", "TeachingHours"}


@pytest.fixture(scope="module")
def hub(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    folder = tmp_path_factory.mktemp("walk")
    (folder / "policy.csv").write_text(POLICY_PATH.read_text(encoding="utf-8") + "\n" + POLICY.read_text(encoding="utf-8"),
                                       encoding="utf-8")
    settings = hub_settings(demo_dir, policy_file=folder / "policy.csv", store_url=f"sqlite+aiosqlite:///{folder}/store.db")
    bureau = SourceSettings(url=f"sqlite+aiosqlite:///{demo_dir / 'education.db'}", mapping=MAPPING)
    with running_hub(settings.model_copy(update={"source": {"education": bureau}})) as running:
        yield running


@pytest.fixture(scope="module")
def whole(hub: Hub) -> GraphQLSchema:
    return build_schema(hub.settings)._schema


@pytest.mark.parametrize("role", ROLES, ids=IDS)
def test_every_roles_schema_and_sdl_are_valid_and_exactly_what_it_may_read(hub: Hub, whole: GraphQLSchema, role: Role) -> None:
    client = build_client_schema(ask(hub, INTROSPECTION, role))  # type: ignore[arg-type]
    assert_valid_schema(client)
    shown = object_fields(client)
    assert shown <= readable(whole, grants_of(hub, role))
    sdl = ask(hub, "{ _service { sdl } }", role)["_service"]["sdl"]
    assert sdl_fields(sdl) == shown
    assert_valid_schema(build_ast_schema(parse(FEDERATION_DEFINITIONS + sdl)))
    bureau = BUREAU_TYPES & set(client.type_map)
    institution = client.type_map["Institution"]
    assert isinstance(institution, GraphQLObjectType)
    if role in ((("admin",), None), (("auditor",), None), (("officer",), "education")):
        assert bureau == BUREAU_TYPES or role == (("officer",), "education") and bureau >= {"Enrolment", "SchoolProfile"}
        assert "enrolment" in institution.fields
    elif role == (("analyst",), None):
        assert bureau == {"Enrolment", "SchoolProfile"} and "teachingHours" not in institution.fields
    else:
        assert bureau == set() and "enrolment" not in institution.fields  # Institution.* is theirs, Enrolment.* is not


def test_the_whole_schema_has_the_bureaus_types_with_bilingual_descriptions(whole: GraphQLSchema) -> None:
    for name in BUREAU_TYPES:
        gql_type = whole.type_map[name]
        assert isinstance(gql_type, GraphQLObjectType) and " / " in (gql_type.description or "")
        assert all(" / " in (f.description or "") for f in gql_type.fields.values()), name
    assert str(whole.type_map["Institution"].fields["enrolment"].type) == "[Enrolment!]!"  # type: ignore[attr-defined]
