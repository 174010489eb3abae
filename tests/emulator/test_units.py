"""The emulator's pure parts: TTL rules, the LRU budget, header forwarding, POP regions, Lambda
log lines, and the log store's reader (read, filter, follow)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from edgeshield.emulator.functions import lambdalog
from edgeshield.emulator.logstore import LogStore, default_root, follow, read_events
from edgeshield.emulator.pipeline import forwarding
from edgeshield.emulator.pipeline.cache import (
    Cache,
    CachedObject,
    TtlSettings,
    parse_cache_control,
    ttl_for,
)
from edgeshield.emulator.pops import PopError, region_for_pop

S = TtlSettings()
NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (200, [], 86400.0),
        (200, [("Cache-Control", "max-age=60")], 60.0),
        (200, [("Cache-Control", "max-age=60, s-maxage=5")], 5.0),
        (200, [("Cache-Control", "max-age=99999999999")], 31536000.0),
        (200, [("Cache-Control", "no-store")], None),
        (200, [("Cache-Control", "no-cache")], None),
        (200, [("Cache-Control", "private, max-age=60")], None),
        (200, [("Cache-Control", "max-age=0")], None),
        (200, [("Expires", "Tue, 14 Nov 2023 22:14:20 GMT"), ("Date", "Tue, 14 Nov 2023 22:13:20 GMT")], 60.0),
        (200, [("Expires", "garbage")], None),
        (404, [], 10.0),
        (503, [("Cache-Control", "max-age=3")], 3.0),
        (404, [("Cache-Control", "no-store")], None),
        # Redirects: the TTL rules, but 307 and 308 only with a Cache-Control header (AWS,
        # "How CloudFront processes HTTP 3xx status codes from your origin").
        (301, [], 86400.0),
        (302, [], 86400.0),
        (302, [("Cache-Control", "max-age=30")], 30.0),
        (303, [("Cache-Control", "no-store")], None),
        (307, [], None),
        (307, [("Expires", "Tue, 14 Nov 2023 22:14:20 GMT"), ("Date", "Tue, 14 Nov 2023 22:13:20 GMT")], None),
        (307, [("Cache-Control", "max-age=30")], 30.0),
        (308, [], None),
        (308, [("Cache-Control", "public")], 86400.0),
        (308, [("Cache-Control", "no-cache")], None),
        (307, [("Cache-Control", "")], None),  # an empty header says nothing
        (307, [("Cache-Control", " , ")], None),
        (206, [("Cache-Control", "max-age=30")], None),
    ],
)  # fmt: skip
def test_ttl_rules(status: int, headers: list[tuple[str, str]], expected: float | None) -> None:
    assert ttl_for(status, headers, S, NOW) == expected


def test_minimum_ttl_keeps_no_cache_objects() -> None:
    settings = TtlSettings(default=100, minimum=30, maximum=1000)
    assert ttl_for(200, [("Cache-Control", "no-cache")], settings, NOW) == 30
    assert ttl_for(200, [("Cache-Control", "max-age=5")], settings, NOW) == 30
    assert ttl_for(200, [("Cache-Control", "max-age=5000")], settings, NOW) == 1000


def test_parse_cache_control() -> None:
    assert parse_cache_control('Public, MAX-AGE="60", no-transform') == {
        "public": None, "max-age": "60", "no-transform": None,
    }  # fmt: skip


def _obj(size: int) -> CachedObject:
    return CachedObject(200, "OK", [("Content-Type", "x")], b"x" * size, 0.0, 60.0)


def test_lru_stays_within_budget_and_evicts_least_recent() -> None:
    cache = Cache(max_bytes=10_000, max_object_bytes=4000)
    for i in range(5):
        cache.put(f"k{i}", _obj(2000))
    assert cache.bytes <= 10_000
    assert cache.get("k0") is None and cache.evictions >= 1
    cache.get("k2")  # recently used: survives the next insertions
    cache.put("k5", _obj(2000))
    cache.put("k6", _obj(2000))
    assert cache.get("k2") is not None
    assert not cache.put("huge", _obj(5000))
    assert cache.bytes <= 10_000 and len(cache) == 4


def test_freshness_and_age() -> None:
    item = CachedObject(200, "OK", [], b"", stored_at=100.0, ttl=10.0)
    assert item.fresh(109.9) and not item.fresh(110.0)
    assert item.age(105.5) == 5


def test_to_origin_applies_cloudfronts_changes() -> None:
    viewer = [
        ("Host", "d111.cloudfront.net"),
        ("User-Agent", "curl/8"),
        ("Connection", "keep-alive, X-Secret"),
        ("X-Secret", "hop"),
        ("Referer", "https://x/"),
        ("Cookie", "a=b"),
        ("X-Forwarded-For", "10.0.0.1"),
        ("Accept-Encoding", "br, gzip;q=0.9, deflate"),
        ("If-None-Match", '"v1"'),
        ("X-Real-IP", "1.2.3.4"),
        ("Upgrade", "h2c"),
        ("Accept", "*/*"),
    ]
    out = forwarding.to_origin(
        viewer, client_ip="192.0.2.7", origin_host="origin.example", via="1.1 abc.cloudfront.net (CloudFront)",
        forward_cookies=False, method="GET",
    )  # fmt: skip
    names = [n.lower() for n, _ in out]
    assert out[0] == ("Host", "origin.example")
    assert forwarding.get(out, "user-agent") == "Amazon CloudFront"
    assert forwarding.get(out, "x-forwarded-for") == "10.0.0.1, 192.0.2.7"
    assert forwarding.get(out, "accept-encoding") == "br,gzip"
    assert forwarding.get(out, "accept") == "*/*"
    for gone in (
        "connection",
        "x-secret",
        "referer",
        "cookie",
        "if-none-match",
        "x-real-ip",
        "upgrade",
    ):
        assert gone not in names, gone
    with_cookies = forwarding.to_origin(
        viewer, client_ip="192.0.2.7", origin_host="o", via="v", forward_cookies=True, method="GET"
    )
    assert forwarding.get(with_cookies, "cookie") == "a=b"


def test_accept_encoding_normalisation() -> None:
    assert forwarding.normalize_accept_encoding("deflate") is None
    assert forwarding.normalize_accept_encoding("gzip, deflate") == "gzip"
    assert forwarding.normalize_accept_encoding("*") == "gzip"
    assert forwarding.normalize_accept_encoding(None) is None


def test_from_origin_keeps_transfer_encoding_for_origin_response() -> None:
    headers = [
        ("Transfer-Encoding", "chunked"),
        ("Connection", "close"),
        ("Keep-Alive", "5"),
        ("ETag", "x"),
    ]
    assert forwarding.from_origin(headers) == [("Transfer-Encoding", "chunked"), ("ETag", "x")]
    kept = forwarding.to_viewer([*headers, ("Content-Length", "3")])
    assert kept == ([("ETag", "x")], False)
    assert forwarding.to_viewer([("server", "origin"), ("TE", "trailers")]) == (
        [("server", "origin")],
        True,
    )


@pytest.mark.parametrize(
    ("pop", "region"),
    [
        ("IAD89-C1", "us-east-1"),
        ("lhr50-p2", "eu-west-2"),
        ("NRT57", "ap-northeast-1"),
        ("GRU3-C1", "sa-east-1"),
    ],
)
def test_pop_regions(pop: str, region: str) -> None:
    assert region_for_pop(pop) == region


def test_bad_pops() -> None:
    with pytest.raises(PopError, match="invalid POP code"):
        region_for_pop("LONDON")
    with pytest.raises(PopError, match="unknown POP airport code 'ZZZ'"):
        region_for_pop("ZZZ1-C1")


def test_lambda_log_lines() -> None:
    assert lambdalog.start_line("id-1") == "START RequestId: id-1 Version: 1"
    assert lambdalog.end_line("id-1") == "END RequestId: id-1"
    report = lambdalog.report_line("id-1", 12.3456, 128, 40, init_ms=150.5)
    assert report == (
        "REPORT RequestId: id-1\tDuration: 12.35 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB"
        "\tMax Memory Used: 40 MB\tInit Duration: 150.50 ms\t"
    )
    assert "Billed Duration: 1 ms" in lambdalog.report_line("x", 0.02, 128, 1)
    assert lambdalog.timeout_line("id-1", 5, now=0).endswith(
        "id-1 Task timed out after 5.00 seconds"
    )
    stream = lambdalog.log_stream_name(now=0)
    assert stream.startswith("1970/01/01/[1]") and len(stream) == len("1970/01/01/[1]") + 32
    assert lambdalog.function_arn("fn").endswith(":function:fn:1")


def test_log_store_reads_in_time_order_across_regions(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    store.put(
        "us-east-1", "/aws/lambda/us-east-1.fn", "2024/01/01/[1]aa", [(3, "c"), (1, "a-clamped")]
    )
    store.put("eu-west-2", "/aws/lambda/us-east-1.fn", "2024/01/01/[1]bb", [(2, "b")])
    store.put("eu-west-2", "/aws/cloudfront/LambdaEdge/E1", "s", [(4, "Validation ERROR")])
    events = list(read_events(tmp_path))
    assert [e.message for e in events] == ["b", "c", "a-clamped", "Validation ERROR"]
    assert events[1].timestamp_ms == events[2].timestamp_ms == 3  # a stream never goes back
    assert {e.region for e in events} == {"us-east-1", "eu-west-2"}
    only = list(read_events(tmp_path, groups=["/aws/cloudfront/LambdaEdge/E1"]))
    assert [e.group for e in only] == ["/aws/cloudfront/LambdaEdge/E1"]
    assert [e.message for e in read_events(tmp_path, groups=["/aws/lambda/*"])] == [
        "b",
        "c",
        "a-clamped",
    ]
    assert [e.message for e in read_events(tmp_path, text="validation")] == ["Validation ERROR"]
    assert [e.message for e in read_events(tmp_path, since_ms=3)] == [
        "c",
        "a-clamped",
        "Validation ERROR",
    ]
    store.close()


def test_log_store_skips_partial_and_damaged_lines(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    store.put("us-east-1", "g", "s", [(1, "whole")])
    store.close()
    path = store.path_for("us-east-1", "g", "s")
    with path.open("a") as handle:
        handle.write("not json\n")
        handle.write('{"t": 2, "m": "half')
    assert [e.message for e in read_events(tmp_path)] == ["whole"]


def test_follow_yields_only_new_events_until_stopped(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    store.put("us-east-1", "g", "s1", [(1, "old")])
    stop = threading.Event()
    seen: list[str] = []

    def reader() -> None:
        for event in follow(tmp_path, poll_seconds=0.05, stop=stop, text="new"):
            seen.append(event.message)

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.2)
    store.put("us-east-1", "g", "s1", [(5, "new one"), (6, "ignored by filter")])
    store.put("eu-west-1", "g", "s2", [(7, "new stream")])
    deadline = time.monotonic() + 5
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert seen == ["new one", "new stream"]
    store.close()


def test_default_root(tmp_path: Path) -> None:
    assert default_root(tmp_path) == tmp_path / ".edgeshield" / "logs"


def test_buffered_store_writes_on_flush(tmp_path: Path) -> None:
    store = LogStore(tmp_path, buffered=True)
    store.put("us-east-1", "g", "s", [(1, "queued")])
    assert list(read_events(tmp_path)) == []
    store.flush()
    assert [e.message for e in read_events(tmp_path)] == ["queued"]
    store.put("us-east-1", "g", "s", [(2, "at close")])
    store.close()
    assert [e.message for e in read_events(tmp_path)] == ["queued", "at close"]


def test_function_spec_edge_and_regional() -> None:
    from edgeshield.emulator.functions.runtime import FunctionSpec

    edge = FunctionSpec("origin-response", "m.h", Path("/x"), "fn", 128, 30, "eu-west-2")
    assert edge.replica_name == "us-east-1.fn"
    assert edge.log_group == "/aws/lambda/us-east-1.fn"
    assert edge.arn == "arn:aws:lambda:us-east-1:123456789012:function:fn:1"
    regional = FunctionSpec(
        "function-url", "m.h", Path("/x"), "fn", 128, 10, "eu-west-2", edge=False,
        environment={"SECRET": "s"},
    )  # fmt: skip
    assert regional.replica_name == "fn" and regional.log_group == "/aws/lambda/fn"
    assert regional.arn.startswith("arn:aws:lambda:eu-west-2:")
    with pytest.raises(ValueError, match="environment variables"):
        FunctionSpec(
            "viewer-request", "m.h", Path("/x"), "fn", 128, 5, "us-east-1", environment={"A": "b"}
        )


def test_wire_pairs_reads_utf8_values_and_falls_back_per_value() -> None:
    from edgeshield.emulator.pipeline.origin_fetch import wire_pairs

    utf8 = [(b"X-A", "café".encode()), (b"X-B", b"plain")]
    assert wire_pairs(utf8) == [("X-A", "café"), ("X-B", "plain")]
    # One value that is not UTF-8: that one is read as ISO-8859-1, the others stay UTF-8.
    mixed = [(b"X-A", "café".encode()), (b"X-\xe9", b"caf\xe9")]
    assert wire_pairs(mixed) == [("X-A", "café"), ("X-\u00e9", "caf\u00e9")]
