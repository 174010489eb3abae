"""Lambda@Edge functions for the emulator tests. Each trigger's function does what the request
path asks, so one ``serve`` process covers every misbehaviour:

/vr/...  viewer-request    /or/...  origin-request    /ors/... origin-response
/vrs/... viewer-response   anything else: pass through, marking which triggers ran.
"""

import base64
import json
import os
import time
from pathlib import Path

COLD_STARTED_AT = time.time()
CALLS = 0
print("init: edgefns loaded")


def _mark(headers, name):
    headers["x-ran-" + name] = [{"key": "X-Ran-" + name, "value": "yes"}]


def viewer_request(event, context):
    global CALLS
    CALLS += 1
    request = event["Records"][0]["cf"]["request"]
    uri = request["uri"]
    if uri == "/vr/generate":
        return {
            "status": "200",
            "statusDescription": "OK",
            "headers": {"content-type": [{"key": "Content-Type", "value": "text/plain"}]},
            "body": "generated at viewer-request",
        }
    if uri == "/vr/body":
        body = request.get("body") or {}
        return {
            "status": "200",
            "headers": {"content-type": [{"key": "Content-Type", "value": "application/json"}]},
            "body": json.dumps(
                {
                    "length": len(base64.b64decode(body.get("data", ""))),
                    "truncated": body.get("inputTruncated"),
                    "encoding": body.get("encoding"),
                }
            ),
        }
    if uri == "/vr/status-700":
        return {"status": "700", "body": "x"}
    if uri == "/vr/context":
        env = sorted(os.environ)
        return {
            "status": "200",
            "headers": {"content-type": [{"key": "Content-Type", "value": "application/json"}]},
            "body": json.dumps(
                {
                    "function_name": context.function_name,
                    "function_version": context.function_version,
                    "invoked_function_arn": context.invoked_function_arn,
                    "memory_limit_in_mb": context.memory_limit_in_mb,
                    "aws_request_id": context.aws_request_id,
                    "log_group_name": context.log_group_name,
                    "log_stream_name": context.log_stream_name,
                    "remaining_ms": context.get_remaining_time_in_millis(),
                    "env": env,
                    "region": os.environ.get("AWS_REGION"),
                    "calls": CALLS,
                    "pid": os.getpid(),
                    "cf_request_id": event["Records"][0]["cf"]["config"]["requestId"],
                }
            ),
        }
    if uri == "/vr/raise":
        print("about to fail")
        raise ValueError("boom from viewer-request")
    if uri == "/vr/sleep":
        print("going to sleep")
        time.sleep(30)
    if uri == "/vr/exit":
        os._exit(3)
    if uri == "/vr/spawn-and-hang":
        import subprocess

        child = subprocess.Popen(["sleep", "60"])
        Path("spawned.pid").write_text(str(child.pid))
        time.sleep(30)
    if uri == "/vr/not-a-dict":
        return "hello"
    if uri == "/vr/unserializable":
        return {"status": "200", "body": {1, 2}}
    if uri == "/vr/rewrite":
        request["uri"] = "/echo/rewritten"
    _mark(request["headers"], "viewer-request")
    return request


def origin_request(event, context):
    request = event["Records"][0]["cf"]["request"]
    uri = request["uri"]
    if uri == "/or/generate":
        return {
            "status": "200",
            "headers": {
                "content-type": [{"key": "Content-Type", "value": "text/plain"}],
                "cache-control": [{"key": "Cache-Control", "value": "max-age=60"}],
            },
            "body": "generated at origin-request " + str(time.time()),
        }
    if uri.startswith("/or/origin/"):
        # Send this request to the second origin (port in the path) as a custom origin.
        port = int(uri.split("/")[3])
        request["origin"] = {
            "custom": {
                "domainName": "localhost",
                "port": port,
                "protocol": "http",
                "path": "",
                "sslProtocols": ["TLSv1.2"],
                "readTimeout": 5,
                "keepaliveTimeout": 5,
                "customHeaders": {
                    "x-from-origin-request": [{"key": "X-From-Origin-Request", "value": "1"}]
                },
            }
        }
        request["uri"] = "/echo/second"
        request["headers"]["host"] = [{"key": "Host", "value": f"localhost:{port}"}]
    if uri == "/or/body":
        body = request.get("body") or {}
        return {
            "status": "200",
            "body": json.dumps(
                {
                    "length": len(base64.b64decode(body.get("data", ""))),
                    "truncated": body.get("inputTruncated"),
                }
            ),
        }
    if uri == "/or/replace-body":
        request["body"] = {"action": "replace", "encoding": "text", "data": "new body"}
        request["uri"] = "/echo/replaced"
    if uri == "/or/echo-event":
        return {
            "status": "200",
            "headers": {
                "content-type": [
                    {"key": "Content-Type", "value": "application/json"},
                ],
                "cache-control": [{"key": "Cache-Control", "value": "no-store"}],
            },
            "body": json.dumps(event),
        }
    _mark(request["headers"], "origin-request")
    return request


def origin_response(event, context):
    cf = event["Records"][0]["cf"]
    response = cf["response"]
    uri = cf["request"]["uri"]
    headers = response["headers"]
    if uri.endswith("/ors/add-via"):
        headers["via"] = [{"key": "Via", "value": "1.1 my-proxy"}]
    elif uri.endswith("/ors/delete-transfer-encoding"):
        headers.pop("transfer-encoding", None)
    elif uri.endswith("/ors/add-x-cache"):
        headers["x-cache"] = [{"key": "X-Cache", "value": "Hit from me"}]
    elif uri.endswith("/ors/status-700"):
        response["status"] = "700"
    elif uri.endswith("/ors/raise"):
        raise RuntimeError("origin-response exploded")
    elif uri.endswith("/ors/big-body"):
        response["body"] = "x" * (2 * 1024 * 1024)
    elif uri.endswith("/ors/replace-body"):
        response["body"] = base64.b64encode(b"replaced body").decode()
        response["bodyEncoding"] = "base64"
    elif uri.endswith("/ors/not-a-dict"):
        return ["not", "a", "dict"]
    elif uri.endswith("/ors/nan"):  # json.dumps writes a bare NaN: not JSON
        response["extra"] = [1.5, float("nan")]
    elif uri.endswith("/ors/nan-in-text"):  # the letters alone are fine
        headers["x-nan"] = [{"key": "X-NaN", "value": "NaN -Infinity"}]
    elif uri.endswith("/ors/deep"):  # nested past the runtime's quick check: still fine
        deep: list[object] = []
        for _ in range(450):
            deep = [deep]
        response["extra"] = deep
    elif uri.endswith("/ors/echo-event"):
        response["body"] = json.dumps(event)
        response["status"] = "200"
        headers["cache-control"] = [{"key": "Cache-Control", "value": "no-store"}]
        headers["content-type"] = [{"key": "Content-Type", "value": "application/json"}]
    _mark(headers, "origin-response")
    return response


def viewer_response(event, context):
    cf = event["Records"][0]["cf"]
    response = cf["response"]
    uri = cf["request"]["uri"]
    if uri.endswith("/vrs/change-status"):
        response["status"] = "201"
    if uri.endswith("/vrs/echo-event"):
        response["body"] = json.dumps(event)
    _mark(response["headers"], "viewer-response")
    return response


def reads_stdin(event, context):
    """Reads stdin: must get EOF at once, not the runtime's own messages."""
    import sys

    data = sys.stdin.read()
    response = event["Records"][0]["cf"]["response"]
    response["headers"]["x-stdin"] = [{"key": "X-Stdin", "value": str(len(data))}]
    return response
