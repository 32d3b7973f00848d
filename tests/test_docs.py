"""The documentation in docs/ stays true: its worked examples run against the code, its links and
the code's section citations resolve, and the project cites only its own documents.

A table of examples in a page is marked by a comment line ``<!-- checked-examples: MODULE -->``
right above it; every row is checked here.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

from hub.core import ids
from hub.core.retirement import RetirementGroup, delay_months, retirement_date

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Private notes the project once cited by name; built from parts so this file does not cite them.
PRIVATE_NOTES = re.compile(
    r"\b(?:" + "|".join(("DOM" + "AIN", "DES" + "IGN", "STY" + "LE")) + r")(?:\.md\b|\s*§)|\.\./" + "shared"
)
MARKER = re.compile(r"<!--\s*checked-examples:\s*([\w.]+)\s*-->")
CALL = re.compile(r"^(\w+)\((.*)\)$")
DATE = re.compile(r"^datetime\.date\((\d+), (\d+), (\d+)\)$")
# "docs/domain.md §ID numbers", "docs/retirement.md §The rule, §Checks": the page, then its sections.
CITATION = re.compile(r"docs/([\w-]+\.md)((?:,?\s*§[^§),;\"]+)+)")
LINK = re.compile(r"\]\(([^)\s:]*?)(?:#([^)\s]*))?\)")


def marked_tables(text: str) -> dict[str, list[dict[str, str]]]:
    """Each marked table of a page as rows of header -> cell (without backticks), by module."""
    lines = text.splitlines()
    tables: dict[str, list[dict[str, str]]] = {}
    for i, line in enumerate(lines):
        marker = MARKER.search(line)
        if not marker:
            continue
        block = []
        for row in lines[i + 1 :]:
            if not row.startswith("|"):
                break
            block.append([cell.strip().strip("`") for cell in row.strip().strip("|").split("|")])
        header, rows = block[0], block[2:]  # block[1] is the |---| rule
        tables[marker.group(1)] = [dict(zip(header, row, strict=True)) for row in rows]
    return tables


def _examples(page: str, module: str) -> list[dict[str, str]]:
    rows = marked_tables((DOCS / page).read_text(encoding="utf-8")).get(module, [])
    assert rows, f"docs/{page} has no checked examples for {module}"
    return rows


def _value(text: str) -> object:
    """A value as the docs write it: a Python literal, or datetime.date(y, m, d)."""
    date = DATE.match(text)
    return dt.date(*map(int, date.groups())) if date else ast.literal_eval(text)


@pytest.mark.parametrize("row", _examples("domain.md", "hub.core.ids"), ids=lambda r: r["call"])
def test_identifier_examples_hold(row: dict[str, str]) -> None:
    """Every worked example of docs/domain.md is what hub/core/ids.py returns."""
    call = CALL.match(row["call"])
    assert call, f"not a call: {row['call']}"
    function = getattr(ids, call.group(1))
    assert function(_value(call.group(2))) == _value(row["result"])


@pytest.mark.parametrize(
    "row", _examples("retirement.md", "hub.core.retirement"), ids=lambda r: f"{r['group']} {r['born']}"
)
def test_retirement_examples_hold(row: dict[str, str]) -> None:
    """Every row of docs/retirement.md's check table is what hub/core/retirement.py computes."""
    group, born = RetirementGroup(row["group"]), dt.date.fromisoformat(row["born"])
    assert delay_months(born, group) == int(row["delay (months)"])
    assert retirement_date(born, group) == dt.date.fromisoformat(row["retires"])


def test_marked_tables_are_read() -> None:
    """The parser reads the marked table and stops at its end (an empty or broken table fails)."""
    page = "<!-- checked-examples: m -->\n| a | b |\n|---|---|\n| `x` | 1 |\n\n| c | d |\n"
    assert marked_tables(page) == {"m": [{"a": "x", "b": "1"}]}
    assert _value("datetime.date(1985, 3, 15)") == dt.date(1985, 3, 15)
    assert _value("None") is None


def _project_files() -> list[Path]:
    """Tracked files and new files not ignored (so a citation in an uncommitted file fails too)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in out.decode().split("\0") if name and (ROOT / name).is_file()]


def _text_lines() -> list[tuple[str, int, str]]:
    out = []
    for path in _project_files():
        if path.stat().st_size > 2_000_000:  # data files, not documents or code
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        out += [(str(path.relative_to(ROOT)), n, line) for n, line in enumerate(text.splitlines(), 1)]
    return out


def test_project_cites_only_its_own_documents() -> None:
    """No file of the project points to the team's private notes; docs/ holds what they said."""
    citing = [f"{path}:{n}: {line.strip()}" for path, n, line in _text_lines() if PRIVATE_NOTES.search(line)]
    assert not citing, "cite docs/ instead:\n" + "\n".join(citing)


def test_private_note_pattern_matches_citations() -> None:
    """The pattern catches the ways the notes were cited, and not ordinary words or paths."""
    for cited in ("see " + "DOM" + "AIN.md §3", "DOM" + "AIN §8", "(" + "STY" + "LE.md)", "../" + "shared/x"):
        assert PRIVATE_NOTES.search(cited), cited
    for plain in ("domain model", "DESIGNER", "node_modules/@react-types/shared", "docs/domain.md"):
        assert not PRIVATE_NOTES.search(plain), plain


def _headings(page: Path) -> list[str]:
    return [
        line.lstrip("#").strip()
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    ]


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    kept = "".join(c for c in heading.lower() if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def test_section_citations_resolve() -> None:
    """Every "docs/<page> §<section>" in the project names a page and a heading of it."""
    broken, seen = [], 0
    for path, n, line in _text_lines():
        for page, sections in CITATION.findall(line):
            target = DOCS / page
            headings = _headings(target) if target.exists() else []
            for section in (s.strip(" ,.") for s in sections.split("§")[1:]):
                seen += 1
                if not any(h == section or h.startswith(section + " ") for h in headings):
                    broken.append(f"{path}:{n}: docs/{page} §{section}")
    assert seen >= 10, "the citation pattern no longer finds the code's citations"
    assert not broken, broken


def test_docs_links_resolve() -> None:
    """Every relative link in README.md and docs/ names a file that exists, and a heading of it."""
    broken = []
    for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        for target, anchor in LINK.findall(page.read_text(encoding="utf-8")):
            path = (page.parent / target) if target else page
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
            elif anchor and path.suffix == ".md" and anchor not in {_slug(h) for h in _headings(path)}:
                broken.append(f"{page.relative_to(ROOT)} -> {target}#{anchor}")
    assert not broken, broken
