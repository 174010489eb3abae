"""The fix for each test that falls short: an edgeshield policy snippet, or advice when no
header can fix it (cookies, redirects and script tags live in the application or distribution).
Pure data; the snippets use the edgeshield.toml format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final


@dataclass(frozen=True, slots=True)
class Fix:
    summary: str
    table: str | None = None  # a policy snippet with its own tables
    headers: dict[str, str] | None = None  # simple entries of the [headers] table (TOML values)
    # ``toml``, rendered once: every report that falls short serialises it.
    rendered: str | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rendered", self.toml)

    @property
    def toml(self) -> str | None:
        """The snippet to merge into edgeshield.toml, or None if no header can fix this."""
        if self.headers:
            lines = ["[headers]"] + [f"{k} = {v}" for k, v in self.headers.items()]
            return "\n".join(lines) + "\n"
        return self.table

    def to_dict(self) -> dict[str, str]:
        out = {"summary": self.summary}
        if self.rendered is not None:
            out["toml"] = self.rendered
        return out


_STRICT_CSP: Final = """\
[headers.content-security-policy]
mode = "enforce"
[headers.content-security-policy.directives]
default-src = ["'none'"]
script-src = ["'self'"]
style-src = ["'self'"]
img-src = ["'self'"]
font-src = ["'self'"]
connect-src = ["'self'"]
base-uri = ["'self'"]
form-action = ["'self'"]
frame-ancestors = ["'none'"]
"""

_HSTS: Final = """\
[headers.strict-transport-security]
max-age = 63072000
include-subdomains = true
preload = false
"""

_CSP_FIXES: Final = {
    "csp-implemented-with-no-unsafe": Fix(
        "Start from default-src 'none' and allow each resource type explicitly (+10).",
        _STRICT_CSP,
    ),
    "csp-implemented-with-unsafe-inline-in-style-src-only": Fix(
        "Drop 'unsafe-inline', data: and scheme-wide sources from style-src; move inline styles "
        "to files or allow them by hash or nonce.",
        _STRICT_CSP,
    ),
    "csp-implemented-but-duplicate-directives": Fix(
        "List report-uri and report-to once each in a policy.",
        '[headers.content-security-policy.directives]\nreport-uri = ["/_edgeshield/csp-report"]\n',
    ),
    "csp-implemented-with-insecure-scheme-in-passive-content-only": Fix(
        "Serve images and media over HTTPS and remove http: sources from img-src/media-src.",
        "[headers.content-security-policy.directives]\n"
        'img-src = ["\'self\'", "https:"]\n'
        "media-src = [\"'self'\"]\n",
    ),
    "csp-implemented-with-unsafe-eval": Fix(
        "Remove 'unsafe-eval' from script-src and style-src (stop using eval() and friends).",
        _STRICT_CSP,
    ),
    "csp-implemented-with-unsafe-inline": Fix(
        "Set script-src and object-src without 'unsafe-inline', data: or scheme-wide sources; "
        "use nonces or hashes for inline scripts.",
        _STRICT_CSP,
    ),
    "csp-implemented-with-insecure-scheme": Fix(
        "Remove http: and ftp: sources; load every script, style and frame over HTTPS.",
        _STRICT_CSP,
    ),
    "csp-header-invalid": Fix(
        "Send one well-formed policy; the edge replaces the origin's header, so no duplicate "
        "directives survive.",
        _STRICT_CSP,
    ),
    "csp-not-implemented": Fix("Enforce a Content-Security-Policy.", _STRICT_CSP),
    "csp-not-implemented-but-reporting-enabled": Fix(
        'When the reports are clean, switch the policy from mode = "report-only" to "enforce".',
        _STRICT_CSP,
    ),
}

_FIXES: Final[dict[str, Fix]] = {
    **_CSP_FIXES,
    "hsts-preloaded": Fix("Nothing to do."),
    "hsts-implemented-max-age-at-least-six-months": Fix(
        "Optional +5: have the domain on the Chromium preload list: its HSTS needs "
        "includeSubDomains and preload (add whichever is missing), then submit it at "
        "hstspreload.org (hard to undo).",
        "[headers.strict-transport-security]\nmax-age = 63072000\n"
        "include-subdomains = true\npreload = true\n",
    ),
    "hsts-implemented-max-age-less-than-six-months": Fix(
        "Raise max-age to at least 15552000 seconds (two years is usual).", _HSTS
    ),
    "hsts-not-implemented": Fix("Send Strict-Transport-Security on HTTPS responses.", _HSTS),
    "hsts-header-invalid": Fix(
        "Send one HSTS header with a max-age; the edge's value replaces the origin's.", _HSTS
    ),
    # No snippet: browsers ignore HSTS received over plain HTTP, so no header change helps.
    "hsts-not-implemented-no-https": Fix(
        "Serve the site over HTTPS (a CloudFront viewer certificate); the policy's HSTS header "
        "only counts on HTTPS responses."
    ),
    "hsts-invalid-cert": Fix(
        "Install a certificate that validates for this host (ACM in us-east-1 for CloudFront)."
    ),
    "x-content-type-options-not-implemented": Fix(
        "Send X-Content-Type-Options: nosniff.",
        headers={"x-content-type-options": '"nosniff"'},
    ),
    "x-content-type-options-header-invalid": Fix(
        "Send exactly one X-Content-Type-Options: nosniff (the edge replaces the origin's).",
        headers={"x-content-type-options": '"nosniff"'},
    ),
    "x-frame-options-allow-from-origin": Fix(
        "ALLOW-FROM is ignored by browsers: use DENY or CSP frame-ancestors.",
        headers={"x-frame-options": '"DENY"'},
    ),
    "x-frame-options-not-implemented": Fix(
        "Forbid framing with X-Frame-Options (or frame-ancestors in the CSP).",
        headers={"x-frame-options": '"DENY"'},
    ),
    "x-frame-options-header-invalid": Fix(
        "Send one X-Frame-Options value, DENY or SAMEORIGIN; the edge replaces the origin's.",
        headers={"x-frame-options": '{ value = "DENY", override = true }'},
    ),
    "referrer-policy-not-implemented": Fix(
        "Send a private Referrer-Policy (+5).",
        headers={"referrer-policy": '"strict-origin-when-cross-origin"'},
    ),
    "referrer-policy-unsafe": Fix(
        "Use a policy that keeps paths private.",
        headers={"referrer-policy": '"strict-origin-when-cross-origin"'},
    ),
    "referrer-policy-header-invalid": Fix(
        "Use a recognised Referrer-Policy value.",
        headers={"referrer-policy": '"strict-origin-when-cross-origin"'},
    ),
    "corp-implemented-with-cross-origin": Fix(
        "Unless other sites must embed these resources, restrict them (+10).",
        headers={"cross-origin-resource-policy": '"same-origin"'},
    ),
    "corp-not-implemented": Fix(
        "Keep other sites from embedding your resources (+10).",
        headers={"cross-origin-resource-policy": '"same-origin"'},
    ),
    "corp-header-invalid": Fix(
        "Send one value: same-origin, same-site or cross-origin.",
        headers={"cross-origin-resource-policy": '"same-origin"'},
    ),
    "coop-implemented-with-unsafe-none": Fix(
        "Isolate the page from cross-origin openers (+10).",
        headers={"cross-origin-opener-policy": '"same-origin"'},
    ),
    "coop-not-implemented": Fix(
        "Isolate the page from cross-origin openers (+10); use same-origin-allow-popups if it "
        "opens OAuth or payment popups.",
        headers={"cross-origin-opener-policy": '"same-origin"'},
    ),
    "coop-header-invalid": Fix(
        "Send one lower-case token (values are case-sensitive, no quotes).",
        headers={"cross-origin-opener-policy": '"same-origin"'},
    ),
    "coep-implemented-with-unsafe-none": Fix(
        "Require cross-origin embeds to opt in (+10); credentialless is the gentler choice.",
        headers={"cross-origin-embedder-policy": '"credentialless"'},
    ),
    "coep-not-implemented": Fix(
        "Require cross-origin embeds to opt in (+10). require-corp blocks third-party "
        "resources that send no CORP/CORS headers; credentialless is gentler.",
        headers={"cross-origin-embedder-policy": '"credentialless"'},
    ),
    "coep-header-invalid": Fix(
        "Send one lower-case token (values are case-sensitive, no quotes).",
        headers={"cross-origin-embedder-policy": '"require-corp"'},
    ),
    "cross-origin-resource-sharing-implemented-with-universal-access": Fix(
        "Never echo the request Origin together with Access-Control-Allow-Credentials: true; "
        "drop the credentials header at the edge, or allow only fixed origins in the app.",
        "[[rules]]\n"
        'name = "no credentialed CORS for arbitrary origins"\n'
        'match = { path = ["/*"] }\n'
        'remove = ["access-control-allow-credentials"]\n',
    ),
    "redirection-off-host-from-http": Fix(
        "Redirect http:// to https:// on the same host first, then to the final host."
    ),
    "redirection-not-to-https-on-initial-redirection": Fix(
        "Make the first redirect go to https:// (CloudFront: viewer protocol policy "
        "redirect-to-https)."
    ),
    "redirection-not-to-https": Fix("End the redirect chain on an https:// URL."),
    "redirection-missing": Fix(
        "Redirect http:// to https:// (CloudFront: viewer protocol policy redirect-to-https)."
    ),
    "redirection-invalid-cert": Fix(
        "Fix the certificate of every HTTPS host on the redirect chain."
    ),
    "sri-not-implemented-but-external-scripts-loaded-securely": Fix(
        'Add integrity="sha384-..." and crossorigin="anonymous" to third-party <script> tags.'
    ),
    "sri-implemented-but-external-scripts-not-loaded-securely": Fix(
        "Load third-party scripts over https:// (protocol-relative // URLs count as insecure)."
    ),
    "sri-not-implemented-and-external-scripts-not-loaded-securely": Fix(
        "Load third-party scripts over https:// with integrity attributes."
    ),
    "sri-not-implemented-but-all-scripts-loaded-from-secure-origin": Fix(
        "Optional +5: add integrity attributes to your scripts."
    ),
    "sri-not-implemented-but-no-scripts-loaded": Fix("Nothing to do."),
    "sri-not-implemented-response-not-html": Fix("Nothing to do."),
    "html-not-parseable": Fix("Serve well-formed HTML."),
    "cookies-secure-with-httponly-sessions": Fix(
        "Add SameSite=Lax (or Strict) to every cookie in the application (+5)."
    ),
    "cookies-without-secure-flag-but-protected-by-hsts": Fix(
        "Add Secure to every cookie in the application."
    ),
    "cookies-session-without-secure-flag-but-protected-by-hsts": Fix(
        "Add Secure to session cookies in the application."
    ),
    "cookies-without-secure-flag": Fix("Add Secure to every cookie, and send HSTS.", _HSTS),
    "cookies-samesite-flag-invalid": Fix("Use SameSite=Strict, Lax, or None together with Secure."),
    "cookies-anticsrf-without-samesite-flag": Fix(
        "Set SameSite=Strict (or Lax) on anti-CSRF cookies."
    ),
    "cookies-session-without-httponly-flag": Fix("Set HttpOnly on session cookies."),
    "cookies-session-without-secure-flag": Fix(
        "Set Secure on session cookies, and send HSTS.", _HSTS
    ),
}


def fix_for(test: str, result: str) -> Fix | None:
    """How to improve ``result``; None when nothing can be improved."""
    fix = _FIXES.get(result)
    if fix is None or fix.summary == "Nothing to do.":
        return None
    return fix


def merged_toml(results: list[tuple[str, str]]) -> str:
    """One valid snippet with every policy fix for (test, result) pairs: a single [headers]
    table first, then the other tables once each."""
    headers: dict[str, str] = {}
    tables: list[str] = []
    for test, result in results:
        fix = fix_for(test, result)
        if fix is None:
            continue
        if fix.headers:
            for k, v in fix.headers.items():
                headers.setdefault(k, v)
        elif fix.table and fix.table not in tables:
            tables.append(fix.table)
    parts = []
    if headers:
        parts.append("[headers]\n" + "".join(f"{k} = {v}\n" for k, v in headers.items()))
    parts.extend(tables)
    return "\n".join(parts)
