"""Every validator on good and bad input, with the exact message the user sees."""

from __future__ import annotations

import textwrap

import pytest

from edgeshield.policy import Problem, parse_policy


def problems(toml: str) -> list[Problem]:
    _policy, found = parse_policy(textwrap.dedent(toml), "p.toml")
    return found


def lines(toml: str) -> list[str]:
    return [p.format() for p in problems(toml)]


def only(toml: str) -> str:
    found = lines(toml)
    assert len(found) == 1, found
    return found[0]


def test_valid_policy_has_no_problems() -> None:
    policy, found = parse_policy(
        textwrap.dedent(
            """
            [headers]
            x-content-type-options = "nosniff"
            x-frame-options = "sameorigin"
            [headers.strict-transport-security]
            max-age = 31536000
            include-subdomains = true
            preload = true
            """
        )
    )
    assert found == []
    assert policy is not None
    values = {h.key: h.value for h in policy.headers}
    assert values == {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
    }


def test_toml_syntax_error_names_the_line() -> None:
    assert only("x-a = 1\n\n[headers\n") == (
        "p.toml:3: toml: TOML syntax error: Expected ']' at the end of a table declaration; "
        "fix the syntax (see https://toml.io)"
    )


def test_unknown_keys_suggest_the_closest() -> None:
    assert only("[function]\ntriger = 'origin-response'\n") == (
        "p.toml:2: function.triger: unknown key 'triger'; did you mean 'trigger'?"
    )
    assert only("[header]\n") == "p.toml:1: header: unknown key 'header'; did you mean 'headers'?"


def test_header_name_must_be_a_token() -> None:
    assert only('[headers]\n"x bad" = "1"\n') == (
        "p.toml:2: headers.x bad: 'x bad' is not a valid header name; use letters, digits and "
        "!#$%&'*+-.^_`|~ only"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [("a\\nb", "'\\n'"), ("a\\rb", "'\\r'"), ("a\\u0000b", "'\\x00'"), ("a\\u0007", "'\\x07'")],
)
def test_control_characters_are_refused(value: str, shown: str) -> None:
    assert only(f'[headers]\nx-a = "{value}"\n') == (
        f"p.toml:2: headers.x-a: value contains the control character {shown}; header values may "
        "not contain CR, LF, NUL or other control characters (CloudFront rejects them with a 502)"
    )


def test_non_latin1_is_refused_but_latin1_is_fine() -> None:
    assert "outside Latin-1" in only('[headers]\nx-a = "snow ☃"\n')
    assert lines('[headers]\nx-a = "café"\n') == []


@pytest.mark.parametrize(
    "name",
    ["x-cache", "connection", "X-Amz-Cf-Pop", "x-edge-location", "x-forwarded-proto", "upgrade"],
)
def test_disallowed_headers_refused_when_added(name: str) -> None:
    assert f"CloudFront does not let Lambda@Edge set {name.lower()!r}" in only(
        f'[headers]\n{name} = "1"\n'
    )


@pytest.mark.parametrize("name", ["x-amz-cf-id", "keep-alive", "x-edge-origin-shield-skipped"])
def test_disallowed_headers_refused_when_removed(name: str) -> None:
    assert f"does not let Lambda@Edge remove {name!r}" in only(f'[remove]\nheaders = ["{name}"]\n')


def test_read_only_headers_depend_on_the_trigger() -> None:
    assert only('[headers]\nvia = "1.1 x"\n').startswith(
        "p.toml:2: headers.via: 'via' is read-only on origin-response;"
    )
    assert "'transfer-encoding' is read-only on origin-response" in only(
        '[remove]\nheaders = ["transfer-encoding"]\n'
    )
    # Warning is read-only on viewer-response but not on origin-response.
    assert lines('[headers]\nwarning = "199 - x"\n') == []
    assert "'warning' is read-only on viewer-response" in only(
        '[function]\ntrigger = "viewer-response"\n[headers]\nwarning = "199 - x"\n'
    )


def test_only_response_triggers_are_accepted() -> None:
    assert "cannot run on 'viewer-request'" in only('[function]\ntrigger = "viewer-request"\n')


class TestCsp:
    def csp(self, directives: str, mode: str = "enforce") -> list[str]:
        return lines(
            f'[headers.content-security-policy]\nmode = "{mode}"\n'
            f"[headers.content-security-policy.directives]\n{directives}\n"
        )

    def test_unknown_directive(self) -> None:
        assert self.csp("scrpt-src = [\"'self'\"]") == [
            "p.toml:4: headers.content-security-policy.directives.scrpt-src: unknown directive "
            "'scrpt-src'; did you mean 'script-src'?"
        ]

    def test_unquoted_keyword(self) -> None:
        assert self.csp('default-src = ["self"]') == [
            "p.toml:4: headers.content-security-policy.directives.default-src: keyword 'self' is "
            "not quoted, so browsers read it as a host name; write \"'self'\" (with the single quotes)"
        ]

    def test_malformed_hash_and_nonce(self) -> None:
        found = self.csp("script-src = [\"'sha256-abc'\", \"'nonce-'\"]")
        assert any("malformed hash \"'sha256-abc'\"" in f for f in found)
        assert any("malformed nonce \"'nonce-'\"" in f for f in found)

    def test_good_hash_passes_and_fixed_nonce_warns(self) -> None:
        digest = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        assert self.csp(f'script-src = ["{digest}"]') == []
        (warning,) = self.csp("script-src = [\"'nonce-r4nd0m'\"]")
        assert "warning:" in warning and "fixed nonce" in warning

    def test_strict_dynamic_needs_a_nonce_or_hash(self) -> None:
        assert self.csp("script-src = [\"'strict-dynamic'\"]") == [
            "p.toml:4: headers.content-security-policy.directives.script-src: 'strict-dynamic' "
            "without a nonce or hash blocks every script; add the 'sha256-…' hash of your loader "
            "script, or remove 'strict-dynamic'"
        ]

    def test_duplicate_directive_in_a_raw_value(self) -> None:
        found = lines(
            "[headers]\ncontent-security-policy = \"default-src 'none'; default-src 'self'\"\n"
        )
        assert found == [
            "p.toml:2: headers.content-security-policy.default-src: directive 'default-src' appears "
            "twice; browsers ignore the second one; merge the sources into one directive"
        ]

    def test_duplicate_directive_differing_in_case(self) -> None:
        found = self.csp("script-src = [\"'self'\"]\nScript-Src = [\"'none'\"]")
        assert any("directive 'script-src' appears twice" in f for f in found)

    def test_directives_ignored_in_report_only(self) -> None:
        found = self.csp(
            'default-src = ["\'self\'"]\nsandbox = []\nreport-uri = ["/r"]', mode="report-only"
        )
        assert found == [
            "p.toml:5: warning: headers.content-security-policy.directives.sandbox: 'sandbox' is "
            "ignored in a report-only policy; move it to an enforced policy or remove it"
        ]

    def test_dead_directives_warn(self) -> None:
        (found,) = self.csp("default-src = [\"'self'\"]\nblock-all-mixed-content = []")
        assert "warning:" in found and "does nothing" in found

    def test_report_only_without_destination_warns(self) -> None:
        (found,) = self.csp("default-src = [\"'self'\"]", mode="report-only")
        assert found == (
            "p.toml:2: warning: headers.content-security-policy.mode: report-only policy without "
            "report-uri or report-to; violations go nowhere; add report-uri = "
            '["/_edgeshield/csp-report"]'
        )

    def test_weak_script_sources_warn_only(self) -> None:
        found = self.csp('script-src = ["\'self\'", "\'unsafe-inline\'", "\'unsafe-eval\'", "*"]')
        assert len(found) == 3 and all(": warning: " in f for f in found)
        assert _policy_ok(
            "[headers.content-security-policy.directives]\nscript-src = [\"'unsafe-inline'\"]\n"
        )

    def test_none_with_other_sources(self) -> None:
        (found,) = self.csp("img-src = [\"'none'\", \"'self'\"]")
        assert "'none' combined with other sources" in found

    def test_invalid_source_and_bad_mode(self) -> None:
        assert any(
            "invalid source expression 'http://exa mple'" in f or "contains a space" in f
            for f in self.csp('img-src = ["http://exa mple"]')
        )
        assert any(
            "unknown mode 'block'" in f
            for f in self.csp("default-src = [\"'self'\"]", mode="block")
        )

    def test_report_to_without_reporting_endpoints(self) -> None:
        found = self.csp('default-src = ["\'self\'"]\nreport-to = ["csp"]')
        assert found == [
            "p.toml:5: warning: headers.content-security-policy.directives.report-to: report-to names "
            "endpoint 'csp' but no Reporting-Endpoints header defines it; add "
            '[headers.reporting-endpoints.endpoints] csp = "/_edgeshield/csp-report"'
        ]

    def test_report_to_before_another_directive_finds_its_endpoint(self) -> None:
        """The endpoint's name ends at the ';' of the directive after it (csp fit appends new
        directives after report-to): no warning about an endpoint named 'csp;'."""
        _policy, found = parse_policy(
            "[headers.content-security-policy.directives]\n"
            "default-src = [\"'self'\"]\nreport-to = ['csp']\nmedia-src = ['https://m.example']\n"
            "[headers.reporting-endpoints.endpoints]\ncsp = '/_edgeshield/csp-report'\n"
        )
        assert not [p for p in found if "report-to" in p.where], found

    def test_rendering(self) -> None:
        policy, found = parse_policy(
            "[headers.content-security-policy]\nmode = 'report-only'\n"
            "[headers.content-security-policy.directives]\n"
            "default-src = [\"'none'\"]\nupgrade-insecure-requests = []\nreport-uri = '/r'\n"
        )
        assert policy is not None
        (header,) = policy.headers
        assert header.key == "Content-Security-Policy-Report-Only"
        assert header.value == "default-src 'none'; upgrade-insecure-requests; report-uri /r"
        assert any("upgrade-insecure-requests" in p.what for p in found)


def _policy_ok(toml: str) -> bool:
    return parse_policy(toml)[0] is not None


class TestHsts:
    def test_max_age_must_be_an_integer(self) -> None:
        assert only('[headers.strict-transport-security]\nmax-age = "1y"\n') == (
            "p.toml:2: headers.strict-transport-security.max-age: max-age must be a whole number of "
            "seconds, not '1y'; e.g. max-age = 63072000 (two years)"
        )
        assert "whole number" in only("[headers.strict-transport-security]\nmax-age = true\n")
        assert "whole number" in only("[headers.strict-transport-security]\nmax-age = 1.5\n")

    def test_preload_rules(self) -> None:
        found = lines("[headers.strict-transport-security]\nmax-age = 600\npreload = true\n")
        assert found == [
            "p.toml:2: warning: headers.strict-transport-security.max-age: max-age 600 is under 180 "
            "days; use at least 15552000; the Observatory deducts points below that",
            "p.toml:3: headers.strict-transport-security.preload: preload without "
            "include-subdomains; the preload list requires include-subdomains = true",
            "p.toml:3: headers.strict-transport-security.preload: preload with max-age 600 (under "
            "one year); the preload list requires max-age >= 31536000",
        ]

    def test_short_max_age_is_a_warning(self) -> None:
        assert _policy_ok("[headers.strict-transport-security]\nmax-age = 86400\n")

    def test_raw_string_form(self) -> None:
        policy, found = parse_policy(
            '[headers]\nstrict-transport-security = "max-age=63072000; includeSubDomains"\n'
        )
        assert policy is not None and found == []
        assert policy.headers[0].value == "max-age=63072000; includeSubDomains"


class TestTokenHeaders:
    def test_allow_from_is_dead(self) -> None:
        assert only('[headers]\nx-frame-options = "ALLOW-FROM https://a.example"\n') == (
            "p.toml:2: headers.x-frame-options: ALLOW-FROM is not supported by any current browser; "
            "use DENY or SAMEORIGIN, and CSP frame-ancestors to allow specific origins"
        )

    def test_x_frame_options_values(self) -> None:
        assert "use DENY or SAMEORIGIN" in only('[headers]\nx-frame-options = "ALLOW"\n')

    def test_nosniff_only(self) -> None:
        assert 'the only value is "nosniff"' in only(
            '[headers]\nx-content-type-options = "sniff"\n'
        )

    def test_referrer_policy(self) -> None:
        assert "did you mean 'strict-origin'?" in only(
            '[headers]\nreferrer-policy = "strict-orign"\n'
        )
        assert ": warning: " in only('[headers]\nreferrer-policy = "unsafe-url"\n')
        assert (
            lines('[headers]\nreferrer-policy = "no-referrer, strict-origin-when-cross-origin"\n')
            == []
        )

    @pytest.mark.parametrize(
        ("header", "bad", "fix"),
        [
            (
                "cross-origin-opener-policy",
                "Same-Origin",
                "write 'same-origin' (tokens are case-sensitive and unquoted)",
            ),
            ("cross-origin-opener-policy", '\\"same-origin\\"', "write 'same-origin'"),
            (
                "cross-origin-embedder-policy",
                "require-crop",
                "allowed: require-corp, credentialless, unsafe-none",
            ),
            (
                "cross-origin-resource-policy",
                "same-sites",
                "allowed: same-origin, same-site, cross-origin",
            ),
        ],
    )
    def test_cross_origin_policies(self, header: str, bad: str, fix: str) -> None:
        assert fix in only(f'[headers]\n{header} = "{bad}"\n')

    def test_coop_with_report_to_parameter(self) -> None:
        assert (
            lines("[headers]\ncross-origin-opener-policy = 'same-origin; report-to=\"coop\"'\n")
            == []
        )

    def test_x_xss_protection(self) -> None:
        assert lines('[headers]\nx-xss-protection = "0"\n') == []
        assert ": warning: " in only('[headers]\nx-xss-protection = "1; mode=block"\n')
        assert 'use "0" (recommended)' in only('[headers]\nx-xss-protection = "2"\n')

    def test_misspelt_security_header_is_an_error(self) -> None:
        assert "a misspelt 'x-frame-options'? Browsers ignore it" in only(
            '[headers]\nx-frame-option = "DENY"\n'
        )


class TestPermissionsPolicy:
    def test_features_render_as_a_dictionary(self) -> None:
        policy, found = parse_policy(
            "[headers.permissions-policy.features]\n"
            'geolocation = []\nfullscreen = ["self", "https://a.example"]\nautoplay = ["*"]\n'
        )
        assert found == [] and policy is not None
        assert (
            policy.headers[0].value
            == 'geolocation=(), fullscreen=(self "https://a.example"), autoplay=*'
        )

    def test_unknown_feature(self) -> None:
        assert only("[headers.permissions-policy.features]\ngeolocaton = []\n") == (
            "p.toml:2: headers.permissions-policy.features.geolocaton: unknown feature 'geolocaton'; "
            "did you mean 'geolocation'?"
        )

    def test_raw_value_must_be_a_structured_dictionary(self) -> None:
        assert "not a valid structured-field dictionary" in only(
            '[headers]\npermissions-policy = "geolocation=(self"\n'
        )
        assert "not a valid structured-field dictionary" in only(
            '[headers]\npermissions-policy = "Geolocation=()"\n'
        )
        assert (
            lines("[headers]\npermissions-policy = 'camera=(self \"https://a.example\"), usb=()'\n")
            == []
        )

    def test_quoted_self(self) -> None:
        assert 'write "self"' in only(
            "[headers.permissions-policy.features]\ncamera = [\"'self'\"]\n"
        )


class TestRules:
    def test_rule_problems_name_the_rule(self) -> None:
        found = lines(
            "[[rules]]\nname = 'a'\nmatch = { path = ['x'], status = ['700'], content-tipe = ['a/b'] }\n"
            "set = { cache-control = 'no-store' }\n"
        )
        assert found == [
            "p.toml:3: rules.0.match.content-tipe (rule \"a\"): unknown key 'content-tipe'; did you mean 'content-type'?",
            "p.toml:3: rules.0.match.path (rule \"a\"): invalid path pattern 'x'; start with / or *, at most 255 "
            "characters and 99 *; * matches any run of characters, ? one",
            "p.toml:3: rules.0.match.status (rule \"a\"): invalid status '700'; use a code (404), a range "
            '("400-499") or a class ("4xx"), within 100-599',
        ]

    def test_second_rule_is_located_on_its_own_lines(self) -> None:
        found = lines(
            "[[rules]]\nmatch = { status = [404] }\nset = { x-a = '1' }\n\n"
            "[[rules]]\nmatch = { content-type = ['nope'] }\nset = { x-b = '2' }\n"
        )
        assert found == [
            "p.toml:6: rules.1.match.content-type: invalid media type 'nope'; use type/subtype or "
            'type/*, e.g. "text/html", "image/*"'
        ]

    def test_rule_set_values_are_validated_like_headers(self) -> None:
        assert "ALLOW-FROM" in only("[[rules]]\nset = { x-frame-options = 'ALLOW-FROM x' }\n")

    def test_rule_that_does_nothing_and_useless_drop_warn(self) -> None:
        assert ': warning: rules.0 (rule "x"): the rule changes nothing' in only(
            "[headers]\nx-a = '1'\n[[rules]]\nname = 'x'\n"
        )
        assert "drop names 'x-b', which no earlier part" in only(
            "[headers]\nx-a = '1'\n[[rules]]\ndrop = ['x-b']\n"
        )

    def test_status_forms(self) -> None:
        policy, found = parse_policy(
            "[headers]\nx-a = '1'\n[[rules]]\nmatch = { status = [304, '4xx', '500-503'] }\ndrop = ['*']\n"
        )
        assert found == [] and policy is not None
        assert policy.rules[0].match.statuses == ((304, 304), (400, 499), (500, 503))
