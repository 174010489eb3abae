"""``edgeshield logs``: every region at once against a moto server, merged by time; the
local store; retention; throttling backoff."""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import pytest
from botocore.exceptions import ClientError

from edgeshield.aws.logs import MultiRegionReader, with_backoff
from edgeshield.logrecords import edge_function_log_group, edge_validation_log_group

from .conftest import EDGESHIELD, boto

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def put(moto_url: str, region: str, group: str, events: list[tuple[int, str]]) -> None:
    logs = boto("logs", moto_url, region)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    stream = f"2026/11/25/[$LATEST]{region}-{time.monotonic_ns()}"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": ts, "message": msg} for ts, msg in events],
    )


class EdgeLogs(TypedDict):
    function: str
    distribution: str
    now: int  # ms since the epoch, when the events were put
    group: str


@pytest.fixture
def edge_logs(moto_url: str, request: pytest.FixtureRequest) -> EdgeLogs:
    """A function (unique per test) that logged in three regions, interleaved in time, plus
    one CloudFront validation error."""
    function = f"site-headers-{request.node.name[-24:].strip('[]_')}".replace("[", "-")
    function = "".join(c if c.isalnum() or c in "-_" else "-" for c in function)
    distribution = "E" + str(abs(hash(function)) % 10**12)
    now = int(time.time() * 1000)
    group = edge_function_log_group(function)
    put(moto_url, "us-east-1", group, [(now - 5000, "START use1 a"), (now - 2000, "use1 b ERROR")])
    put(moto_url, "eu-west-1", group, [(now - 4000, "euw1 a"), (now - 1000, "euw1 b ERROR")])
    put(moto_url, "ap-southeast-2", group, [(now - 3000, "apse2 a")])
    put(
        moto_url,
        "eu-west-1",
        edge_validation_log_group(distribution),
        [(now - 2500, "LambdaValidationError: header x-cache is disallowed")],
    )
    return {"function": function, "distribution": distribution, "now": now, "group": group}


def factory(moto_url: str) -> Callable[[str], CloudWatchLogsClient]:
    return lambda region: boto("logs", moto_url, region)


def test_merged_in_time_order_with_regions(moto_url: str, edge_logs: EdgeLogs) -> None:
    reader = MultiRegionReader(factory(moto_url), [*REGIONS, "sa-east-1"], [edge_logs["group"]])
    events = list(reader.read(start_ms=edge_logs["now"] - 60_000))
    assert [e.message for e in events] == [
        "START use1 a",
        "euw1 a",
        "apse2 a",
        "use1 b ERROR",
        "euw1 b ERROR",
    ]
    assert [e.region for e in events] == [
        "us-east-1",
        "eu-west-1",
        "ap-southeast-2",
        "us-east-1",
        "eu-west-1",
    ]
    # sa-east-1 has no such group: skipped quietly, not an error.


def test_since_and_filter(moto_url: str, edge_logs: EdgeLogs) -> None:
    now = edge_logs["now"]
    reader = MultiRegionReader(factory(moto_url), REGIONS, [edge_logs["group"]])
    recent = list(reader.read(start_ms=now - 3500))
    assert [e.message for e in recent] == ["apse2 a", "use1 b ERROR", "euw1 b ERROR"]
    reader = MultiRegionReader(factory(moto_url), REGIONS, [edge_logs["group"]])
    errors = list(reader.read(start_ms=now - 60_000, text="ERROR"))
    assert [e.region for e in errors] == ["us-east-1", "eu-west-1"]


def test_cli_reads_function_and_distribution_groups(
    aws_env: dict[str, str], edge_logs: EdgeLogs
) -> None:
    run = subprocess.run(
        [
            EDGESHIELD, "logs",
            "--function", edge_logs["function"],
            "--distribution", edge_logs["distribution"],
            "--regions", ",".join(REGIONS), "--regions", "sa-east-1",
            "--since", "10m", "--json",
        ],
        env=aws_env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["message"] for r in records] == [
        "START use1 a",
        "euw1 a",
        "apse2 a",
        "LambdaValidationError: header x-cache is disallowed",
        "use1 b ERROR",
        "euw1 b ERROR",
    ]
    timestamps = [r["timestamp"] for r in records]
    assert timestamps == sorted(timestamps)
    assert records[3]["group"] == edge_validation_log_group(edge_logs["distribution"])

    text = subprocess.run(
        [EDGESHIELD, "logs", "--function", edge_logs["function"],
         "--regions", ",".join(REGIONS), "--filter", "ERROR"],
        env=aws_env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert len(text) == 2
    assert " us-east-1 " in text[0] and text[0].endswith("use1 b ERROR")
    assert " eu-west-1 " in text[1]


def test_set_retention_on_every_replica_group(
    aws_env: dict[str, str], moto_url: str, edge_logs: EdgeLogs
) -> None:
    run = subprocess.run(
        [EDGESHIELD, "logs", "--function", edge_logs["function"],
         "--regions", ",".join([*REGIONS, "sa-east-1"]), "--set-retention", "30"],
        env=aws_env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert run.stdout.count("set to 30 days") == 3
    for region in REGIONS:
        groups = boto("logs", moto_url, region).describe_log_groups(
            logGroupNamePrefix=edge_logs["group"]
        )["logGroups"]
        assert groups[0]["retentionInDays"] == 30
    with pytest.raises(Exception, match=r"ResourceNotFound|does not exist"):
        boto("logs", moto_url, "sa-east-1").describe_log_streams(logGroupName=edge_logs["group"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set-retention", "31", "--function", "f"], "accepts 1, 3, 5"),
        (["--since", "yesterday", "--function", "f"], "invalid duration"),
        ([], "--function NAME and/or --distribution ID"),
        (["--function", "f", "--group", "/aws/*"], "globs work with --local only"),
    ],
)
def test_usage_errors_are_one_line(aws_env: dict[str, str], args: list[str], message: str) -> None:
    run = subprocess.run(
        [EDGESHIELD, "logs", *args], env=aws_env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.stderr


def test_follow_yields_new_events(moto_url: str, edge_logs: EdgeLogs) -> None:
    reader = MultiRegionReader(factory(moto_url), REGIONS, [edge_logs["group"]])
    stop = threading.Event()
    stream = reader.follow(start_ms=edge_logs["now"] - 60_000, poll_seconds=0.2, stop=stop)
    first = [next(stream).message for _ in range(5)]
    assert first[0] == "START use1 a"
    put(moto_url, "ap-southeast-2", edge_logs["group"], [(int(time.time() * 1000), "late one")])
    late = next(stream)
    assert (late.region, late.message) == ("ap-southeast-2", "late one")
    # Ingested now but stamped 10 s ago (a slow replica): still shown, and nothing repeats.
    put(moto_url, "eu-west-1", edge_logs["group"], [(int(time.time() * 1000) - 10_000, "slow")])
    put(moto_url, "us-east-1", edge_logs["group"], [(int(time.time() * 1000), "last")])
    rest = sorted(next(stream).message for _ in range(2))
    stop.set()
    assert rest == ["last", "slow"]
    assert list(stream) == []  # stopped; and no earlier event came back


def throttled(times: int) -> tuple[list[int], Callable[[], str]]:
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                "FilterLogEvents",
            )
        return "ok"

    return calls, call


def test_throttling_is_retried_with_backoff() -> None:
    calls, call = throttled(3)
    waits: list[float] = []
    assert with_backoff(call, sleep=waits.append, base=0.1) == "ok"
    assert len(calls) == 4 and len(waits) == 3
    assert all(0 <= w <= 0.1 * 2**i for i, w in enumerate(waits))


def test_throttling_gives_up_after_the_attempts() -> None:
    calls, call = throttled(10)
    with pytest.raises(ClientError):
        with_backoff(call, attempts=3, sleep=lambda _: None)
    assert len(calls) == 3


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def denied() -> None:
        calls.append(1)
        raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "FilterLogEvents")

    with pytest.raises(ClientError):
        with_backoff(denied, sleep=lambda _: None)
    assert len(calls) == 1


def test_local_mode_reads_the_emulator_store(tmp_path: Path) -> None:
    from edgeshield.emulator.logstore import LogStore

    now = int(time.time() * 1000)
    store = LogStore(tmp_path)
    group = edge_function_log_group("demo")
    store.put("eu-west-1", group, "s1", [(now - 3000, "first"), (now - 1000, "third ERROR")])
    store.put("us-east-1", group, "s2", [(now - 2000, "second")])
    store.put("us-east-1", "/aws/lambda/us-east-1.other", "s3", [(now - 1500, "not mine")])
    store.close()
    run = subprocess.run(
        [EDGESHIELD, "logs", "--local", "--root", str(tmp_path), "--function", "demo"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    lines = run.stdout.splitlines()
    assert [line.split()[-1] for line in lines] == ["first", "second", "ERROR"]
    assert " eu-west-1 " in lines[0] and " us-east-1 " in lines[1]
    filtered = subprocess.run(
        [EDGESHIELD, "logs", "--local", "--root", str(tmp_path), "--filter", "error", "--json"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert [json.loads(line)["message"] for line in filtered] == ["third ERROR"]


def test_local_mode_without_store_says_how(tmp_path: Path) -> None:
    run = subprocess.run(
        [EDGESHIELD, "logs", "--local", "--root", str(tmp_path / "none")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2 and "edgeshield serve" in run.stderr
