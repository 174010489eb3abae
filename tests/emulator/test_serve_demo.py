"""``edgeshield serve`` with no arguments: the embedded demo site behind the strict policy."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.helpers import Proc, fetch, log_text, run_cli, start_serve, wait_until

CF_ID = re.compile(r"^[A-Za-z0-9_-]{54}==$")
VIA = re.compile(r"^1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    cwd = tmp_path_factory.mktemp("demo")
    proc = start_serve(cwd, "--pop", "LHR50-C1")
    yield proc
    proc.stop()


def test_home_page_gets_strict_headers_and_cloudfront_headers(demo: Proc) -> None:
    reply = fetch(demo.port, "/")
    assert reply.status == 200
    assert b"edgeshield demo site" in reply.body
    assert reply.header("content-type") == "text/html"
    csp = reply.header("content-security-policy") or ""
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert reply.header("strict-transport-security") == "max-age=63072000; includeSubDomains"
    assert reply.header("x-frame-options") == "DENY"
    assert reply.header("x-content-type-options") == "nosniff"
    # The policy removes the origin's Server header; CloudFront then answers with its own.
    assert reply.all("server") == ["CloudFront"]
    assert VIA.match(reply.header("via") or "")
    assert reply.header("x-amz-cf-pop") == "LHR50-C1"
    assert CF_ID.match(reply.header("x-amz-cf-id") or "")
    assert reply.header("etag") and reply.header("last-modified")


def test_every_demo_resource_is_served_with_its_type(demo: Proc) -> None:
    expected = {
        "/app.js": "text/javascript",
        "/style.css": "text/css",
        "/logo.png": "image/png",
        "/data.json": "application/json",
        "/frame.html": "text/html",
    }
    for path, content_type in expected.items():
        reply = fetch(demo.port, path)
        assert reply.status == 200, path
        assert reply.header("content-type") == content_type, path
        assert reply.header("x-content-type-options") == "nosniff"
    assert fetch(demo.port, "/logo.png").body.startswith(b"\x89PNG")
    assert b"<iframe" in fetch(demo.port, "/frame.html").body
    assert b"<script>" in fetch(demo.port, "/").body  # the inline script the CSP blocks


def test_missing_page_is_the_404_page_with_the_policy(demo: Proc) -> None:
    reply = fetch(demo.port, "/no/such/page")
    assert reply.status == 404
    assert b"404: no such page" in reply.body
    assert "default-src 'none'" in (reply.header("content-security-policy") or "")


def test_second_request_is_a_cache_hit_with_age(demo: Proc) -> None:
    first = fetch(demo.port, "/style.css")
    second = fetch(demo.port, "/style.css")
    assert second.x_cache == "Hit from cloudfront"
    assert second.header("age") is not None
    assert second.body == first.body
    assert second.header("content-security-policy") == first.header("content-security-policy")
    assert second.header("x-amz-cf-id") != first.header("x-amz-cf-id")


def test_query_strings_are_not_in_the_cache_key_by_default(demo: Proc) -> None:
    first = fetch(demo.port, "/404.html?x=1")
    assert first.x_cache == "Miss from cloudfront"
    assert fetch(demo.port, "/404.html?x=2").x_cache == "Hit from cloudfront"


def test_repeated_head_requests_are_cache_hits(demo: Proc) -> None:
    # What `curl -sI` twice shows: CloudFront caches HEAD as it caches GET.
    replies = [fetch(demo.port, "/app.js", method="HEAD") for _ in range(3)]
    assert [r.x_cache for r in replies[1:]] == ["Hit from cloudfront"] * 2
    assert all(r.status == 200 and r.body == b"" for r in replies)
    assert replies[2].header("content-length") == replies[0].header("content-length") != "0"


def test_head_and_conditional_get(demo: Proc) -> None:
    get = fetch(demo.port, "/index.html")
    head = fetch(demo.port, "/index.html", method="HEAD")
    assert head.status == 200 and head.body == b""
    assert head.header("content-length") == str(len(get.body))
    assert head.header("etag") == get.header("etag")
    etag = get.header("etag")
    assert etag
    again = fetch(demo.port, "/index.html", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    assert again.header("etag") == etag
    assert again.header("x-amz-cf-id")
    stale = fetch(demo.port, "/index.html", headers={"If-None-Match": '"other"'})
    assert stale.status == 200


def test_logs_have_start_end_report_with_one_init_duration(demo: Proc) -> None:
    fetch(demo.port, "/frame.html")
    cwd = demo.cwd
    group_dir = cwd / ".edgeshield/logs/eu-west-2"
    assert wait_until(lambda: group_dir.is_dir())
    text = log_text(cwd)
    assert "/aws/lambda/us-east-1.edgeshield-security-headers" in text
    starts = re.findall(r"START RequestId: ([0-9a-f-]{36}) Version: 1", text)
    ends = re.findall(r"END RequestId: ([0-9a-f-]{36})", text)
    reports = re.findall(
        r"REPORT RequestId: ([0-9a-f-]{36})\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB",
        text,
    )
    assert starts and set(starts) == set(ends) == set(reports)
    # One warm worker served everything: exactly one cold start.
    assert text.count("Init Duration:") == 1
    assert "eu-west-2" in text


def test_stats_command_reports_counters(demo: Proc) -> None:
    fetch(demo.port, "/logo.png")
    fetch(demo.port, "/logo.png")
    stats_file = demo.cwd / ".edgeshield/stats.json"

    def updated() -> bool:
        try:
            data = json.loads(stats_file.read_text())
        except (OSError, ValueError):
            return False
        return bool(data["cache"]["hits"] >= 1 and data["invocations"].get("origin-response"))

    assert wait_until(updated, 5)
    result = run_cli(demo.cwd, "stats", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["requests"] >= 2
    assert data["cache"]["misses"] >= 1
    assert data["function_duration_ms"]["origin-response"]["count"] >= 1
    text = run_cli(demo.cwd, "stats").stdout
    assert "invocations" in text and "origin-response" in text


def test_banner_and_access_lines(tmp_path: Path) -> None:
    proc = start_serve(tmp_path)
    fetch(proc.port, "/style.css")
    assert proc.stop() == 0
    output = proc.output()
    assert f"http://127.0.0.1:{proc.port}/" in output
    assert "origin-response" in output and "edgeshield.edge.handler.handler" in output
    assert "policy     built-in strict preset" in output
    assert str(tmp_path / ".edgeshield" / "logs") in output
    assert re.search(r"^GET /style\.css 200 Miss [\d.]+ms$", output, re.M)
    shutil.rmtree(tmp_path / ".edgeshield")


def test_builtin_function_runs_from_the_staged_bundle_without_site_packages(demo: Proc) -> None:
    """The worker imports the handler the way Lambda imports the zip: from the staged bundle,
    with no site-packages (so never from the development tree)."""
    [build] = (demo.cwd / ".edgeshield" / "build").glob("run-*")  # this run's own
    assert (build / "edgeshield" / "edge" / "handler.py").is_file()
    assert (build / "edgeshield" / "edge" / "policy.json").is_file()
    commands = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) != demo.proc.pid:
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        # The CSP-report collector's worker is a regular Lambda, with site-packages (boto3).
        if not any(b"edgeshield-csp-collector" in part for part in argv):
            commands.append(argv)
    assert commands, "no worker process found"
    for argv in commands:
        assert b"-I" in argv and b"-S" in argv
        config = json.loads(
            argv[argv.index(next(a for a in argv if a.endswith(b"bootstrap.py"))) + 1]
        )
        assert config["task_root"] == str(build.resolve())
        assert config["handler"] == "edgeshield.edge.handler.handler"
