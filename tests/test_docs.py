"""The docs stand on their own: no citation leaves the repository, and every cited design section exists."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DESIGN = ROOT / "docs" / "design.md"
SCANNED = ("calmirror", "bench", "docs", "tests", "README.md")
THIS_FILE = Path(__file__).resolve()

# Tags of a private research note; the longer ones never occur in code, the short ones only as citations.
_RARE_TAGS = r"DISC|WATCHREF|PATCHREF|CONCEPTS|DESIGN"
_TAGS = r"SYNC|PUSH|ERR|QUOTA|VER|TYPES|STATUS|RECUR|EXT|BATCH"
OUTSIDE_CITATION = re.compile(
    "|".join(
        (
            r"\.\./shared",  # the steering repository next to a checkout
            r"\bshared/(?:DESIGN|research|seeds)",
            r"\bseeds?/\d",  # seeds/003_...
            r"\bseed \d{3}\b",  # "seed 001"
            r"\bresearch (?:section |note )?\d",  # "research 6", "research section 2"
            rf"\b(?:{_RARE_TAGS})\b",
            rf"\([^()]*\b(?:{_TAGS})\b(?![=_])[^()]*\)",  # "(ERR)", "(SYNC, DISC)", "(VER If-Match)"
            rf"#\s*(?:{_TAGS})\b",  # "# PUSH: retried ..."
        )
    )
)
CITED_SECTIONS = re.compile(r"design\.md`?((?:[ ,-]*(?:and )?§\d+(?:\.\d+)*)+)")
HEADING = re.compile(r"^#{2,4} (\d+(?:\.\d+)*)\.? ", re.MULTILINE)


def tracked_files() -> list[Path]:
    """Return the tracked text files under the scanned paths (every file there when git is unavailable)."""
    git = shutil.which("git")
    try:
        if git is None:
            raise FileNotFoundError("git")
        # A fixed argument list: nothing here comes from outside the test.
        listed = subprocess.run(  # noqa: S603
            [git, "ls-files", "-z", *SCANNED], cwd=ROOT, capture_output=True, check=True, text=True
        ).stdout.split("\0")
        paths = [ROOT / name for name in listed if name]
    except (OSError, subprocess.CalledProcessError):
        paths = [p for top in SCANNED for p in (ROOT / top).rglob("*") if "__pycache__" not in p.parts]
        paths += [ROOT / "README.md"]
    return [p for p in paths if p.is_file() and p.resolve() != THIS_FILE and _is_text(p)]


def _is_text(path: Path) -> bool:
    """Tell whether a file is UTF-8 text (binary fixtures are not prose)."""
    try:
        path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return False
    return True


def outside_citations(text: str) -> list[str]:
    """Return the lines of `text` that cite something outside the repository."""
    return [line.strip() for line in text.splitlines() if OUTSIDE_CITATION.search(line)]


def design_sections() -> set[str]:
    """Return the section numbers docs/design.md defines (its numbered headings)."""
    return set(HEADING.findall(DESIGN.read_text(encoding="utf-8")))


def cited_sections(text: str) -> set[str]:
    """Return every section number `text` cites as `design.md §N.N` (lists and ranges included)."""
    return {
        number
        for match in CITED_SECTIONS.finditer(text)
        for number in re.findall(r"§(\d+(?:\.\d+)*)", match.group(1))
    }


@pytest.mark.parametrize(
    "line",
    [
        "See `../shared/DESIGN.md`.",
        "(seeds/003_46a1dc0d851322b9.txt)",
        "# Quota units per method (seed 001).",
        '"""Obtain a refresh token (research 6)."""',
        "events.list (research section 1)",
        "(DESIGN 3.4)",
        '"""410 for a stale token (SYNC, ERR)."""',
        '"""Validate ids (DISC Event.id)."""',
        "DEFAULT_TTL = 604800  # WATCHREF: default",
        "RETRY = {500, 503}  # PUSH: retried with backoff",
    ],
)
def test_outside_citations_are_recognised(line: str) -> None:
    """Every form of outside citation met in this project is caught."""
    assert outside_citations(line) == [line]


@pytest.mark.parametrize(
    "line",
    [
        "return datetime.now(UTC)",
        "emulator [--seed 1]",
        'BATCH_PATH = "/batch/calendar/v3"  # discovery doc batchPath',
        "the shared OAuth client (GOOGLE_CLIENT_ID)",
        "(docs/design.md §4.3, errors guide)",
    ],
)
def test_ordinary_text_is_not_a_citation(line: str) -> None:
    """Code and in-repository citations are not mistaken for outside ones."""
    assert outside_citations(line) == []


def test_no_citation_leaves_the_repository() -> None:
    """No tracked doc, comment or docstring cites the steering repository's files or its source tags."""
    found = {
        str(path.relative_to(ROOT)): hits
        for path in tracked_files()
        if (hits := outside_citations(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_cited_sections_are_recognised() -> None:
    """Single sections, ranges and lists of design.md sections are all read."""
    text = "see docs/design.md §3.5, also design.md §3-§4 and `docs/design.md` §7.2 and §9"
    assert cited_sections(text) == {"3.5", "3", "4", "7.2", "9"}


def test_every_cited_design_section_exists() -> None:
    """Each `design.md §N.N` in code, tests and docs names a numbered heading of docs/design.md."""
    sections = design_sections()
    assert {"1", "3.5", "4.3", "9"} <= sections
    missing = {
        str(path.relative_to(ROOT)): sorted(cited - sections)
        for path in tracked_files()
        if (cited := cited_sections(path.read_text(encoding="utf-8"))) - sections
    }
    assert missing == {}


def test_design_cross_references_exist() -> None:
    """Every `§N.N` docs/design.md uses to point at itself names one of its own headings."""
    text = DESIGN.read_text(encoding="utf-8")
    assert set(re.findall(r"§(\d+(?:\.\d+)*)", text)) <= design_sections()
