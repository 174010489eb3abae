"""Rule path patterns as regular expressions: the same matches as CloudFront's wildcards, in
time linear in the URI whatever the pattern (the viewer chooses the URI)."""

from __future__ import annotations

import re
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from edgeshield.policy.compile import glob_to_regex


def _reference(pattern: str, path: str) -> bool:
    """Wildcard matching by dynamic programming: ``*`` any run, ``?`` one character."""
    width = len(path)
    row = [True] + [False] * width
    for char in pattern:
        if char == "*":
            for i in range(1, width + 1):
                row[i] = row[i] or row[i - 1]
        else:
            row = [False] + [row[i] and (char == "?" or char == path[i]) for i in range(width)]
    return row[width]


@given(
    st.text(alphabet="/a.*?", max_size=10),
    st.text(alphabet="/ab.", max_size=14),
)
def test_patterns_match_as_wildcards_do(pattern: str, path: str) -> None:
    assert bool(re.match(glob_to_regex(pattern), path)) == _reference(pattern, path)


@given(st.text(alphabet="/aé*", max_size=8), st.text(alphabet="/aé", max_size=10))
def test_a_percent_encoded_character_matches_as_itself(pattern: str, path: str) -> None:
    """A character browsers percent-encode matches its encoded form too, next to stars."""
    encoded = path.replace("é", "%C3%A9")
    expected = _reference(pattern, path)
    assert bool(re.match(glob_to_regex(pattern), path)) == expected
    assert bool(re.match(glob_to_regex(pattern), encoded)) == expected


def test_ninety_nine_stars_at_most() -> None:
    """Each star between literal parts is a numbered group; Python reads \\100 as an octal
    escape, so a pattern may hold 99 (the policy refuses more)."""
    from edgeshield.policy.load import parse_policy

    most = "/" + "*a" * 98 + "*"
    assert re.match(glob_to_regex(most), "/" + "a" * 98)
    assert not re.match(glob_to_regex(most), "/" + "a" * 97)
    _policy, problems = parse_policy(
        f'[[rules]]\nmatch = {{ path = ["{most}a*"] }}\nremove = ["x"]\n'
    )
    assert [p.what for p in problems if "path" in p.where] == [f"invalid path pattern '{most}a*'"]


def test_stars_between_slashes_do_not_backtrack_through_a_long_uri() -> None:
    """``/*/*/*/*.js`` against a URI of 8,000 slashes took minutes per request with one
    ``.*`` per star. Run in a child process so that a regression fails by timeout instead of
    hanging the suite."""
    code = (
        "import re; from edgeshield.policy.compile import glob_to_regex as g\n"
        "slashes, letters = '/' * 8000 + 'x', '/' + 'a' * 8000\n"
        "cases = [('/*/*/*/*.js', slashes, False), ('/*/*/*/*.js', letters, False),\n"
        "         ('/*/*/*/*/*/*/*/x', slashes, True), ('*a*a*a*a*a*b', letters, False)]\n"
        "for pattern, uri, matches in cases:\n"
        "    assert bool(re.match(g(pattern), uri)) is matches, pattern\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr
