"""The edge: one method per CloudFront stage, each taking the request's ``Flow`` and handing
it back (the order and the rules are in this package's docstring)."""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from edgeshield.cloudfront import (
    HeaderPairs,
    Trigger,
    build_event,
    check_result,
    new_request_id,
    result_kind,
)
from edgeshield.emulator.logstore import LogStore
from edgeshield.emulator.pipeline import conditional, forwarding, reports
from edgeshield.emulator.pipeline.answers import PAGE_METHOD, Answer, answer_for, error_page, reason
from edgeshield.emulator.pipeline.cache import Cache, CachedObject, HitMemo, ttl_for
from edgeshield.emulator.pipeline.flow import (
    EdgeResponse,
    Flow,
    HeaderLookup,
    Request,
    Response,
    ViewerRequest,
)
from edgeshield.emulator.pipeline.invoker import Invoker
from edgeshield.emulator.pipeline.origin_choice import (
    Origin,
    OriginSetup,
    Route,
    custom_headers,
    event_origin_domain,
    resolve_route,
)
from edgeshield.emulator.pipeline.origin_fetch import (
    Body,
    OriginError,
    OriginRequest,
    OriginResponse,
    http_date,
)
from edgeshield.emulator.pipeline.reports import Failed
from edgeshield.emulator.pipeline.response_headers_policy import ResponseHeadersPolicy
from edgeshield.emulator.pipeline.results import (
    apply_request,
    description_of,
    exception_line,
    generated,
    reason_phrase,
    result_body,
    status_of,
    wire_headers,
)
from edgeshield.emulator.pipeline.settings import CACHEABLE_METHODS, EdgeSettings
from edgeshield.emulator.pipeline.viewer_stage import ViewerStage
from edgeshield.emulator.stats import Stats

_BUFFER_UNCACHED: Final = 1024 * 1024  # bodies up to this size are sent in one piece
# Age's value while a hit's headers are worked out once for many hits: a value that starts
# with a NUL, which no header from a viewer, an origin or a function can hold (parsers and the
# result check refuse control characters), so no other value is taken for it.
_AGE: Final = "\x00age"


@dataclass
class Edge:
    settings: EdgeSettings
    origin: OriginSetup
    # The function on each trigger: worker pools in `serve`, in-memory invokers in tests.
    functions: Mapping[Trigger, Invoker]
    logs: LogStore
    http: Origin | None  # what reaches custom origins (HttpOrigin in `serve`)
    stats: Stats = field(default_factory=Stats)
    edge_id: str = field(default_factory=forwarding.new_edge_id)
    cache: Cache | None = None
    viewer_stage: ViewerStage | None = None  # CloudFront Functions, response headers policies
    # One line per function failure or warning, for serve's console (untrusted text already
    # made printable); None: say nothing.
    console: Callable[[str], None] | None = None

    @property
    def _via(self) -> str:
        """This edge's own Via entry (derived from ``edge_id``, never stale)."""
        return forwarding.via_value("1.1", self.edge_id)

    @property
    def _plain_hits(self) -> bool:
        """Whether a hit goes to the viewer untouched (nothing runs at viewer-response)."""
        return "viewer-response" not in self.functions and self.viewer_stage is None

    @property
    def _viewer_request_runs(self) -> bool:
        """Whether anything runs at viewer-request (a function, or the viewer stage)."""
        return "viewer-request" in self.functions or self.viewer_stage is not None

    # -- entry points --------------------------------------------------------------------
    async def handle(self, viewer: ViewerRequest) -> EdgeResponse:
        flow = Flow.start(viewer, new_request_id())
        try:
            return await self.run(flow)
        except Failed as failed:
            return self.answer(failed.answer, flow.request_id)
        except OriginError as exc:
            self.stats.error(exc.kind)
            answer = answer_for(exc.kind)
            reports.origin_failed(self.console, answer, exc.detail, flow.request_id)
            return self.answer(answer, flow.request_id)
        except Exception:  # a bug of ours: say so on the console, answer like CloudFront would
            traceback.print_exc(file=sys.stderr)
            self.stats.error("internal")
            page = "The request could not be processed."
            return self.answer(Answer(502, "Error", page), flow.request_id)

    def quick_hit(
        self, method: str, uri: str, querystring: str, headers: HeaderLookup
    ) -> EdgeResponse | None:
        """The answer to a request that is a fresh, plain cache hit, worked out from what the
        server parsed, before the request becomes a ``Flow``: what ``handle`` would answer,
        header for header, for a fraction of the work. A hit is plain when nothing runs on its
        way (no function of either kind at viewer-request or viewer-response; a response
        headers policy is applied) and the viewer's question is not conditional. None for
        anything else: then ``handle`` answers."""
        cache, stage, functions = self.cache, self.viewer_stage, self.functions
        if (
            cache is None
            or method not in CACHEABLE_METHODS
            or method not in self.settings.allowed_methods
            or "viewer-request" in functions
            or "viewer-response" in functions
            or (stage is not None and stage.functions is not None)
            or "If-None-Match" in headers
            or "If-Modified-Since" in headers
        ):
            return None
        settings = self.settings
        encoding = headers.get("Accept-Encoding")
        cookies = headers.getall("Cookie", ()) if settings.forward_cookies else ()
        if not (encoding is None or encoding.isascii()) or not all(c.isascii() for c in cookies):
            # A server and the flow may read bytes beyond ASCII differently (aiohttp keeps
            # non-UTF-8 bytes as surrogates, the flow as ISO-8859-1), and so make a different
            # key of them: those requests go the long way, which keys them as it stores them.
            return None
        key = self._cache_key(
            headers.get("Host") or settings.distribution_domain,
            uri,
            querystring,
            encoding,
            cookies,
        )
        entry = cache.get(key)
        now = time.monotonic()
        if entry is None or (entry.head_only and method != "HEAD") or not entry.fresh(now):
            return None
        policy = stage.policy_for(uri) if stage is not None else None
        return self._hit_answer(key, entry, policy, method, new_request_id(), now)

    async def run(self, flow: Flow) -> EdgeResponse:
        """The stages in CloudFront's order. A stage that answers sets ``flow.response``."""
        if flow.method not in self.settings.allowed_methods:
            # Refused before any function runs, as a behavior that does not accept the method.
            return self.answer(Answer(403, "Error", PAGE_METHOD), flow.request_id)
        if self._viewer_request_runs:
            flow = await self.viewer_request(flow)
            if flow.response is not None:  # generated at viewer-request: as is, never cached
                return self._to_viewer(flow.response, flow.x_cache, flow.request_id)
        flow = self.cache_lookup(flow)
        if flow.x_cache == "Hit" and self._plain_hits:
            answer = self._plain_hit(flow)
            if answer is not None:
                return answer
        if flow.response is None:
            flow = await self.origin_request(flow)
            if flow.response is None:
                flow = await self.fetch(flow)
                if flow.x_cache == "Miss":
                    flow = await self.origin_response(flow)
            flow = await self.store(flow)
        flow = await self.viewer_response(flow)
        assert flow.response is not None
        return self._to_viewer(flow.response, flow.x_cache, flow.request_id)

    def answer(self, answer: Answer, cf_id: str) -> EdgeResponse:
        """CloudFront's own answer (an error page) to a viewer."""
        headers = [
            ("Server", "CloudFront"),
            ("Date", http_date()),
            ("Content-Type", "text/html"),
            ("Via", forwarding.via_value("1.1", self.edge_id)),
        ]
        body = error_page(answer.status, answer.page, cf_id)
        response = Response(answer.status, reason(answer.status), headers, body)
        return self._to_viewer(response, answer.x_cache, cf_id)

    def cloudfront_headers(self, x_cache: str, cf_id: str) -> HeaderPairs:
        """What CloudFront adds to every answer it gives a viewer, for answers made outside the
        pipeline (the http->https redirect, other cache behaviors' paths)."""
        return [
            ("Via", forwarding.via_value("1.1", self.edge_id)),
            ("X-Cache", f"{x_cache} from cloudfront"),
            ("X-Amz-Cf-Pop", self.settings.pop),
            ("X-Amz-Cf-Id", cf_id),
        ]

    # -- the stages ----------------------------------------------------------------------
    async def viewer_request(self, flow: Flow) -> Flow:
        """The viewer-request function, then a CloudFront Function; either may answer."""
        if "viewer-request" in self.functions:
            event = self._request_event("viewer-request", flow, flow.request, None)
            result = await self.run_function("viewer-request", event, flow.request_id)
            if result_kind("viewer-request", result) == "response":
                status, text, headers, body = generated(result)
                flow.response = Response(status, text, self._with_via(headers), body)
                flow.x_cache = "LambdaGeneratedResponse"
                return flow
            r = flow.request
            flow.request = Request(*apply_request(result, r.uri, r.querystring, r.headers, r.body))
        if self.viewer_stage is not None:
            await self._viewer_function(flow, self.viewer_stage)
        return flow

    def cache_lookup(self, flow: Flow) -> Flow:
        """A fresh cached object answers (Hit); an expired one is kept for revalidation."""
        if self.cache is None or flow.method not in CACHEABLE_METHODS:
            return flow
        request = flow.request
        host = forwarding.get(request.headers, "host") or self.settings.distribution_domain
        headers = request.headers
        flow.cache_key = key = self._cache_key(
            host,
            request.uri,
            request.querystring,
            forwarding.get(headers, "accept-encoding"),
            [v for n, v in headers if n.lower() == "cookie"]
            if self.settings.forward_cookies
            else (),
        )
        entry = self.cache.get(key)
        if entry is None or (entry.head_only and flow.method != "HEAD"):
            return flow  # (a kept HEAD answer has no body to give a GET)
        now = time.monotonic()
        if not entry.fresh(now):
            flow.cached = entry
            return flow
        flow.hit = entry
        flow.x_cache = "Hit"
        if self._plain_hits:  # the headers are made in _hit_answer, from the object's memo
            flow.response = Response(entry.status, entry.reason, [], entry.body, entry.head_length)
            return flow
        headers = conditional.with_age(entry, now)
        flow.response = Response(entry.status, entry.reason, headers, entry.body, entry.head_length)
        return flow

    async def origin_request(self, flow: Flow) -> Flow:
        """The request as CloudFront forwards it, then the origin-request function, which may
        rewrite it and its origin, or answer (cached; origin-response does not run)."""
        setup, viewer = self.origin, flow.viewer
        target = setup.target
        host = target.host_header if target is not None else event_origin_domain(setup.event_origin)
        headers = forwarding.to_origin(
            flow.request.headers,
            client_ip=viewer.client_ip,
            origin_host=host,
            via=forwarding.via_value(viewer.http_version, self.edge_id),
            forward_cookies=self.settings.forward_cookies,
            method=flow.method,
        )
        if flow.cached is not None:  # revalidate the expired object rather than fetch it again
            headers += conditional.validators(flow.cached)
        querystring = flow.request.querystring if self.settings.query_string else ""
        sent = flow.origin_request = Request(
            flow.request.uri, querystring, headers, flow.request.body
        )
        route = flow.route = Route.of(setup)
        if "origin-request" not in self.functions:
            return flow
        event = self._request_event("origin-request", flow, sent, route.event_origin)
        result = await self.run_function("origin-request", event, flow.request_id)
        if result_kind("origin-request", result) == "response":
            status, text, gen_headers, body = generated(result)
            flow.response = Response(status, text, gen_headers, body)
            flow.x_cache = "LambdaGeneratedResponse"
            flow.storable = flow.cache_key is not None
            return flow
        parts = apply_request(result, sent.uri, sent.querystring, sent.headers, sent.body)
        flow.origin_request = Request(*parts)
        flow.route = resolve_route(result.get("origin"), route, setup)
        return flow

    async def fetch(self, flow: Flow) -> Flow:
        """Ask the origin. While revalidating, a 304 refreshes the cached object and an origin
        error or 5xx serves it as it is (RefreshHit)."""
        stale = flow.cached
        try:
            fetched = await self._send(flow)
        except OriginError as exc:
            if stale is None:
                raise
            self.stats.error(exc.kind)  # serve the expired copy rather than an error
            return self._refresh_hit(flow, stale)
        if stale is not None and (fetched.status == 304 or fetched.status >= 500):
            fetched.body.close()
            if fetched.status == 304:
                stale.stored_at = time.monotonic()
                merged = conditional.merge_304(stale.headers, fetched.headers)
                stale.ttl = ttl_for(stale.status, merged, self.settings.ttl, time.time()) or 0.0
                assert self.cache is not None and flow.cache_key is not None
                self.cache.revise(flow.cache_key, stale, merged)
            return self._refresh_hit(flow, stale)
        headers = forwarding.from_origin(fetched.headers)
        head_length = forwarding.get(headers, "content-length") if flow.method == "HEAD" else None
        flow.response = Response(fetched.status, fetched.reason, headers, fetched.body, head_length)
        flow.x_cache = "Miss"
        flow.storable = flow.cache_key is not None
        return flow

    async def origin_response(self, flow: Flow) -> Flow:
        """The origin-response function, for every origin status; it may replace the body."""
        if "origin-response" not in self.functions:
            return flow
        response, sent, route = flow.response, flow.origin_request, flow.route
        assert response is not None and sent is not None and route is not None
        event = self._event(
            "origin-response",
            flow,
            sent,
            status=response.status,
            status_description=response.reason,
            response_headers=response.headers,
            origin=route.event_origin,
        )
        try:
            result = await self.run_function("origin-response", event, flow.request_id)
        except Failed:
            response.close()
            raise
        response.status = status_of(result, response.status)
        response.reason = description_of(result, response.reason)
        if "headers" in result:
            response.headers = wire_headers(result["headers"])
        body = result_body(result)
        if body is not None:
            response.close()
            response.body = body
            response.headers = [
                (n, v) for n, v in response.headers if n.lower() != "transfer-encoding"
            ]
        if flow.method == "HEAD":  # a body set here replaces the origin's, and so does its length
            length = forwarding.get(response.headers, "content-length")
            response.head_length = str(len(body)) if body is not None else length
        return flow

    async def store(self, flow: Flow) -> Flow:
        """Buffer what fits (one write to the viewer, and cacheable; the rest streams), and
        keep a new cacheable response for as long as its TTL says."""
        response = flow.response
        assert response is not None
        if isinstance(response.body, Body):
            body = response.body
            limit = self.settings.max_object_bytes if flow.storable else _BUFFER_UNCACHED
            try:
                complete = await body.fill(limit)
            except Exception as exc:  # the origin failed half-way through the body
                body.close()
                raise OriginError(
                    "origin-connect", f"reading the origin's body failed: {exc}"
                ) from None
            if complete:
                response.body = body.data
        if flow.storable and isinstance(response.body, bytes):
            self._keep(flow, response, response.body)
        return flow

    async def viewer_response(self, flow: Flow) -> Flow:
        """viewer-response (statuses below 400), a CloudFront Function and the response headers
        policy, then the answer to the viewer's own conditional request."""
        response = flow.response
        assert response is not None
        response.headers = self._with_via(response.headers)
        body = response.body
        if flow.method == "HEAD" and response.head_length is None and isinstance(body, bytes):
            response.head_length = str(len(body))
        try:
            if "viewer-response" in self.functions and response.status < 400:
                await self._viewer_response_function(flow, response)
            if self.viewer_stage is not None:
                await self._viewer_response_stage(flow, response, self.viewer_stage)
        except Failed:
            response.close()
            raise
        if (
            response.status == 200
            and flow.method in CACHEABLE_METHODS
            and conditional.viewer_not_modified(flow.viewer.headers, response.headers)
        ):
            response.close()
            kept = conditional.not_modified_headers(response.headers)
            flow.response = Response(304, "Not Modified", kept, b"")
        return flow

    # -- functions -----------------------------------------------------------------------
    async def run_function(
        self, trigger: Trigger, event: dict[str, Any], cf_id: str
    ) -> dict[str, Any]:
        """Run the trigger's function; CloudFront's answer (as Failed) if anything is wrong."""
        invoker = self.functions[trigger]
        invocation = await invoker.invoke(event)
        self.stats.invocation(trigger, invocation.duration_ms, invocation.cold, invocation.status)
        if invocation.status != "ok":
            answer = answer_for("limit") if invocation.status == "timeout" else self._execution()
            why = exception_line(invocation.error_type, invocation.error_message)
            reports.say(self.console, answer, invoker.spec, cf_id, why)
            raise Failed(answer)
        found = check_result(
            trigger, event, invocation.result, serialisable=invocation.serialisable
        )
        ids = (invocation.request_id, cf_id)
        warnings = [v for v in found if v.kind == "warning"]
        if warnings:
            reports.warn(self.console, self.logs, invoker.spec, ids, warnings)
        refusals = [v for v in found if v.kind != "warning"]
        if not refusals:
            return dict(invocation.result)
        if any(v.kind == "execution" for v in refusals):
            self.stats.error("execution")
            answer = self._execution()
            reports.say(self.console, answer, invoker.spec, cf_id, refusals[0].message)
            raise Failed(answer)
        self.stats.error("validation")
        where = (self.settings.region, self.settings.distribution_id)
        reports.log_validation(self.logs, where, invoker.spec, ids, refusals)
        answer = answer_for("validation", page=refusals[0].page)
        more = f" (and {len(refusals) - 1} more)" if len(refusals) > 1 else ""
        reports.say(self.console, answer, invoker.spec, cf_id, refusals[0].message + more)
        raise Failed(answer)

    def _execution(self) -> Answer:
        return answer_for("execution", execution_status=self.settings.execution_error_status)

    def _request_event(
        self, trigger: Trigger, flow: Flow, request: Request, origin: dict[str, Any] | None
    ) -> dict[str, Any]:
        include = trigger in self.settings.include_body and flow.method not in ("GET", "HEAD")
        return self._event(
            trigger, flow, request, origin=origin, body=request.body, include_body=include
        )

    def _event(
        self, trigger: Trigger, flow: Flow, request: Request, **trigger_parts: Any
    ) -> dict[str, Any]:
        """The trigger's event for ``request`` as this flow has it, with the parts only some
        triggers carry (response, origin, body) given by the caller."""
        return build_event(
            trigger,
            uri=request.uri,
            method=flow.method,
            querystring=request.querystring,
            headers=request.headers,
            client_ip=flow.viewer.client_ip,
            distribution_id=self.settings.distribution_id,
            distribution_domain=self.settings.distribution_domain,
            request_id=flow.request_id,
            **trigger_parts,
        )

    async def _viewer_function(self, flow: Flow, stage: ViewerStage) -> None:
        """A CloudFront Function on viewer-request: it may rewrite the request or answer."""
        request, settings = flow.request, self.settings
        staged = await stage.request(
            method=flow.method,
            uri=request.uri,
            querystring=request.querystring,
            headers=request.headers,
            client_ip=flow.viewer.client_ip,
            distribution_id=settings.distribution_id,
            distribution_domain=settings.distribution_domain,
            request_id=flow.request_id,
        )
        if isinstance(staged, Answer):
            raise Failed(staged)
        if staged.generated is not None:  # answered by the function: not cached
            g = staged.generated
            text = g.reason or reason_phrase(g.status)
            flow.response = Response(g.status, text, self._with_via(g.headers), g.body)
            flow.x_cache = "FunctionGeneratedResponse"
            return
        flow.request = Request(staged.uri, staged.querystring, staged.headers, request.body)

    async def _viewer_response_function(self, flow: Flow, response: Response) -> None:
        request = flow.request
        event = self._event(
            "viewer-response",
            flow,
            request,
            status=response.status,
            status_description=response.reason,
            response_headers=[(n, v) for n, v in response.headers if n.lower() != "content-length"],
        )
        result = await self.run_function("viewer-response", event, flow.request_id)
        response.reason = description_of(result, response.reason)
        if "headers" in result:
            response.headers = wire_headers(result["headers"])
        body = result_body(result)
        if body is not None:
            response.close()
            response.body = body
            response.head_length = str(len(body)) if flow.method == "HEAD" else None

    async def _viewer_response_stage(
        self, flow: Flow, response: Response, stage: ViewerStage
    ) -> None:
        """A viewer-response CloudFront Function, then the response headers policy."""
        request, settings = flow.request, self.settings
        staged = await stage.response(
            method=flow.method,
            uri=request.uri,
            path=flow.viewer.uri,
            querystring=request.querystring,
            request_headers=request.headers,
            client_ip=flow.viewer.client_ip,
            status=response.status,
            reason=response.reason,
            headers=response.headers,
            distribution_id=settings.distribution_id,
            distribution_domain=settings.distribution_domain,
            request_id=flow.request_id,
        )
        if isinstance(staged, Answer):
            raise Failed(staged)
        response.status, response.reason, response.headers = staged

    # -- origin and cache ----------------------------------------------------------------
    async def _send(self, flow: Flow) -> OriginResponse:
        route, sent = flow.route, flow.origin_request
        assert route is not None and sent is not None
        headers = sent.headers + custom_headers(route.event_origin)
        if route.directory is not None:
            uri = route.prefix + sent.uri
            request = OriginRequest(flow.method, uri, sent.querystring, headers, sent.body)
            return await route.directory.fetch(request)
        if self.http is None:
            raise OriginError("origin-connect", "no HTTP client")
        # Host stays as the request says: CloudFront does not rewrite it when a function
        # changes the origin (AWS's examples set it themselves).
        return await self.http.fetch(
            OriginRequest(
                flow.method,
                sent.uri,
                sent.querystring,
                headers,
                sent.body,
                flow.request_id,
                route.target,
            )
        )

    def _refresh_hit(self, flow: Flow, stale: CachedObject) -> Flow:
        headers = conditional.with_age(stale, time.monotonic())
        flow.response = Response(stale.status, stale.reason, headers, stale.body, stale.head_length)
        flow.x_cache = "RefreshHit"
        return flow

    def _cache_key(
        self,
        host: str,
        uri: str,
        querystring: str,
        accept_encoding: str | None,
        cookies: Sequence[str],
    ) -> str:
        """The cache key of a request: its host, path, the query string and the cookies when
        the behavior forwards them, and the encodings CloudFront caches on."""
        key = f"{host.lower()}{uri}"
        if self.settings.query_string and querystring:
            key += f"?{querystring}"
        encoding = forwarding.normalize_accept_encoding(accept_encoding)
        if encoding:
            key += f"\x00ae={encoding}"
        if self.settings.forward_cookies:
            key += "\x00c=" + "; ".join(cookies)
        return key

    def _keep(self, flow: Flow, response: Response, body: bytes) -> None:
        assert self.cache is not None and flow.cache_key is not None
        ttl = ttl_for(response.status, response.headers, self.settings.ttl, time.time())
        if ttl is None:
            self.cache.remove(flow.cache_key)
            return
        head_only = flow.method == "HEAD"
        head_length = response.head_length
        if head_only and head_length is None:
            head_length = str(len(body))
        kept = CachedObject(
            response.status,
            response.reason,
            list(response.headers),
            body,
            time.monotonic(),
            ttl,
            generated=flow.x_cache == "LambdaGeneratedResponse",
            head_only=head_only,
            head_length=head_length,
        )
        self.cache.put(flow.cache_key, kept)

    # -- to the viewer -------------------------------------------------------------------
    def _plain_hit(self, flow: Flow) -> EdgeResponse | None:
        """A fresh hit with nothing at viewer-response: ``_hit_answer``, unless the viewer asked
        a conditional question (the general path answers those, and gets the headers it
        needs)."""
        entry, response, key = flow.hit, flow.response, flow.cache_key
        assert entry is not None and response is not None and key is not None
        now = time.monotonic()
        if not conditional.asks(flow.viewer.headers):
            return self._hit_answer(key, entry, None, flow.method, flow.request_id, now)
        response.headers = conditional.with_age(entry, now)  # for the general path
        return None

    def _hit_answer(
        self,
        key: str,
        entry: CachedObject,
        policy: ResponseHeadersPolicy | None,
        method: str,
        cf_id: str,
        now: float,
    ) -> EdgeResponse:
        """A fresh hit with nothing to run on its way (a response headers policy aside): what
        ``viewer_response`` and ``_to_viewer`` make of the object's headers, header for
        header. Those very steps work them out once per object and policy, with a stand-in
        for Age's value (the one header of a hit that changes with each request), put in place
        here; a revalidation that replaces the object's headers makes them anew."""
        memo = entry.hit_memo
        if memo is None or memo.source is not entry.headers or memo.policy is not policy:
            marked = self._with_via(conditional.aged(entry.headers, _AGE))
            if policy is not None:
                marked = policy.apply(marked)
            kept, has_server = forwarding.to_viewer(marked)
            at = next((i for i, (_n, v) in enumerate(kept) if v == _AGE), -1)
            memo = HitMemo(entry.headers, policy, kept, has_server, at)
            assert self.cache is not None
            self.cache.remember(key, entry, memo)
        _, _, kept, has_server, at = memo
        out = list(kept)
        if at >= 0:
            out[at] = ("Age", str(entry.age(now)))
        self._stamp(out, has_server, "Hit", cf_id)
        head_length = entry.head_length
        if method == "HEAD" and head_length is None:
            head_length = str(len(entry.body))
        return EdgeResponse(
            entry.status, entry.reason, out, entry.body, "Hit", cf_id, head_length, None
        )

    def _with_via(self, headers: HeaderPairs) -> HeaderPairs:
        ours = self._via
        vias: list[str] = []
        rest: HeaderPairs = []
        for pair in headers:
            if pair[0].lower() == "via":
                vias.append(pair[1])
            else:
                rest.append(pair)
        if vias and vias[-1].endswith(ours):
            return headers
        vias.append(ours)
        rest.append(("Via", ", ".join(vias)))
        return rest

    def _stamp(self, out: HeaderPairs, has_server: bool, x_cache: str, cf_id: str) -> None:
        """What CloudFront adds to every answer a viewer gets, appended to ``out``."""
        if not has_server:
            out.append(("Server", "CloudFront"))
        out += [
            ("X-Cache", f"{x_cache} from cloudfront"),
            ("X-Amz-Cf-Pop", self.settings.pop),
            ("X-Amz-Cf-Id", cf_id),
        ]

    def _to_viewer(self, response: Response, x_cache: str, cf_id: str) -> EdgeResponse:
        body = response.body
        headers = response.headers
        stream_length = (
            forwarding.get(headers, "content-length") if isinstance(body, Body) else None
        )
        out, has_server = forwarding.to_viewer(headers)
        self._stamp(out, has_server, x_cache, cf_id)
        return EdgeResponse(
            response.status,
            response.reason,
            out,
            body,
            x_cache,
            cf_id,
            response.head_length,
            stream_length,
        )
