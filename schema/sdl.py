"""The schema's SDL as committed in schema/schema.graphql (`hub schema export` writes it)."""

from __future__ import annotations

from pathlib import Path

SDL_PATH = Path(__file__).parent / "schema.graphql"


def sdl() -> str:
    """The federation subgraph's SDL as strawberry prints it (types in their definition order), newline-ended."""
    from schema import build_schema

    return build_schema().as_str().rstrip("\n") + "\n"
