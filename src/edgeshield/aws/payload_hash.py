"""Origin-request Lambda@Edge for the CSP-report behaviour: sign-ready POST bodies.

The collector sits behind a function URL with origin access control (auth type AWS_IAM). For
PUT/POST, CloudFront's SigV4 signature needs the body's SHA-256 in ``x-amz-content-sha256``:
Lambda refuses unsigned payloads, and browsers sending CSP reports never add that header
(CloudFront developer guide, "Restrict access to an AWS Lambda function URL origin"). This
function, run on origin-request with the body included, computes it. It also refuses bodies
over the collector's 64 KB limit at the edge, so they never reach the function.

Stdlib only, no environment variables (CloudFront developer guide, "Restrictions on
Lambda@Edge", "Lambda features":
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-at-edge-function-restrictions.html).
Entry point:
``edgeshield_payload_hash.handler`` in its own small asset.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

MAX_BODY_BYTES = 64 * 1024  # keep equal to edgeshield.aws.csp_reports.MAX_BODY_BYTES
HASH_HEADER = "x-amz-content-sha256"


def _reply(status: str, description: str) -> dict[str, Any]:
    return {
        "status": status,
        "statusDescription": description,
        "headers": {"cache-control": [{"key": "Cache-Control", "value": "no-store"}]},
    }


def handler(event: Any, context: Any) -> dict[str, Any]:
    request: dict[str, Any] = event["Records"][0]["cf"]["request"]
    body = request.get("body") or {}
    if body.get("inputTruncated"):
        return _reply("413", "Payload Too Large")
    data = body.get("data") or ""
    try:
        raw = (
            base64.b64decode(data, validate=True)
            if body.get("encoding", "base64") == "base64"
            else data.encode()
        )
    except (binascii.Error, ValueError):
        return _reply("400", "Bad Request")
    if len(raw) > MAX_BODY_BYTES:
        return _reply("413", "Payload Too Large")
    headers = dict(request.get("headers") or {})
    headers[HASH_HEADER] = [
        {"key": "x-amz-content-sha256", "value": hashlib.sha256(raw).hexdigest()}
    ]
    request["headers"] = headers
    return request
