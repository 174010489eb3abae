"""Sources stay inside reach: nothing in the repository cites notes that are not in it.

Code and docs cite public pages (AWS's guides, the Observatory's site and source, the specs)
by URL and section. A path into a ``reference/`` folder, or a bare ``§1.3`` that only makes
sense next to such notes, fails here; a section of a named spec (``RFC 9110 §5.5``,
``CSP3 §2.3.1``) is fine.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("src", "tests", "benchmarks", "docs")
TOP_LEVEL = ("Makefile", "README.md", "pyproject.toml")
THIS_FILE = Path(__file__).resolve()

SECTION = "\u00a7"  # the section sign, spelled out so this file does not trip itself
# A section sign may follow the name of a spec, possibly after other sections of that spec
# ("RFC 9110 §5.5 and §5.6", "[CSP Level 3, §6.7.3]", "CSP3 §2.3.1 / MDN").
_SPEC = (
    r"(?:RFC\s?\d+|CSP\s?(?:Level\s?)?\d|Fetch|HTML|URL|DOM|Infra|ECMA-?\d+|ECMAScript|SRI"
    r"|Reporting(?:\sAPI)?|Permissions\sPolicy|Structured\sField\sValues|CSS[\w\s-]*\d)"
)
_SPEC_BEFORE = re.compile(
    _SPEC + r"[,:]?\s*(?:" + SECTION + r"[\w.-]+\s*(?:,|and|or|/|&|\u2013|-)?\s*)*$"
)
# A path join in Python: Path(...) / "reference" / ...
_REFERENCE_JOIN = re.compile(r"""["']reference["']\s*/""")
_COMMENT_BREAK = re.compile(r"\s*\n\s*(?:#|//|\*)?\s*")


def _files() -> list[Path]:
    found = [ROOT / name for name in TOP_LEVEL if (ROOT / name).is_file()]
    for top in SCANNED:
        found.extend(p for p in sorted((ROOT / top).rglob("*")) if p.is_file())
    return [
        p
        for p in found
        if p.resolve() != THIS_FILE
        and not any(part in {"__pycache__", "node_modules"} for part in p.parts)
    ]


def _text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def problems(text: str) -> list[str]:
    """Each citation in ``text`` that points at notes outside the repository."""
    found: list[str] = []
    for match in re.finditer(r"reference/", text):
        start = max(text.rfind(c, 0, match.start()) for c in " \t\n(\"'`[<") + 1
        token = text[start : match.end()]
        if "://" not in token:  # a URL that happens to contain /reference/ is fine
            found.append(f"path into a reference folder: {token!r}")
    for match in _REFERENCE_JOIN.finditer(text):
        found.append(f"path join into a reference folder: {match.group()!r}")
    for match in re.finditer(SECTION, text):
        before = _COMMENT_BREAK.sub(" ", text[max(0, match.start() - 120) : match.start()])
        if not _SPEC_BEFORE.search(before):
            end = text.find("\n", match.start())
            line = text[text.rfind("\n", 0, match.start()) + 1 : end if end != -1 else None]
            found.append(f"section sign without a spec name: {line.strip()!r}")
    return found


@pytest.mark.parametrize(
    "text",
    [
        "# from reference/lambda-edge.md, section 3",
        '"""See (reference/security-headers.md)."""',
        'DATA = Path(__file__).parents[3] / "shared" / "reference" / "data"',
        "# CloudFront refuses this (" + SECTION + "1.1).",
        "an Observatory quirk, " + SECTION + "1.3",
        "see RFC 9110 and then " + SECTION + "4",
    ],
)
def test_the_checker_catches_citations_of_notes_outside_the_repo(text: str) -> None:
    assert problems(text)


@pytest.mark.parametrize(
    "text",
    [
        "# Not allowed in a field value (RFC 9110 " + SECTION + "5.5).",
        "# Not allowed in a field value (RFC 9110\n# " + SECTION + "5.5); CloudFront refuses it.",
        "RFC 9111 " + SECTION + "4.3.4 and " + SECTION + "5.3",
        "# The example of CSP3 " + SECTION + "2.3.1 / MDN",
        "([CSP Level 3, " + SECTION + "6.7.3](https://www.w3.org/TR/CSP3/))",
        "https://docs.aws.amazon.com/cli/latest/reference/cloudwatch/get-metric-data.html",
        "# the policy reference in docs/policy.md",
    ],
)
def test_the_checker_accepts_specs_and_public_urls(text: str) -> None:
    assert problems(text) == []


def test_no_file_cites_notes_outside_the_repository() -> None:
    offenders = {}
    for path in _files():
        text = _text(path)
        if text is not None and (found := problems(text)):
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}, (
        f"cite the public page (URL and section) instead, and put the fact in docs/: {offenders}"
    )
