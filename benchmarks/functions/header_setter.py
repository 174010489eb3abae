"""An origin-response function as a team might write it without edgeshield: six security
headers set on the origin's response, nothing removed. A benchmark input for
`benchmarks/emulator.py --function origin-response=header_setter.handler`."""

from typing import Any

SECURITY_HEADERS = {
    "strict-transport-security": ("Strict-Transport-Security", "max-age=63072000; preload"),
    "content-security-policy": ("Content-Security-Policy", "default-src 'self'"),
    "x-content-type-options": ("X-Content-Type-Options", "nosniff"),
    "x-frame-options": ("X-Frame-Options", "DENY"),
    "referrer-policy": ("Referrer-Policy", "same-origin"),
    "permissions-policy": ("Permissions-Policy", "camera=(), microphone=()"),
}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response: dict[str, Any] = event["Records"][0]["cf"]["response"]
    headers = response["headers"]
    for name, (key, value) in SECURITY_HEADERS.items():
        headers[name] = [{"key": key, "value": value}]
    return response
