"""The Lambda@Edge entry point: ``edgeshield.edge.handler.handler``.

Runs on origin-response (recommended: every origin status, result cached with the object) or
viewer-response. The compiled policy ``policy.json`` next to this file is loaded once per
cold start; there are no environment variables at the edge (AWS, "Restrictions on
Lambda@Edge", "Lambda features":
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-at-edge-function-restrictions.html).

Fail open: if anything goes wrong, the origin's response goes back unchanged and one JSON
error line is printed. A security-headers function must never turn a page into a 502/503.
"""

from __future__ import annotations

import json
import os
import sys
import time

from edgeshield.edge.engine import Engine

# Only what a cold start needs: typing, pathlib and random together cost ~6 ms to import.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

POLICY_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "policy.json")


def _load() -> tuple[Engine | None, dict[str, Any], str | None]:
    try:
        with open(POLICY_FILE, encoding="utf-8") as f:
            compiled = json.load(f)
        return Engine(compiled), compiled, None
    except Exception as exc:  # never fail the import: that would be a 503 on every request
        return None, {}, f"{type(exc).__name__}: {exc}"


ENGINE, POLICY, LOAD_ERROR = _load()
_SAMPLE_RATE = float(POLICY.get("log_sample_rate", 0.0) or 0.0)
_METRICS = bool(POLICY.get("metrics", False))
_NAMESPACE = str(POLICY.get("metrics_namespace", "edgeshield"))
# No rules, no sampled log, no metrics: status and content type do not matter and there is
# nothing to report, so a response only needs the base plan applied (and, with a per-page CSP,
# the page's entry looked up by its URI).
_PLAIN = ENGINE is not None and not ENGINE.rules and not _SAMPLE_RATE and not _METRICS
_BY_PAGE = ENGINE is not None and ENGINE.pages is not None


def _emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")


def _request_id(event: Any) -> str | None:
    try:
        return str(event["Records"][0]["cf"]["config"]["requestId"])
    except Exception:
        return None


def _metrics(context: Any, hardened: int, failed_open: int) -> None:
    """One CloudWatch Embedded Metric Format document; CloudWatch Logs turns it into metrics."""
    function = getattr(context, "function_name", None) or "edgeshield"
    _emit(
        {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": _NAMESPACE,
                        "Dimensions": [["FunctionName"]],
                        "Metrics": [
                            {"Name": "ResponsesHardened", "Unit": "Count"},
                            {"Name": "FailedOpen", "Unit": "Count"},
                        ],
                    }
                ],
            },
            "FunctionName": function,
            "ResponsesHardened": hardened,
            "FailedOpen": failed_open,
        }
    )


def _sampled() -> bool:
    import random  # imported on first use: most policies never sample

    return random.random() < _SAMPLE_RATE


def _fail_open(event: Any, context: Any, error: str) -> Any:
    """Give CloudFront back what it gave us: the response on response triggers, the request if
    the function was (wrongly) attached to a request trigger. Either passes through unchanged."""
    try:
        cf = event["Records"][0]["cf"]
        passthrough = cf["response"] if "response" in cf else cf["request"]
        what = "response" if "response" in cf else "request"
    except Exception:
        passthrough, what = None, "nothing (the event has no CloudFront record)"
    _emit(
        {
            "level": "ERROR",
            "message": f"edgeshield failed open: returned the {what} unchanged",
            "error": error[:1000],
            "requestId": _request_id(event),
            "policy": POLICY.get("digest"),
        }
    )
    if _METRICS:
        _metrics(context, 0, 1)
    return passthrough


def handler(event: Any, context: Any = None) -> Any:
    if ENGINE is None:
        return _fail_open(event, context, f"policy.json could not be loaded: {LOAD_ERROR}")
    try:
        cf = event["Records"][0]["cf"]
        response = cf["response"]
        if _PLAIN:
            if not _BY_PAGE:
                return ENGINE.harden(response)
            request = cf.get("request")
            return ENGINE.harden(response, request.get("uri", "/") if request else "/")
        request = cf.get("request")
        uri = request.get("uri", "/") if request else "/"
        result, plan, matched = ENGINE.apply(response, uri)
    except Exception as exc:
        return _fail_open(event, context, f"{type(exc).__name__}: {exc}")
    if _SAMPLE_RATE and _sampled():
        _emit(
            {
                "level": "INFO",
                "message": "edgeshield hardened a response",
                "requestId": _request_id(event),
                "uri": uri,
                "status": response.get("status"),
                "rules": [ENGINE.rules[i].name for i in matched],
                "set": list(plan.names),
                "removed": sorted(n for n in plan.remove if n in (response.get("headers") or {})),
                "policy": POLICY.get("digest"),
            }
        )
    if _METRICS:
        _metrics(context, 1, 0)
    return result
