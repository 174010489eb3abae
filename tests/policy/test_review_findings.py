"""Regressions for defects a review found: each input once slipped through or crashed."""

from __future__ import annotations

import textwrap

import pytest

from edgeshield.policy import parse_policy


def lines(toml: str) -> list[str]:
    return [p.format() for p in parse_policy(textwrap.dedent(toml), "p.toml")[1]]


def errors(toml: str) -> list[str]:
    return [
        p.format()
        for p in parse_policy(textwrap.dedent(toml), "p.toml")[1]
        if p.severity == "error"
    ]


def test_header_name_with_trailing_newline_is_refused_on_its_line() -> None:
    assert errors('[headers]\n"x-frame-options\\n" = "DENY"\n') == [
        "p.toml:2: headers.x-frame-options\\n: 'x-frame-options\\n' is not a valid header name; "
        "use letters, digits and !#$%&'*+-.^_`|~ only"
    ]


@pytest.mark.parametrize("digits", ["²", "١٢٣"])
def test_non_ascii_digits_in_hsts_are_refused(digits: str) -> None:
    assert any(
        "max-age must be a whole number" in e
        for e in errors(f'[headers]\nstrict-transport-security = "max-age={digits}"\n')
    )


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    assert errors("x = " + "[" * 5000 + "]" * 5000 + "\n") == [
        "p.toml:1: toml: nesting is too deep to parse; a policy needs at most a few levels of tables and arrays"
    ]


@pytest.mark.parametrize("name", ["x-amzn-trace-id", "X-Amzn-Foo", "x-accel-foo"])
def test_aws_reserved_families_are_refused_like_the_engine_does(name: str) -> None:
    assert any("in a family AWS reserves" in e for e in errors(f'[headers]\n{name} = "1"\n'))
    assert any("in a family AWS reserves" in e for e in errors(f'[remove]\nheaders = ["{name}"]\n'))


@pytest.mark.parametrize("name", ["content-length", "content-encoding", "content-range"])
def test_framing_headers_are_refused(name: str) -> None:
    assert any(f"must not set '{name}'" in e for e in errors(f'[headers]\n{name} = "0"\n'))
    assert any(
        f"must not remove '{name}'" in e for e in errors(f'[remove]\nheaders = ["{name}"]\n')
    )


def test_values_over_16kb_are_errors_and_over_8kb_warnings() -> None:
    assert any(
        "bytes long; at most 16384" in e for e in errors(f'[headers]\nx-a = "{"a" * 20000}"\n')
    )
    found = lines(f'[headers]\nx-a = "{"a" * 9000}"\n')
    assert len(found) == 1 and ": warning: " in found[0]


def test_report_only_csp_under_its_own_name_is_validated() -> None:
    assert any(
        "unknown directive 'garbage'" in e
        for e in errors('[headers]\ncontent-security-policy-report-only = "garbage here"\n')
    )
    policy, _ = parse_policy(
        "[headers]\ncontent-security-policy-report-only = \"default-src 'self'; report-uri /r\"\n"
    )
    assert policy is not None
    assert policy.headers[0].key == "Content-Security-Policy-Report-Only"


@pytest.mark.parametrize("name", ["a b", "A", "x"])
def test_reporting_endpoints_table_is_checked_like_a_raw_value(name: str) -> None:
    url = "/é" if name == "x" else "/r"
    expected = "outside ASCII" if name == "x" else "not a valid Reporting-Endpoints value"
    assert any(
        expected in e
        for e in errors(f'[headers.reporting-endpoints.endpoints]\n"{name}" = "{url}"\n')
    )


@pytest.mark.parametrize("value", ["camera=5", "camera", "camera=?0", "camera=(self 5)"])
def test_permissions_policy_members_must_be_allowlists(value: str) -> None:
    assert any(
        "invalid allowlist entry" in e
        for e in errors(f"[headers]\npermissions-policy = '{value}'\n")
    )


def test_empty_permissions_policy_and_empty_source_list_warn() -> None:
    assert (
        ": warning: headers.permissions-policy: empty Permissions-Policy"
        in lines('[headers]\npermissions-policy = ""\n')[0]
    )
    (warning,) = lines("[headers.content-security-policy.directives]\ndefault-src = []\n")
    assert "has no sources, which browsers read as 'none'" in warning


def test_star_is_not_a_header_name_to_remove() -> None:
    assert any("'*' is not a header name here" in e for e in errors('[remove]\nheaders = ["*"]\n'))


def test_line_numbers_survive_brackets_in_strings_and_multiline_strings() -> None:
    assert errors('[headers]\nx-note = "see [docs"\nx-frame-options = "ALLOW"\n')[0].startswith(
        "p.toml:3:"
    )
    found = errors(
        '[headers]\nx-doc = """\nx-frame-options = "fake"\n"""\nx-frame-options = "ALLOW"\n'
    )
    assert found[-1].startswith("p.toml:5: headers.x-frame-options")
    assert errors('[headers]\n"\\u00e9" = "1"\n')[0].startswith("p.toml:2:")
