"""CSP violation reports: parse what browsers POST and reduce each violation to safe fields.

Pure: no I/O, stdlib only (this module ships inside the collector Lambda's asset).

Two wire formats arrive at the collector:

* ``application/csp-report`` — CSP's ``report-uri``: one object ``{"csp-report": {...}}`` with
  hyphenated keys (``document-uri``, ``blocked-uri``, ``effective-directive``...).
* ``application/reports+json`` — the Reporting API (``report-to``): a JSON list of reports,
  ``{"type": "csp-violation", "url", "user_agent", "body": {"documentURL", "blockedURL",
  "effectiveDirective", ...}}``; other report types (deprecation, intervention...) are ignored.

Only what an operator needs to fix a policy is kept. Query strings, fragments and user info
are stripped from every URL: a blocked third-party URL can carry someone's tokens, and so can a
first-party page URL (password-reset links). Cookies are never read.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from edgeshield.errors import EdgeshieldError

MAX_BODY_BYTES = 64 * 1024  # larger bodies are refused with 413 before parsing
MAX_REPORTS_PER_BODY = 100  # a Reporting API batch larger than this is refused as malformed
_MAX_FIELD = 1024  # longest value kept for any string field

CSP_REPORT = "application/csp-report"
REPORTS_JSON = "application/reports+json"
# Some older browsers send report-uri bodies as plain JSON.
ACCEPTED_TYPES = (CSP_REPORT, REPORTS_JSON, "application/json")

# Directives a violation can name (CSP3 + the legacy ones browsers still report). Anything else
# is reported as "other" so a hostile client cannot explode the metric's dimension values.
KNOWN_DIRECTIVES = frozenset(
    {
        "base-uri",
        "child-src",
        "connect-src",
        "default-src",
        "fenced-frame-src",
        "font-src",
        "form-action",
        "frame-ancestors",
        "frame-src",
        "img-src",
        "manifest-src",
        "media-src",
        "navigate-to",
        "object-src",
        "prefetch-src",
        "require-trusted-types-for",
        "sandbox",
        "script-src",
        "script-src-attr",
        "script-src-elem",
        "style-src",
        "style-src-attr",
        "style-src-elem",
        "trusted-types",
        "upgrade-insecure-requests",
        "worker-src",
    }
)
# Keyword values of blocked-uri that are not URLs.
_BLOCKED_KEYWORDS = frozenset({"inline", "eval", "wasm-eval", "self", "trusted-types-policy"})
_SCHEME_ONLY = re.compile(r"^[a-z][a-z0-9+.-]{0,30}$")
# Characters no report field needs and every printer of it must fear: controls (C0, DEL, C1),
# lone surrogates (valid in JSON, unencodable in UTF-8), bidi and zero-width format characters.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


def safe_text(value: str, limit: int = _MAX_FIELD) -> str:
    """A report string cut to ``limit`` with unsafe characters replaced by U+FFFD, so what
    the collector logs and stores is valid UTF-8 that no terminal interprets."""
    return _UNSAFE.sub("\ufffd", value[:limit])


class ReportError(EdgeshieldError, ValueError):
    """A request the collector refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Violation:
    document_uri: str
    effective_directive: str
    blocked_uri: str
    disposition: str
    status_code: int | None
    user_agent: str
    source_file: str | None = None
    line_number: int | None = None
    column_number: int | None = None
    report_format: str = "csp-report"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def media_type(content_type: str | None) -> str:
    """``"Application/CSP-Report; charset=utf-8"`` -> ``"application/csp-report"``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def clean_url(value: Any) -> str:
    """A URL with its query, fragment and user info removed; keywords and bare schemes kept."""
    if not isinstance(value, str) or not value:
        return ""
    text = value.strip()[: 4 * _MAX_FIELD]
    lowered = text.lower()
    if lowered in _BLOCKED_KEYWORDS or _SCHEME_ONLY.match(lowered):
        return lowered
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a port out of range ("http://a:99999/")
    except ValueError:
        return ""
    if parts.scheme in ("data", "blob", "filesystem"):
        return parts.scheme  # the payload itself is content, not a location
    host = parts.hostname or ""
    if port is not None:
        host = f"{host}:{port}"
    return safe_text(urlunsplit((parts.scheme, host, parts.path, "", "")))


def directive_name(effective: Any, violated: Any = None) -> str:
    """The effective directive's name, from CSP3's field or the first word of CSP2's
    ``violated-directive``; names outside the known set become ``"other"``."""
    for candidate in (effective, violated):
        if isinstance(candidate, str) and candidate.strip():
            name = candidate.strip().split()[0].lower()
            return name if name in KNOWN_DIRECTIVES else "other"
    return "other"


def _text(value: Any, limit: int = _MAX_FIELD) -> str:
    return safe_text(value, limit) if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    # isascii: "²".isdigit() is True, but int("²") raises.
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    return None


def _disposition(value: Any) -> str:
    return value if value in ("enforce", "report") else "enforce"


def _from_csp_report(report: Any, user_agent: str) -> Violation:
    if not isinstance(report, dict):
        raise ReportError(400, "csp-report must be a JSON object")
    source = report.get("source-file")
    return Violation(
        document_uri=clean_url(report.get("document-uri")),
        effective_directive=directive_name(
            report.get("effective-directive"), report.get("violated-directive")
        ),
        blocked_uri=clean_url(report.get("blocked-uri")),
        disposition=_disposition(report.get("disposition")),
        status_code=_int(report.get("status-code")),
        user_agent=_text(user_agent, 512),
        source_file=clean_url(source) if source else None,
        line_number=_int(report.get("line-number")),
        column_number=_int(report.get("column-number")),
        report_format="csp-report",
    )


def _from_reporting_api(item: Any) -> Violation | None:
    if not isinstance(item, dict):
        raise ReportError(400, "each report must be a JSON object")
    if item.get("type") != "csp-violation":
        return None
    body = item.get("body")
    if not isinstance(body, dict):
        raise ReportError(400, "csp-violation report without a body object")
    source = body.get("sourceFile")
    return Violation(
        document_uri=clean_url(body.get("documentURL") or item.get("url")),
        effective_directive=directive_name(
            body.get("effectiveDirective"), body.get("violatedDirective")
        ),
        blocked_uri=clean_url(body.get("blockedURL")),
        disposition=_disposition(body.get("disposition")),
        status_code=_int(body.get("statusCode")),
        user_agent=_text(item.get("user_agent"), 512),
        source_file=clean_url(source) if source else None,
        line_number=_int(body.get("lineNumber")),
        column_number=_int(body.get("columnNumber")),
        report_format="reports+json",
    )


def parse_reports(body: bytes, content_type: str | None, user_agent: str = "") -> list[Violation]:
    """The violations in one POST body. Raises ReportError(413) for an oversized body and
    ReportError(400) for anything that is not a report in an accepted format."""
    if len(body) > MAX_BODY_BYTES:
        raise ReportError(413, f"report body larger than {MAX_BODY_BYTES} bytes")
    kind = media_type(content_type)
    if kind not in ACCEPTED_TYPES:
        raise ReportError(400, f"unsupported content type {kind or '(none)'!r}")
    if not body:
        raise ReportError(400, "empty report body")
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: deep nesting
        raise ReportError(400, "report body is not valid UTF-8 JSON") from None
    if isinstance(document, dict) and "csp-report" in document and kind != REPORTS_JSON:
        return [_from_csp_report(document["csp-report"], user_agent)]
    if isinstance(document, list) and kind != CSP_REPORT:
        if len(document) > MAX_REPORTS_PER_BODY:
            raise ReportError(400, f"more than {MAX_REPORTS_PER_BODY} reports in one body")
        found = [_from_reporting_api(item) for item in document]
        return [violation for violation in found if violation is not None]
    raise ReportError(400, f"body is not a {kind} document")
