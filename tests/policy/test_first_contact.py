"""Policies that used to crash `check` or pass headers that do nothing (issues 9.7 and 11.4).

Each case is the input that showed the defect; the assertion is the line the user now gets.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edgeshield.policy import compile_policy, load_policy, parse_policy
from edgeshield.policy.headers import edit_distance, misspelt_header


def lines(toml: str) -> list[str]:
    _policy, problems = parse_policy(toml, "p.toml")
    return [p.format() for p in problems]


def errors(toml: str) -> list[str]:
    return [line for line in lines(toml) if ": warning: " not in line]


def warnings(toml: str) -> list[str]:
    return [line for line in lines(toml) if ": warning: " in line]


# --- 9.7: typos of security header names ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("x-frame-optoins", "x-frame-options"),
        ("content-securty-policy", "content-security-policy"),
        ("strict-transport-securiy", "strict-transport-security"),
        ("refferer-policy", "referrer-policy"),
        ("X-Content-Type-Option", "x-content-type-options"),
        ("permission-policy", "permissions-policy"),
        ("content-security-policy-reportonly", "content-security-policy-report-only"),
    ],
)
def test_a_misspelt_security_header_is_an_error_with_the_fix(name: str, meant: str) -> None:
    _policy, problems = parse_policy(f'[headers]\n{name} = "x"\n', "p.toml")
    assert [p.severity for p in problems] == ["error"]
    text = problems[0].format()
    assert text.startswith(f"p.toml:2: headers.{name}: unknown header")
    assert f"rename it to {meant!r}" in text
    assert "custom = true" in text


def test_a_deliberate_custom_header_is_allowed_with_custom_true() -> None:
    policy, problems = parse_policy(
        '[headers]\nx-frame-optoins = { value = "DENY", custom = true }\n', "p.toml"
    )
    assert problems == [] and policy is not None
    assert [(h.key, h.value) for h in policy.headers] == [("X-Frame-Optoins", "DENY")]


def test_custom_true_on_a_known_header_is_refused() -> None:
    assert errors('[headers]\nx-frame-options = { value = "DENY", custom = true }\n') == [
        "p.toml:2: headers.x-frame-options.custom: custom = true is for your own headers; "
        "'x-frame-options' is one edgeshield checks; remove custom = true"
    ]


def test_names_far_from_every_security_header_need_no_opt_in() -> None:
    for name in ("x-request-id", "cache-tag", "x-robots-tag", "x-custom-thing", "nel"):
        assert misspelt_header(name) is None, name
    assert lines('[headers]\nx-robots-tag = "noindex"\n') == []


def test_edit_distance_counts_a_swap_once() -> None:
    assert edit_distance("optoins", "options") == 1
    assert edit_distance("abc", "abc") == 0
    assert edit_distance("", "abc") == 3
    assert edit_distance("kitten", "sitting") == 3


# --- 9.7: messages in the user's words ------------------------------------------------------


def test_a_missing_max_age_says_so() -> None:
    assert errors("[headers.strict-transport-security]\ninclude-subdomains = true\n") == [
        "p.toml:1: headers.strict-transport-security.max-age: max-age is missing; "
        "e.g. max-age = 63072000 (two years)"
    ]


@pytest.mark.parametrize(
    ("toml", "shown"),
    [
        ("[headers.strict-transport-security]\nmax-age = [1]\n", "not an array"),
        ("[headers.strict-transport-security]\nmax-age = true\n", "not true"),
        ("[function]\nmetrics = 1\n[headers]\nx-a = '1'\n", "not 1"),
        ("[function]\nmetrics = { a = 1 }\n[headers]\nx-a = '1'\n", "not a table"),
        ("[headers]\nx-a = 5\n", "not 5"),
        ("[headers]\nx-a = 2024-01-01\n", "not a date or time"),
    ],
)
def test_messages_never_show_python_values(toml: str, shown: str) -> None:
    found = errors(toml)
    assert found and shown in found[0], found
    for text in found:
        assert not re.search(r"None|True|False|<class|\bdict\b|\blist\b|datetime", text), text


def test_a_missing_file_has_no_line_number(tmp_path: Path) -> None:
    policy, problems = load_policy(tmp_path / "nope.toml")
    assert policy is None
    assert [p.format() for p in problems] == [
        f"{tmp_path / 'nope.toml'}: not found; create it with: edgeshield init"
    ]


def test_rule_problems_name_the_rule() -> None:
    found = errors(
        '[headers]\nx-a = "1"\n[[rules]]\nname = "API is private"\n'
        'set = { x-frame-options = "ALLOW-FROM https://a" }\n'
    )
    assert found[0].startswith(
        'p.toml:5: rules.0.set.x-frame-options (rule "API is private"): ALLOW-FROM'
    )


# --- 11.4: nothing crashes -------------------------------------------------------------------


def test_a_number_with_thousands_of_digits_is_one_problem_on_its_line() -> None:
    toml = '[headers]\nx-a = "1"\n[headers.strict-transport-security]\nmax-age = 1' + "0" * 5000
    assert lines(toml) == [
        "p.toml:4: a number is too long to read (5001 digits); numbers in a policy are small: "
        "seconds (max-age = 63072000), rates (0.1), statuses (404)"
    ]


def test_a_long_max_age_in_a_string_is_refused_without_crashing() -> None:
    found = errors('[headers]\nstrict-transport-security = "max-age=1' + "0" * 5000 + '"\n')
    assert len(found) == 1 and "max-age must be a whole number of seconds" in found[0]
    assert "5001-digit" not in found[0] or len(found[0]) < 400


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-16", "the file is UTF-16 (it starts with a UTF-16 byte-order mark)"),
        ("utf-32", "the file is UTF-32"),
        ("utf-16-le", "holds NUL bytes: is it UTF-16 without a byte-order mark?"),
    ],
)
def test_a_policy_in_another_encoding_is_named(
    tmp_path: Path, encoding: str, expected: str
) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[headers]\nx-frame-options = "DENY"\n', encoding=encoding)
    policy, problems = load_policy(path)
    assert policy is None and len(problems) == 1
    text = problems[0].format()
    assert text.startswith(f"{path}:1: ") and expected in text, text


def test_latin1_bytes_get_their_line(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_bytes(b'[headers]\nx-a = "1"\nx-b = "caf\xe9"\n')
    _policy, problems = load_policy(path)
    assert problems[0].format().startswith(f"{path}:3: byte 0xe9 is not UTF-8")


def test_a_utf8_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_bytes(b'\xef\xbb\xbf[headers]\nx-frame-options = "DENY"\n')
    policy, problems = load_policy(path)
    assert policy is not None and problems == []


# --- 11.4: nothing that does nothing passes silently -----------------------------------------


@pytest.mark.parametrize("toml", ["", "# only a comment\n\n# and another\n", "[function]\n"])
def test_an_empty_policy_is_an_error(toml: str) -> None:
    assert [line.split(": ", 1)[1] for line in errors(toml)] == [
        "the policy is empty: it adds no header and removes none; "
        "start from a preset: edgeshield init --preset strict"
    ]


def test_a_policy_that_only_removes_is_fine() -> None:
    assert lines('[remove]\nheaders = ["server"]\n') == []


CSP = "[headers.content-security-policy.directives]\ndefault-src = [\"'self'\"]\n"


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        ('["/csp report"]', "holds a space"),
        ('["/rapport-é"]', "outside ASCII"),
        ('["javascript:alert(1)"]', "uses javascript:"),
    ],
)
def test_report_uri_values_are_checked(sources: str, expected: str) -> None:
    found = errors(CSP + f"report-uri = {sources}\n")
    assert len(found) == 1 and found[0].startswith("p.toml:3: ") and expected in found[0]


def test_an_http_report_uri_is_a_warning() -> None:
    assert "travel unencrypted" in warnings(CSP + 'report-uri = ["http://r.example/csp"]\n')[0]


@pytest.mark.parametrize("keyword", ["'unsafe-inline'", "'unsafe-eval'", "'strict-dynamic'"])
def test_frame_ancestors_refuses_script_keywords(keyword: str) -> None:
    found = errors(CSP + f'frame-ancestors = ["{keyword}"]\n')
    assert found == [
        f"p.toml:3: headers.content-security-policy.directives.frame-ancestors: frame-ancestors "
        f"does not take {keyword!r}: browsers ignore it there; use 'none', 'self', hosts "
        "(https://app.example) or schemes (https:)"
    ]


def test_frame_ancestors_in_a_raw_value_too() -> None:
    found = errors("[headers]\ncontent-security-policy = \"frame-ancestors 'unsafe-inline'\"\n")
    assert len(found) == 1 and "frame-ancestors does not take" in found[0]


@pytest.mark.parametrize("value", ['["script"]', "[\"'style'\"]", "[]", "[\"'script'\", \"'x'\"]"])
def test_require_trusted_types_for_takes_only_script(value: str) -> None:
    found = errors(CSP + f"require-trusted-types-for = {value}\n")
    assert len(found) == 1 and "takes exactly 'script'" in found[0], found


def test_require_trusted_types_for_script_is_fine() -> None:
    assert lines(CSP + "require-trusted-types-for = [\"'script'\"]\n") == []


@pytest.mark.parametrize(
    "url",
    ["http://r.example/reports", "javascript:alert(1)", "data:text/plain,x", "ftp://r.example/"],
)
def test_reporting_endpoints_must_be_https(url: str) -> None:
    table = errors(f'[headers.reporting-endpoints.endpoints]\ncsp = "{url}"\n')
    raw = errors(f"[headers]\nreporting-endpoints = 'csp=\"{url}\"'\n")
    assert len(table) == 1 and table[0].startswith("p.toml:2: headers.reporting-endpoints")
    assert len(raw) == 1 and raw[0].startswith("p.toml:2: headers.reporting-endpoints")


@pytest.mark.parametrize(
    "url", ["https://r.example/reports", "/_edgeshield/csp-report", "http://localhost:8080/r"]
)
def test_reporting_endpoints_that_work(url: str) -> None:
    assert lines(f'[headers.reporting-endpoints.endpoints]\ncsp = "{url}"\n') == []


@pytest.mark.parametrize(
    "source", ["nonce-r4nd0m", "sha256-sOnF4cvteLSHWUYYPTI1y//BzIRMFlzC4s7rhbU+mis=", "SHA384-x"]
)
def test_an_unquoted_nonce_or_hash_is_an_error(source: str) -> None:
    found = errors(CSP + f'script-src = ["{source}"]\n')
    assert len(found) == 1 and "is not quoted, so browsers read it as a host name" in found[0]
    assert f"write \"'{source}'\"" in found[0]


@pytest.mark.parametrize("char", ["\u0085", "\u0080", "\u009f", "\x7f", "\x00"])
def test_control_characters_are_refused_in_every_value_form(char: str) -> None:
    escaped = f"\\u{ord(char):04x}"
    for toml in (
        f'[headers]\nx-a = "a{escaped}b"\n',
        f"[headers]\ncontent-security-policy = \"default-src 'self'{escaped}\"\n",
        f"[headers.content-security-policy.directives]\ndefault-src = [\"'self'{escaped}\"]\n",
    ):
        found = errors(toml)
        assert len(found) == 1 and found[0].startswith("p.toml:2: "), (toml, found)
        assert "control character" in found[0]


def test_u0085_is_not_whitespace_in_a_csp() -> None:
    """Python's str.split() splits on U+0085; CSP does not, so it must not vanish."""
    found = errors("[headers]\ncontent-security-policy = \"default-src 'self'\\u0085https://a\"\n")
    assert found, "U+0085 must not be dropped as if it were a space"


def test_a_non_ascii_rule_path_matches_the_percent_encoded_uri() -> None:
    from edgeshield.preview import Sample, run_sample

    policy, problems = parse_policy(
        '[headers]\nx-a = "1"\n[[rules]]\nname = "café"\nmatch = { path = ["/café/*", "/a b"] }\n'
        'set = { x-b = "2" }\n'
    )
    assert policy is not None and problems == []
    compiled = compile_policy(policy)
    for uri, matches in [
        ("/caf%C3%A9/menu", True),  # as browsers send it
        ("/caf%c3%a9/menu", True),
        ("/café/menu", True),
        ("/a%20b", True),
        ("/cafe/menu", False),
    ]:
        result = run_sample(compiled, Sample("x", uri, 200, "text/html"))
        assert (result.rules == ["café"]) is matches, uri


def test_hsts_value_form_is_accepted() -> None:
    policy, problems = parse_policy(
        '[headers.strict-transport-security]\nvalue = "max-age=63072000; includeSubDomains"\n'
        "override = false\n"
    )
    assert problems == [] and policy is not None
    [hsts] = policy.headers
    assert (hsts.value, hsts.override) == ("max-age=63072000; includeSubDomains", False)


def test_hsts_value_form_is_checked_like_the_string_form() -> None:
    found = warnings('[headers.strict-transport-security]\nvalue = "max-age=100"\n')
    assert "under 180 days" in found[0]


# --- 9.10: the HSTS threshold at its boundary ---------------------------------------------------


@pytest.mark.parametrize(
    ("max_age", "warned"), [(15_551_999, True), (15_552_000, False), (15_552_001, False)]
)
def test_hsts_threshold_is_180_days_to_the_second(max_age: int, warned: bool) -> None:
    """The policy warns exactly where the Observatory starts deducting points."""
    from edgeshield.grade import grade_headers

    toml = f"[headers.strict-transport-security]\nmax-age = {max_age}\n"
    found = warnings(toml)
    assert bool(found) is warned, found
    if warned:
        assert found == [
            f"p.toml:2: warning: headers.strict-transport-security.max-age: max-age {max_age} "
            "is under 180 days; use at least 15552000; the Observatory deducts points below that"
        ]
    report = grade_headers(
        {"strict-transport-security": [f"max-age={max_age}"]}, url="https://example.com/"
    ).to_dict()
    hsts = report["tests"]["strict-transport-security"]
    assert (hsts["result"] == "hsts-implemented-max-age-less-than-six-months") is warned
