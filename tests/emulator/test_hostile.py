"""Hostile viewers and reports against a real ``serve`` process (issue 11): malformed HTTP on
raw sockets, viewers that leave or stall, reports built to break the console. Every case
asserts what the viewer gets and that serve's stderr holds no traceback."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.emulator.helpers import (
    Proc,
    exchange,
    fetch,
    free_port,
    headers_of,
    start_serve,
    status_line,
    wait_for_port,
)

# What aiohttp's parser refuses, and what CloudFront would not route.
MALFORMED: list[tuple[bytes, int]] = [
    (b"GET / HTTP/9.9\r\nHost: a\r\n\r\n", 400),  # unknown version
    (b"GET / HTTP/1.1\r\n\r\n", 400),  # HTTP/1.1 without Host
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),  # two Hosts
    (b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n", 400),  # space in a field name
    (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
    (
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    (
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcde\r\n0\r\n\r\n",
        400,
    ),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked, x\r\n\r\n0\r\n\r\n", 400),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n", 400),  # TLS on plain HTTP
    (b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 50_000 + b"\r\n\r\n", 413),
    (b"GET /" + b"a" * 40_000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 413),
    (b"GET / HTTP/1.1\r\nHost: \r\n\r\n", 403),  # empty Host: no distribution has it
    (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 403),
    (b"GET / HTTP/1.1\r\nHost: ../../etc\r\n\r\n", 403),
    (
        b"POST /_edgeshield/csp-report HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
        b"\r\n3\r\nabc\r\nzz\r\n",
        400,
    ),
]


def fetch_tls_status(port: int) -> int:
    import http.client
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=20, context=context)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status
    finally:
        conn.close()


def stop_and_stderr(proc: Proc) -> str:
    proc.stop()
    assert proc.proc.stderr is not None
    return proc.proc.stderr.read()


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    proc = start_serve(tmp_path_factory.mktemp("hostile"))
    yield proc
    proc.stop()


def assert_cloudfront_error(raw: bytes, status: int) -> None:
    assert status_line(raw).split(" ")[1] == str(status), raw[:300]
    headers = headers_of(raw)
    assert headers.get("server") == "CloudFront"
    assert headers.get("x-cache") == "Error from cloudfront"
    assert headers.get("x-amz-cf-id")
    assert b"The request could not be satisfied." in raw


def test_malformed_requests_get_cloudfront_answers_and_no_traceback(
    tmp_path: Path,
) -> None:
    proc = start_serve(tmp_path)
    try:
        for data, status in MALFORMED:
            assert_cloudfront_error(exchange(proc.port, data), status)
        # Still serving, and every bad request was one console line.
        assert fetch(proc.port, "/").status == 200
    finally:
        err = stop_and_stderr(proc)
    out = proc.output()
    assert "Traceback" not in err, err
    assert "Error handling request" not in err, err
    assert out.count("(unparsable request:") >= 10, out


def test_http09_gets_400_with_an_http11_status_line(edge: Proc) -> None:
    raw = exchange(edge.port, b"GET /\r\n\r\n")
    assert status_line(raw) == "HTTP/1.1 400 Bad Request"
    assert b"The request could not be satisfied." in raw


def test_http10_without_host_is_served(edge: Proc) -> None:
    raw = exchange(edge.port, b"GET / HTTP/1.0\r\n\r\n")
    assert status_line(raw).split(" ")[1] == "200"


def test_tls_redirect_listener_answers_malformed_requests_like_cloudfront(
    tmp_path: Path,
) -> None:
    http_port = free_port()
    proc = start_serve(tmp_path, "--tls", "--http-port", str(http_port))
    try:
        wait_for_port(http_port, proc.proc)
        for data, status in MALFORMED[:10]:
            assert_cloudfront_error(exchange(http_port, data), status)
        raw = exchange(http_port, b"GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout=2)
        assert status_line(raw).split(" ")[1] == "301"
        # Plain HTTP and garbage on the TLS port: the handshake fails, quietly.
        for junk in (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", b"\x16\x03\x01\x00\x05hello"):
            exchange(proc.port, junk, timeout=3)
        assert fetch_tls_status(proc.port) == 200
    finally:
        err = stop_and_stderr(proc)
    assert "Traceback" not in err, err


def test_viewer_leaving_mid_body_costs_nothing(tmp_path: Path) -> None:
    proc = start_serve(tmp_path)
    try:
        for path in ("/upload", "/_edgeshield/csp-report"):
            for _ in range(3):
                with socket.create_connection(("127.0.0.1", proc.port)) as sock:
                    sock.sendall(
                        f"POST {path} HTTP/1.1\r\nHost: a\r\nContent-Type: application/csp-report"
                        "\r\nContent-Length: 100000\r\n\r\n".encode()
                        + b"x" * 1000
                    )
                    time.sleep(0.2)
                    # RST instead of FIN: the server's next read fails with a reset.
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        time.sleep(0.5)
        assert fetch(proc.port, "/").status == 200
    finally:
        err = stop_and_stderr(proc)
    assert "Traceback" not in err, err
    assert "ConnectionResetError" not in err, err


async def _closed_within(port: int, payload: bytes, seconds: float) -> bool:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    try:
        await asyncio.wait_for(reader.read(), seconds)
        return True
    except TimeoutError:
        return False
    finally:
        writer.close()


def test_half_sent_requests_lose_their_connection(tmp_path: Path) -> None:
    """Headers that never finish, and a body that stalls, do not hold a connection."""
    from edgeshield.emulator import runner as serve

    async def scenario() -> tuple[bool, bool, bool]:
        config = serve.ServeConfig(
            port=0, cwd=tmp_path, access_log=None, reload=False, header_timeout=1.0
        )
        running = await serve.start(serve.prepare(config))
        try:
            port = running.server.port
            headers = await _closed_within(port, b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow:", 5)
            body = await _closed_within(
                port, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", 5
            )
            idle = await _closed_within(port, b"", 5)
            return headers, body, idle
        finally:
            await running.close()

    assert asyncio.run(scenario()) == (True, True, True)


def _post_report(port: int, report: Mapping[str, object] | bytes) -> int:
    data = report if isinstance(report, bytes) else json.dumps(report).encode()
    return fetch(
        port,
        "/_edgeshield/csp-report",
        method="POST",
        headers={"Content-Type": "application/csp-report"},
        body=data,
    ).status


HOSTILE_REPORTS: list[bytes] = [
    # A lone surrogate: valid JSON, not encodable as UTF-8.
    b'{"csp-report":{"blocked-uri":"\\udfff","effective-directive":"img-src"}}',
    b'{"csp-report":{"blocked-uri":"https://e.example/a[/]b","effective-directive":"img-src",'
    b'"document-uri":"https://d.example/[link=https://evil.example]click[/link]:skull:"}}',
    b'{"csp-report":{"blocked-uri":"https://e.example/\\u001b]8;;https://evil.example\\u001b\\\\x'
    b'\\u001b[2J\\u202e","effective-directive":"script-src"}}',
    b'{"csp-report":{"blocked-uri":"https://e.example/\\u0000\\r\\nFAKE LINE","line-number":"\\u00b2",'
    b'"effective-directive":"img-src"}}',
]
GOOD = {
    "csp-report": {"blocked-uri": "https://cdn.example/x.js", "effective-directive": "script-src"}
}


@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "terminal"])
def test_hostile_reports_never_break_the_collector(tmp_path: Path, terminal: bool) -> None:
    # FORCE_COLOR makes rich treat the pipe as a terminal: the markup path of the echo.
    env = {"FORCE_COLOR": "1", "TERM": "xterm"} if terminal else {"NO_COLOR": "1"}
    proc = start_serve(tmp_path, env=env)
    try:
        for report in HOSTILE_REPORTS:
            assert _post_report(proc.port, report) == 204
            assert _post_report(proc.port, GOOD) == 204  # and the next good report too
    finally:
        err = stop_and_stderr(proc)
    out = proc.output()
    assert "Traceback" not in err, err
    assert out.count("blocked https://cdn.example/x.js") == len(HOSTILE_REPORTS), out
    echoed = [line for line in out.splitlines() if "CSP violation" in line]
    assert len(echoed) == 2 * len(HOSTILE_REPORTS)
    text = "\n".join(echoed)
    assert "[/]" in text  # shown literally, not read as markup
    assert "[link=https://evil.example]" in text and ":skull:" in text
    assert "\x1b]8" not in text and "\x1b[2J" not in text and "\u202e" not in text
    assert not any(line.startswith("FAKE LINE") for line in out.splitlines())


@pytest.mark.parametrize("line", [b"GET /\r\n", b"GET /index.html\n"])
def test_http09_request_without_empty_line_is_answered_at_once(edge: Proc, line: bytes) -> None:
    # A real HTTP/0.9 request is one line: no headers, so no empty line ends them. The edge
    # must answer it now, not when the header deadline (20 s) closes the connection.
    began = time.monotonic()
    raw = exchange(edge.port, line, timeout=5)
    assert time.monotonic() - began < 3
    assert status_line(raw) == "HTTP/1.1 400 Bad Request", raw[:200]
    assert b"The request could not be satisfied." in raw
