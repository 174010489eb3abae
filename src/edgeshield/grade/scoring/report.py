"""A graded scan: score, grade and the twelve test outcomes, as data for the CLI and API."""

from __future__ import annotations

from typing import Any, Final

from edgeshield.grade.model import Outcome
from edgeshield.grade.scoring.fixes import fix_for
from edgeshield.grade.scoring.results import (
    ALGORITHM_VERSION,
    BEST_MODIFIER,
    SCORE_TABLE,
    TEST_TITLES,
    grade_for_score,
)

_SCALARS: Final = frozenset({str, int, bool, float, type(None)})


def _jsonable(value: Any) -> Any:
    """A deep copy in which sets become sorted lists, so a report serialises as JSON."""
    kind = type(value)
    if kind is dict:
        # Most values are scalars: test the type inline instead of calling per value.
        return {k: v if type(v) in _SCALARS else _jsonable(v) for k, v in value.items()}
    if kind is set or kind is frozenset:
        return sorted(value)
    if kind is list or kind is tuple:
        return [v if type(v) in _SCALARS else _jsonable(v) for v in value]
    if kind in _SCALARS:
        return value
    if isinstance(value, dict):  # subclasses: the slower checks
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# What a test's entry holds besides its data depends only on these four fields, and the set of
# results is small: build each combination once. Bounded, as ``assumed`` is free text.
_EntryParts = tuple[dict[str, Any], dict[str, str] | None]
_ENTRY_PARTS: dict[tuple[str, str, bool, str | None], _EntryParts] = {}
_ENTRY_PARTS_MAX: Final = 4096


def _entry_parts(o: Outcome) -> _EntryParts:
    """A test's entry without its data, and the fix to show (copied into each report)."""
    modifier, text = SCORE_TABLE[o.result]
    head: dict[str, Any] = {
        "title": TEST_TITLES[o.name],
        "result": o.result,
        "score_modifier": modifier,
        "pass": o.passed,
        "description": text,
    }
    if o.assumed:
        head["assumed"] = o.assumed
    fix = None
    if not o.passed or modifier < BEST_MODIFIER[o.name]:  # short of the best (see short_of_best)
        found = fix_for(o.name, o.result)
        if found is not None:
            fix = found.to_dict()
    return head, fix


def _test_entry(o: Outcome) -> dict[str, Any]:
    """A test's entry in ``Report.to_dict()``: fresh containers, so callers may edit it."""
    key = (o.name, o.result, o.passed, o.assumed)
    parts = _ENTRY_PARTS.get(key)
    if parts is None:
        parts = _entry_parts(o)
        if len(_ENTRY_PARTS) < _ENTRY_PARTS_MAX:
            _ENTRY_PARTS[key] = parts
    head, fix = parts
    entry = head.copy()
    data = o.data
    if data:
        # Most tests' data is flat ({"header": ...}): copy that in C, the rest value by value.
        if _SCALARS.issuperset(map(type, data.values())):
            entry["data"] = data.copy()
        else:
            entry["data"] = {k: v if type(v) in _SCALARS else _jsonable(v) for k, v in data.items()}
    if fix is not None:
        entry["fix"] = fix.copy()
    return entry


class Report:
    """The result of grading one response or one live scan."""

    __slots__ = ("_grade", "header_only", "outcomes", "score", "url")

    def __init__(self, url: str, score: int, outcomes: list[Outcome], header_only: bool) -> None:
        self.url = url
        self.score = score
        self.outcomes = outcomes
        self.header_only = header_only
        self._grade: str | None = None

    @property
    def grade(self) -> str:
        if self._grade is None:
            self._grade = grade_for_score(self.score)
        return self._grade

    @property
    def tests(self) -> dict[str, Outcome]:
        return {o.name: o for o in self.outcomes}

    @property
    def tests_passed(self) -> int:
        return sum(1 for o in self.outcomes if o.passed)

    def short_of_best(self, outcome: Outcome) -> bool:
        """The test failed or left bonus points unclaimed."""
        return not outcome.passed or SCORE_TABLE[outcome.result][0] < BEST_MODIFIER[outcome.name]

    def test_dict(self, o: Outcome) -> dict[str, Any]:
        return _test_entry(o)

    def to_dict(self) -> dict[str, Any]:
        tests: dict[str, Any] = {}
        passed = 0
        for o in self.outcomes:
            tests[o.name] = _test_entry(o)
            passed += o.passed
        return {
            "url": self.url,
            "score": self.score,
            "grade": self.grade,
            "algorithm_version": ALGORITHM_VERSION,
            "header_only": self.header_only,
            "tests_passed": passed,
            "tests_quantity": len(self.outcomes),
            "tests": tests,
        }

    def __repr__(self) -> str:
        return f"Report(url={self.url!r}, score={self.score}, grade={self.grade!r})"
