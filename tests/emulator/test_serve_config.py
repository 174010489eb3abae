"""``ServeConfig.check``: every option check of the local edge, in the library's own terms.

Each mistake raises a ``ServeConfigError`` naming the field at fault, with a message in field
names; ``render`` puts any other names in their place (the CLI's flags: tests/cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edgeshield.emulator.config import (
    FunctionOption,
    ServeConfig,
    ServeConfigError,
    parse_cloudfront_function,
    parse_function_option,
    parse_response_headers_policy,
)
from edgeshield.emulator.runner import ServeError, prepare
from edgeshield.errors import EdgeshieldError

# (fields, the field at fault, the message in field names)
MISTAKES: list[tuple[dict[str, Any], str, str]] = [
    ({"port": 65536}, "port", "port must be between 0 and 65535"),
    ({"port": -1}, "port", "port must be between 0 and 65535"),
    ({"http_port": 70000, "tls": True}, "http_port", "http_port must be between 0 and 65535"),
    ({"pop": "XXX1"}, "pop", "pop: unknown POP airport code 'XXX' in 'XXX1'; known codes: AKL, "),
    ({"origin_ca": Path("/no/such/ca.pem")}, "origin_ca", "origin_ca /no/such/ca.pem: no such file"),
    ({"execution_error_status": 502}, "execution_error_status", "execution_error_status must be 500 or 503"),
    ({"function_timeout": 0}, "function_timeout", "function_timeout must be a positive number of seconds"),
    ({"function_timeout": float("nan")}, "function_timeout", "function_timeout must be a positive number of seconds"),
    ({"origin_read_timeout": float("inf")}, "origin_read_timeout", "origin_read_timeout must be a positive number of seconds"),
    ({"function_timeout": 60}, "function_timeout", "function_timeout can only lower Lambda@Edge's time limits (5 s at viewer triggers, 30 s at origin triggers): use at most 30"),
    ({"origin_read_timeout": -1}, "origin_read_timeout", "origin_read_timeout must be a positive number of seconds"),
    ({"origin_connect_attempts": 4}, "origin_connect_attempts", "origin_connect_attempts must be 1, 2 or 3 (CloudFront's range)"),
    ({"workers": 65}, "workers", "workers must be between 1 and 64"),
    ({"max_in_flight": 0}, "max_in_flight", "max_in_flight must be at least 1"),
    ({"cff_timeout_ms": 1001}, "cff_timeout_ms", "cff_timeout_ms must be more than 0 and at most 1000 (milliseconds)"),
    ({"cache_mb": 0}, "cache_mb", "cache_mb must be at least 1"),
    ({"min_ttl": 10, "default_ttl": 5}, "min_ttl", "TTLs must satisfy 0 <= min_ttl <= default_ttl <= max_ttl"),
    ({"max_ttl": 1.0}, "min_ttl", "TTLs must satisfy 0 <= min_ttl <= default_ttl <= max_ttl"),
    ({"include_body": ["origin-response"]}, "include_body", "include_body 'origin-response': only viewer-request and origin-request can see the body"),
    (
        {"functions": [FunctionOption("viewer-request", "a.b"), FunctionOption("viewer-request", "c.d")]},
        "functions",
        "functions: two functions on viewer-request; CloudFront allows one per trigger",
    ),
    ({"policy": Path("/no/such.toml")}, "policy", "policy /no/such.toml: no such file"),
    ({"http_port": 0}, "http_port", "http_port redirects to HTTPS, so it needs tls"),
    ({"tls": True, "tls_key": Path("k.pem")}, "tls_cert", "tls_cert and tls_key go together"),
    (
        {"tls": True, "tls_cert": Path("/no/c.pem"), "tls_key": Path("/no/k.pem")},
        "tls_cert",
        "tls_cert /no/c.pem: no such file",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "field", "message"), MISTAKES)
def test_check_names_the_field(fields: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ServeConfigError) as caught:
        ServeConfig(**fields).check()
    assert caught.value.field == field
    # Whole messages, but for the list of known POP codes after the pop's.
    assert str(caught.value) == message or message.endswith(", ")
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, ServeError) and isinstance(caught.value, EdgeshieldError)


def test_render_shows_other_names_for_every_field_mentioned() -> None:
    with pytest.raises(ServeConfigError) as caught:
        ServeConfig(min_ttl=10, default_ttl=5).check()
    assert caught.value.render(str.upper) == (
        "TTLs must satisfy 0 <= MIN_TTL <= DEFAULT_TTL <= MAX_TTL"
    )


def test_details_are_never_read_as_template() -> None:
    # A user's text with braces in it is shown as given, not formatted.
    with pytest.raises(ServeConfigError) as caught:
        parse_function_option("{port}")
    assert str(caught.value) == (
        "functions '{port}': expected TRIGGER=HANDLER, e.g. viewer-request=app.handler"
    )
    assert caught.value.render(lambda name: f"--{name}").startswith("--functions '{port}'")


def test_a_good_config_passes(tmp_path: Path) -> None:
    cert, key, ca = tmp_path / "c.pem", tmp_path / "k.pem", tmp_path / "ca.pem"
    for path in (cert, key, ca):
        path.write_text("x")
    ServeConfig(port=0, tls=True, tls_cert=cert, tls_key=key, http_port=0, origin_ca=ca).check()
    ServeConfig(min_ttl=5, default_ttl=5, max_ttl=5, include_body=["origin-request"]).check()


def test_prepare_checks_first(tmp_path: Path) -> None:
    with pytest.raises(ServeConfigError, match=r"^workers must be between 1 and 64$"):
        prepare(ServeConfig(port=0, cwd=tmp_path, workers=0))
    assert not (tmp_path / ".edgeshield").exists()  # nothing staged for a config that fails


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ("/no/such/folder", "origin /no/such/folder: not a folder and not an http:// or https:// URL"),
        ("ftp://example.org", "origin ftp://example.org: only http:// and https:// origins are supported"),
        ("http://example.org/?q=1", "origin http://example.org/?q=1: an origin URL has no query string or fragment"),
        ("http://example.org:99999", "origin http://example.org:99999: invalid port"),
        ("http://127.0.0.1:0/", "origin http://127.0.0.1:0/: invalid port"),
        ("http://[::1", "origin http://[::1: Invalid IPv6 URL"),
        ("http://a b/", "origin http://a b/: 'a b' is no host name or IP address"),
        ("http://%zz/", "origin http://%zz/: '%zz' is no host name or IP address"),
        ("http://:80/", "origin http://:80/: the URL names no host"),
        ("http://me:secret@example.org/", "origin http://me:secret@example.org/: an origin URL has no user or password"),
    ],
)  # fmt: skip
def test_origin_mistakes_name_the_origin_field(tmp_path: Path, origin: str, message: str) -> None:
    with pytest.raises(ServeConfigError) as caught:
        prepare(ServeConfig(port=0, cwd=tmp_path, origin=origin))
    assert caught.value.field == "origin"
    assert str(caught.value) == message


def test_option_text_parsers() -> None:
    assert parse_function_option(" origin-response = app:handler ") == FunctionOption(
        "origin-response", "app:handler"
    )
    assert parse_cloudfront_function("viewer-request=gate.js") == (
        "viewer-request",
        Path("gate.js"),
    )
    assert parse_response_headers_policy("/api/*=p.json") == ("/api/*", Path("p.json"))
    for parse, text, field in (
        (parse_function_option, "sideways=app.handler", "functions"),
        (parse_function_option, "viewer-request=not a handler", "functions"),
        (parse_cloudfront_function, "origin-response=x.js", "cloudfront_functions"),
        (parse_response_headers_policy, "api/*=x.json", "response_headers_policies"),
    ):
        with pytest.raises(ServeConfigError) as caught:
            parse(text)
        assert caught.value.field == field
        assert str(caught.value).startswith(f"{field} {text!r}")
