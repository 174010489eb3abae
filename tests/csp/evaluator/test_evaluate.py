"""The CSP Evaluator port on policies whose findings are known (no Node needed); the
differential test checks the rest against the npm package."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeshield.csp.evaluator import (
    FindingType,
    Severity,
    Version,
    evaluate,
    high_severity,
    policy_findings,
    sources_without_host,
)
from edgeshield.policy import load_preset, parse_policy

T = FindingType


def keys(csp: str, version: Version = Version.CSP3) -> list[tuple[FindingType, str, str | None]]:
    return [(f.type, f.directive, f.value) for f in evaluate(csp, version)]


def test_unsafe_inline_is_high_and_ignored_beside_a_nonce_in_csp2_and_later() -> None:
    assert (T.SCRIPT_UNSAFE_INLINE, "script-src", "'unsafe-inline'") in keys(
        "script-src 'unsafe-inline'"
    )
    with_nonce = "script-src 'unsafe-inline' 'nonce-abcdefgh'; object-src 'none'; base-uri 'none'"
    assert T.SCRIPT_UNSAFE_INLINE not in {k[0] for k in keys(with_nonce)}
    # A CSP1 browser knows no nonces, so 'unsafe-inline' is live there.
    assert T.SCRIPT_UNSAFE_INLINE in {k[0] for k in keys(with_nonce, Version.CSP1)}


def test_strict_dynamic_makes_csp3_ignore_the_allowlist_fallback() -> None:
    csp = "script-src 'nonce-abcdefgh' 'strict-dynamic' https: 'unsafe-inline'; object-src 'none'; base-uri 'none'"
    found = keys(csp)
    assert (T.IGNORED, "script-src", "https:") in found
    assert not high_severity(evaluate(csp))
    # A CSP2 browser ignores 'strict-dynamic' and so enforces https: — a plain scheme.
    assert (T.PLAIN_URL_SCHEMES, "script-src", "https:") in keys(csp, Version.CSP2)


@pytest.mark.parametrize(
    ("source", "severity"),
    [
        ("www.google.com", Severity.HIGH),  # JSONP endpoints on the host
        ("https://ajax.googleapis.com/ajax/libs/", Severity.HIGH),  # AngularJS under the path
        ("https://ajax.googleapis.com/other/", Severity.MEDIUM_MAYBE),  # path rules it out
        ("*.googleapis.com", Severity.HIGH),  # wildcard label covers the host
        ("www.googletagmanager.com", Severity.MEDIUM_MAYBE),  # needs 'unsafe-eval'
        ("cdn.example.com", Severity.MEDIUM_MAYBE),
    ],
)
def test_allowlist_bypass_hosts(source: str, severity: Severity) -> None:
    found = [f for f in evaluate(f"script-src {source}") if f.type == T.SCRIPT_ALLOWLIST_BYPASS]
    assert [(f.value, f.severity) for f in found] == [(source, severity)]


def test_needs_eval_host_is_a_bypass_with_unsafe_eval() -> None:
    found = evaluate("script-src www.googletagmanager.com 'unsafe-eval'")
    bypass = [f for f in found if f.type == T.SCRIPT_ALLOWLIST_BYPASS]
    assert bypass[0].severity == Severity.HIGH
    assert bypass[0].description.startswith("www.googletagmanager.com ")


@pytest.mark.parametrize(
    ("source", "localhost"),
    [("127.0.0.1", True), ("2130706433", True), ("0x7f.1", True), ("10.1.2.3:8080", False),
     ("[::1]", False), ("https://[2001:db8::1]/x", False)],
)  # fmt: skip
def test_ip_sources_in_the_forms_the_url_parser_folds(source: str, localhost: bool) -> None:
    found = [f for f in evaluate(f"img-src {source}") if f.type == T.IP_SOURCE]
    assert len(found) == 1
    assert ("localhost" in found[0].description) is localhost


def test_nonce_length_counts_utf16_units_and_charset() -> None:
    found = {(f.type, f.value) for f in evaluate("script-src 'nonce-😀😀😀😀' 'nonce-abc'")}
    assert (T.NONCE_LENGTH, "'nonce-abc'") in found
    assert (T.NONCE_LENGTH, "'nonce-😀😀😀😀'") not in found  # 8 UTF-16 units
    assert (T.NONCE_CHARSET, "'nonce-😀😀😀😀'") in found


def test_parser_quirks_follow_javascript() -> None:
    # Repeated directive ignored; "constructor" already exists on a JS object; names that are
    # array indices come first; U+00A0 separates tokens, U+001C does not.
    found = keys("script-src 'self'; Script-Src *; constructor x; 12 y; img-src\u00a0a\x1cb")
    unknown = [k for k in found if k[0] == T.UNKNOWN_DIRECTIVE]
    assert unknown == [(T.UNKNOWN_DIRECTIVE, "12", None)]
    assert (T.PLAIN_WILDCARD, "script-src", "*") not in found
    # One token "a\x1cb" (which no URL parser takes as a host), not two.
    assert sources_without_host("img-src\u00a0a\x1cb") == [("img-src", "a\x1cb")]


def test_syntax_findings() -> None:
    found = keys("script-src self 'nonce-abc' object-src 'bogus'; trusted-types 'none' 'script'")
    assert (T.INVALID_KEYWORD, "script-src", "self") in found
    assert (T.MISSING_SEMICOLON, "script-src", "object-src") in found
    assert (T.INVALID_KEYWORD, "script-src", "'bogus'") in found
    assert (T.INVALID_KEYWORD, "trusted-types", "'script'") in found
    assert (T.INVALID_KEYWORD, "trusted-types", "'none'") not in found


def test_reporting() -> None:
    assert (T.REPORTING_DESTINATION_MISSING, "report-uri", None) in keys("default-src 'none'")
    assert (T.REPORT_TO_ONLY, "report-to", None) in keys("default-src 'none'; report-to g")
    assert not {T.REPORT_TO_ONLY, T.REPORTING_DESTINATION_MISSING} & {
        k[0] for k in keys("default-src 'none'; report-uri /r")
    }


def test_unreadable_hosts_are_skipped_not_raised() -> None:
    csp = "script-src a:b.com 999.1.1.1 ok.example.com"
    assert sources_without_host(csp) == [("script-src", "a:b.com"), ("script-src", "999.1.1.1")]
    values = {f.value for f in evaluate(csp) if f.type == T.SCRIPT_ALLOWLIST_BYPASS}
    assert values == {"ok.example.com"}


@pytest.mark.parametrize("preset", ["strict", "recommended", "helmet"])
def test_presets_have_no_high_severity_finding(preset: str) -> None:
    results = policy_findings(load_preset(preset))
    assert [r.header for r in results] == ["content-security-policy"]
    assert results[0].findings and not high_severity(results[0].findings)


def test_policy_findings_cover_report_only_and_rules() -> None:
    text = """
[headers.content-security-policy]
mode = "report-only"
[headers.content-security-policy.directives]
script-src = ["'unsafe-inline'"]
report-uri = ["/r"]

[[rules]]
name = "docs"
match.path = ["/docs/*"]
[rules.set.content-security-policy.directives]
default-src = ["'self'"]
"""
    policy, problems = parse_policy(text, "t.toml")
    assert policy is not None, problems
    results = policy_findings(policy)
    assert [(r.where, r.report_only) for r in results] == [("headers", True), ("rule docs", False)]
    assert high_severity(results[0].findings)
    as_json = results[0].to_dict()
    assert as_json["report_only"] and as_json["csp"].startswith("script-src 'unsafe-inline'")
    assert "script-unsafe-inline" in {f["type"] for f in as_json["findings"]}


def test_bypass_data_ships_with_its_licence() -> None:
    data = resources.files("edgeshield.csp.evaluator").joinpath("data")
    assert "Apache License" in data.joinpath("LICENSE").read_text("utf-8")
    assert "Google" in data.joinpath("NOTICE").read_text("utf-8")
    jsonp = json.loads(data.joinpath("jsonp.json").read_text("utf-8"))
    assert len(jsonp["urls"]) == 123 and "www.googletagmanager.com" in jsonp["needs_eval"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.characters(codec=None), max_size=30)
        | st.sampled_from(["script-src", "'nonce-", "*", "https://", ":*", "[", "]", "%", "."]),
        max_size=12,
    ).map(lambda parts: " ".join(parts).replace("\u0000", ";")),
    st.sampled_from(list(Version)),
)
def test_never_raises(csp: str, version: Version) -> None:
    findings = evaluate(csp, version)
    assert all(isinstance(f.description, str) and f.description for f in findings)
    sources_without_host(csp, version)
