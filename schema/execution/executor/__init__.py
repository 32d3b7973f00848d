"""The executor: graphql-core's, checked and answering level by level.

The chain, each class adding one thing to the one below:

- `RoleIntrospection` (schema/role_schema.py): introspection answers from the caller's role schema;
- `ScopedExecutor` (row_scope.py): what the root fields name is checked against the caller's region;
- `Masked` (masks.py): masked fields' leaves are completed masked;
- `LimitedExecutor` (limits.py): no grants, over-long strings, bad variables or too high a cost:
  nothing executes;
- `CompiledExecutor` (compiled.py, plan.py): queries the plan covers are answered a level at a time.

`HubExecutor` is what the hub executes with. `ReferenceExecutor` answers every field through
graphql-core one at a time, with the same checks and masks: the reference the differential test
(tests/schema/test_compiled.py) holds `HubExecutor` to, never served.
"""

from schema.execution.executor.compiled import CompiledExecutor
from schema.execution.executor.limits import LimitedExecutor

HubExecutor = CompiledExecutor
ReferenceExecutor = LimitedExecutor

__all__ = ["HubExecutor", "ReferenceExecutor"]
