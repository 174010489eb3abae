"""Header sets of well-known defaults (helmet, secure, flask-talisman, Django, OWASP, CloudFront's
managed SecurityHeadersPolicy) for grading tests."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"  # tests/data/README.md says where from
CASES_FILE = DATA / "observatory-cases.json"
OWASP_FILE = DATA / "owasp-headers_add.json"

HTML = {"content-type": "text/html; charset=utf-8"}

HELMET_CSP = (
    "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';"
    "frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';"
    "script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests"
)


def owasp_headers() -> dict[str, str]:
    data = json.loads(OWASP_FILE.read_text())
    return {**HTML, **{h["name"]: h["value"] for h in data["headers"]}}


HELMET = {
    **HTML,
    "Content-Security-Policy": HELMET_CSP,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Origin-Agent-Cluster": "?1",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-DNS-Prefetch-Control": "off",
    "X-Download-Options": "noopen",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Permitted-Cross-Domain-Policies": "none",
    "X-XSS-Protection": "0",
}

SECURE_STRICT = {
    **HTML,
    "Cache-Control": "no-store, max-age=0",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Permissions-Policy": "geolocation=(), microphone=(), camera=()",
    "Referrer-Policy": "no-referrer",
    "Server": "",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

FLASK_TALISMAN = {
    **HTML,
    "Content-Security-Policy": "default-src 'self'; object-src 'none'",
    "Strict-Transport-Security": "max-age=31556926; includeSubDomains",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "browsing-topics=()",
}

CLOUDFRONT_MANAGED = {
    **HTML,
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Strict-Transport-Security": "max-age=31536000",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "X-XSS-Protection": "1; mode=block",
}

DJANGO = {
    **HTML,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

NO_HEADERS = dict(HTML)
