"""What a user meets when the emulator must answer like CloudFront and not stricter: AWS's own
example served, undocumented rules only warned about, the reason of a failure on the console,
HEAD cached, CloudFront's own headers on every answer CloudFront makes."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from edgeshield.emulator.logstore import read_events
from tests.emulator.helpers import FUNCTIONS, Proc, Reply, fetch, origin_hits, start_serve

FUNCTION_GROUP = "/aws/lambda/us-east-1.fidelity-origin_response"
VALIDATION_GROUP = "/aws/cloudfront/LambdaEdge/EDFDVBD6EXAMPLE"
VIA = re.compile(r"^1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)$")
CF_ID = re.compile(r"^[A-Za-z0-9_-]{54}==$")


@dataclass
class Console:
    """serve's stdout, line by line, as it arrives."""

    proc: Proc
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.proc.stdout is not None
        for line in self.proc.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, needle: str, timeout: float = 5.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if needle in line]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} not on the console:\n" + "\n".join(self.lines))


@pytest.fixture(scope="module")
def edge(origin: Proc, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Proc, Console]]:
    cwd = tmp_path_factory.mktemp("fidelity")
    shutil.copy(FUNCTIONS / "fidelity.py", cwd / "fidelity.py")
    proc = start_serve(
        cwd,
        "--origin", f"http://127.0.0.1:{origin.port}",
        "--function", "origin-response=fidelity.origin_response",
        "--workers", "1",
        "--no-reload",
    )  # fmt: skip
    yield proc, Console(proc)
    proc.stop()


def function_log(cwd: Path, needle: str, group: str = FUNCTION_GROUP) -> list[str]:
    root = cwd / ".edgeshield" / "logs"
    deadline = time.monotonic() + 5
    while True:
        found = [e.message for e in read_events(root, groups=[group]) if needle in e.message]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


# -- undocumented rules warn; AWS's own example is served as on AWS --------------------------


def test_awss_overriding_a_response_header_example_sets_last_modified(
    edge: tuple[Proc, Console],
) -> None:
    proc, console = edge
    reply = fetch(proc.port, "/s3meta")
    assert reply.status == 200, reply.body
    assert reply.body == b"object with metadata"
    # The entry copied from X-Amz-Meta-Last-Modified is sent under the dict key's name.
    assert reply.all("last-modified") == ["Thu, 01 Feb 2024 12:00:00 GMT"]
    assert reply.all("x-amz-meta-last-modified") == ["Thu, 01 Feb 2024 12:00:00 GMT"]
    assert reply.x_cache == "Miss from cloudfront"
    cf_id = reply.header("x-amz-cf-id")
    assert cf_id is not None
    (line,) = console.wait_for(f"[X-Amz-Cf-Id {cf_id}]")
    assert line.startswith("warning: origin-response function fidelity.origin_response: ")
    assert "the key 'X-Amz-Meta-Last-Modified' of an entry in headers['last-modified']" in line
    assert "served as Last-Modified" in line
    logged = function_log(proc.cwd, f"(X-Amz-Cf-Id {cf_id})")
    assert len(logged) == 1 and " WARNING edgeshield serve: the key " in logged[0]
    # The function's own output is in its log as on AWS; nothing went to CloudFront's log.
    assert function_log(proc.cwd, "Response header Last-Modified was set to")
    assert not function_log(proc.cwd, cf_id, VALIDATION_GROUP)


def test_an_upper_case_headers_key_is_served_with_a_warning(edge: tuple[Proc, Console]) -> None:
    proc, console = edge
    reply = fetch(proc.port, "/upper-key")
    assert reply.status == 200
    assert reply.header("x-frame-options") == "DENY"
    cf_id = reply.header("x-amz-cf-id")
    (line,) = console.wait_for(f"[X-Amz-Cf-Id {cf_id}]")
    assert line.startswith("warning: ") and "got 'X-Frame-Options'" in line
    assert function_log(proc.cwd, f"(X-Amz-Cf-Id {cf_id})")


# -- the reason of a function's failure on the console ---------------------------------------


def test_a_validation_error_prints_its_reason(edge: tuple[Proc, Console]) -> None:
    proc, console = edge
    reply = fetch(proc.port, "/add-via")
    assert reply.status == 502 and reply.x_cache == "LambdaValidationError from cloudfront"
    cf_id = reply.header("x-amz-cf-id")
    (line,) = console.wait_for(f"[X-Amz-Cf-Id {cf_id}]")
    assert line == (
        "502 LambdaValidationError: origin-response function fidelity.origin_response: "
        "Lambda function result failed validation, the function tried to add read-only "
        f"header, headerName : Via. [X-Amz-Cf-Id {cf_id}]"
    )
    console.wait_for("GET /add-via 502 LambdaValidationError")


def test_an_exception_prints_its_last_line_sanitised(edge: tuple[Proc, Console]) -> None:
    proc, console = edge
    reply = fetch(proc.port, "/hostile")
    assert reply.status == 503 and reply.x_cache == "LambdaExecutionError from cloudfront"
    cf_id = reply.header("x-amz-cf-id")
    (line,) = console.wait_for(f"[X-Amz-Cf-Id {cf_id}]")
    assert line.startswith(
        "503 LambdaExecutionError: origin-response function fidelity.origin_response: ValueError: "
    )
    # One line; the escape sequences, the bidi override and the newline are shown, not obeyed;
    # the markup is plain text.
    assert "\\x1b[2J\\x1b[31mred [bold]loud[/bold] \\u202eevil\\x0asecond line" in line
    assert not any(ch in line for ch in "\x1b\u202e\r")
    assert not any(x.startswith("second line") for x in console.lines)


# -- HEAD is cached ---------------------------------------------------------------------------


def test_repeated_head_requests_hit_the_cache(edge: tuple[Proc, Console], origin: Proc) -> None:
    proc, _console = edge
    path = "/cc/max-age=300/head-only"
    first = fetch(proc.port, path, method="HEAD")
    second = fetch(proc.port, path, method="HEAD")
    third = fetch(proc.port, path, method="HEAD")
    assert [r.x_cache for r in (first, second, third)] == [
        "Miss from cloudfront",
        "Hit from cloudfront",
        "Hit from cloudfront",
    ]
    assert first.body == second.body == b""
    expected = str(len(f"object {path} hit 1"))
    assert first.header("content-length") == second.header("content-length") == expected
    assert second.header("etag") == '"v1"' and second.header("age") is not None
    assert origin_hits(origin, path) == 1
    # A kept HEAD answer has no body for a GET: the GET misses and takes its place.
    get = fetch(proc.port, path)
    assert get.x_cache == "Miss from cloudfront" and get.body == f"object {path} hit 2".encode()
    assert fetch(proc.port, path).x_cache == "Hit from cloudfront"
    after = fetch(proc.port, path, method="HEAD")
    assert after.x_cache == "Hit from cloudfront"
    assert after.header("content-length") == str(len(get.body))
    assert origin_hits(origin, path) == 2


def test_head_is_answered_from_a_cached_get(edge: tuple[Proc, Console], origin: Proc) -> None:
    proc, _console = edge
    path = "/cc/max-age=300/get-first"
    get = fetch(proc.port, path)
    head = fetch(proc.port, path, method="HEAD")
    assert head.x_cache == "Hit from cloudfront" and head.body == b""
    assert head.header("content-length") == str(len(get.body))
    assert origin_hits(origin, path) == 1


def test_uncacheable_head_answers_are_not_kept(edge: tuple[Proc, Console], origin: Proc) -> None:
    proc, _console = edge
    path = "/cc/no-store/head-no-store"
    assert fetch(proc.port, path, method="HEAD").x_cache == "Miss from cloudfront"
    assert fetch(proc.port, path, method="HEAD").x_cache == "Miss from cloudfront"
    assert origin_hits(origin, path) == 2


# -- CloudFront's own answers on a folder origin ----------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    site = tmp_path_factory.mktemp("private-bucket")
    (site / "index.html").write_text("<p>home</p>")
    proc = start_serve(tmp_path_factory.mktemp("folder-fidelity"), "--origin", str(site), "--quiet")
    yield proc
    proc.stop()


def _cloudfront_made(reply: Reply) -> None:
    assert reply.header("server") == "CloudFront"
    assert VIA.match(reply.header("via") or "")
    assert reply.header("x-amz-cf-pop") == "IAD89-C1"
    assert CF_ID.match(reply.header("x-amz-cf-id") or "")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"])
def test_a_method_the_behavior_does_not_allow_is_cloudfronts_403(folder: Proc, method: str) -> None:
    reply = fetch(folder.port, "/", method=method, body=b"x")
    assert reply.status == 403
    assert reply.x_cache == "Error from cloudfront"
    assert reply.header("content-type") == "text/html"
    assert b"This distribution is not configured to allow the HTTP request method" in reply.body
    cf_id = reply.header("x-amz-cf-id")
    assert cf_id is not None
    assert cf_id.encode() in reply.body
    _cloudfront_made(reply)


def test_a_missing_key_in_a_private_bucket_is_access_denied(folder: Proc) -> None:
    reply = fetch(folder.port, "/no/such/key.html")
    assert reply.status == 403
    assert b"<Code>AccessDenied</Code><Message>Access Denied</Message>" in reply.body
    assert b"no/such" not in reply.body  # S3 does not confirm which key was asked for
    assert reply.header("content-type") == "application/xml"
    assert "default-src" in (reply.header("content-security-policy") or "")  # origin-response ran
    assert reply.x_cache == "Miss from cloudfront"
    assert fetch(folder.port, "/").status == 200


# -- the library's invoke() gives the same verdict ---------------------------------------------


def test_invoke_accepts_awss_example_and_reports_the_warning_as_advice() -> None:
    from edgeshield.cloudfront import origin_response_event
    from edgeshield.emulator.functions.invoke import invoke

    event = origin_response_event(
        uri="/s3meta",
        response_headers=[
            ("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"),
            ("X-Amz-Meta-Last-Modified", "Thu, 01 Feb 2024 12:00:00 GMT"),
        ],
    )
    result = invoke(event, handler="fidelity.override_last_modified", task_root=FUNCTIONS)
    assert result.accepted and result.http_status is None and result.refusals == ()
    assert [(v.kind, v.rule) for v in result.violations] == [("warning", "header-key")]
    assert result.result["headers"]["last-modified"][0]["value"] == "Thu, 01 Feb 2024 12:00:00 GMT"
