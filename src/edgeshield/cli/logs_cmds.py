"""``edgeshield logs``: the function's logs from the local edge or from every AWS region."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from edgeshield.cli.app import EXIT_FAILURE, EXIT_USAGE, app
from edgeshield.cli.console import err, fail, out
from edgeshield.logrecords import LogEvent
from edgeshield.safetext import printable_lines


def _print_events(events: Iterable[LogEvent], as_json: bool, show_group: bool) -> int:
    from edgeshield.aws.logs import format_event

    count = 0
    for event in events:
        count += 1
        if as_json:
            record = {
                "timestamp": event.timestamp_ms,
                "region": event.region,
                "group": event.group,
                "stream": event.stream,
                "message": event.message,
            }
            # ASCII JSON: escapes, lone surrogates and bidi characters arrive as \uXXXX.
            typer.echo(json.dumps(record))
        else:
            # Log messages are written by functions, origins and report senders.
            typer.echo(printable_lines(format_event(event, show_group=show_group)))
    return count


def _split(values: list[str] | None) -> list[str]:
    from edgeshield.aws.logs import unique

    return unique(part.strip() for value in values or [] for part in value.split(","))


# The options of `logs`, declared once each so the command reads as a list of names.
_LocalOpt = Annotated[
    bool, typer.Option("--local", help="Read the local edge's logs (edgeshield serve)")
]
_FunctionOpt = Annotated[str | None, typer.Option("--function", "-f", help="Edge function name")]
_DistributionOpt = Annotated[
    str | None,
    typer.Option("--distribution", "-d", help="Distribution ID (validation errors)"),
]
_GroupOpt = Annotated[
    list[str] | None,
    typer.Option("--group", "-g", help="Log group name or glob (repeatable)"),
]
_SinceOpt = Annotated[str, typer.Option("--since", help="How far back: 30s, 10m, 1h, 2d, 1w")]
_TextOpt = Annotated[str | None, typer.Option("--filter", help="Only events containing this text")]
_FollowOpt = Annotated[
    bool, typer.Option("--follow", help="Keep printing new events (Ctrl-C stops)")
]
_RegionsOpt = Annotated[
    list[str] | None,
    typer.Option("--regions", help="Regions to read (comma-separated or repeated)"),
]
_SetRetentionOpt = Annotated[
    int | None,
    typer.Option(
        "--set-retention",
        help="Set this many days of retention on the groups found (replicas create "
        "theirs without any)",
    ),
]
_EndpointUrlOpt = Annotated[
    str | None,
    typer.Option("--endpoint-url", help="CloudWatch Logs endpoint (else AWS_ENDPOINT_URL)"),
]
_ProfileOpt = Annotated[str | None, typer.Option("--profile", help="AWS profile")]
_RootOpt = Annotated[
    Path | None,
    typer.Option("--root", help="Local log store (default ./.edgeshield/logs)"),
]
_PollOpt = Annotated[float, typer.Option("--poll", help="Seconds between polls")]
_AsJsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object per line")]


@app.command(rich_help_panel="Local edge")
def logs(
    local: _LocalOpt = False,
    function: _FunctionOpt = None,
    distribution: _DistributionOpt = None,
    group: _GroupOpt = None,
    since: _SinceOpt = "1h",
    text: _TextOpt = None,
    follow: _FollowOpt = False,
    regions: _RegionsOpt = None,
    set_retention: _SetRetentionOpt = None,
    endpoint_url: _EndpointUrlOpt = None,
    profile: _ProfileOpt = None,
    root: _RootOpt = None,
    poll: _PollOpt = 2.0,
    as_json: _AsJsonOpt = False,
) -> None:
    """Show a Lambda@Edge function's logs, merged by time with the region shown.

    On AWS, a replica logs in the region that ran it (group /aws/lambda/us-east-1.NAME) and
    CloudFront logs validation errors to /aws/cloudfront/LambdaEdge/DISTRIBUTION: all
    regions are read at once. With --local, the same groups come from edgeshield serve."""
    from edgeshield.logrecords import parse_since

    try:
        since_ms = parse_since(since)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    if poll <= 0:
        fail("--poll must be a positive number of seconds", EXIT_USAGE)
    if local:
        if set_retention is not None or regions or endpoint_url or profile:
            fail(
                "--set-retention, --regions, --endpoint-url and --profile apply to AWS, "
                "not --local",
                EXIT_USAGE,
            )
        _local(function, distribution, group, since_ms, text, follow, root, poll, as_json)
        return
    _aws(
        function=function,
        distribution=distribution,
        groups=group,
        since_ms=since_ms,
        text=text,
        follow=follow,
        regions=_split(regions),
        set_retention=set_retention,
        endpoint_url=endpoint_url,
        profile=profile,
        poll=poll,
        as_json=as_json,
    )


def _local(
    function: str | None,
    distribution: str | None,
    group: list[str] | None,
    since_ms: int,
    text: str | None,
    follow: bool,
    root: Path | None,
    poll: float,
    as_json: bool,
) -> None:
    from edgeshield.aws.logs import log_groups
    from edgeshield.emulator import logstore

    store = root or logstore.default_root()
    if not store.is_dir():
        fail(f"no local logs at {store}; start the local edge with: edgeshield serve", EXIT_USAGE)
    groups = log_groups(function, distribution) + list(group or [])
    wanted = groups or None
    count = _print_events(
        logstore.read_events(store, groups=wanted, since_ms=since_ms, text=text),
        as_json,
        show_group=True,
    )
    if not follow:
        if count == 0 and not as_json:
            err.print("no events matched")
        return
    stop = threading.Event()
    try:
        _print_events(
            logstore.follow(store, groups=wanted, text=text, poll_seconds=poll, stop=stop),
            as_json,
            show_group=True,
        )
    except KeyboardInterrupt:
        stop.set()


def _aws(
    *,
    function: str | None,
    distribution: str | None,
    groups: list[str] | None,
    since_ms: int,
    text: str | None,
    follow: bool,
    regions: list[str],
    set_retention: int | None,
    endpoint_url: str | None,
    profile: str | None,
    poll: float,
    as_json: bool,
) -> None:
    from edgeshield.aws.logs import EDGE_REGIONS, LogsError, MultiRegionReader
    from edgeshield.aws.session import SessionError, logs_client_factory
    from edgeshield.cli.options import require_aws

    require_aws(
        "logs" + (" --function" if function else ""),
        ("boto3",),
        instead="the local edge's logs need none: edgeshield logs --local",
    )
    names = _aws_groups(function, distribution, groups, set_retention)
    try:
        factory = logs_client_factory(profile, endpoint_url)
    except SessionError as exc:
        fail(str(exc), EXIT_USAGE)
    reader = MultiRegionReader(factory, regions or list(EDGE_REGIONS), names)
    try:
        if set_retention is not None:
            _set_retention(reader, set_retention)
            return
        if follow:
            stop = threading.Event()
            try:
                _print_events(
                    reader.follow(start_ms=since_ms, text=text, poll_seconds=poll, stop=stop),
                    as_json,
                    show_group=len(names) > 1,
                )
            except KeyboardInterrupt:
                stop.set()
            return
        count = _print_events(
            reader.read(start_ms=since_ms, text=text), as_json, show_group=len(names) > 1
        )
        if count == 0 and not as_json:
            err.print("no events matched in " + ", ".join(reader_regions(reader)))
    except LogsError as exc:
        fail(str(exc), EXIT_FAILURE)


def _aws_groups(
    function: str | None, distribution: str | None, groups: list[str] | None, retention: int | None
) -> list[str]:
    """The exact log group names to read on AWS; exit 2 on options AWS cannot serve."""
    from edgeshield.aws.logs import RETENTION_DAYS, log_groups

    names = log_groups(function, distribution) + list(groups or [])
    if not names:
        fail("say which logs: --function NAME and/or --distribution ID (or --local)", EXIT_USAGE)
    if any(ch in name for name in names for ch in "*?["):
        fail("log group globs work with --local only; give exact names for AWS", EXIT_USAGE)
    if retention is not None and retention not in RETENTION_DAYS:
        fail(
            f"--set-retention {retention}: CloudWatch Logs accepts "
            + ", ".join(map(str, RETENTION_DAYS)),
            EXIT_USAGE,
        )
    return names


def _set_retention(reader: Any, days: int) -> None:
    rows = reader.set_retention(days)
    changed = [(r, g, o) for r, g, o in rows if o != "absent"]
    for region, name, outcome in changed:
        out.print(f"{region:15} {name}: {outcome}")
    if not changed:
        err.print("none of the groups exist in the regions read")


def reader_regions(reader: Any) -> list[str]:
    return list(dict.fromkeys(source.region for source in reader.sources))
