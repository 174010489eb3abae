"""The edge engine on every rule kind, driven by real policies through the real compiler."""

from __future__ import annotations

import textwrap
from typing import Any

from edgeshield.cloudfront import build_event, from_cf_headers
from edgeshield.edge.engine import Engine
from edgeshield.policy import compile_policy, parse_policy

POLICY = textwrap.dedent(
    """
    [headers]
    x-content-type-options = "nosniff"
    x-frame-options = { value = "DENY", override = false }
    content-security-policy = "default-src 'none'"

    [remove]
    headers = ["server", "x-powered-by"]

    [[rules]]
    name = "csp only on html"
    match = { content-type = ["text/*"] }
    drop = []
    set = {}

    [[rules]]
    name = "no csp outside html"
    match = { content-type = ["application/json", "image/*"] }
    drop = ["content-security-policy"]

    [[rules]]
    name = "api"
    match = { path = ["/api/*"] }
    set = { cache-control = "no-store" }
    remove = ["etag"]

    [[rules]]
    name = "pdf"
    match = { content-type = ["application/pdf"] }
    set = { content-security-policy = "sandbox; default-src 'none'" }

    [[rules]]
    name = "nothing on 304"
    match = { status = [304] }
    drop = ["*"]

    [[rules]]
    name = "errors"
    match = { status = ["5xx"], path = ["/api/*", "/app?/*"] }
    set = { x-error = "1" }
    """
)


def engine(text: str = POLICY) -> Engine:
    policy, problems = parse_policy(text)
    assert policy is not None, [p.format() for p in problems]
    return Engine(compile_policy(policy))


def run(
    e: Engine,
    uri: str = "/",
    status: int = 200,
    ctype: str = "text/html",
    extra: list[tuple[str, str]] | None = None,
) -> tuple[dict[str, str], list[str]]:
    headers = [("Content-Type", ctype), ("Server", "nginx"), ("ETag", '"1"'), *(extra or [])]
    event = build_event("origin-response", uri=uri, status=status, response_headers=headers)
    response = event["Records"][0]["cf"]["response"]
    result, _plan, matched = e.apply(response, uri)
    assert result["status"] == response["status"]
    return dict(from_cf_headers(result["headers"])), [e.rules[i].name for i in matched]


def test_base_headers_added_and_removed() -> None:
    headers, _ = run(engine())
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "default-src 'none'"
    assert "Server" not in headers
    assert headers["ETag"] == '"1"'


def test_content_type_matching_ignores_case_and_parameters() -> None:
    headers, rules = run(engine(), ctype="Application/JSON; charset=utf-8")
    assert "Content-Security-Policy" not in headers
    assert rules == ["no csp outside html"]
    headers, rules = run(engine(), ctype="image/png")
    assert "Content-Security-Policy" not in headers and rules == ["no csp outside html"]


def test_path_glob_set_and_remove() -> None:
    headers, rules = run(engine(), uri="/api/v1/users", ctype="application/json")
    assert headers["Cache-Control"] == "no-store"
    assert "ETag" not in headers
    assert rules == ["no csp outside html", "api"]
    headers, _ = run(engine(), uri="/apiary", ctype="application/json")
    assert "Cache-Control" not in headers


def test_rule_overrides_a_policy_header() -> None:
    headers, _ = run(engine(), uri="/doc.pdf", ctype="application/pdf")
    assert headers["Content-Security-Policy"] == "sandbox; default-src 'none'"


def test_drop_everything_on_304() -> None:
    headers, _ = run(engine(), status=304)
    assert "X-Content-Type-Options" not in headers and "Content-Security-Policy" not in headers
    assert "Server" not in headers  # removal still applies


def test_status_and_path_conditions_combine_with_question_mark_glob() -> None:
    e = engine()
    assert run(e, uri="/app1/x", status=503)[0]["X-Error"] == "1"
    assert "X-Error" not in run(e, uri="/app12/x", status=503)[0]
    assert "X-Error" not in run(e, uri="/app1/x", status=404)[0]


def test_override_false_keeps_the_origin_value() -> None:
    headers, _ = run(engine(), extra=[("X-Frame-Options", "SAMEORIGIN")])
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    headers, _ = run(engine())
    assert headers["X-Frame-Options"] == "DENY"


def test_replace_not_append_for_repeated_origin_headers() -> None:
    headers_in = [("X-Content-Type-Options", "sniff"), ("x-content-type-options", "nosniff")]
    event = build_event(
        "origin-response", response_headers=[("Content-Type", "text/html"), *headers_in]
    )
    result, *_ = engine().apply(event["Records"][0]["cf"]["response"], "/")
    assert result["headers"]["x-content-type-options"] == [
        {"key": "X-Content-Type-Options", "value": "nosniff"}
    ]


def test_later_rule_wins_and_removed_header_can_be_set_again() -> None:
    text = textwrap.dedent(
        """
        [headers]
        x-a = "base"
        [[rules]]
        set = { x-a = "first" }
        [[rules]]
        remove = ["x-b"]
        set = { x-a = "second", x-b = "policy" }
        """
    )
    headers, _ = run(engine(text), extra=[("X-B", "origin")])
    assert headers["X-A"] == "second"
    assert headers["X-B"] == "policy"


def test_protected_headers_are_never_touched_even_if_compiled() -> None:
    compiled: dict[str, Any] = {
        "headers": [["via", "Via", "evil", True], ["x-cache", "X-Cache", "Hit", True]],
        "remove": ["transfer-encoding", "x-amz-cf-pop"],
        "rules": [],
    }
    event = build_event(
        "origin-response",
        response_headers=[("Via", "1.1 origin"), ("Transfer-Encoding", "chunked")],
    )
    response = event["Records"][0]["cf"]["response"]
    result, *_ = Engine(compiled).apply(response, "/")
    assert result["headers"] == response["headers"]


def test_event_is_never_mutated() -> None:
    event = build_event(
        "origin-response", response_headers=[("Content-Type", "text/html"), ("Server", "x")]
    )
    response = event["Records"][0]["cf"]["response"]
    snapshot = repr(response)
    engine().apply(response, "/")
    assert repr(response) == snapshot


def test_engine_guard_covers_cloudfronts_rules() -> None:
    """The edge package may not import cloudfront/rules.py, so it keeps its own copy of the
    headers it must never touch; this keeps the copy from drifting."""
    from edgeshield.cloudfront import rules
    from edgeshield.edge import engine

    for name in sorted(
        rules.DISALLOWED_HEADERS
        | rules.READ_ONLY_HEADERS["origin-response"]
        | rules.READ_ONLY_HEADERS["viewer-response"]
    ):
        assert not engine._allowed(name), name
    for prefix in rules.DISALLOWED_PREFIXES:
        assert not engine._allowed(prefix + "anything"), prefix
    assert engine._allowed("content-security-policy")
