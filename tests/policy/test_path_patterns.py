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


def test_stars_between_slashes_do_not_backtrack_through_a_long_uri() -> None:
    """``/*/*/*/*.js`` against a URI of 8,000 slashes took minutes per request with one
    ``.*`` per star. Run in a child process so that a regression fails by timeout instead of
    hanging the suite."""
    code = (
        "import re; from edgeshield.policy.compile import glob_to_regex as g\n"
        "for p in ['/*/*/*/*.js', '/*/*/*/*/*/*/*/x', '*a*a*a*a*a*b']:\n"
        "    r = re.compile(g(p))\n"
        "    for u in ['/' * 8000 + 'x', '/' + 'a' * 8000]:\n"
        "        assert r.match(u) is None or p == '/*/*/*/*/*/*/*/x'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr
