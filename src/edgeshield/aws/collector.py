"""The CSP-report collector: a regular (regional) Lambda behind the distribution.

CloudFront forwards ``POST /_edgeshield/csp-report`` to the function's URL (auth type AWS_IAM,
signed by origin access control) and adds a shared-secret header as an origin custom header.
The handler takes the event shape a function URL delivers (payload format 2.0) and answers:

* 204 — the body held reports (each CSP violation becomes one JSON log line that is also an
  Embedded Metric Format record: ``Violations`` by ``Directive``);
* 400 — not a report in an accepted format; 413 — body over 64 KB; 405 — not a POST;
* 403 — the shared-secret header is missing or wrong;
* 503 — the secret could not be loaded at cold start: the function fails closed.

Entry point: ``edgeshield.aws.collector.handler``. Stdlib only, plus boto3 (in Lambda's Python
runtime) imported lazily for KMS and the optional S3 copy. With no secret configured (a local
run inside ``edgeshield serve``) it needs no AWS at all.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from edgeshield.aws.csp_reports import MAX_BODY_BYTES, ReportError, Violation, parse_reports
from edgeshield.aws.kms_env import Secret, load_secret, log_secret_state
from edgeshield.report_route import SECRET_HEADER

BUCKET_ENV = "EDGESHIELD_REPORTS_BUCKET"
PREFIX_ENV = "EDGESHIELD_REPORTS_PREFIX"
REPORTS_PREFIX = "csp-reports/"  # where the S3 copy goes unless PREFIX_ENV says otherwise
METRIC_NAMESPACE = "EdgeShield/CSP"
METRIC_NAME = "Violations"

Emit = Callable[[str], None]
Store = Callable[[str, bytes], None]


def _stdout(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _response(status: int, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "statusCode": status,
        "headers": {"cache-control": "no-store", **(headers or {})},
    }
    return result


def violation_record(violation: Violation, now_ms: int) -> dict[str, Any]:
    """One log line: the violation's fields plus EMF metadata so CloudWatch turns it into a
    ``Violations`` data point with dimension ``Directive``."""
    return {
        "_aws": {
            "Timestamp": now_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": METRIC_NAMESPACE,
                    "Dimensions": [["Directive"]],
                    "Metrics": [{"Name": METRIC_NAME, "Unit": "Count"}],
                }
            ],
        },
        "event": "csp-violation",
        "Directive": violation.effective_directive,
        METRIC_NAME: 1,
        **violation.to_dict(),
    }


class Collector:
    """The request logic, with its cold-start state and side effects passed in."""

    def __init__(self, secret: Secret, emit: Emit = _stdout, store: Store | None = None) -> None:
        self.secret = secret
        self.emit = emit
        self.store = store

    def _log(self, level: str, event: str, **fields: Any) -> None:
        record = {"level": level, "event": event, **fields}
        self.emit(json.dumps(record, separators=(",", ":"), default=str))

    def _secret_ok(self, headers: Mapping[str, str]) -> bool:
        if self.secret.state == "off":
            return True
        # surrogatepass: a lone surrogate in a hostile event is a mismatch, not a crash.
        given = headers.get(SECRET_HEADER, "").encode("utf-8", "surrogatepass")
        # Compare with every accepted value (no early exit), in constant time each.
        matches = [hmac.compare_digest(given, v.encode("utf-8")) for v in self.secret.accepts()]
        return any(matches)

    def handle(self, event: Any) -> dict[str, Any]:
        if not isinstance(event, dict):
            return _response(400)
        if self.secret.state == "failed":
            self._log("ERROR", "refused", reason="shared secret unavailable (see cold start)")
            return _response(503)
        raw_headers = event.get("headers")
        if not isinstance(raw_headers, dict):
            raw_headers = {}
        headers = {str(k).lower(): str(v) for k, v in raw_headers.items()}
        if not self._secret_ok(headers):
            self._log("WARN", "refused", reason="missing or wrong shared-secret header")
            return _response(403)
        context = event.get("requestContext")
        http = context.get("http") if isinstance(context, dict) else None
        method = str(http.get("method", "") if isinstance(http, dict) else "").upper()
        if method != "POST":
            return _response(405, {"allow": "POST"})
        try:
            declared = int(headers.get("content-length", "0") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_BODY_BYTES:
            return _response(413)
        try:
            body = _body_bytes(event)
            violations = parse_reports(
                body, headers.get("content-type"), headers.get("user-agent", "")
            )
        except ReportError as exc:
            self._log("INFO", "bad-report", status=exc.status, reason=exc.reason)
            return _response(exc.status)
        now_ms = int(time.time() * 1000)
        for violation in violations:
            self.emit(json.dumps(violation_record(violation, now_ms), separators=(",", ":")))
        if violations and self.store is not None:
            self._store(violations, now_ms)
        return _response(204)

    def _store(self, violations: list[Violation], now_ms: int) -> None:
        stamp = time.strftime("%Y/%m/%d/%H", time.gmtime(now_ms / 1000))
        key = f"{stamp}/{now_ms}-{uuid.uuid4().hex}.json"
        payload = json.dumps([v.to_dict() for v in violations], separators=(",", ":"))
        try:
            assert self.store is not None
            self.store(key, payload.encode("utf-8"))
        except Exception as exc:  # the log line already holds the report; storage is a copy
            self._log("ERROR", "store-failed", error=type(exc).__name__)


def _body_bytes(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise ReportError(400, "body is not text")
    if event.get("isBase64Encoded"):
        if len(body) > (MAX_BODY_BYTES * 4) // 3 + 8:
            raise ReportError(413, f"report body larger than {MAX_BODY_BYTES} bytes")
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ReportError(400, "body is not valid base64") from None
    # A lone surrogate cannot be UTF-8: keep it as invalid bytes, which parsing refuses (400).
    data = body.encode("utf-8", "surrogatepass")
    if len(data) > MAX_BODY_BYTES:
        raise ReportError(413, f"report body larger than {MAX_BODY_BYTES} bytes")
    return data


def s3_store(bucket: str, prefix: str) -> Store:
    """Store each request's violations as one object under ``prefix`` in ``bucket``."""
    client: Any = None

    def put(key: str, data: bytes) -> None:
        nonlocal client
        if client is None:
            import boto3  # provided by Lambda's Python runtime

            client = boto3.client("s3")
        client.put_object(
            Bucket=bucket, Key=prefix + key, Body=data, ContentType="application/json"
        )

    return put


def from_environment(environ: Mapping[str, str] | None = None) -> Collector:
    """The collector as a cold start builds it: secret decrypted once, optional S3 copy."""
    env = os.environ if environ is None else environ
    secret = load_secret(env)
    log_secret_state(secret)
    bucket = env.get(BUCKET_ENV, "").strip()
    prefix = env.get(PREFIX_ENV, REPORTS_PREFIX).strip()
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return Collector(secret, store=s3_store(bucket, prefix) if bucket else None)


# Cold start: runs once per execution environment, during Lambda's init phase.
COLLECTOR = from_environment()


def handler(event: Any, context: Any) -> dict[str, Any]:
    return COLLECTOR.handle(event)
