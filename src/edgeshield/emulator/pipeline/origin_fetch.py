"""Origins: a folder served the way an S3 origin answers, and custom origins over HTTP(S).

Failures become ``OriginError`` with the kind CloudFront reports (AWS's "HTTP 502 status code
(Bad Gateway)" and "HTTP 504 status code (Gateway Timeout)" pages): refused or reset connection
-> 502, DNS failure -> 502, TLS failure -> 502, a status CloudFront cannot pass on or an
answer that is not HTTP -> 502 (with its own page), no connection or no answer in time -> 504.
Connection attempts and timeouts follow the origin settings (default: connect 10 s × 3
attempts, read 30 s).
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import html
import mimetypes
import ssl
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote

from edgeshield.cloudfront import HeaderPairs
from edgeshield.cloudfront.rules import MAX_STATUS, MIN_STATUS
from edgeshield.emulator.pipeline.answers import ErrorKind
from edgeshield.emulator.pipeline.origin_client import ClientFailure, OriginClient, request_bytes

# Where a custom origin request goes, and how long it may take: defined with the client, and
# part of this module's interface too (the pipeline and the runner import them from here).
from edgeshield.emulator.pipeline.origin_client import CustomTarget as CustomTarget
from edgeshield.emulator.pipeline.origin_client import OriginTimeouts as OriginTimeouts
from edgeshield.errors import EdgeshieldError

_SMALL_FILE: Final = 256 * 1024
_CHUNK: Final = 64 * 1024


class OriginError(EdgeshieldError):
    def __init__(self, kind: ErrorKind, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


class Body:
    """An origin response body: what has been read so far, and the rest if still streaming."""

    def __init__(
        self,
        data: bytes = b"",
        rest: AsyncIterator[bytes] | None = None,
        release: Callable[[], Any] | None = None,
    ) -> None:
        self.data = data
        self._rest = rest
        self._release = release

    @property
    def complete(self) -> bool:
        return self._rest is None

    async def fill(self, limit: int) -> bool:
        """Read into memory up to ``limit`` bytes; True when the whole body is in ``data``."""
        if self._rest is None:
            return True
        parts = [self.data]
        size = len(self.data)
        async for chunk in self._rest:
            parts.append(chunk)
            size += len(chunk)
            if size > limit:
                self.data = b"".join(parts)
                return False
        self.data = b"".join(parts)
        self._rest = None
        self.close()
        return True

    async def chunks(self) -> AsyncIterator[bytes]:
        if self.data:
            yield self.data
        if self._rest is not None:
            async for chunk in self._rest:
                yield chunk
        self.close()

    def close(self) -> None:
        if self._release is not None:
            release, self._release = self._release, None
            release()


@dataclass(slots=True)
class OriginRequest:
    """A request as it leaves the edge for an origin (after origin-request). ``target`` is
    where a custom origin request goes; a folder origin has none."""

    method: str
    uri: str
    querystring: str
    headers: HeaderPairs
    body: bytes = b""
    request_id: str = ""  # X-Amz-Cf-Id, which CloudFront sends to custom origins
    target: CustomTarget | None = None


@dataclass
class OriginResponse:
    status: int
    reason: str
    headers: HeaderPairs
    body: Body = field(default_factory=Body)


def _s3_error(status: int, reason: str, code: str, message: str, key: str | None) -> OriginResponse:
    shown = f"<Key>{html.escape(key, quote=False)}</Key>" if key is not None else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"{shown}<RequestId>EDGESHIELDLOCAL</RequestId></Error>"
    ).encode()
    return OriginResponse(
        status,
        reason,
        [
            ("Content-Type", "application/xml"),
            ("Content-Length", str(len(body))),
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Server", "AmazonS3"),
        ],
        Body(body),
    )


class DirOrigin:
    """A folder answered like an S3 bucket behind CloudFront (REST endpoint).

    Keys are the URI path, percent-decoded; ``/`` maps to the default root object
    (``index.html``), as CloudFront's DefaultRootObject does; other "directories" are not
    indexed, as with a real S3 REST origin. A missing key is what S3 answers a caller that may
    not list the bucket, as CloudFront is behind origin access control (its bucket policy grants
    s3:GetObject only): 403 ``AccessDenied``; with ``list_bucket`` it is 404 ``NoSuchKey``.
    When the folder holds ``404.html``, a missing key is that page with status 404 instead
    (like a custom error response). GET and HEAD only; ``ETag`` is the MD5 of the content, as
    S3 gives for simple uploads; ``If-None-Match`` / ``If-Modified-Since`` answer 304.
    """

    def __init__(
        self,
        root: Path,
        default_root_object: str = "index.html",
        error_document: str | None = "404.html",
        list_bucket: bool = False,
    ) -> None:
        self.root = root.resolve()
        self.default_root_object = default_root_object
        self.error_document = error_document
        self.list_bucket = list_bucket
        self._etags: OrderedDict[tuple[str, int, int], str] = OrderedDict()

    def _locate(self, uri: str) -> tuple[str, Path | None]:
        key = unquote(uri).lstrip("/")
        if not key:
            key = self.default_root_object
        if "\x00" in key or any(part in ("..", ".") for part in key.split("/")):
            return key, None
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return key, None
        return key, path

    async def _etag(self, path: Path, size: int, mtime_ns: int) -> str:
        cache_key = (str(path), size, mtime_ns)
        etag = self._etags.get(cache_key)
        if etag is None:
            if size <= _SMALL_FILE:
                digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
            else:
                digest = await asyncio.to_thread(_md5_file, path)
            etag = f'"{digest}"'
            self._etags[cache_key] = etag
            if len(self._etags) > 4096:
                self._etags.popitem(last=False)
        return etag

    async def fetch(self, request: OriginRequest) -> OriginResponse:
        method, headers = request.method, request.headers
        key, path = self._locate(request.uri)
        if method not in ("GET", "HEAD"):
            message = "The specified method is not allowed against this resource."
            return _s3_error(405, "Method Not Allowed", "MethodNotAllowed", message, key)
        status, reason = 200, "OK"
        if path is None:
            page = self.root / self.error_document if self.error_document else None
            if page is None or not page.is_file():
                return self._missing(key)
            path, status, reason = page, 404, "Not Found"
        try:
            stat = path.stat()
        except OSError:
            return self._missing(key)
        etag = await self._etag(path, stat.st_size, stat.st_mtime_ns)
        last_modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
        content_type = mimetypes.guess_type(path.name)[0] or "binary/octet-stream"
        out: HeaderPairs = [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Last-Modified", last_modified),
            ("ETag", etag),
            ("Accept-Ranges", "bytes"),
            ("Content-Type", content_type),
            ("Server", "AmazonS3"),
        ]
        if status == 200 and _not_modified(headers, etag, int(stat.st_mtime)):
            return OriginResponse(304, "Not Modified", [h for h in out if h[0] != "Content-Type"])
        out.insert(4, ("Content-Length", str(stat.st_size)))
        if method == "HEAD":
            return OriginResponse(status, reason, out)
        if stat.st_size <= _SMALL_FILE:
            return OriginResponse(status, reason, out, Body(path.read_bytes()))
        return OriginResponse(status, reason, out, Body(b"", _file_chunks(path)))

    def _missing(self, key: str) -> OriginResponse:
        if self.list_bucket:
            return _s3_error(
                404, "Not Found", "NoSuchKey", "The specified key does not exist.", key
            )
        # S3 does not say whether the key exists to a caller that may not list the bucket.
        return _s3_error(403, "Forbidden", "AccessDenied", "Access Denied", None)


def _md5_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while True:
            chunk = await asyncio.to_thread(handle.read, 1 << 20)
            if not chunk:
                return
            yield chunk
    finally:
        handle.close()


def _not_modified(headers: HeaderPairs, etag: str, mtime: int) -> bool:
    inm = ims = None
    for name, value in headers:
        lower = name.lower()
        if lower == "if-none-match":
            inm = value
        elif lower == "if-modified-since":
            ims = value
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or etag in tags
    if ims is not None:
        try:
            return mtime <= email.utils.parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
    return False


class HttpOrigin:
    """Custom origins over HTTP and HTTPS, through the lean keep-alive client in
    ``origin_client`` (certificates checked against the system's CAs, or ``ca_file``)."""

    def __init__(self, timeouts: OriginTimeouts, ca_file: Path | None = None) -> None:
        self.timeouts = timeouts
        self._ca_file = ca_file
        self._client: OriginClient | None = None

    async def start(self) -> None:
        context = ssl.create_default_context(cafile=str(self._ca_file) if self._ca_file else None)
        self._client = OriginClient(self.timeouts, context)

    async def close(self) -> None:
        if self._client is not None:
            self._client.close()

    async def fetch(self, request: OriginRequest) -> OriginResponse:
        target, client = request.target, self._client
        if target is None or client is None:
            raise OriginError("origin-connect", "no custom origin to connect to")
        read = target.read_timeout or self.timeouts.read
        method = request.method
        data = request_bytes(
            method, target, request.uri, request.querystring, request.headers, request.body,
            request.request_id,
        )  # fmt: skip
        try:
            answer, connection = await client.request(target, data, method, read)
        except ClientFailure as failure:
            raise OriginError(failure.kind, failure.detail) from None
        if not MIN_STATUS <= answer.status <= MAX_STATUS:
            # Not a status CloudFront can pass on (nor put in an origin-response event):
            # the origin's answer is unusable, which CloudFront reports as its own 502
            # ("...or the origin returned an incorrect response"), before any function.
            connection.release()
            raise OriginError("origin-invalid", f"the origin answered with status {answer.status}")
        headers, reason = wire_pairs(answer.headers), wire_text(answer.reason)
        if answer.complete:  # the whole body came with the head (most small answers)
            connection.release()
            return OriginResponse(answer.status, reason, headers, Body(answer.data))
        body = Body(answer.data, connection.rest(), connection.release)
        return OriginResponse(answer.status, reason, headers, body)


def wire_text(value: bytes) -> str:
    """A header value's bytes as the text a function sees: UTF-8 when the bytes are UTF-8,
    else read as ISO-8859-1, the conversion CloudFront documents for values it passes to
    edge functions ("URI, query string, and headers encoding" in
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-function-restrictions-all.html).
    Sent on, the text is UTF-8 again, so UTF-8 bytes reach the other side unchanged."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def wire_pairs(raw: Iterable[tuple[bytes, bytes]]) -> HeaderPairs:
    """Raw header lines as text: names read as ISO-8859-1, values as ``wire_text`` reads them.
    Values are nearly always UTF-8 (mostly ASCII): one pass decodes them all, and only when one
    is not does each value go through ``wire_text``."""
    try:
        return [(k.decode("latin-1"), v.decode("utf-8")) for k, v in raw]
    except UnicodeDecodeError:
        return [(k.decode("latin-1"), wire_text(v)) for k, v in raw]


def http_date(epoch: float | None = None) -> str:
    return email.utils.formatdate(time.time() if epoch is None else epoch, usegmt=True)
