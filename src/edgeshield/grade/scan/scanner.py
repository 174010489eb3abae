"""Live scans the way the Observatory does them (I/O lives here, grading stays pure).

For each site: fetch the https:// and http:// URLs in parallel, following up to 10 redirects by
hand and recording the route; a certificate failure is retried without verification and marks
the session unverified. Then read the final page's body, and send a CORS preflight (OPTIONS with
the Observatory's Origin) to the final URL. The collected responses go to ``analyze_scan``.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from edgeshield.errors import EdgeshieldError
from edgeshield.grade.model import OBSERVATORY_ORIGIN, Hop, Response, ScanInput
from edgeshield.grade.parse.headers import Headers
from edgeshield.grade.scan.targets import Target, TargetError, parse_target
from edgeshield.grade.scoring.grader import analyze_scan
from edgeshield.grade.scoring.report import Report

if TYPE_CHECKING:
    import aiohttp

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
MAX_BODY = 4 * 1024 * 1024  # enough for any page's script tags; bounds memory per scan
USER_AGENT = "edgeshield-scan/0.1 (+Observatory-compatible grader)"
_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
_CHARSET = re.compile(r"charset=\"?([\w.:-]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ScanOptions:
    timeout: float = 10.0  # seconds per request
    ca_file: str | None = None  # extra CA bundle to trust (e.g. a test CA)
    insecure: bool = False  # skip verification and grade certificates as valid
    http_port: int | None = None
    https_port: int | None = None


class ScanFailed(EdgeshieldError):
    """The site cannot be graded (no answer, or an error status)."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(message)
        self.url = url
        self.message = message


@dataclass(slots=True)
class _Session:
    """One redirect-following fetch: every hop, the final response and its body."""

    route: list[Hop]
    final: Response
    body: bytes
    cookies: list[tuple[str, str]]


def _ssl_context(opts: ScanOptions) -> ssl.SSLContext:
    """The system's trust store, plus ``ca_file`` when given."""
    ctx = ssl.create_default_context()
    if opts.ca_file:
        ctx.load_verify_locations(cafile=opts.ca_file)
    return ctx


def _unverified_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _decode_body(body: bytes, content_type: str | None) -> str:
    m = _CHARSET.search(content_type or "")
    encoding = m.group(1) if m else "utf-8"
    try:
        return body.decode(encoding, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


async def _read_body(resp: aiohttp.ClientResponse) -> bytes:
    """The body up to MAX_BODY bytes (a single read may return only the first chunk)."""
    chunks: list[bytes] = []
    total = 0
    while total < MAX_BODY:
        chunk = await resp.content.read(MAX_BODY - total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


async def _fetch_chain(
    client: aiohttp.ClientSession, url: str, ssl_ctx: ssl.SSLContext, verified: bool
) -> _Session:
    route: list[Hop] = []
    cookies: list[tuple[str, str]] = []
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        async with client.get(
            current,
            allow_redirects=False,
            ssl=ssl_ctx if current.startswith("https:") else True,
        ) as resp:
            headers = Headers.from_pairs(resp.raw_headers)
            route.append(Hop(current, resp.status))
            cookies.extend((line, current) for line in headers.set_cookie)
            location = headers.get("location")
            if resp.status in REDIRECT_STATUSES and location and len(route) <= MAX_REDIRECTS:
                current = urljoin(current, location.strip())
                continue
            body = await _read_body(resp)
            final = Response(current, resp.status, headers, verified)
            return _Session(route, final, body, cookies)
    raise AssertionError("unreachable: the last hop is always final")


async def _session(client: aiohttp.ClientSession, url: str, opts: ScanOptions) -> _Session | str:
    """Fetch ``url``; on a certificate error retry unverified. What went wrong, as one short
    line, when no answer came that could be read."""
    import aiohttp

    verified_ctx = _unverified_context() if opts.insecure else _ssl_context(opts)
    try:
        return await _fetch_chain(client, url, verified_ctx, True)
    except aiohttp.ClientConnectorCertificateError:
        pass
    except (aiohttp.ClientError, TimeoutError, ssl.SSLError, OSError, ValueError) as exc:
        return _why(exc)
    try:
        return await _fetch_chain(client, url, _unverified_context(), False)
    except (aiohttp.ClientError, TimeoutError, ssl.SSLError, OSError, ValueError) as exc:
        return _why(exc)


def _why(exc: BaseException) -> str:
    """An exception as a reason: its class and message, which may quote what the server sent
    (printed later through the CLI's sanitising, and cut here)."""
    if isinstance(exc, TimeoutError):
        return "no answer within the timeout"
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "…"


async def _preflight(
    client: aiohttp.ClientSession, url: str, verified: bool, opts: ScanOptions
) -> Response | None:
    import aiohttp

    ctx = _ssl_context(opts) if verified and not opts.insecure else _unverified_context()
    try:
        async with client.options(
            url,
            headers={"Access-Control-Request-Method": "GET", "Origin": OBSERVATORY_ORIGIN},
            allow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            ssl=ctx if url.startswith("https:") else True,
        ) as resp:
            return Response(str(resp.url), resp.status, Headers.from_pairs(resp.raw_headers))
    except (aiohttp.ClientError, TimeoutError, ssl.SSLError, OSError, ValueError):
        return None


async def collect(client: aiohttp.ClientSession, target: Target, opts: ScanOptions) -> ScanInput:
    """Gather everything the twelve tests read for one site."""
    https_r, http_r = await asyncio.gather(
        _session(client, target.https_url, opts), _session(client, target.http_url, opts)
    )
    https_s = https_r if not isinstance(https_r, str) else None
    http_s = http_r if not isinstance(http_r, str) else None
    if isinstance(https_r, str) and isinstance(http_r, str):
        raise ScanFailed(
            target.https_url,
            f"no readable answer on https:// ({https_r}) or http:// ({http_r})",
        )
    auto_s = https_s if https_s is not None else http_s
    assert auto_s is not None
    auto = auto_s.final
    status = auto.status
    if not (200 <= status < 400 or status in (401, 403)):
        raise ScanFailed(auto.url, f"the site answered with HTTP status {status}")
    session_url = target.https_url if https_s is not None else target.http_url
    preflight = await _preflight(client, auto.url, auto.verified, opts)
    if opts.insecure:
        for s in (https_s, http_s):
            if s is not None:
                s.final.verified = True
    return ScanInput(
        url=session_url,
        host=target.host,
        auto=auto,
        https=https_s.final if https_s is not None else None,
        http=http_s.final if http_s is not None else None,
        http_redirects=http_s.route if http_s is not None else [],
        body=_decode_body(auto_s.body, auto.headers.get("content-type")),
        preflight=preflight,
        preflight_origin=OBSERVATORY_ORIGIN,
        cookies=auto_s.cookies,
    )


def _client(opts: ScanOptions, limit: int) -> aiohttp.ClientSession:
    import aiohttp

    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=opts.timeout),
        headers={"User-Agent": USER_AGENT, "Accept": _ACCEPT},
        connector=aiohttp.TCPConnector(limit=max(limit * 4, 8), force_close=True),
        cookie_jar=aiohttp.DummyCookieJar(),  # each request stands alone, as in the Observatory
    )


ScanResult = Report | ScanFailed


async def scan_targets(
    urls: Sequence[str],
    opts: ScanOptions | None = None,
    concurrency: int = 4,
    on_done: Callable[[str, ScanResult], None] | None = None,
) -> list[ScanResult]:
    """Scan every URL, at most ``concurrency`` at a time; results keep the input order."""
    opts = opts or ScanOptions()
    sem = asyncio.Semaphore(max(1, concurrency))
    async with _client(opts, concurrency) as client:

        async def one(url: str) -> ScanResult:
            async with sem:
                try:
                    target = parse_target(url, opts.http_port, opts.https_port)
                    result: ScanResult = analyze_scan(await collect(client, target, opts))
                except TargetError as exc:
                    result = ScanFailed(url, str(exc))
                except ScanFailed as exc:
                    result = exc
            if on_done is not None:
                on_done(url, result)
            return result

        return list(await asyncio.gather(*(one(u) for u in urls)))


def scan(url: str, opts: ScanOptions | None = None) -> Report:
    """Scan one site synchronously; raise ScanFailed if it cannot be graded."""
    (result,) = asyncio.run(scan_targets([url], opts, 1))
    if isinstance(result, ScanFailed):
        raise result
    return result
