"""The CSP-report collector behind the local edge, at ``/_edgeshield/csp-report``.

On AWS that path is its own cache behavior whose origin is the collector's function URL, so
the collector runs as an ordinary regional Lambda, not at the edge. Locally the route does the
same: it turns the request into the event a function URL delivers (payload format 2.0), runs
the collector's deployed code tree in a worker process (its own log group
``/aws/lambda/<name>``, user environment variables allowed, unlike Lambda@Edge), and turns the
result back into an HTTP response. With ``secret`` set, the route adds the shared-secret header
the way CloudFront adds an origin custom header.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from edgeshield.emulator.functions.runtime import FunctionPool, FunctionSpec
from edgeshield.emulator.logstore import LogStore
from edgeshield.packaging import COLLECTOR_HANDLER, stage_collector
from edgeshield.report_route import REPORT_PATH, SECRET_HEADER
from edgeshield.safetext import printable

COLLECTOR_NAME: Final = "edgeshield-csp-collector"
# A function URL accepts up to 6 MB; the collector itself answers 413 above 64 KB. Reading is
# capped well above that so a huge POST can never exhaust memory.
MAX_BODY: Final = 1024 * 1024
BODY_TIMEOUT_S: Final = 20.0  # a report body that stalls longer loses its connection
_ECHO_FIELD: Final = 300  # longest report field echoed on the console
_TEXT_TYPES: Final = ("application/csp-report", "application/reports+json", "application/json")


@dataclass(frozen=True)
class CollectorOptions:
    environment: Mapping[str, str]  # the collector's Lambda environment (e.g. the secret)
    secret: str | None = None  # header value the edge adds, like an origin custom header
    region: str = "us-east-1"
    timeout_s: float = 10.0


def collector_spec(task_root: Path, options: CollectorOptions) -> FunctionSpec:
    return FunctionSpec(
        trigger="function-url",
        handler=COLLECTOR_HANDLER,
        task_root=task_root,
        name=COLLECTOR_NAME,
        memory_mb=128,
        timeout_s=options.timeout_s,
        region=options.region,
        stdlib_only=False,  # boto3 comes with Lambda's Python runtime; here, from the venv
        edge=False,
        environment=dict(options.environment),
    )


def function_url_event(
    request: web.BaseRequest, body: bytes, secret: str | None, request_id: str
) -> dict[str, Any]:
    """The event a Lambda function URL delivers (payload format version 2.0)."""
    headers: dict[str, str] = {}
    for name, raw in request.headers.items():
        lower = name.lower()
        # aiohttp keeps undecodable bytes as lone surrogates; a function URL delivers text.
        value = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        headers[lower] = f"{headers[lower]},{value}" if lower in headers else value
    if secret is not None:
        headers[SECRET_HEADER] = secret
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    text = media.startswith("text/") or media in _TEXT_TYPES
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.path,
        "rawQueryString": request.query_string,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "edgeshieldlocal",
            "domainName": request.host,
            "domainPrefix": "edgeshieldlocal",
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": f"HTTP/{request.version.major}.{request.version.minor}",
                "sourceIp": request.remote or "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": not text,
    }
    if body:
        event["body"] = body.decode("utf-8", "replace") if text else base64.b64encode(body).decode()
    return event


def http_response(result: Any) -> web.Response:
    """A function URL's answer: a dict with statusCode/headers/body, or anything else as JSON."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return web.Response(
            status=200, body=json.dumps(result).encode(), content_type="application/json"
        )
    status = int(result.get("statusCode", 200))
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    raw = result.get("body")
    body = b""
    if isinstance(raw, str):
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
    response = web.Response(
        status=status, body=body if status not in (204, 304) else None, headers=headers
    )
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", str(cookie))
    return response


async def _read_capped(request: web.BaseRequest) -> bytearray:
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):  # the whole body, capped
        body += chunk
        if len(body) > MAX_BODY:
            raise ValueError("report too large")
    return body


class CollectorRoute:
    """The aiohttp handler for the collector path."""

    def __init__(self, pool: FunctionPool, secret: str | None) -> None:
        self.pool = pool
        self.secret = secret

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        length = request.content_length
        if length is not None and length > MAX_BODY:
            return web.Response(status=413, text="report too large\n")
        try:
            body = await asyncio.wait_for(_read_capped(request), BODY_TIMEOUT_S)
        except ValueError:
            return web.Response(status=413, text="report too large\n")
        except (ConnectionError, TimeoutError, web.RequestPayloadError):
            # The sender left mid-body, stalled, or framed it badly: nothing to collect.
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=400, text="incomplete report\n")
        event = function_url_event(request, bytes(body), self.secret, str(uuid.uuid4()))
        invocation = await self.pool.invoke(event)
        if invocation.status != "ok":
            # A function URL answers 502 when the function fails or times out.
            return web.Response(
                status=502, text=f"collector {invocation.status}: {invocation.error_type}\n"
            )
        try:
            return http_response(invocation.result)
        except (ValueError, TypeError) as exc:  # not a usable function-URL answer
            return web.Response(
                status=502, text=f"collector answer unusable: {type(exc).__name__}\n"
            )


def violation_line(message: str) -> str | None:
    """One short console line for a collector log line that records a violation."""
    try:
        record = json.loads(message)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("event") != "csp-violation":
        return None

    def field(name: str) -> str:
        # Every field comes from a browser's report, i.e. from anyone who can POST.
        return printable(str(record.get(name) or "?"), limit=_ECHO_FIELD)

    return (
        f"CSP violation ({field('disposition')}): {field('effective_directive')} "
        f"blocked {field('blocked_uri')} on {field('document_uri')}"
    )


class EchoingLogStore(LogStore):
    """The collector's log store: writes like any other, and echoes violations to the console
    as they are logged (reports are rare, so it writes unbuffered)."""

    def __init__(self, root: Path, echo: Callable[[str], None]) -> None:
        super().__init__(root)
        self.echo = echo

    def put(self, region: str, group: str, stream: str, events: Any) -> None:
        events = list(events)
        super().put(region, group, stream, events)
        for _ts, message in events:
            line = violation_line(message)
            if line is None:
                continue
            try:
                self.echo(line)
            except Exception:  # the report is logged; a console hiccup is not its fault
                continue


class CollectorExtension:
    """Runs the collector next to the edge (``ServeConfig.extensions``)."""

    def __init__(self, options: CollectorOptions, echo: Callable[[str], None]) -> None:
        self.options = options
        self.echo = echo
        secret = "shared secret on" if options.secret is not None else "shared secret off"
        self.label = (
            f"collector  {REPORT_PATH} -> {COLLECTOR_HANDLER} "
            f"(regular Lambda {COLLECTOR_NAME}, {secret})"
        )
        self.pool: FunctionPool | None = None
        self.store: EchoingLogStore | None = None
        self.scratch: Path | None = None

    async def start(self, prepared: Any, logs: LogStore) -> Mapping[str, Any]:
        from edgeshield.emulator.config import ServeError
        from edgeshield.emulator.functions.runtime import InitError

        config = prepared.config
        root = stage_collector(config.state_dir / "build" / "collector")  # the tree CDK deploys
        self.store = EchoingLogStore(config.logs_root, self.echo)
        self.scratch = Path(tempfile.mkdtemp(prefix="edgeshield-collector-"))  # private; removed
        self.pool = FunctionPool(
            collector_spec(root, self.options), self.store, max_workers=2, scratch=self.scratch
        )
        try:
            await self.pool.start()
        except InitError as exc:
            raise ServeError(f"the CSP-report collector failed to start: {exc}") from exc
        return {REPORT_PATH: CollectorRoute(self.pool, self.options.secret)}

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        if self.store is not None:
            self.store.close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
