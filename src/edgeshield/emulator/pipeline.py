"""One request through the edge, in CloudFront's order (AWS: "Lambda@Edge event structure",
"Generate HTTP responses in request triggers", "Restrictions on all edge functions"):

viewer-request -> cache -> (miss) origin-request -> origin -> origin-response -> cache store
-> viewer-response -> viewer

- viewer-request may answer itself: that response is not cached and skips everything else.
- origin-request may rewrite uri, headers and the origin, or answer itself: that response is
  cached and skips origin-response.
- origin-response runs for every origin status, may replace the body; its output is cached.
- viewer-response runs on hits and misses, but not for statuses >= 400; it cannot change the
  status.
Any function failure becomes CloudFront's own answer (see ``answers``), with its reason on the
console; a result that breaks only rules AWS documents nowhere is served, with a warning.
A method the cache behavior does not allow is CloudFront's 403. GET and HEAD are cached: a HEAD
is answered from a cached GET, and a HEAD that misses is forwarded as HEAD and its answer kept
for later HEADs (never for a GET, which needs the body).
"""

from __future__ import annotations

import base64
import binascii
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from edgeshield.cloudfront import (
    Violation,
    build_event,
    check_result,
    new_request_id,
    result_kind,
)
from edgeshield.cloudfront.events import custom_origin, s3_origin
from edgeshield.cloudfront.rules import canonical_key
from edgeshield.emulator import forwarding
from edgeshield.emulator.answers import (
    PAGE_METHOD,
    Answer,
    ErrorKind,
    answer_for,
    error_page,
    reason,
)
from edgeshield.emulator.cache import Cache, CachedObject, TtlSettings, ttl_for
from edgeshield.emulator.console import printable
from edgeshield.emulator.logstore import LogStore
from edgeshield.emulator.origin import (
    Body,
    CustomTarget,
    DirOrigin,
    HttpOrigin,
    OriginError,
    OriginResponse,
    http_date,
)
from edgeshield.emulator.runtime import FunctionPool
from edgeshield.emulator.stats import Stats
from edgeshield.emulator.viewer_stage import ViewerStage
from edgeshield.logrecords import edge_validation_log_group

HeaderList = list[tuple[str, str]]
_CACHEABLE_METHODS: Final = ("GET", "HEAD")
# A cache behavior's allowed methods are one of three sets (CloudFront's AllowedMethods):
# GET+HEAD, GET+HEAD+OPTIONS, or these seven. CloudFront answers any other method with 403.
ALL_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"})
GET_HEAD: Final = frozenset({"GET", "HEAD"})
_BUFFER_UNCACHED: Final = 1024 * 1024  # bodies up to this size are sent in one piece


@dataclass(frozen=True)
class EdgeSettings:
    pop: str
    region: str
    distribution_id: str = "EDFDVBD6EXAMPLE"
    distribution_domain: str = "d111111abcdef8.cloudfront.net"
    execution_error_status: int = 503
    cache_enabled: bool = True
    query_string: bool = False  # forward all query strings and key the cache on them
    forward_cookies: bool = False  # forward cookies and key the cache on them
    ttl: TtlSettings = field(default_factory=TtlSettings)
    max_object_bytes: int = 8 * 1024 * 1024  # larger bodies stream through uncached
    include_body: frozenset[str] = frozenset()  # request triggers that get the body
    allowed_methods: frozenset[str] = ALL_METHODS  # the cache behavior's allowed methods


@dataclass
class ViewerRequest:
    method: str
    uri: str  # raw (percent-encoded) path
    querystring: str
    headers: HeaderList
    body: bytes
    client_ip: str
    http_version: str = "1.1"


@dataclass
class EdgeResponse:
    status: int
    reason: str
    headers: HeaderList
    body: bytes | Body
    x_cache: str
    request_id: str
    head_length: str | None = None  # Content-Length to announce for a HEAD response
    stream_length: str | None = None  # the origin's Content-Length when the body streams


@dataclass
class OriginSetup:
    """The distribution's origin: a folder (as S3) or a custom origin."""

    event_origin: dict[str, Any]
    directory: DirOrigin | None = None
    target: CustomTarget | None = None


class _Failed(Exception):
    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.x_cache)
        self.answer = answer


@dataclass
class _Origin:
    """Where this request goes after origin-request."""

    event_origin: dict[str, Any]
    directory: DirOrigin | None
    target: CustomTarget | None
    prefix: str = ""  # S3 origin path prepended to the key


@dataclass
class Edge:
    settings: EdgeSettings
    origin: OriginSetup
    functions: Mapping[str, FunctionPool]
    logs: LogStore
    http: HttpOrigin | None
    stats: Stats = field(default_factory=Stats)
    edge_id: str = field(default_factory=forwarding.new_edge_id)
    cache: Cache | None = None
    viewer_stage: ViewerStage | None = None  # CloudFront Functions, response headers policies
    # One line per function failure or warning, for serve's console (untrusted text already
    # made printable); None: say nothing.
    console: Callable[[str], None] | None = None

    # -- entry point -------------------------------------------------------------------
    async def handle(self, viewer: ViewerRequest) -> EdgeResponse:
        cf_id = new_request_id()
        try:
            return await self._handle(viewer, cf_id)
        except _Failed as failed:
            return self.answer(failed.answer, cf_id)
        except OriginError as exc:
            self.stats.error(exc.kind)
            return self.answer(answer_for(exc.kind), cf_id)
        except Exception:  # a bug of ours: say so on the console, answer like CloudFront would
            traceback.print_exc(file=sys.stderr)
            self.stats.error("internal")
            return self.answer(Answer(502, "Error", "The request could not be processed."), cf_id)

    def answer(self, answer: Answer, cf_id: str) -> EdgeResponse:
        body = error_page(answer.status, answer.page, cf_id)
        headers: HeaderList = [
            ("Server", "CloudFront"),
            ("Date", http_date()),
            ("Content-Type", "text/html"),
            ("Via", forwarding.via_value("1.1", self.edge_id)),
        ]
        return self._finish(
            answer.status, reason(answer.status), headers, body, answer.x_cache, cf_id
        )

    def cloudfront_headers(self, x_cache: str, cf_id: str) -> HeaderList:
        """What CloudFront adds to every answer it gives a viewer, for answers made outside the
        pipeline (the http->https redirect, other cache behaviors' paths)."""
        return [
            ("Via", forwarding.via_value("1.1", self.edge_id)),
            ("X-Cache", f"{x_cache} from cloudfront"),
            ("X-Amz-Cf-Pop", self.settings.pop),
            ("X-Amz-Cf-Id", cf_id),
        ]

    def _finish(
        self,
        status: int,
        reason_text: str,
        headers: HeaderList,
        body: bytes | Body,
        x_cache: str,
        cf_id: str,
        head_length: str | None = None,
    ) -> EdgeResponse:
        stream_length = (
            forwarding.get(headers, "content-length") if isinstance(body, Body) else None
        )
        out = forwarding.to_viewer(headers)
        if forwarding.get(out, "server") is None:
            out.append(("Server", "CloudFront"))
        out += [
            ("X-Cache", f"{x_cache} from cloudfront"),
            ("X-Amz-Cf-Pop", self.settings.pop),
            ("X-Amz-Cf-Id", cf_id),
        ]
        return EdgeResponse(
            status, reason_text, out, body, x_cache, cf_id, head_length, stream_length
        )

    # -- the pipeline --------------------------------------------------------------------
    async def _handle(self, viewer: ViewerRequest, cf_id: str) -> EdgeResponse:
        settings = self.settings
        method, uri, querystring = viewer.method, viewer.uri, viewer.querystring
        headers, body = viewer.headers, viewer.body
        if method not in settings.allowed_methods:
            # Refused before any function runs, as a behavior that does not accept the method.
            return self.answer(Answer(403, "Error", PAGE_METHOD), cf_id)

        if "viewer-request" in self.functions:
            event = self._request_event(
                "viewer-request", viewer, uri, querystring, headers, body, None, cf_id
            )
            result = await self._invoke("viewer-request", event, cf_id)
            if result_kind("viewer-request", result) == "response":
                # Generated in viewer-request: sent as is, never cached, no other trigger runs.
                status, text, gen_headers, gen_body = _generated(result)
                return self._finish(status, text, self._with_via(gen_headers), gen_body,
                                    "LambdaGeneratedResponse", cf_id)  # fmt: skip
            uri, querystring, headers, body = _apply_request(
                result, uri, querystring, headers, body
            )
        if self.viewer_stage is not None:  # a CloudFront Function on viewer-request
            staged = await self.viewer_stage.request(
                method=method, uri=uri, querystring=querystring, headers=headers,
                client_ip=viewer.client_ip, distribution_id=settings.distribution_id,
                distribution_domain=settings.distribution_domain, request_id=cf_id,
            )  # fmt: skip
            if isinstance(staged, Answer):
                raise _Failed(staged)
            if staged.generated is not None:  # answered by the function: not cached
                g = staged.generated
                return self._finish(g.status, g.reason or reason_phrase(g.status),
                                    self._with_via(g.headers), g.body, "FunctionGeneratedResponse", cf_id)  # fmt: skip
            uri, querystring, headers = staged.uri, staged.querystring, staged.headers

        # What the origin gets and what the cache keys on after viewer-request.
        forwarded_qs = querystring if settings.query_string else ""
        host = forwarding.get(headers, "host") or settings.distribution_domain
        key = self._cache_key(host, uri, forwarded_qs, headers)
        cacheable = self.cache is not None and method in _CACHEABLE_METHODS
        stale: CachedObject | None = None
        if cacheable:
            assert self.cache is not None
            entry = self.cache.get(key)
            if entry is not None and entry.head_only and method != "HEAD":
                entry = None  # a kept HEAD answer has no body to give a GET
            if entry is not None:
                now = time.monotonic()
                if entry.fresh(now):
                    return await self._deliver(viewer, uri, querystring, headers, entry.status, entry.reason,
                                               _with_age(entry, now), entry.body, "Hit", cf_id,
                                               entry.head_length)  # fmt: skip
                stale = entry

        response = await self._miss(
            viewer, uri, forwarded_qs, querystring, headers, body, cf_id, key, stale
        )
        return response

    async def _miss(
        self,
        viewer: ViewerRequest,
        uri: str,
        querystring: str,
        viewer_qs: str,
        viewer_headers: HeaderList,
        body: bytes,
        cf_id: str,
        key: str,
        stale: CachedObject | None,
    ) -> EdgeResponse:
        settings = self.settings
        method = viewer.method
        viewer_uri = uri  # what viewer-response sees, whatever origin-request does
        setup = self.origin
        origin = _Origin(setup.event_origin, setup.directory, setup.target)
        origin_host = _event_origin_domain(setup.event_origin)
        if setup.target is not None:
            origin_host = setup.target.host_header
        headers = forwarding.to_origin(
            viewer_headers,
            client_ip=viewer.client_ip,
            origin_host=origin_host,
            via=forwarding.via_value(viewer.http_version, self.edge_id),
            forward_cookies=settings.forward_cookies,
            method=method,
        )
        if stale is not None:  # revalidate the expired object rather than fetch it again
            etag, modified = stale.validator("etag"), stale.validator("last-modified")
            if etag:
                headers.append(("If-None-Match", etag))
            if modified:
                headers.append(("If-Modified-Since", modified))
        store = self.cache is not None and method in _CACHEABLE_METHODS
        head_only = method == "HEAD"

        if "origin-request" in self.functions:
            event = self._request_event("origin-request", viewer, uri, querystring, headers, body,
                                        origin.event_origin, cf_id)  # fmt: skip
            result = await self._invoke("origin-request", event, cf_id)
            if result_kind("origin-request", result) == "response":
                status, text, gen_headers, gen_body = _generated(result)
                if store:
                    self._store(key, status, text, gen_headers, gen_body, generated=True,
                                head_only=head_only)  # fmt: skip
                return await self._deliver(viewer, viewer_uri, viewer_qs, viewer_headers, status, text,
                                           gen_headers, gen_body, "LambdaGeneratedResponse", cf_id)  # fmt: skip
            uri, querystring, headers, body = _apply_request(
                result, uri, querystring, headers, body
            )
            origin = self._resolve_origin(result.get("origin"), origin)

        try:
            fetched = await self._fetch(origin, method, uri, querystring, headers, body, cf_id)
        except OriginError as exc:
            if stale is not None:  # serve the expired copy rather than an error
                self.stats.error(exc.kind)
                return await self._deliver(viewer, viewer_uri, viewer_qs, viewer_headers, stale.status, stale.reason,
                                           _with_age(stale, time.monotonic()), stale.body, "RefreshHit", cf_id,
                                           stale.head_length)  # fmt: skip
            raise

        if stale is not None and (fetched.status == 304 or fetched.status >= 500):
            fetched.body.close()
            if fetched.status == 304:
                stale.stored_at = time.monotonic()
                merged = _merge_304(stale.headers, fetched.headers)
                stale.ttl = ttl_for(stale.status, merged, settings.ttl, time.time()) or 0.0
                stale.headers = merged
            return await self._deliver(viewer, viewer_uri, viewer_qs, viewer_headers, stale.status, stale.reason,
                                       _with_age(stale, time.monotonic()), stale.body, "RefreshHit", cf_id,
                                       stale.head_length)  # fmt: skip

        status, text = fetched.status, fetched.reason
        out_headers = forwarding.from_origin(fetched.headers)
        result_replaced_body = False
        out_body: bytes | Body = fetched.body
        if "origin-response" in self.functions:
            event = build_event(
                "origin-response",
                uri=uri,
                method=method,
                querystring=querystring,
                headers=headers,
                client_ip=viewer.client_ip,
                status=status,
                status_description=text,
                response_headers=out_headers,
                origin=origin.event_origin,
                distribution_id=settings.distribution_id,
                distribution_domain=settings.distribution_domain,
                request_id=cf_id,
            )
            try:
                result = await self._invoke("origin-response", event, cf_id)
            except _Failed:
                fetched.body.close()
                raise
            status = _status(result.get("status"), status)
            text = _description(result.get("statusDescription"), text)
            if "headers" in result:
                out_headers = wire_headers(result["headers"])
            if result.get("body") is not None:
                result_replaced_body = True
                fetched.body.close()
                out_body = _decode_body(result["body"], result.get("bodyEncoding", "text"))
                out_headers = [(n, v) for n, v in out_headers if n.lower() != "transfer-encoding"]

        head_length = None
        if method == "HEAD":
            # A body set by origin-response replaces the origin's, and so does its length.
            if result_replaced_body and isinstance(out_body, bytes):
                head_length = str(len(out_body))
            else:
                head_length = forwarding.get(out_headers, "content-length")
        if isinstance(out_body, Body):
            try:
                # Buffer what fits (one write to the viewer, and cacheable); stream the rest.
                limit = settings.max_object_bytes if store else _BUFFER_UNCACHED
                complete = await out_body.fill(limit)
            except Exception as exc:  # the origin failed half-way through the body
                out_body.close()
                raise OriginError(
                    "origin-connect", f"reading the origin's body failed: {exc}"
                ) from None
            if complete:
                out_body = out_body.data
        if store and isinstance(out_body, bytes):
            self._store(key, status, text, out_headers, out_body, head_only=head_only,
                        head_length=head_length)  # fmt: skip
        return await self._deliver(viewer, viewer_uri, viewer_qs, viewer_headers, status, text, out_headers,
                                   out_body, "Miss", cf_id, head_length)  # fmt: skip

    async def _deliver(
        self,
        viewer: ViewerRequest,
        uri: str,
        querystring: str,
        request_headers: HeaderList,
        status: int,
        text: str,
        headers: HeaderList,
        body: bytes | Body,
        x_cache: str,
        cf_id: str,
        head_length: str | None = None,
    ) -> EdgeResponse:
        """viewer-response (for statuses below 400), then the viewer's conditional request."""
        headers = self._with_via(headers)
        if viewer.method == "HEAD" and head_length is None and isinstance(body, bytes):
            head_length = str(len(body))
        if "viewer-response" in self.functions and status < 400:
            event = build_event(
                "viewer-response",
                uri=uri,
                method=viewer.method,
                querystring=querystring,
                headers=request_headers,
                client_ip=viewer.client_ip,
                status=status,
                status_description=text,
                response_headers=[(n, v) for n, v in headers if n.lower() != "content-length"],
                distribution_id=self.settings.distribution_id,
                distribution_domain=self.settings.distribution_domain,
                request_id=cf_id,
            )
            try:
                result = await self._invoke("viewer-response", event, cf_id)
            except _Failed:
                if isinstance(body, Body):
                    body.close()
                raise
            text = _description(result.get("statusDescription"), text)
            if "headers" in result:
                headers = wire_headers(result["headers"])
            if result.get("body") is not None:
                if isinstance(body, Body):
                    body.close()
                body = _decode_body(result["body"], result.get("bodyEncoding", "text"))
                head_length = str(len(body)) if viewer.method == "HEAD" else None
        if self.viewer_stage is not None:  # viewer-response CloudFront Function, then the policy
            staged = await self.viewer_stage.response(
                method=viewer.method, uri=uri, path=viewer.uri, querystring=querystring,
                request_headers=request_headers, client_ip=viewer.client_ip, status=status,
                reason=text, headers=headers, distribution_id=self.settings.distribution_id,
                distribution_domain=self.settings.distribution_domain, request_id=cf_id,
            )  # fmt: skip
            if isinstance(staged, Answer):
                if isinstance(body, Body):
                    body.close()
                raise _Failed(staged)
            status, text, headers = staged
        if (
            status == 200
            and viewer.method in _CACHEABLE_METHODS
            and _viewer_not_modified(viewer.headers, headers)
        ):
            if isinstance(body, Body):
                body.close()
            kept = [(n, v) for n, v in headers if n.lower() in _KEEP_ON_304]
            return self._finish(304, "Not Modified", kept, b"", x_cache, cf_id)
        return self._finish(status, text, headers, body, x_cache, cf_id, head_length)

    # -- helpers -------------------------------------------------------------------------
    def _with_via(self, headers: HeaderList) -> HeaderList:
        ours = forwarding.via_value("1.1", self.edge_id)
        vias = [v for n, v in headers if n.lower() == "via"]
        if vias and vias[-1].endswith(ours):
            return headers
        rest = [(n, v) for n, v in headers if n.lower() != "via"]
        return [*rest, ("Via", ", ".join([*vias, ours]))]

    def _cache_key(self, host: str, uri: str, querystring: str, headers: HeaderList) -> str:
        key = f"{host.lower()}{uri}"
        if self.settings.query_string and querystring:
            key += f"?{querystring}"
        encoding = forwarding.normalize_accept_encoding(forwarding.get(headers, "accept-encoding"))
        if encoding:
            key += f"\x00ae={encoding}"
        if self.settings.forward_cookies:
            key += "\x00c=" + "; ".join(v for n, v in headers if n.lower() == "cookie")
        return key

    def _store(
        self,
        key: str,
        status: int,
        text: str,
        headers: HeaderList,
        body: bytes,
        generated: bool = False,
        head_only: bool = False,
        head_length: str | None = None,
    ) -> None:
        assert self.cache is not None
        ttl = ttl_for(status, headers, self.settings.ttl, time.time())
        if ttl is None:
            self.cache.remove(key)
            return
        if head_only and head_length is None:
            head_length = str(len(body))
        self.cache.put(
            key,
            CachedObject(status, text, list(headers), body, time.monotonic(), ttl, generated,
                         head_only, head_length),
        )  # fmt: skip

    def _request_event(
        self,
        trigger: str,
        viewer: ViewerRequest,
        uri: str,
        querystring: str,
        headers: HeaderList,
        body: bytes,
        origin: dict[str, Any] | None,
        cf_id: str,
    ) -> dict[str, Any]:
        include = trigger in self.settings.include_body and viewer.method not in ("GET", "HEAD")
        return build_event(
            trigger,  # type: ignore[arg-type]
            uri=uri,
            method=viewer.method,
            querystring=querystring,
            headers=headers,
            client_ip=viewer.client_ip,
            origin=origin,
            distribution_id=self.settings.distribution_id,
            distribution_domain=self.settings.distribution_domain,
            request_id=cf_id,
            body=body,
            include_body=include,
        )

    async def _invoke(self, trigger: str, event: dict[str, Any], cf_id: str) -> dict[str, Any]:
        """Run the trigger's function; CloudFront's answer (as _Failed) if anything is wrong."""
        pool = self.functions[trigger]
        invocation = await pool.invoke(event)
        self.stats.invocation(trigger, invocation.duration_ms, invocation.cold, invocation.status)
        if invocation.status != "ok":
            answer = (
                answer_for("limit")
                if invocation.status == "timeout"
                else answer_for("execution", execution_status=self.settings.execution_error_status)
            )
            self._say(answer, pool, cf_id, _exception_line(invocation.error_type,
                                                           invocation.error_message))  # fmt: skip
            raise _Failed(answer)
        found = check_result(trigger, event, invocation.result)
        warnings = [v for v in found if v.kind == "warning"]
        if warnings:
            self._warn(pool, invocation.request_id, cf_id, warnings)
        refusals = [v for v in found if v.kind != "warning"]
        if not refusals:
            return dict(invocation.result)
        if any(v.kind == "execution" for v in refusals):
            self.stats.error("execution")
            answer = answer_for("execution", execution_status=self.settings.execution_error_status)
            self._say(answer, pool, cf_id, refusals[0].message)
            raise _Failed(answer)
        self.stats.error("validation")
        self._log_validation(trigger, pool, invocation.request_id, cf_id, refusals)
        answer = answer_for("validation", page=refusals[0].page)
        more = f" (and {len(refusals) - 1} more)" if len(refusals) > 1 else ""
        self._say(answer, pool, cf_id, refusals[0].message + more)
        raise _Failed(answer)

    def _say(self, answer: Answer, pool: FunctionPool, cf_id: str, why: str) -> None:
        """The console line for a function-caused error: what the viewer got, and why."""
        if self.console is None:
            return
        spec = pool.spec
        self.console(
            printable(
                f"{answer.status} {answer.x_cache}: {spec.trigger} function {spec.handler}: "
                f"{why} [X-Amz-Cf-Id {cf_id}]",
                limit=600,
            )
        )

    def _warn(
        self, pool: FunctionPool, lambda_id: str, cf_id: str, warnings: list[Violation]
    ) -> None:
        """A result served although it breaks a rule AWS documents nowhere: one warning line per
        finding in the function's log group (CloudFront writes no such line: these are ours)
        and on the console."""
        spec = pool.spec
        now = int(time.time() * 1000)
        stream = time.strftime("%Y/%m/%d/", time.gmtime()) + "[edgeshield]warnings"
        events = [
            (now, f"{lambda_id} WARNING edgeshield serve: {v.message} (X-Amz-Cf-Id {cf_id})")
            for v in warnings
        ]
        self.logs.put(spec.region, spec.log_group, stream, events)
        if self.console is not None:
            for v in warnings:
                self.console(
                    printable(
                        f"warning: {spec.trigger} function {spec.handler}: {v.message} "
                        f"(served anyway; AWS documents no such rule) [X-Amz-Cf-Id {cf_id}]",
                        limit=600,
                    )
                )

    def _log_validation(
        self,
        trigger: str,
        pool: FunctionPool,
        lambda_id: str,
        cf_id: str,
        violations: list[Violation],
    ) -> None:
        """CloudFront's own log of a rejected result, in the region that ran the function."""
        now = int(time.time() * 1000)
        stream = time.strftime("%Y/%m/%d/", time.gmtime()) + self.settings.distribution_id
        events = [
            (
                now,
                f"{cf_id} ERROR Validation error: {v.message}\n"
                f"EventType: {trigger}, FunctionArn: {pool.spec.arn}, "
                f"LambdaRequestId: {lambda_id}",
            )
            for v in violations
        ]
        self.logs.put(self.settings.region, edge_validation_log_group(self.settings.distribution_id),
                      stream, events)  # fmt: skip

    def _resolve_origin(self, changed: Any, current: _Origin) -> _Origin:
        """The origin after origin-request (already validated by then)."""
        if not isinstance(changed, dict) or changed == current.event_origin:
            return current
        if "custom" in changed:
            spec = changed["custom"]
            base = self.origin.target
            domain = str(spec["domainName"])
            connect_host = base.connect_host if base is not None and domain == base.domain else None
            read = spec.get("readTimeout")
            base_read = (self.origin.event_origin.get("custom") or {}).get("readTimeout")
            target = CustomTarget(
                protocol=str(spec.get("protocol", "https")),
                domain=domain,
                port=int(spec.get("port", 443)),
                path=str(spec.get("path", "")),
                connect_host=connect_host,
                read_timeout=float(read) if read is not None and read != base_read else None,
            )
            return _Origin(changed, None, target)
        spec = changed["s3"]
        domain = str(spec["domainName"])
        base_s3 = self.origin.event_origin.get("s3") or {}
        if self.origin.directory is not None and domain == base_s3.get("domainName"):
            return _Origin(changed, self.origin.directory, None, str(spec.get("path", "")))
        return _Origin(changed, None, CustomTarget("https", domain, 443, str(spec.get("path", ""))))

    async def _fetch(
        self,
        origin: _Origin,
        method: str,
        uri: str,
        querystring: str,
        headers: HeaderList,
        body: bytes,
        cf_id: str,
    ) -> OriginResponse:
        custom = _custom_headers(origin.event_origin)
        if origin.directory is not None:
            return await origin.directory.fetch(method, origin.prefix + uri, headers + custom)
        assert origin.target is not None
        if self.http is None:
            raise OriginError("origin-connect", "no HTTP client")
        # Host stays as the request says: CloudFront does not rewrite it when a function
        # changes the origin (AWS's examples set it themselves).
        return await self.http.fetch(
            origin.target, method, uri, querystring, headers + custom, body, cf_id
        )


_KEEP_ON_304: Final = frozenset(
    {"etag", "last-modified", "cache-control", "expires", "vary", "date", "via", "age",
     "content-location", "server"}
)  # fmt: skip


def _event_origin_domain(origin: dict[str, Any]) -> str:
    for kind in ("custom", "s3"):
        if kind in origin:
            return str(origin[kind].get("domainName", ""))
    return ""


def _custom_headers(origin: dict[str, Any]) -> HeaderList:
    for kind in ("custom", "s3"):
        if kind in origin:
            return wire_headers(origin[kind].get("customHeaders") or {})
    return []


def wire_headers(headers: Mapping[str, Any]) -> HeaderList:
    """A validated headers object as header lines. The dict key names the header: an entry's
    ``key`` only gives its letter case, and one that names another header (as AWS's
    "Overriding a response header" example copies) is replaced by the dict key, capitalised
    the way CloudFront fills in a missing key."""
    out: HeaderList = []
    for name, entries in headers.items():
        lower = str(name).lower()
        for entry in entries:
            key = entry.get("key")
            if not isinstance(key, str) or key.lower() != lower:
                key = canonical_key(str(name))
            out.append((key, entry["value"]))
    return out


def _exception_line(error_type: str | None, message: str | None) -> str:
    """What the last line of a traceback says: ``Type: message``."""
    message = (message or "").strip()
    if error_type and message:
        return f"{error_type}: {message}"
    return error_type or message or "the function failed"


def _with_age(entry: CachedObject, now: float) -> HeaderList:
    return [*((n, v) for n, v in entry.headers if n.lower() != "age"), ("Age", str(entry.age(now)))]


def _merge_304(cached: HeaderList, fresh: HeaderList) -> HeaderList:
    """A 304's headers update the stored ones (RFC 9111 §4.3.4)."""
    updates = {
        n.lower() for n, _ in fresh if n.lower() not in ("content-length", "transfer-encoding")
    }
    kept = [(n, v) for n, v in cached if n.lower() not in updates]
    return kept + [(n, v) for n, v in fresh if n.lower() in updates]


def _status(value: Any, default: int) -> int:
    if value is None:
        return default
    return int(value)


def _description(value: Any, default: str) -> str:
    return value if isinstance(value, str) else default


def _decode_body(data: str, encoding: str) -> bytes:
    if encoding == "base64":
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return b""
    return data.encode("utf-8", "surrogatepass")


def _generated(result: dict[str, Any]) -> tuple[int, str, HeaderList, bytes]:
    status = int(result["status"])
    text = result.get("statusDescription")
    if not isinstance(text, str):
        text = reason_phrase(status)
    headers = wire_headers(result.get("headers") or {})
    body = b""
    if result.get("body") is not None:
        body = _decode_body(result["body"], result.get("bodyEncoding", "text"))
    if forwarding.get(headers, "date") is None:
        headers.append(("Date", http_date()))
    return status, text, headers, body


def reason_phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _apply_request(
    result: dict[str, Any], uri: str, querystring: str, headers: HeaderList, body: bytes
) -> tuple[str, str, HeaderList, bytes]:
    """A request trigger's returned request, applied (already validated)."""
    uri = result.get("uri", uri)
    querystring = result.get("querystring", querystring)
    if "headers" in result:
        headers = wire_headers(result["headers"])
    new_body = result.get("body")
    if isinstance(new_body, dict) and new_body.get("action") == "replace":
        body = _decode_body(str(new_body.get("data", "")), str(new_body.get("encoding", "base64")))
    return uri, querystring, headers, body


def _viewer_not_modified(request: HeaderList, response: HeaderList) -> bool:
    inm = forwarding.get(request, "if-none-match")
    etag = forwarding.get(response, "etag")
    if inm is not None:
        if etag is None:
            return False
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    ims = forwarding.get(request, "if-modified-since")
    modified = forwarding.get(response, "last-modified")
    if ims is None or modified is None:
        return False
    import email.utils

    try:
        return email.utils.parsedate_to_datetime(modified) <= email.utils.parsedate_to_datetime(ims)
    except (TypeError, ValueError, IndexError):
        return False


def default_origin_event(setup_kind: str, domain: str, **kwargs: Any) -> dict[str, Any]:
    if setup_kind == "s3":
        return s3_origin(domain)
    return custom_origin(domain, **kwargs)


__all__ = [
    "Edge",
    "EdgeResponse",
    "EdgeSettings",
    "ErrorKind",
    "OriginSetup",
    "ViewerRequest",
]
