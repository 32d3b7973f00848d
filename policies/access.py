"""What a role may do with a field's value."""

from __future__ import annotations

from enum import IntEnum


class Access(IntEnum):
    """What a role may do with a field's value."""

    DENY = 0
    MASK = 1
    READ = 2
