"""The Observatory's own grades of well-known defaults (docs/grading.md), reproduced exactly."""

from __future__ import annotations

import pytest

from edgeshield.grade import grade_headers
from tests.grade import anchors

# name -> (headers, score, grade, {test: modifier} for every non-zero modifier)
ANCHORS = {
    "owasp": (
        anchors.owasp_headers(),
        145,
        "A+",
        {
            "content-security-policy": 5,
            "cross-origin-embedder-policy": 10,
            "cross-origin-opener-policy": 10,
            "cross-origin-resource-policy": 10,
            "referrer-policy": 5,
            "x-frame-options": 5,
        },
    ),
    "secure-strict": (
        anchors.SECURE_STRICT,
        135,
        "A+",
        {
            "content-security-policy": 5,
            "cross-origin-embedder-policy": 10,
            "cross-origin-opener-policy": 10,
            "referrer-policy": 5,
            "x-frame-options": 5,
        },
    ),
    "helmet": (
        anchors.HELMET,
        130,
        "A+",
        {
            "cross-origin-opener-policy": 10,
            "cross-origin-resource-policy": 10,
            "referrer-policy": 5,
            "x-frame-options": 5,
        },
    ),
    "flask-talisman": (
        anchors.FLASK_TALISMAN,
        115,
        "A+",
        {"content-security-policy": 5, "referrer-policy": 5, "x-frame-options": 5},
    ),
    "cloudfront-managed": (
        anchors.CLOUDFRONT_MANAGED,
        75,
        "B",
        {"content-security-policy": -25, "referrer-policy": 5, "x-frame-options": 5},
    ),
    "django": (
        anchors.DJANGO,
        55,
        "C",
        {
            "content-security-policy": -25,
            "strict-transport-security": -20,
            "cross-origin-opener-policy": 10,
            "referrer-policy": 5,
            "x-frame-options": 5,
        },
    ),
    "no-headers": (
        anchors.NO_HEADERS,
        30,
        "D",
        {
            "content-security-policy": -25,
            "strict-transport-security": -20,
            "x-content-type-options": -5,
            "x-frame-options": -20,
        },
    ),
}


@pytest.mark.parametrize("name", ANCHORS)
def test_anchor(name: str) -> None:
    headers, score, grade, nonzero = ANCHORS[name]
    report = grade_headers(headers, url="https://example.com/").to_dict()
    assert (report["score"], report["grade"]) == (score, grade)
    got = {t: v["score_modifier"] for t, v in report["tests"].items() if v["score_modifier"]}
    assert got == nonzero


def test_helmet_csp_loses_its_bonus_to_style_src() -> None:
    report = grade_headers(anchors.HELMET).to_dict()
    csp = report["tests"]["content-security-policy"]
    assert csp["result"] == "csp-implemented-with-unsafe-inline-in-style-src-only"
    assert csp["pass"] is True


def test_legacy_x_xss_protection_is_not_scored() -> None:
    without = grade_headers(anchors.CLOUDFRONT_MANAGED)
    with_bad = grade_headers({**anchors.CLOUDFRONT_MANAGED, "X-XSS-Protection": "garbage"})
    assert without.score == with_bad.score == 75
    assert "x-xss-protection" not in with_bad.to_dict()["tests"]
    assert len(with_bad.outcomes) == 12
