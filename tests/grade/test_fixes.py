"""Every fix is a valid edgeshield policy snippet, and applying the fixes really raises the grade
(policy -> compiled -> the edge function's output -> graded)."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from edgeshield.grade import grade_headers
from edgeshield.grade.scoring.fixes import _FIXES, fix_for, merged_toml
from edgeshield.grade.scoring.results import SCORE_TABLE
from edgeshield.policy.compile import compile_policy
from edgeshield.policy.load import parse_policy
from edgeshield.preview import DEFAULT_SAMPLES, run_sample
from tests.grade import anchors


def test_every_result_is_known() -> None:
    assert set(_FIXES) <= set(SCORE_TABLE)


@pytest.mark.parametrize("result", sorted(r for r, f in _FIXES.items() if f.toml))
def test_snippet_is_a_valid_policy(result: str) -> None:
    fix = fix_for(result.split("-")[0], result)
    assert fix is not None and fix.toml is not None
    tomllib.loads(fix.toml)
    policy, problems = parse_policy(fix.toml, file=f"fix:{result}")
    errors = [p for p in problems if p.severity == "error"]
    assert policy is not None, errors


def _edge_headers(policy_text: str) -> dict[str, list[str]]:
    policy, problems = parse_policy(policy_text)
    assert policy is not None, problems
    result = run_sample(compile_policy(policy), DEFAULT_SAMPLES[0])
    headers: dict[str, list[str]] = {}
    for key, value, _how in result.headers:
        headers.setdefault(key.lower(), []).append(value)
    return headers


@pytest.mark.parametrize(
    "name,start", [("no-headers", anchors.NO_HEADERS), ("django", anchors.DJANGO)]
)
def test_applying_the_fixes_reaches_a_plus(name: str, start: dict[str, Any]) -> None:
    before = grade_headers(start)
    assert before.grade not in ("A+", "A")
    snippet = merged_toml([(o.name, o.result) for o in before.outcomes if before.short_of_best(o)])
    # The edge replaces the headers its policy sets and passes the origin's others through.
    origin = {k.lower(): v for k, v in start.items()}
    after = grade_headers({**origin, **_edge_headers(snippet)})
    assert after.grade == "A+", after.to_dict()
    assert after.score > before.score
    # Nothing header-fixable is left on the table except the HSTS preload bonus.
    short = {o.name for o in after.outcomes if after.short_of_best(o)}
    assert short <= {"strict-transport-security", "cookies", "subresource-integrity"}


def test_passing_tests_get_no_fix() -> None:
    report = grade_headers(anchors.owasp_headers()).to_dict()
    assert "fix" not in report["tests"]["x-content-type-options"]
    assert "fix" not in report["tests"]["cross-origin-opener-policy"]
    assert "fix" in report["tests"]["content-security-policy"]  # +5 of a possible +10
