"""Functions on all four triggers, behaving and misbehaving, through a real ``serve`` process
with a real HTTP origin (see functions/edgefns.py for what each path makes a function do)."""

from __future__ import annotations

import concurrent.futures
import json
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgeshield.emulator.logstore import read_events
from tests.emulator.helpers import (
    Proc,
    Reply,
    fetch,
    origin_hits,
    run_cli,
    start_origin,
    start_serve,
    wait_until,
)

RESERVED = {
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR", "_HANDLER", "TZ", "LANG", "PATH", "PYTHONIOENCODING", "LC_CTYPE",
}  # fmt: skip
VALIDATION_GROUP = "/aws/cloudfront/LambdaEdge/EDFDVBD6EXAMPLE"


@pytest.fixture(scope="module")
def edge(origin: Proc, workdir: Path) -> Iterator[Proc]:
    proc = start_serve(
        workdir,
        "--origin", f"http://127.0.0.1:{origin.port}",
        "--function", "viewer-request=edgefns.viewer_request",
        "--function", "origin-request=edgefns.origin_request",
        "--function", "origin-response=edgefns:origin_response",
        "--function", "viewer-response=edgefns.viewer_response",
        "--function-timeout", "1",
        "--include-body", "viewer-request",
        "--include-body", "origin-request",
        "--workers", "2",
        "--quiet",
        env={"SECRET_FROM_SHELL": "must-not-leak"},
    )  # fmt: skip
    yield proc
    proc.stop()


def messages(cwd: Path, group: str | None = None, expect: str | None = None) -> list[str]:
    """The group's messages, once one containing ``expect`` has arrived (serve writes its log
    store every 100 ms)."""
    root = cwd / ".edgeshield" / "logs"
    deadline = time.monotonic() + 5
    while True:
        found = [e.message for e in read_events(root, groups=[group] if group else None)]
        if expect is None or any(expect in m for m in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def assert_cloudfront_error(reply: Reply, status: int, x_cache: str) -> None:
    assert reply.status == status
    assert reply.x_cache == f"{x_cache} from cloudfront"
    assert reply.header("server") == "CloudFront"
    assert reply.header("content-type") == "text/html"
    body = reply.body
    assert b"The request could not be satisfied" in body
    cf_id = reply.header("x-amz-cf-id")
    assert cf_id is not None
    assert cf_id.encode() in body
    assert reply.header("via") and reply.header("x-amz-cf-pop")


# -- the normal path ----------------------------------------------------------------------


def test_all_four_triggers_run_and_the_origin_gets_cloudfronts_headers(
    edge: Proc, origin: Proc
) -> None:
    reply = fetch(
        edge.port,
        "/echo/plain?q=1",
        headers={
            "Referer": "http://x/",
            "Cookie": "a=b",
            "Connection": "keep-alive",
            "X-Forwarded-For": "10.1.2.3",
        },
    )
    assert reply.status == 200
    assert reply.header("x-ran-origin-response") == "yes"
    assert reply.header("x-ran-viewer-response") == "yes"
    seen = json.loads(reply.body)
    headers = {k.lower(): v for k, v in seen["headers"]}
    assert headers["x-ran-viewer-request"] == "yes"
    assert headers["x-ran-origin-request"] == "yes"
    assert headers["user-agent"] == "Amazon CloudFront"
    assert headers["x-forwarded-for"] == "10.1.2.3, 127.0.0.1"
    assert re.match(r"^1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)$", headers["via"])
    assert headers["x-amz-cf-id"] == reply.header("x-amz-cf-id")
    assert headers["host"] == f"localhost:{origin.port}"
    for dropped in ("referer", "cookie"):
        assert dropped not in headers
    assert seen["path_qs"] == "/echo/plain"  # query strings are not forwarded by default


def test_origin_request_can_rewrite_the_uri_and_viewer_request_too(edge: Proc) -> None:
    reply = fetch(edge.port, "/vr/rewrite")
    assert reply.status == 200
    assert json.loads(reply.body)["path_qs"] == "/echo/rewritten"


def test_origin_request_can_switch_to_another_origin(edge: Proc) -> None:
    second = start_origin()
    try:
        reply = fetch(edge.port, f"/or/origin/{second.port}")
        assert reply.status == 200, reply.body
        seen = json.loads(reply.body)
        assert seen["path_qs"] == "/echo/second"
        headers = {k.lower(): v for k, v in seen["headers"]}
        assert headers["x-from-origin-request"] == "1"
        assert origin_hits(second, "/echo/second") == 1
    finally:
        second.stop()


def test_origin_response_replaces_the_body(edge: Proc) -> None:
    reply = fetch(edge.port, "/ors/replace-body")
    assert reply.status == 200
    assert reply.body == b"replaced body"
    assert reply.header("content-length") == str(len(b"replaced body"))


def test_origin_response_event_shape(edge: Proc) -> None:
    event = json.loads(fetch(edge.port, "/ors/echo-event").body)
    cf = event["Records"][0]["cf"]
    assert cf["config"]["eventType"] == "origin-response"
    assert cf["config"]["distributionId"] == "EDFDVBD6EXAMPLE"
    assert cf["response"]["status"] == "200"
    assert cf["request"]["headers"]["user-agent"][0]["value"] == "Amazon CloudFront"
    assert "custom" in cf["request"]["origin"]
    assert cf["request"]["origin"]["custom"]["domainName"] == "localhost"
    assert "x-amz-cf-id" not in cf["request"]["headers"]  # disallowed: never shown


def test_viewer_response_sees_via_but_not_x_cache(edge: Proc) -> None:
    reply = fetch(edge.port, "/vrs/echo-event?x=1")
    event = json.loads(reply.body)
    cf = event["Records"][0]["cf"]
    assert cf["config"]["eventType"] == "viewer-response"
    # The viewer's request, even though the query string is not forwarded to the origin.
    assert cf["request"]["querystring"] == "x=1"
    assert cf["request"]["uri"] == "/vrs/echo-event"
    assert cf["request"]["headers"]["x-ran-viewer-request"][0]["value"] == "yes"
    assert "via" in cf["response"]["headers"]
    assert "x-cache" not in cf["response"]["headers"]
    assert "origin" not in cf["request"]


def test_viewer_response_is_skipped_for_origin_errors(edge: Proc) -> None:
    for code in (404, 500):
        reply = fetch(edge.port, f"/status/{code}")
        assert reply.status == code
        assert reply.header("x-ran-origin-response") == "yes"  # runs for every status
        assert reply.header("x-ran-viewer-response") is None


# -- generated responses -------------------------------------------------------------------


def test_viewer_request_response_is_not_cached_and_skips_the_rest(edge: Proc, origin: Proc) -> None:
    for _ in range(2):
        reply = fetch(edge.port, "/vr/generate")
        assert reply.status == 200
        assert reply.body == b"generated at viewer-request"
        assert reply.x_cache == "LambdaGeneratedResponse from cloudfront"
        assert reply.header("x-ran-viewer-response") is None
    assert origin_hits(origin, "/vr/generate") == 0


def test_origin_request_response_is_cached_and_skips_origin_response(
    edge: Proc, origin: Proc
) -> None:
    first = fetch(edge.port, "/or/generate")
    second = fetch(edge.port, "/or/generate")
    assert first.x_cache == "LambdaGeneratedResponse from cloudfront"
    assert second.x_cache == "Hit from cloudfront"
    assert first.body == second.body and first.body.startswith(b"generated at origin-request")
    assert first.header("x-ran-origin-response") is None
    assert first.header("x-ran-viewer-response") == "yes"
    assert origin_hits(origin, "/or/generate") == 0


def test_include_body_is_base64_and_truncated_at_40_kb(edge: Proc) -> None:
    small = json.loads(fetch(edge.port, "/vr/body", method="POST", body=b"a" * 1000).body)
    assert small == {"length": 1000, "truncated": False, "encoding": "base64"}
    large = json.loads(fetch(edge.port, "/vr/body", method="POST", body=b"a" * 50000).body)
    assert large == {"length": 40 * 1024, "truncated": True, "encoding": "base64"}


def test_origin_request_body_is_truncated_at_1_mb_and_can_be_replaced(edge: Proc) -> None:
    small = json.loads(fetch(edge.port, "/or/body", method="POST", body=b"a" * 5000).body)
    assert small == {"length": 5000, "truncated": False}
    large = json.loads(fetch(edge.port, "/or/body", method="PUT", body=b"a" * 1_200_000).body)
    assert large == {"length": 1024 * 1024, "truncated": True}
    seen = json.loads(fetch(edge.port, "/or/replace-body", method="POST", body=b"old").body)
    assert seen["path_qs"] == "/echo/replaced" and seen["body_length"] == len(b"new body")


# -- validation errors: 502 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/ors/add-via", "tried to add read-only header, headerName : Via."),
        ("/chunked/ors/delete-transfer-encoding", "tried to delete read-only header, headerName : Transfer-Encoding."),
        ("/ors/add-x-cache", "blacklisted header in headers, headerName : X-Cache."),
        ("/ors/status-700", "the status must be between 200 and 599, got 700."),
        ("/vr/status-700", "the status must be between 200 and 599, got 700."),
        ("/ors/big-body", "an origin-response function may return at most 1048576 bytes."),
        ("/vr/not-a-dict", "The JSON output must be an object type."),
        ("/ors/not-a-dict", "The JSON output must be an object type."),
        ("/ors/nan", "The JSON output is not parsable."),
        ("/vrs/change-status", "a viewer-response function cannot change the status code"),
    ],
)  # fmt: skip
def test_invalid_results_are_502_validation_errors(edge: Proc, path: str, logged: str) -> None:
    reply = fetch(edge.port, path)
    assert_cloudfront_error(reply, 502, "LambdaValidationError")
    cf_id = reply.header("x-amz-cf-id")
    lines = [
        m
        for m in messages(edge.cwd, VALIDATION_GROUP, expect=f"{cf_id} ERROR")
        if m.startswith(f"{cf_id} ERROR Validation error:")
    ]
    assert lines, messages(edge.cwd, VALIDATION_GROUP)
    assert logged in lines[0]


@pytest.mark.parametrize("path", ["/ors/nan-in-text", "/ors/deep"])
def test_results_that_only_look_unusual_are_served(edge: Proc, path: str) -> None:
    # The runtime skips re-encoding a result only when the reply has no NaN/Infinity text and
    # little nesting; these fall back to the full check, which accepts them.
    reply = fetch(edge.port, path)
    assert reply.status == 200, reply.body[:300]


def test_read_only_error_page_uses_cloudfronts_sentence(edge: Proc) -> None:
    reply = fetch(edge.port, "/ors/add-via")
    assert b"The function tried to add, delete, or change a read-only header." in reply.body


# -- execution errors and limits --------------------------------------------------------------


def test_exception_is_503_execution_error_with_the_traceback_logged(edge: Proc) -> None:
    reply = fetch(edge.port, "/ors/raise")
    assert_cloudfront_error(reply, 503, "LambdaExecutionError")
    group = "/aws/lambda/us-east-1.edgefns-origin_response"
    logs = messages(edge.cwd, group, expect="origin-response exploded")
    errors = [m for m in logs if m.startswith("[ERROR] RuntimeError: origin-response exploded")]
    assert errors and "Traceback (most recent call last):" in errors[0]
    assert any("Status: error\tError Type: RuntimeError" in m for m in logs)


def test_print_output_goes_to_the_log_stream(edge: Proc) -> None:
    fetch(edge.port, "/vr/raise")
    logs = messages(
        edge.cwd, "/aws/lambda/us-east-1.edgefns-viewer_request", expect="about to fail"
    )
    assert "about to fail" in logs
    assert "init: edgefns loaded" in logs  # module-level output of the cold start


def test_unserializable_result_is_an_execution_error(edge: Proc) -> None:
    reply = fetch(edge.port, "/vr/unserializable")
    assert_cloudfront_error(reply, 503, "LambdaExecutionError")
    logs = messages(edge.cwd, "/aws/lambda/us-east-1.edgefns-viewer_request", expect="MarshalError")
    assert any(
        m.startswith("[ERROR] Runtime.MarshalError: Unable to marshal response") for m in logs
    )


def test_crashing_runtime_is_an_execution_error_and_is_replaced(edge: Proc) -> None:
    reply = fetch(edge.port, "/vr/exit")
    assert_cloudfront_error(reply, 503, "LambdaExecutionError")
    logs = messages(
        edge.cwd, "/aws/lambda/us-east-1.edgefns-viewer_request", expect="exit status 3"
    )
    assert any("Runtime exited with error: exit status 3" in m for m in logs)
    assert fetch(edge.port, "/echo/after-crash").status == 200


def test_timeout_is_503_limit_exceeded_and_does_not_block_others(edge: Proc) -> None:
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        started = time.monotonic()
        slow = pool.submit(fetch, edge.port, "/vr/sleep")
        time.sleep(0.2)
        quick_started = time.monotonic()
        quick = fetch(edge.port, "/echo/while-another-hangs")
        quick_ms = (time.monotonic() - quick_started) * 1000
        reply = slow.result()
        elapsed = time.monotonic() - started
    assert quick.status == 200 and quick_ms < 800
    assert_cloudfront_error(reply, 503, "LambdaLimitExceeded")
    assert 0.9 < elapsed < 4
    logs = messages(edge.cwd, "/aws/lambda/us-east-1.edgefns-viewer_request", expect="timed out")
    assert any(re.search(r"Z [0-9a-f-]{36} Task timed out after 1\.00 seconds$", m) for m in logs)
    assert "going to sleep" in logs
    assert any("Duration: 1000.00 ms" in m and "Status: timeout" in m for m in logs)
    assert fetch(edge.port, "/echo/after-timeout").status == 200


def test_timeout_kills_what_the_function_spawned(edge: Proc) -> None:
    reply = fetch(edge.port, "/vr/spawn-and-hang")
    assert_cloudfront_error(reply, 503, "LambdaLimitExceeded")
    pid = int((edge.cwd / "spawned.pid").read_text())
    assert wait_until(lambda: not _alive(pid), 3), "the function's child process survived"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_request_bodies_reach_the_origin(edge: Proc) -> None:
    reply = fetch(edge.port, "/echo/post", method="POST", body=b"p" * 5000)
    assert reply.status == 200
    seen = json.loads(reply.body)
    assert seen["method"] == "POST" and seen["body_length"] == 5000


# -- the runtime's context and environment -----------------------------------------------------


def test_context_and_reserved_environment(edge: Proc) -> None:
    reply = fetch(edge.port, "/vr/context")
    data = json.loads(reply.body)
    assert data["function_name"] == "us-east-1.edgefns-viewer_request"
    assert data["function_version"] == "1"
    assert (
        data["invoked_function_arn"]
        == "arn:aws:lambda:us-east-1:123456789012:function:edgefns-viewer_request:1"
    )
    assert data["memory_limit_in_mb"] == "128"
    assert data["log_group_name"] == "/aws/lambda/us-east-1.edgefns-viewer_request"
    assert re.match(r"^\d{4}/\d{2}/\d{2}/\[1\][0-9a-f]{32}$", data["log_stream_name"])
    assert re.match(r"^[0-9a-f-]{36}$", data["aws_request_id"])
    assert 0 < data["remaining_ms"] <= 1000
    assert set(data["env"]) <= RESERVED, set(data["env"]) - RESERVED
    assert "SECRET_FROM_SHELL" not in data["env"] and "HOME" not in data["env"]
    assert data["region"] == "us-east-1"
    assert data["cf_request_id"] == reply.header("x-amz-cf-id")


def test_each_worker_reports_init_duration_once(edge: Proc) -> None:
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: fetch(edge.port, f"/vr/context?{i}"), range(12)))
    time.sleep(0.3)  # let serve write its log store
    root = edge.cwd / ".edgeshield" / "logs"
    reports: dict[str, list[str]] = defaultdict(list)
    for event in read_events(root, groups=["/aws/lambda/us-east-1.edgefns-viewer_request"]):
        if event.message.startswith("REPORT"):
            reports[event.stream].append(event.message)
    assert reports
    for stream, lines in reports.items():
        assert re.match(r"^\d{4}/\d{2}/\d{2}/\[1\][0-9a-f]{32}$", stream)
        assert "Init Duration" in lines[0], stream
        assert not any("Init Duration" in line for line in lines[1:]), stream
    pids = {json.loads(fetch(edge.port, f"/vr/context?p{i}").body)["pid"] for i in range(6)}
    assert len(pids) <= 2  # --workers 2 bounds the execution environments


# -- configuration and user mistakes ----------------------------------------------------------


def test_a_function_reading_stdin_gets_nothing(workdir: Path, origin: Proc) -> None:
    proc = start_serve(
        workdir, "--origin", f"http://127.0.0.1:{origin.port}", "--function-timeout", "2",
        "--function", "origin-response=edgefns.reads_stdin", "--quiet",
    )  # fmt: skip
    try:
        for i in range(2):
            reply = fetch(proc.port, f"/echo/stdin-{i}")
            assert reply.status == 200 and reply.header("x-stdin") == "0"
    finally:
        proc.stop()


def test_execution_error_status_can_be_500(workdir: Path, origin: Proc) -> None:
    proc = start_serve(
        workdir, "--origin", f"http://127.0.0.1:{origin.port}",
        "--function", "viewer-request=edgefns.viewer_request", "--execution-error-status", "500",
        "--quiet",
    )  # fmt: skip
    try:
        assert_cloudfront_error(fetch(proc.port, "/vr/raise"), 500, "LambdaExecutionError")
    finally:
        proc.stop()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--function", "viewer-request=nosuchmodule.handler"], "Unable to import module 'nosuchmodule'"),
        (["--function", "viewer-request=edgefns.missing"], "Handler 'missing' missing on module 'edgefns'"),
        (["--function", "sideways=edgefns.viewer_request"], "unknown trigger 'sideways'"),
        (["--function", "viewer-request"], "expected TRIGGER=HANDLER"),
        (["--function", "viewer-request=edgefns.viewer_request", "--function", "viewer-request=edgefns.origin_request"], "one per trigger"),
        (["--pop", "XXX1"], "unknown POP airport code 'XXX'"),
        (["--pop", "nonsense!"], "invalid POP code"),
        (["--origin", "/no/such/folder"], "not a folder"),
        (["--origin", "ftp://example.org"], "only http:// and https:// origins are supported"),
        (["--execution-error-status", "502"], "must be 500 or 503"),
        (["--policy", "missing.toml"], "no such file"),
        (["--include-body", "origin-response"], "only viewer-request and origin-request"),
    ],
)  # fmt: skip
def test_mistakes_get_one_clear_line(workdir: Path, args: list[str], message: str) -> None:
    result = run_cli(workdir, "serve", "--port", "0", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def test_bad_policy_file_is_reported_with_its_problem(tmp_path: Path) -> None:
    bad = tmp_path / "edgeshield.toml"
    bad.write_text('[headers]\nx-cache = "nope"\n')
    result = run_cli(tmp_path, "serve", "--port", "0", "--policy", str(bad))
    assert result.returncode == 2
    assert "edgeshield.toml" in result.stderr
    assert "Traceback" not in result.stderr
