"""The 166 header-only cases from the Observatory's own test suite, result for result."""

from __future__ import annotations

import json
from typing import Any

import pytest

from edgeshield.grade import Headers, analyze_scan, grade_headers, header_only_input
from edgeshield.grade.scoring.results import SCORE_TABLE
from tests.grade.anchors import CASES_FILE

CASES: list[dict[str, Any]] = json.loads(CASES_FILE.read_text())


def test_case_file_is_complete() -> None:
    assert len(CASES) == 166
    assert len({c["id"] for c in CASES}) == 166


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_observatory_case(case: dict[str, Any]) -> None:
    scan = header_only_input(Headers.from_mapping(case["headers"]), case["context"]["url"])
    if "request_headers" in case:
        # CORS cases: the headers are the preflight's answer to this request Origin.
        scan.preflight_origin = case["request_headers"].get("origin")
    outcome = analyze_scan(scan).tests[case["test"]]
    assert (outcome.result, outcome.passed) == (case["expected_result"], case["expected_pass"])
    assert SCORE_TABLE[outcome.result][0] == case["score_modifier"]


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c["test"] != "cross-origin-resource-sharing"],
    ids=[c["id"] for c in CASES if c["test"] != "cross-origin-resource-sharing"],
)
def test_public_api_agrees(case: dict[str, Any]) -> None:
    """grade_headers gives the same per-test result as the lower-level API."""
    report = grade_headers(case["headers"], url=case["context"]["url"]).to_dict()
    entry = report["tests"][case["test"]]
    assert entry["result"] == case["expected_result"]
    assert entry["pass"] == case["expected_pass"]
    assert entry["score_modifier"] == case["score_modifier"]
