"""Observatory rules and quirks beyond the conformance file (its grader and analyzer sources,
https://github.com/mdn/mdn-http-observatory/tree/main/src)."""

from __future__ import annotations

from typing import Any

import pytest

from edgeshield.grade import Headers, analyze_scan, grade_for_score, grade_headers, grade_rank
from edgeshield.grade.model import Response, ScanInput
from edgeshield.grade.parse.csp import CspInvalid, parse_csp
from edgeshield.sf import item_token
from tests.grade import anchors


def result(headers: dict[str, Any], test: str, url: str = "https://example.com/") -> str:
    return grade_headers(headers, url=url).tests[test].result


def page_result(headers: dict[str, Any], body: str, test: str) -> str:
    h = Headers.from_mapping({"content-type": "text/html", **headers})
    resp = Response("https://example.com/", 200, h)
    scan = ScanInput(
        url="https://example.com/", host="example.com", auto=resp, https=resp, body=body
    )
    return analyze_scan(scan).tests[test].result


# --- grade chart and the extra-credit rule ---------------------------------------------


@pytest.mark.parametrize(
    "score,grade",
    [
        (165, "A+"), (100, "A+"), (99, "A"), (90, "A"), (89, "A-"), (85, "A-"), (84, "B+"),
        (80, "B+"), (79, "B"), (70, "B"), (69, "B-"), (65, "B-"), (64, "C+"), (60, "C+"),
        (59, "C"), (50, "C"), (49, "C-"), (45, "C-"), (44, "D+"), (40, "D+"), (39, "D"),
        (30, "D"), (29, "D-"), (25, "D-"), (24, "F"), (0, "F"), (-40, "F"),
    ],
)  # fmt: skip
def test_grade_chart(score: int, grade: str) -> None:
    assert grade_for_score(score) == grade


def test_grade_rank_orders_grades() -> None:
    assert grade_rank("A+") < grade_rank("A") < grade_rank("B+") < grade_rank("F")
    with pytest.raises(ValueError):
        grade_rank("E")


def test_bonuses_need_an_a_before_bonuses() -> None:
    owasp = anchors.owasp_headers()
    assert grade_headers(owasp).score == 145
    without_hsts = {k: v for k, v in owasp.items() if k != "Strict-Transport-Security"}
    # 100 - 20 = 80 < 90: the +45 of bonuses is dropped.
    assert (grade_headers(without_hsts).score, grade_headers(without_hsts).grade) == (80, "B+")
    without_xcto = {k: v for k, v in owasp.items() if k != "X-Content-Type-Options"}
    assert grade_headers(without_xcto).score == 140  # 95 >= 90: bonuses kept


def test_score_never_below_zero() -> None:
    bad = {
        "set-cookie": "sessionid=1",
        "access-control-allow-origin": "https://http-observatory.security.mozilla.org",
        "access-control-allow-credentials": "true",
    }
    assert grade_headers(bad).score == 0


# --- CSP ------------------------------------------------------------------------------


def test_policies_are_intersected() -> None:
    csp = parse_csp(["default-src 'self' https://a.example", "default-src 'self'"])
    assert csp == {"default-src": {"'self'"}}
    csp = parse_csp(["script-src https://a.example/js/", "script-src https://a.example/js/app.js"])
    assert csp == {"script-src": {"https://a.example/js/app.js"}}
    # A directive only the second policy has keeps nothing: 'none'.
    assert parse_csp(["default-src 'self'", "img-src 'self'"])["img-src"] == {"'none'"}


def test_comma_joined_header_is_two_policies() -> None:
    h = {"content-security-policy": ["default-src 'none'", "default-src 'self'"]}
    data = grade_headers(h).tests["content-security-policy"].data
    assert data is not None
    assert data["policies"] == 2


def test_bad_percent_escape_while_intersecting_is_invalid() -> None:
    with pytest.raises(CspInvalid):
        parse_csp(["script-src https://a.example/%zz/", "script-src https://a.example/%zz/x"])
    h = {
        "content-security-policy": "script-src https://a.example/%zz/, script-src https://a.example/%zz/x"
    }
    assert result(h, "content-security-policy") == "csp-header-invalid"


@pytest.mark.parametrize(
    "policy,expected",
    [
        ("upgrade-insecure-requests", "csp-implemented-with-unsafe-inline"),
        ("default-src 'none'; script-src 'strict-dynamic'", "csp-header-invalid"),
        (
            "default-src 'none'; script-src 'nonce-r4nd0m' 'strict-dynamic' https: 'unsafe-inline'",
            "csp-implemented-with-no-unsafe-default-src-none",
        ),
        ("default-src 'self'; script-src 'self' 'sha256-abc' 'unsafe-inline'", "csp-implemented-with-no-unsafe"),
        ("default-src 'self'; report-uri /a; report-uri /b", "csp-implemented-but-duplicate-directives"),
        ("default-src 'self'; default-src 'none'", "csp-header-invalid"),
        ("default-src 'self' http://cdn.example", "csp-implemented-with-insecure-scheme"),
        ("default-src 'self'; img-src http://img.example", "csp-implemented-with-insecure-scheme-in-passive-content-only"),
        ("default-src 'self'; script-src 'self' 'unsafe-eval'", "csp-implemented-with-unsafe-eval"),
        ("default-src 'self'; style-src 'self' data:", "csp-implemented-with-unsafe-inline-in-style-src-only"),
        ("DEFAULT-SRC 'NONE'", "csp-implemented-with-no-unsafe-default-src-none"),
        ("a", "csp-header-invalid"),
    ],
)  # fmt: skip
def test_csp_results(policy: str, expected: str) -> None:
    assert result({"content-security-policy": policy}, "content-security-policy") == expected


def test_duplicate_directives_still_pass_with_zero() -> None:
    t = grade_headers({"content-security-policy": "default-src 'none'; report-to a; report-to b"})
    o = t.tests["content-security-policy"]
    assert (o.result, o.passed) == ("csp-implemented-but-duplicate-directives", True)


def test_insecure_scheme_depends_on_page_scheme() -> None:
    h = {"content-security-policy": "default-src 'self' http://cdn.example"}
    assert (
        result(h, "content-security-policy", "http://example.com/")
        == "csp-implemented-with-no-unsafe"
    )


def test_report_only_is_not_enforcement() -> None:
    h = {"content-security-policy-report-only": "default-src 'none'"}
    assert result(h, "content-security-policy") == "csp-not-implemented-but-reporting-enabled"


def test_meta_csp_counts_and_meta_frame_ancestors_quirk() -> None:
    meta = '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
    assert page_result({}, meta, "content-security-policy") == (
        "csp-implemented-with-no-unsafe-default-src-none"
    )
    # frame-ancestors is not allowed in a meta policy, yet with a header CSP beside it the
    # Observatory's XFO test still sees it (it reads the merged header and meta policies).
    meta_fa = '<meta http-equiv="content-security-policy" content="frame-ancestors \'none\'">'
    h = {"content-security-policy": "default-src 'none'"}
    assert page_result(h, meta_fa, "x-frame-options") == "x-frame-options-implemented-via-csp"
    assert page_result(h, "<p>no meta</p>", "x-frame-options") == "x-frame-options-not-implemented"


# --- the other header tests -------------------------------------------------------------


def test_hsts_quirks() -> None:
    hsts = "strict-transport-security"
    assert result({hsts: "max-age=abc"}, hsts) == "hsts-implemented-max-age-at-least-six-months"
    assert (
        result({hsts: "max-age=15552000"}, hsts) == "hsts-implemented-max-age-at-least-six-months"
    )
    assert (
        result({hsts: "max-age=15551999"}, hsts) == "hsts-implemented-max-age-less-than-six-months"
    )
    assert result({hsts: ["max-age=31536000", "max-age=31536000"]}, hsts) == "hsts-header-invalid"
    assert result({hsts: "max-age = 31536000"}, hsts) == "hsts-header-invalid"


def test_preloaded_host() -> None:
    report = grade_headers({}, url="https://github.com/")
    assert report.tests["strict-transport-security"].result == "hsts-preloaded"
    assert report.tests["redirection"].result == "redirection-all-redirects-preloaded"
    assert (
        grade_headers({}, url="https://anything.dev/").tests["strict-transport-security"].result
        == "hsts-preloaded"
    )  # the whole .dev TLD is preloaded


def test_x_frame_options() -> None:
    xfo = "x-frame-options"
    assert result({xfo: " Deny "}, xfo) == "x-frame-options-sameorigin-or-deny"
    assert result({xfo: "ALLOW-FROM https://a.example"}, xfo) == "x-frame-options-allow-from-origin"
    assert result({xfo: ["SAMEORIGIN", "SAMEORIGIN"]}, xfo) == "x-frame-options-header-invalid"
    # Any frame-ancestors counts, even '*'.
    assert result({"content-security-policy": "frame-ancestors *"}, xfo) == (
        "x-frame-options-implemented-via-csp"
    )


def test_referrer_last_recognised_token_wins() -> None:
    rp = "referrer-policy"
    assert result({rp: "no-referrer, unsafe-url"}, rp) == "referrer-policy-unsafe"
    assert result({rp: "unsafe-url, no-referrer, bogus"}, rp) == "referrer-policy-private"
    assert result({rp: "bogus"}, rp) == "referrer-policy-header-invalid"
    body = '<meta name="referrer" content="no-referrer">'
    assert page_result({rp: "unsafe-url"}, body, rp) == "referrer-policy-private"


@pytest.mark.parametrize(
    "value,expected",
    [
        ("same-origin", "coop-implemented-with-same-origin"),
        ('same-origin; report-to="coop"', "coop-implemented-with-same-origin"),
        ("same-origin-allow-popups", "coop-implemented-with-same-origin-allow-popups"),
        ("Same-Origin", "coop-header-invalid"),
        ('"same-origin"', "coop-header-invalid"),
        ("same-origin ;report-to=x", "coop-header-invalid"),
        ("same-origin, same-origin", "coop-header-invalid"),
        ("", "coop-not-implemented"),
    ],
)
def test_coop_is_a_structured_field_token(value: str, expected: str) -> None:
    assert result({"cross-origin-opener-policy": value}, "cross-origin-opener-policy") == expected


def test_sf_item_parser() -> None:
    assert item_token("require-corp") == "require-corp"
    assert item_token('a;b;c=?1;d=1.5;e=:YQ==:;f="x"') == "a"
    assert item_token("*foo") == "*foo"
    assert item_token("1") is None
    assert item_token("a;B=1") is None  # keys are lower-case
    assert item_token("a;b=1.2345") is None  # at most three decimals


def test_corp_repeated_is_invalid() -> None:
    corp = "cross-origin-resource-policy"
    assert result({corp: " Same-Site "}, corp) == "corp-implemented-with-same-site"
    assert result({corp: ["same-origin", "same-origin"]}, corp) == "corp-header-invalid"


# --- cookies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cookies,expected",
    [
        (["sid=1; Domain=other.example; Secure"], "cookies-not-found"),
        (["__Secure-id=1"], "cookies-not-found"),
        (["__Host-id=1; Secure; Path=/; Domain=example.com"], "cookies-not-found"),
        (["heroku-session-affinity=1"], "cookies-not-found"),
        (["noequals"], "cookies-not-found"),
        (["a=1; Domain=com; Secure"], "cookies-not-found"),
        (["a=1; SameSite=None"], "cookies-samesite-flag-invalid"),
        (["a=1; Secure; SameSite=Lax"], "cookies-secure-with-httponly-sessions-and-samesite"),
        (["login=1; Secure; SameSite=Lax"], "cookies-session-without-httponly-flag"),
        (["csrftoken=1; Secure"], "cookies-anticsrf-without-samesite-flag"),
        (["a=1; Secure; SameSite=Lax", "a=1"], "cookies-without-secure-flag"),
    ],
)
def test_cookies(cookies: list[str], expected: str) -> None:
    assert result({"set-cookie": cookies}, "cookies") == expected


def test_hsts_softens_missing_secure() -> None:
    h = {"set-cookie": "sessionid=1; HttpOnly", "strict-transport-security": "max-age=31536000"}
    assert result(h, "cookies") == "cookies-session-without-secure-flag-but-protected-by-hsts"


# --- CORS and SRI -------------------------------------------------------------------------


def test_cors_from_headers() -> None:
    cors = "cross-origin-resource-sharing"
    assert result({"access-control-allow-origin": "*"}, cors) == (
        "cross-origin-resource-sharing-implemented-with-public-access"
    )
    report = grade_headers({})
    assert report.tests[cors].assumed is not None
    assert report.tests["redirection"].assumed is not None


def test_sri_non_html_is_known_from_headers() -> None:
    report = grade_headers({"content-type": "application/json"})
    sri = report.tests["subresource-integrity"]
    assert (sri.result, sri.assumed) == ("sri-not-implemented-response-not-html", None)
    assert grade_headers({}).tests["subresource-integrity"].assumed is not None


@pytest.mark.parametrize(
    "body,expected",
    [
        ("<p>hi</p>", "sri-not-implemented-but-no-scripts-loaded"),
        ("<script>1</script>", "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"),
        ('<script src="/a.js"></script>', "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"),
        ('<script src="https://www.example.com/a.js"></script>', "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"),
        ('<script src="https://cdn.other.net/a.js"></script>', "sri-not-implemented-but-external-scripts-loaded-securely"),
        ('<script src="https://cdn.other.net/a.js" integrity="sha384-x"></script>', "sri-implemented-and-external-scripts-loaded-securely"),
        ('<script src="//cdn.other.net/a.js" integrity="sha384-x"></script>', "sri-implemented-but-external-scripts-not-loaded-securely"),
        ('<script src="//cdn.other.net/a.js"></script>', "sri-not-implemented-and-external-scripts-not-loaded-securely"),
        ('<script src="HTTP://cdn.other.net/a.js"></script>', "sri-not-implemented-and-external-scripts-not-loaded-securely"),
        ('<template><script src="http://x.net/a.js"></script></template>', "sri-not-implemented-but-no-scripts-loaded"),
    ],
)  # fmt: skip
def test_sri(body: str, expected: str) -> None:
    assert page_result({}, body, "subresource-integrity") == expected


# --- header input forms ---------------------------------------------------------------------


def test_header_names_any_case_and_bytes() -> None:
    a = grade_headers(anchors.HELMET).to_dict()
    b = grade_headers({k.upper(): v for k, v in anchors.HELMET.items()}).to_dict()
    c = grade_headers({k.encode(): v.encode() for k, v in anchors.HELMET.items()}).to_dict()
    assert a == b == c


def test_two_spellings_of_one_header_are_two_lines() -> None:
    h = {"X-Frame-Options": "DENY", "x-frame-options": "DENY"}
    assert result(h, "x-frame-options") == "x-frame-options-header-invalid"


def test_single_valued_headers_keep_the_first_line() -> None:
    assert (
        Headers.from_mapping({"content-type": ["text/html", "text/plain"]}).get("content-type")
        == "text/html"
    )
    h = Headers.from_pairs(
        [(b"Set-Cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"X-A", b"1"), (b"x-a", b"2")]
    )
    assert h.set_cookie == ["a=1", "b=2"] and h.get("x-a") == "1, 2"


# --- found by the differential test against the Observatory's own code -------------------------


def test_svg_scripts_count_as_scripts_without_src() -> None:
    body = '<svg><script src="http://svg.example/a.js"></script></svg>'
    assert page_result({}, body, "subresource-integrity") == (
        "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
    )


def test_cookie_jar_rejections() -> None:
    assert result({"set-cookie": "a\tb=1"}, "cookies") == "cookies-not-found"  # control char
    h = {"set-cookie": "a=1; Domain=github.io"}  # a public suffix (private section)
    assert result(h, "cookies", "https://x.github.io/") == "cookies-not-found"
    h = {"set-cookie": "a=1; Domain=x.github.io; Secure; SameSite=Lax"}
    assert result(h, "cookies", "https://x.github.io/") == (
        "cookies-secure-with-httponly-sessions-and-samesite"
    )


def test_whitespace_only_values_are_empty_on_the_wire() -> None:
    h = {"content-security-policy-report-only": " \t "}
    assert result(h, "content-security-policy") == "csp-not-implemented"
    assert result({"cross-origin-opener-policy": "  "}, "cross-origin-opener-policy") == (
        "coop-not-implemented"
    )
