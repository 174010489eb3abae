"""The options of ``edgeshield serve``, one alias each, so the command reads as a list of names.

Each alias is the option's type with its typer declaration (flag, help); the command gives the
default. Named after the parameter (``function_timeout`` -> ``FunctionTimeout``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Policy = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        "-p",
        metavar="FILE",
        help="Policy for edgeshield's function (default: ./edgeshield.toml if it exists, else "
        "the built-in strict preset). With --function, runs edgeshield's function with it "
        "next to yours, at the policy's trigger (origin-response)",
    ),
]
Origin = Annotated[
    str | None,
    typer.Option(
        "--origin",
        metavar="URL|DIR",
        help="http(s):// URL of a custom origin, or a folder served like S3 (default: the demo site)",
    ),
]
Function = Annotated[
    list[str] | None,
    typer.Option(
        "--function",
        metavar="TRIGGER=HANDLER",
        help="Your function, e.g. viewer-request=app.handler (repeatable); replaces "
        "edgeshield's function unless --policy is given too",
    ),
]
Host = Annotated[str, typer.Option("--host", help="Address to listen on")]
Port = Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port)")]
Pop = Annotated[str, typer.Option("--pop", help="Edge location code; its region is where logs go")]
FunctionTimeout = Annotated[
    float | None,
    typer.Option(
        "--function-timeout", help="Seconds; lowers the 5 s (viewer) / 30 s (origin) limits"
    ),
]
OriginConnectTimeout = Annotated[
    float, typer.Option("--origin-connect-timeout", help="Seconds per connection attempt")
]
OriginConnectAttempts = Annotated[
    int, typer.Option("--origin-connect-attempts", help="Connection attempts, 1-3")
]
OriginReadTimeout = Annotated[
    float,
    typer.Option("--origin-read-timeout", help="Seconds to wait for the origin's response"),
]
OriginCa = Annotated[
    Path | None,
    typer.Option("--origin-ca", help="Extra CA bundle (PEM) to trust for an https origin"),
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Turn the edge cache off")]
CacheMb = Annotated[int, typer.Option("--cache-mb", help="Cache size in MB (LRU)")]
QueryString = Annotated[
    bool,
    typer.Option("--query-string", help="Forward query strings and include them in the cache key"),
]
ForwardCookies = Annotated[
    bool,
    typer.Option("--forward-cookies", help="Forward cookies and include them in the cache key"),
]
DefaultTtl = Annotated[int, typer.Option("--default-ttl", help="Whole seconds")]
MinTtl = Annotated[int, typer.Option("--min-ttl", help="Whole seconds")]
MaxTtl = Annotated[int, typer.Option("--max-ttl", help="Whole seconds")]
ExecutionErrorStatus = Annotated[
    int,
    typer.Option(
        "--execution-error-status",
        help="Status for LambdaExecutionError: 503 (seen in deployments) or 500 (AWS docs)",
    ),
]
IncludeBody = Annotated[
    list[str] | None,
    typer.Option(
        "--include-body",
        metavar="TRIGGER",
        help="Give this request trigger the request body (viewer-request, origin-request)",
    ),
]
Workers = Annotated[
    int, typer.Option("--workers", help="Worker processes per function (concurrent executions)")
]
MaxInFlight = Annotated[
    int,
    typer.Option(
        "--max-in-flight",
        help="Requests processed at once; more wait their turn (fresh cache hits that run no function never wait)",
    ),
]
NoReload = Annotated[
    bool,
    typer.Option(
        "--no-reload", help="Don't reload the functions (or the policy) when their files change"
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No access line per request")]
Tls = Annotated[
    bool,
    typer.Option(
        "--tls",
        help="Serve HTTPS like CloudFront, with a certificate from a local CA under "
        ".edgeshield/tls (needed for browsers to send CSP report-to reports)",
    ),
]
TlsCert = Annotated[
    Path | None, typer.Option("--tls-cert", metavar="FILE", help="Your certificate chain (PEM)")
]
TlsKey = Annotated[
    Path | None, typer.Option("--tls-key", metavar="FILE", help="Its private key (PEM)")
]
HttpPort = Annotated[
    int | None,
    typer.Option(
        "--http-port",
        help="With --tls: also listen for http:// here and redirect to https:// "
        "(CloudFront's redirect-to-https; 0: any free port)",
    ),
]
NoCollector = Annotated[
    bool,
    typer.Option(
        "--no-collector", help="Don't run the CSP-report collector at /_edgeshield/csp-report"
    ),
]
CollectorEnv = Annotated[
    list[str] | None,
    typer.Option(
        "--collector-env",
        metavar="NAME=VALUE",
        help="Environment variable of the collector Lambda, as deployed (repeatable)",
    ),
]
CollectorSecret = Annotated[
    str | None,
    typer.Option(
        "--collector-secret",
        help="Shared-secret header the edge adds on the way to the collector, like "
        "CloudFront's origin custom header (default: off)",
    ),
]
Mechanism = Annotated[
    str,
    typer.Option(
        "--mechanism",
        help="How the policy is applied: lambda-edge (origin-response function), "
        "response-headers-policy or cloudfront-function (viewer-response); see `plan`",
    ),
]
CloudfrontFunction = Annotated[
    list[str] | None,
    typer.Option(
        "--cloudfront-function",
        metavar="TRIGGER=FILE.js",
        help="A CloudFront Function (cloudfront-js-2.0) on viewer-request or viewer-response, run in Node (repeatable)",
    ),
]
ResponseHeadersPolicy = Annotated[
    list[str] | None,
    typer.Option(
        "--response-headers-policy",
        metavar="[PATTERN=]FILE.json",
        help="A response headers policy (CloudFormation JSON, as `bundle --target "
        "response-headers-policy` writes) for the cache behaviour PATTERN (default *; repeatable)",
    ),
]
CffTimeoutMs = Annotated[
    float,
    typer.Option("--cff-timeout-ms", help="Stop a CloudFront Function run after this long"),
]
