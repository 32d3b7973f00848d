"""Digests of generated demo databases, to show a change to the generator keeps the same rows.

    python -m bench.demo_digest DIR [DIR ...]

For every SQLite file in each folder (as `hub generate --out DIR` writes them), one line per table:
file, table, row count, a digest of its rows sorted (so insertion order does not matter), a digest
of its columns and index definitions, and a digest of manifest.json. With two folders it also says
whether they match. Typical use: generate 10,000 persons with the old code (`git archive <commit>
hub | tar -x -C /tmp/base`, then `PYTHONPATH=/tmp/base hub generate --out /tmp/a --persons 10000`)
and with the new one, and compare.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from pathlib import Path


def digest(folder: Path) -> list[str]:
    """The digest lines of one generated folder."""
    lines = []
    for path in sorted(folder.glob("*.db")):
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            for (table,) in tables.fetchall():
                rows = sorted(map(repr, connection.execute(f'SELECT * FROM "{table}"')))
                content = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]
                columns = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
                indexes = sorted(
                    sql
                    for (sql,) in connection.execute(
                        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                        (table,),
                    )
                )
                shape = hashlib.sha256(repr((columns, indexes)).encode()).hexdigest()[:8]
                lines.append(f"{path.name} {table} {len(rows)} {content} {shape}")
        finally:
            connection.close()
    manifest = folder / "manifest.json"
    if manifest.exists():
        lines.append(f"manifest.json {hashlib.sha256(manifest.read_bytes()).hexdigest()[:16]}")
    return lines


def main(folders: list[str]) -> int:
    results = [digest(Path(f)) for f in folders]
    for folder, lines in zip(folders, results, strict=True):
        print(f"# {folder}")
        print("\n".join(lines))
    if len(results) > 1:
        same = all(r == results[0] for r in results[1:])
        print("same rows" if same else "DIFFERENT")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
