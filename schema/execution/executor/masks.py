"""Masks, applied in one place: where the executor completes a leaf value.

A role whose grants mask a field (policies: `mask`; schema/masking.py: which fields can be masked
and how) gets that field's values masked as they are completed into the answer, whatever produced
them: the compiled path's level loops, graphql-core's field-by-field completion (introspection
aside, every field the plan does not cover: federation `_entities`, mutation payloads, an
idempotent retry answered from the store). Both take the masker from `Masked.masker`, whose table
is made once per executor from the caller's grants; nothing wraps the schema's resolvers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import is_leaf_type

from policies.grants import Grants
from resolvers.context import required
from schema.execution.executor.row_scope import ScopedExecutor
from schema.masking import MASKABLE, MASKERS

Masker = Callable[[str], str]


def masks_for(grants: Grants, maskable: Mapping[tuple[str, str], str] = MASKABLE) -> dict[tuple[str, str], Masker]:
    """(Type, field) -> masker of every field the grants mask (`maskable`: the schema's, custom fields' included)."""
    return {key: MASKERS[maskable[key]] for key in grants.masked}


class Masked(ScopedExecutor):
    """graphql-core's executor, completing the leaves of masked fields masked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        maskable = getattr(self.schema._strawberry_schema, "maskable", MASKABLE)  # type: ignore[attr-defined]
        self.masks = masks_for(required(self.context_value).grants, maskable)

    def masker(self, type_name: str, field_name: str) -> Masker | None:
        """How the caller sees a field's values masked (None: as they are)."""
        return self.masks.get((type_name, field_name)) if self.masks else None

    def complete_value(self, return_type: Any, field_details_list: Any, info: Any, path: Any, result: Any,
                       position_context: Any) -> Any:
        if self.masks and result is not None and is_leaf_type(return_type) and not isinstance(result, Exception):
            masker = self.masks.get((info.parent_type.name, info.field_name))
            if masker is not None:
                result = masker(str(result))
        return super().complete_value(return_type, field_details_list, info, path, result, position_context)
