"""Regressions for defects a review found in the local edge (each once reproduced)."""

from __future__ import annotations

import json
import socket
import stat
import time
import urllib.request
from pathlib import Path

import pytest

from edgeshield.aws.csp_reports import ReportError, parse_reports
from edgeshield.emulator.http.tls import ensure_local_certificate
from tests.servers import Edge

REPORT = b'{"csp-report": {"document-uri": "https://a.example/", "effective-directive": "img-src", "blocked-uri": "data"}}'


def raw(port: int, data: bytes, pause_after: int | None = None, timeout: float = 10.0) -> bytes:
    """Send bytes to 127.0.0.1:port (optionally in two parts, 0.3 s apart); the reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        if pause_after is None:
            sock.sendall(data)
        else:
            sock.sendall(data[:pause_after])
            time.sleep(0.3)
            sock.sendall(data[pause_after:])
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def port_of(edge: Edge) -> int:
    return int(edge.url.rsplit(":", 1)[1])


def post_report(port: int, extra_header: bytes = b"") -> bytes:
    return (
        b"POST /_edgeshield/csp-report HTTP/1.1\r\nHost: x\r\n" + extra_header
        + b"Content-Type: application/csp-report\r\nContent-Length: " + str(len(REPORT)).encode()
        + b"\r\nConnection: close\r\n\r\n" + REPORT
    )  # fmt: skip


def test_undecodable_header_bytes_never_leak_collector_workers(tmp_path: Path) -> None:
    edge = Edge(tmp_path, None, None)
    try:
        for _ in range(6):
            reply = raw(port_of(edge), post_report(port_of(edge), b"X-Foo: \xff\xfe\r\n"))
            assert reply.startswith(b"HTTP/1.1 204"), reply[:80]
        assert len(children(edge.proc.pid)) <= 4 + 2  # edge function pool + collector pool
    finally:
        edge.close()


def test_a_report_arriving_in_two_parts_is_read_whole(tmp_path: Path) -> None:
    edge = Edge(tmp_path, None, None)
    try:
        data = post_report(port_of(edge))
        reply = raw(port_of(edge), data, pause_after=len(data) - 20)
        assert reply.startswith(b"HTTP/1.1 204"), reply[:200]
    finally:
        edge.close()


def test_hostile_reports_are_400_or_cleaned() -> None:
    found = parse_reports(
        b'{"csp-report": {"document-uri": "http://a:99999/x?token=1", "effective-directive": "img-src", "blocked-uri": "x"}}',
        "application/csp-report",
    )
    assert found[0].document_uri == ""  # an unparseable URL is dropped, never logged raw
    with pytest.raises(ReportError) as raised:
        parse_reports(b"[" * 20000 + b"]" * 20000, "application/reports+json")
    assert raised.value.status == 400


FORKY = """
import os

def handler(event, context):
    request = event["Records"][0]["cf"]["request"]
    if request["uri"] == "/fork":
        os.fork()  # both processes return to the runtime
    return {"status": "200", "headers": {"x-uri": [{"key": "X-Uri", "value": request["uri"]}]}}
"""


def test_a_forking_function_never_mixes_up_answers(tmp_path: Path) -> None:
    (tmp_path / "forky.py").write_text(FORKY)
    edge = Edge(
        tmp_path, None, None, ("--workers", "1", "--function", "viewer-request=forky.handler")
    )
    try:
        seen = []
        for path in ("/a", "/fork", "/c", "/d", "/e"):
            with urllib.request.urlopen(edge.url + path, timeout=15) as response:
                seen.append((path, response.headers.get("X-Uri")))
        assert all(uri == path for path, uri in seen if path != "/fork"), seen
    finally:
        edge.close()


ORPHAN = """
import os, subprocess

def handler(event, context):
    subprocess.Popen(["sleep", "{marker}"])
    os._exit(1)
"""


def test_children_of_a_dead_worker_are_killed(tmp_path: Path) -> None:
    marker = "600.4242"
    (tmp_path / "orphan.py").write_text(ORPHAN.replace("{marker}", marker))
    edge = Edge(
        tmp_path, None, None, ("--workers", "2", "--function", "viewer-request=orphan.handler")
    )
    try:
        for _ in range(3):
            try:
                urllib.request.urlopen(edge.url + "/x", timeout=15)
            except urllib.error.HTTPError as error:
                assert error.code == 503
        time.sleep(0.5)
        left = [
            p
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and marker.encode() in _cmdline(p)
        ]
        assert left == []
    finally:
        edge.close()


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""


REPLACE_BODY = """
def handler(event, context):
    response = event["Records"][0]["cf"]["response"]
    response["body"] = "short"
    return response
"""


def test_head_announces_the_length_of_a_replaced_body(tmp_path: Path) -> None:
    (tmp_path / "short.py").write_text(REPLACE_BODY)
    edge = Edge(tmp_path, None, None, ("--function", "origin-response=short.handler"))
    try:
        request = urllib.request.Request(edge.url + "/index.html", method="HEAD")
        with urllib.request.urlopen(request, timeout=15) as response:
            assert response.headers["Content-Length"] == "5"
    finally:
        edge.close()


@pytest.mark.parametrize(
    ("request_line", "host", "expected"),
    [
        (b"GET /a%20b/?q=1 HTTP/1.1", b"127.0.0.1:1", b"301"),
        (b"GET /x HTTP/1.1", b"[::1]:1", b"301"),
        (b"GET http://[::1]:1/abs?x=1 HTTP/1.1", b"[::1]:1", b"400"),
        # A Host no distribution can have: CloudFront's 403 "Bad request." (issue 11).
        (b"GET /x HTTP/1.1", b"evil.example/foo?", b"403"),
        (b"GET /x HTTP/1.1", b"[fe80::1%25eth0]", b"403"),
    ],
)
def test_redirect_location_is_built_only_from_well_formed_input(
    tmp_path_factory: pytest.TempPathFactory, request_line: bytes, host: bytes, expected: bytes
) -> None:
    edge = _redirecting_edge(tmp_path_factory)
    assert edge.redirect_url is not None
    port = int(edge.redirect_url.rsplit(":", 1)[1])
    reply = raw(port, request_line + b"\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")
    assert reply.split(b" ", 2)[1] == expected, reply[:200]
    if expected == b"301":
        location = next(
            line for line in reply.split(b"\r\n") if line.lower().startswith(b"location:")
        )
        target = request_line.split(b" ")[1]
        assert location.endswith(target)


_EDGES: dict[str, Edge] = {}


def _redirecting_edge(factory: pytest.TempPathFactory) -> Edge:
    if "edge" not in _EDGES:
        _EDGES["edge"] = Edge(factory.mktemp("redirect"), None, None, ("--tls", "--http-port", "0"))
    return _EDGES["edge"]


@pytest.fixture(scope="module", autouse=True)
def _close_edges() -> object:
    yield None
    for edge in _EDGES.values():
        edge.close()


def test_a_regenerated_key_is_private_even_over_a_loose_old_file(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text("old")
    (tmp_path / "key.pem").chmod(0o644)
    files = ensure_local_certificate(tmp_path)  # no ca.pem: everything is made afresh
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert files.key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert json.dumps(sorted(p.name for p in tmp_path.iterdir())) == json.dumps(
        ["ca.pem", "cert.pem", "key.pem"]
    )
