"""CloudFront's side of Lambda@Edge, as pure code: the four trigger events (build, parse,
normalize), header conversion to and from CloudFront's form, and the checks CloudFront applies
to what a function returns. See ``rules`` for the underlying limits and header lists."""

from edgeshield.cloudfront.events import (
    CfHeaders,
    Event,
    EventError,
    HeaderPairs,
    HeadersArg,
    build_event,
    custom_origin,
    from_cf_headers,
    header_pairs,
    new_request_id,
    origin_request_event,
    origin_response_event,
    s3_origin,
    to_cf_headers,
    viewer_request_event,
    viewer_response_event,
)
from edgeshield.cloudfront.parse import (
    cf_record,
    event_trigger,
    load_event,
    normalize_event,
)
from edgeshield.cloudfront.rules import TRIGGERS, Trigger, trigger_named
from edgeshield.cloudfront.validate import Violation, check_result, result_kind, validate_result

__all__ = [
    "TRIGGERS",
    "CfHeaders",
    "Event",
    "EventError",
    "HeaderPairs",
    "HeadersArg",
    "Trigger",
    "Violation",
    "build_event",
    "cf_record",
    "check_result",
    "custom_origin",
    "event_trigger",
    "from_cf_headers",
    "header_pairs",
    "load_event",
    "new_request_id",
    "normalize_event",
    "origin_request_event",
    "origin_response_event",
    "result_kind",
    "s3_origin",
    "to_cf_headers",
    "trigger_named",
    "validate_result",
    "viewer_request_event",
    "viewer_response_event",
]
