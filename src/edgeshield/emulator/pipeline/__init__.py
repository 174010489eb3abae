"""One request through the edge, in CloudFront's order (AWS: "Lambda@Edge event structure",
"Generate HTTP responses in request triggers", "Restrictions on all edge functions"):

viewer-request -> cache lookup -> (miss) origin-request -> fetch -> origin-response -> store
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

The modules: ``flow`` (the request's data as it goes), ``edge`` (one method per stage),
``invoker`` (who runs a function: worker pools, or plain Python in-process), ``origin_choice``
(the distribution's origin and what origin-request may turn it into), ``origin_fetch`` (a
folder served as S3 would, and custom origins over HTTP), ``results`` (a function's result
applied), ``conditional`` (304s both ways), ``cache`` and ``forwarding`` (what is cached and
what reaches the origin), ``viewer_stage`` (CloudFront Functions and response headers
policies, by ``response_headers_policy``), ``answers`` (CloudFront's own error responses),
``reports`` (logs and console lines about functions), ``settings``.
"""

from edgeshield.emulator.pipeline.answers import ErrorKind
from edgeshield.emulator.pipeline.edge import Edge
from edgeshield.emulator.pipeline.flow import EdgeResponse, Flow, Request, Response, ViewerRequest
from edgeshield.emulator.pipeline.invoker import InMemoryInvoker, Invoker
from edgeshield.emulator.pipeline.origin_choice import (
    MemoryOrigin,
    Origin,
    OriginSetup,
    Route,
    static_response,
)
from edgeshield.emulator.pipeline.results import reason_phrase, wire_headers
from edgeshield.emulator.pipeline.settings import ALL_METHODS, GET_HEAD, EdgeSettings

__all__ = [
    "ALL_METHODS",
    "GET_HEAD",
    "Edge",
    "EdgeResponse",
    "EdgeSettings",
    "ErrorKind",
    "Flow",
    "InMemoryInvoker",
    "Invoker",
    "MemoryOrigin",
    "Origin",
    "OriginSetup",
    "Request",
    "Response",
    "Route",
    "ViewerRequest",
    "reason_phrase",
    "static_response",
    "wire_headers",
]
