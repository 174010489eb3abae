"""Malformed headers, binary junk, enormous values and non-UTF-8 bytes never crash the grader."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeshield.grade import GRADES, TEST_NAMES, Headers, analyze_scan, grade_headers
from edgeshield.grade.model import Response, ScanInput
from edgeshield.grade.scoring.results import SCORE_TABLE

GRADED = [
    "content-security-policy",
    "content-security-policy-report-only",
    "strict-transport-security",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "cross-origin-resource-policy",
    "cross-origin-opener-policy",
    "cross-origin-embedder-policy",
    "set-cookie",
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "content-type",
]
# Pieces that steer values into the parsers' interesting corners.
PIECES = [
    "default-src",
    "script-src",
    "'none'",
    "'self'",
    "'unsafe-inline'",
    "'strict-dynamic'",
    "'nonce-abc'",
    "https:",
    "http://*",
    "*",
    "/",
    "%",
    "%zz",
    "%C3",
    ";",
    ",",
    "max-age=",
    "=",
    "samesite=",
    "secure",
    "\x00",
    "\r\n",
    "\ufeff",
    '"',
    "?1",
    ":YQ==:",
    "same-origin",
    "frame-ancestors",
    "report-uri",
]
value_text = st.lists(st.sampled_from(PIECES) | st.text(max_size=20), max_size=12).map(" ".join)
value = st.one_of(
    value_text,
    st.text(),
    st.binary(max_size=200),
    st.lists(value_text | st.binary(max_size=40), max_size=4),
)
names = (
    st.sampled_from(GRADED) | st.text(min_size=1, max_size=30) | st.binary(min_size=1, max_size=10)
)


def _check(report: Any) -> None:
    d = report.to_dict()
    assert d["grade"] in GRADES
    assert isinstance(d["score"], int) and d["score"] >= 0
    assert list(d["tests"]) == list(TEST_NAMES)
    for t in d["tests"].values():
        assert t["result"] in SCORE_TABLE
        assert t["score_modifier"] == SCORE_TABLE[t["result"]][0]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(names, value, max_size=10),
    st.sampled_from(
        [
            "https://a.example/",
            "http://b.example:8080/x",
            "https://[::1]/",
            "https://xn--bcher-kva.example/",
        ]
    ),
)
def test_any_headers_grade_without_crashing(headers: dict[Any, Any], url: str) -> None:
    _check(grade_headers(headers, url=url))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_binary_junk_in_every_header(junk: bytes) -> None:
    _check(grade_headers({name.upper(): junk for name in GRADED}))


def test_enormous_values() -> None:
    huge = "a" * 2_000_000
    csp = "default-src 'self' " + " ".join(f"https://h{i}.example/p" for i in range(20_000))
    report = grade_headers(
        {
            "content-security-policy": [csp, csp],
            "strict-transport-security": "max-age=" + "9" * 100_000,
            "x-frame-options": huge,
            "referrer-policy": ",".join(["no-referrer"] * 100_000),
            "set-cookie": [f"c{i}=v; Secure" for i in range(5_000)],
            "cross-origin-opener-policy": "same-origin;" + "a=1;" * 50_000,
        }
    )
    _check(report)
    assert report.tests["strict-transport-security"].result == (
        "hsts-implemented-max-age-at-least-six-months"
    )


def test_non_utf8_bytes_are_read_as_latin1() -> None:
    report = grade_headers(
        {b"X-Frame-Options": b"DENY\xff", b"Content-Security-Policy": b"\xc3\x28"}
    )
    _check(report)
    assert report.tests["x-frame-options"].result == "x-frame-options-header-invalid"
    assert report.tests["content-security-policy"].result == "csp-header-invalid"


html_junk = st.lists(
    st.sampled_from(
        [
            "<script src=",
            "<script>",
            "</script>",
            "<meta http-equiv=content-security-policy content=",
            "<meta name=referrer content=no-referrer>",
            "<![CDATA[",
            "<!",
            "<?",
            "<!--",
            "-->",
            "<template>",
            "</template>",
            "<svg>",
            "integrity=sha384-x",
            '"',
            "'",
            "//cdn.example/x.js",
            "https://cdn.example/x.js",
            "http://[bad",
            "&#xffffff;",
            "&amp;",
            ">",
        ]
    )
    | st.text(max_size=10),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(html_junk, st.sampled_from(["text/html", "application/xhtml+xml", "", "TEXT/HTML"]))
def test_any_html_body_is_graded(body: str, content_type: str) -> None:
    headers = Headers.from_mapping({"content-type": content_type} if content_type else {})
    resp = Response("https://site.example/", 200, headers)
    scan = ScanInput(
        url="https://site.example/",
        host="site.example",
        auto=resp,
        https=resp,
        http=None,
        body=body,
    )
    _check(analyze_scan(scan))
