"""Blame where it belongs (issue 11): an origin status CloudFront cannot pass is CloudFront's
502 about the origin, not a validation error charged to a function that changed nothing; and
header values travel as the bytes CloudFront would send."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.helpers import FUNCTIONS, Proc, fetch, log_text, start_serve


class RawOrigin:
    """An origin that answers every request with the same raw bytes (no HTTP library in
    between, so it can send what a library would refuse or re-encode)."""

    def __init__(self, response: bytes) -> None:
        self.response = response
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                conn.sendall(self.response)

    def close(self) -> None:
        self.sock.close()


def raw_response(status_line: bytes, *headers: bytes) -> bytes:
    head = [status_line, *headers, b"Content-Length: 2", b"Connection: close"]
    return b"\r\n".join(head) + b"\r\n\r\nok"


def raw_get(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


@pytest.fixture
def serve_with(tmp_path: Path) -> Iterator[object]:
    started: list[tuple[RawOrigin, Proc]] = []

    def start(response: bytes, *args: str) -> tuple[RawOrigin, Proc]:
        shutil.copy(FUNCTIONS / "hostilefns.py", tmp_path / "hostilefns.py")
        origin = RawOrigin(response)
        proc = start_serve(
            tmp_path, "--origin", f"http://127.0.0.1:{origin.port}", "--quiet", "--no-cache", *args
        )
        started.append((origin, proc))
        return origin, proc

    yield start
    for origin, proc in started:
        proc.stop()
        origin.close()


@pytest.mark.parametrize("status", [b"999", b"600", b"100"])
def test_invalid_origin_status_is_cloudfronts_502_not_the_functions(
    serve_with: object, tmp_path: Path, status: bytes
) -> None:
    assert callable(serve_with)
    _origin, proc = serve_with(
        raw_response(b"HTTP/1.1 " + status + b" Weird"),
        "--function", "origin-response=hostilefns.unchanged",
    )  # fmt: skip
    reply = fetch(proc.port, "/page")
    assert reply.status == 502
    assert reply.x_cache == "Error from cloudfront"
    time.sleep(0.3)  # the log store is flushed every 100 ms
    logs = log_text(tmp_path)
    assert "LambdaValidationError" not in logs and "failed validation" not in logs
    assert "START RequestId" not in logs  # the function never ran: nothing to blame it for


def test_header_bytes_travel_as_cloudfront_sends_them(serve_with: object) -> None:
    assert callable(serve_with)
    _origin, proc = serve_with(
        raw_response(
            b"HTTP/1.1 200 OK",
            b"Content-Type: text/plain",
            b"X-Utf8: caf\xc3\xa9 \xe2\x9c\x93",  # UTF-8: passes unchanged
            b"X-Latin1: caf\xe9",  # not UTF-8: read as ISO-8859-1, sent on as UTF-8
        ),
        "--function", "origin-response=hostilefns.unchanged",
    )  # fmt: skip
    raw = raw_get(proc.port, "/page")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nX-Utf8: caf\xc3\xa9 \xe2\x9c\x93\r\n" in head, head
    assert b"\r\nX-Latin1: caf\xc3\xa9\r\n" in head, head
