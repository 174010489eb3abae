"""Origins (a folder like S3; HTTP and HTTPS origins that are slow, refuse, reset, send huge
headers), the cache, request limits, shutdown and load, through real ``serve`` processes."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.helpers import (
    Proc,
    fetch,
    free_port,
    origin_hits,
    run_cli,
    start_origin,
    start_serve,
    wait_until,
)


@pytest.fixture(scope="module")
def edge(origin: Proc, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    cwd = tmp_path_factory.mktemp("origins")
    proc = start_serve(
        cwd,
        "--origin", f"http://127.0.0.1:{origin.port}",
        "--origin-read-timeout", "0.4",
        "--cache-mb", "2",
        "--quiet",
    )  # fmt: skip
    yield proc
    proc.stop()


# -- custom origin failures ---------------------------------------------------------------


def test_reset_connection_is_502_error(edge: Proc) -> None:
    reply = fetch(edge.port, "/reset")
    assert reply.status == 502
    assert reply.x_cache == "Error from cloudfront"
    assert reply.header("server") == "CloudFront"
    assert b"CloudFront wasn't able to connect to the origin." in reply.body


def test_head_through_a_custom_origin(edge: Proc) -> None:
    reply = fetch(edge.port, "/big/5000", method="HEAD")
    assert reply.status == 200 and reply.body == b""
    assert reply.header("content-length") == "5000"
    assert fetch(edge.port, "/big/5000").body == b"b" * 5000


def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(tmp_path, "serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: the port is in use (another serve?); "
        "choose another with --port N, or --port 0 for any free port"
    ]


def test_a_redirect_port_in_use_names_its_own_option(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(tmp_path, "serve", "--tls", "--port", "0", "--http-port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: the port is in use (another serve?); "
        "choose another with --http-port N, or --http-port 0 for any free port"
    ]


def test_huge_origin_headers_are_502(edge: Proc) -> None:
    reply = fetch(edge.port, "/huge-headers")
    assert reply.status == 502 and reply.x_cache == "Error from cloudfront"


def test_slow_origin_is_504_after_three_attempts(edge: Proc, origin: Proc) -> None:
    started = time.monotonic()
    reply = fetch(edge.port, "/slow/3000")
    elapsed = time.monotonic() - started
    assert reply.status == 504 and reply.x_cache == "Error from cloudfront"
    assert 1.1 < elapsed < 3.0
    assert origin_hits(origin, "/slow/3000") == 3
    assert fetch(edge.port, "/slow/50").status == 200


def test_refused_connection_is_502(tmp_path: Path) -> None:
    proc = start_serve(tmp_path, "--origin", f"http://127.0.0.1:{free_port()}", "--quiet")
    try:
        started = time.monotonic()
        reply = fetch(proc.port, "/")
        assert reply.status == 502 and reply.x_cache == "Error from cloudfront"
        assert time.monotonic() - started < 3
    finally:
        proc.stop()


def test_origin_that_never_accepts_is_504_after_the_connection_attempts(tmp_path: Path) -> None:
    # A listening socket whose accept queue is full: the kernel drops further SYNs, so
    # connections neither succeed nor fail, like a firewalled origin.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        proc = start_serve(
            tmp_path, "--origin", f"http://127.0.0.1:{port}", "--origin-connect-timeout", "0.3",
            "--origin-connect-attempts", "2", "--quiet",
        )  # fmt: skip
        try:
            started = time.monotonic()
            reply = fetch(proc.port, "/")
            elapsed = time.monotonic() - started
            assert reply.status == 504 and reply.x_cache == "Error from cloudfront"
            assert 0.55 < elapsed < 2.5
        finally:
            proc.stop()
            for filler in fillers:
                filler.close()


def test_https_origin_needs_a_trusted_certificate(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    ca_pem, cert_pem, key_pem = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    cert.cert_chain_pems[0].write_to_path(str(cert_pem))
    cert.private_key_pem.write_to_path(str(key_pem))
    tls_origin = start_origin("--tls", str(cert_pem), str(key_pem))
    url = f"https://127.0.0.1:{tls_origin.port}"
    untrusted = start_serve(tmp_path, "--origin", url, "--quiet")
    try:
        reply = fetch(untrusted.port, "/")
        assert reply.status == 502 and reply.x_cache == "Error from cloudfront"
    finally:
        untrusted.stop()
    trusted = start_serve(tmp_path, "--origin", url, "--origin-ca", str(ca_pem), "--quiet")
    try:
        reply = fetch(trusted.port, "/")
        assert reply.status == 200, reply.body
        assert b"hello from the origin" in reply.body
        # The strict policy removes the origin's disclosure headers.
        assert reply.header("x-powered-by") is None
    finally:
        trusted.stop()
        tls_origin.stop()


# -- the cache ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("directive", "cached"),
    [
        ("max-age=60", True),
        ("s-maxage=60, max-age=0", True),
        ("none", True),  # no directive: the default TTL (a day)
        ("no-store", False),
        ("no-cache", False),
        ("private, max-age=60", False),
        ("max-age=0", False),
    ],
)
def test_cache_control_decides_what_is_cached(
    edge: Proc, origin: Proc, directive: str, cached: bool
) -> None:
    path = f"/cc/{directive.replace(' ', '%20')}/obj"
    first, second = fetch(edge.port, path), fetch(edge.port, path)
    assert first.status == second.status == 200
    assert first.x_cache == "Miss from cloudfront"
    assert second.x_cache == ("Hit from cloudfront" if cached else "Miss from cloudfront")
    assert origin_hits(origin, path) == (1 if cached else 2)


def test_expired_object_is_revalidated_as_refresh_hit(edge: Proc, origin: Proc) -> None:
    path = "/cc/max-age=1/refresh"
    first = fetch(edge.port, path)
    time.sleep(1.2)
    second = fetch(edge.port, path)
    assert second.x_cache == "RefreshHit from cloudfront"
    assert second.body == first.body  # the origin answered 304; the stored copy is served
    assert origin_hits(origin, path) == 2
    assert fetch(edge.port, path).x_cache == "Hit from cloudfront"


def test_errors_are_cached_briefly(edge: Proc, origin: Proc) -> None:
    first, second = fetch(edge.port, "/status/404"), fetch(edge.port, "/status/404")
    assert first.status == second.status == 404
    assert second.x_cache == "Hit from cloudfront"
    assert origin_hits(origin, "/status/404") == 1


def test_stale_object_is_served_when_the_origin_is_down(tmp_path: Path) -> None:
    own = start_origin()
    proc = start_serve(
        tmp_path, "--origin", f"http://127.0.0.1:{own.port}", "--query-string", "--quiet"
    )
    try:
        # --query-string forwards query strings and keys the cache on them.
        seen = json.loads(fetch(proc.port, "/echo/q?a=1&b=2").body)
        assert seen["path_qs"] == "/echo/q?a=1&b=2"
        assert fetch(proc.port, "/cc/max-age=60/k?x=1").x_cache == "Miss from cloudfront"
        assert fetch(proc.port, "/cc/max-age=60/k?x=2").x_cache == "Miss from cloudfront"
        assert fetch(proc.port, "/cc/max-age=60/k?x=1").x_cache == "Hit from cloudfront"
        fetch(proc.port, "/cc/max-age=1/stale")
        own.stop()
        time.sleep(1.2)
        reply = fetch(proc.port, "/cc/max-age=1/stale")
        assert reply.status == 200 and reply.x_cache == "RefreshHit from cloudfront"
        assert fetch(proc.port, "/never-cached").status == 502
    finally:
        proc.stop()
        own.stop()


def test_origin_path_and_forwarded_cookies(tmp_path: Path, origin: Proc) -> None:
    proc = start_serve(
        tmp_path, "--origin", f"http://127.0.0.1:{origin.port}/echo", "--forward-cookies", "--quiet"
    )
    try:
        seen = json.loads(fetch(proc.port, "/under/path", headers={"Cookie": "session=1"}).body)
        assert seen["path_qs"] == "/echo/under/path"
        headers = {k.lower(): v for k, v in seen["headers"]}
        assert headers["cookie"] == "session=1"
        assert headers["host"] == f"localhost:{origin.port}"
    finally:
        proc.stop()


def test_cache_memory_stays_within_its_budget(edge: Proc) -> None:
    for size in range(20000, 20000 + 150):
        assert fetch(edge.port, f"/big/{size}").status == 200
    stats = edge.cwd / ".edgeshield" / "stats.json"

    def evicted() -> bool:
        try:
            evictions: int = json.loads(stats.read_text()).get("cache_evictions", 0)
            return evictions > 0
        except (OSError, ValueError):
            return False

    assert wait_until(evicted, 5)
    data = json.loads(stats.read_text())
    assert data["cache_bytes"] <= 2 * 1024 * 1024


# -- request limits --------------------------------------------------------------------------


def test_url_over_8192_bytes_is_refused(edge: Proc, origin: Proc) -> None:
    path = "/" + "a" * 9000
    reply = fetch(edge.port, path)
    assert reply.status == 413 and reply.x_cache == "Error from cloudfront"
    assert origin_hits(origin, path) == 0
    assert fetch(edge.port, "/" + "b" * 8000).status == 200


def test_headers_over_20480_bytes_are_refused(edge: Proc) -> None:
    headers = {f"X-Big-{i}": "v" * 7000 for i in range(3)}
    reply = fetch(edge.port, "/echo/big-headers", headers=headers)
    assert reply.status == 413
    assert fetch(edge.port, "/echo/ok", headers={"X-Big": "v" * 7000}).status == 200


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /malformed HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        b"GET /malformed HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
    ],
)
def test_malformed_http_is_400_and_never_reaches_the_origin(
    edge: Proc, origin: Proc, raw: bytes
) -> None:
    with socket.create_connection(("127.0.0.1", edge.port), timeout=5) as sock:
        sock.sendall(raw)
        data = sock.recv(4096)
    assert data.split(b"\r\n", 1)[0].split(b" ")[1] == b"400", data[:80]
    assert origin_hits(origin, "/malformed") == 0
    assert fetch(edge.port, "/echo/still-fine").status == 200


# -- a folder origin, like S3 -------------------------------------------------------------------


@pytest.fixture(scope="module")
def folder_edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Proc, Path]]:
    site = tmp_path_factory.mktemp("site")
    (site / "index.html").write_text("<!doctype html><p>index</p>")
    (site / "sub").mkdir()
    (site / "sub" / "page.html").write_text("<p>sub page</p>")
    (site / "doc.pdf").write_bytes(b"%PDF-1.4 fake")
    (site / "big.bin").write_bytes(os.urandom(700 * 1024))
    cwd = tmp_path_factory.mktemp("folder-serve")
    proc = start_serve(cwd, "--origin", str(site), "--no-cache", "--quiet")
    yield proc, site
    proc.stop()


def test_folder_origin_answers_like_s3(folder_edge: tuple[Proc, Path]) -> None:
    proc, _site = folder_edge
    index = fetch(proc.port, "/")
    assert index.status == 200 and index.body == b"<!doctype html><p>index</p>"
    assert index.header("etag") == f'"{hashlib.md5(index.body).hexdigest()}"'
    assert (
        index.header(
            "last-modified",
        )
        and index.header("content-type") == "text/html"
    )
    assert index.x_cache == "Miss from cloudfront"
    assert fetch(proc.port, "/").x_cache == "Miss from cloudfront"  # --no-cache
    assert fetch(proc.port, "/doc.pdf").header("content-type") == "application/pdf"
    assert fetch(proc.port, "/sub/page.html").body == b"<p>sub page</p>"
    missing = fetch(proc.port, "/sub/")  # an S3 REST origin has no directory index
    # Behind origin access control CloudFront may not list the bucket: 403, not 404.
    assert missing.status == 403 and b"<Code>AccessDenied</Code>" in missing.body
    assert "default-src" in (missing.header("content-security-policy") or "")
    for sneaky in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/sub/../../x"):
        assert fetch(proc.port, sneaky).status in (400, 403), sneaky
    # The bucket's behavior allows GET and HEAD: CloudFront refuses POST before S3 sees it.
    post = fetch(proc.port, "/", method="POST", body=b"x")
    assert post.status == 403 and post.x_cache == "Error from cloudfront"
    assert b"not configured to allow the HTTP request method" in post.body


def test_folder_origin_head_conditional_and_large_files(folder_edge: tuple[Proc, Path]) -> None:
    proc, site = folder_edge
    data = (site / "big.bin").read_bytes()
    head = fetch(proc.port, "/big.bin", method="HEAD")
    assert head.status == 200 and head.body == b""
    assert head.header("content-length") == str(len(data))
    assert fetch(proc.port, "/big.bin").body == data
    etag = fetch(proc.port, "/sub/page.html").header("etag")
    assert etag
    assert fetch(proc.port, "/sub/page.html", headers={"If-None-Match": etag}).status == 304
    modified = fetch(proc.port, "/sub/page.html").header("last-modified")
    assert modified
    assert fetch(proc.port, "/sub/page.html", headers={"If-Modified-Since": modified}).status == 304


# -- shutdown and load ----------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_finish_in_flight_requests(tmp_path: Path, sig: signal.Signals) -> None:
    own = start_origin()
    proc = start_serve(tmp_path, "--origin", f"http://127.0.0.1:{own.port}", "--quiet")
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pending = pool.submit(fetch, proc.port, "/slow/800")
            time.sleep(0.3)
            proc.proc.send_signal(sig)
            reply = pending.result()
        assert reply.status == 200 and reply.body == b"slow but here"
        assert proc.proc.wait(10) == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", proc.port), timeout=1).close()
    finally:
        proc.stop()
        own.stop()


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def test_bounded_load_has_zero_errors(edge: Proc) -> None:
    import aiohttp

    total, concurrency = 2000, 32
    paths = [f"/cc/max-age=60/load-{i % 25}" if i % 2 else f"/echo/load-{i}" for i in range(total)]

    async def run() -> list[int]:
        statuses: list[int] = []
        queue: asyncio.Queue[str] = asyncio.Queue()
        for path in paths:
            queue.put_nowait(path)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{edge.port}") as session:

            async def worker() -> None:
                while not queue.empty():
                    path = queue.get_nowait()
                    async with session.get(path) as response:
                        await response.read()
                        statuses.append(response.status)

            await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), 60)
        return statuses

    started = time.monotonic()
    statuses = asyncio.run(run())
    elapsed = time.monotonic() - started
    assert len(statuses) == total
    assert set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    assert elapsed < 30
    # Processes stay bounded: --workers (default 4) for the function, plus at most 2 for the
    # CSP-report collector that serve runs next to the edge.
    assert len(_children(edge.proc.pid)) <= 4 + 2
