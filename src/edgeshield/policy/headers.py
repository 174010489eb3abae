"""Turn one header entry of a policy into its rendered value, with every problem found.

A header entry is either a string (the value) or a table. Tables may carry ``override``
(``false`` = set only when the origin sent none, like a response headers policy's origin
override) and either ``value`` or the structured keys of that header (HSTS, CSP,
Permissions-Policy, Reporting-Endpoints).

``build`` checks the name, then hands the entry to the header's validator in ``VALIDATORS``
(header name -> function, at the end of this module); a header without one takes any value.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edgeshield import sf
from edgeshield.cloudfront import rules
from edgeshield.policy import csp
from edgeshield.policy.problems import Finding, shown


@dataclass(frozen=True)
class HeaderSetting:
    name: str  # lower-case, as it goes in the CloudFront headers dict
    key: str  # the casing sent on the wire
    value: str
    override: bool = True


# Canonical casing for headers whose casing is not the simple capitalised form.
_KEY_OVERRIDES = {
    "x-xss-protection": "X-XSS-Protection",
    "x-dns-prefetch-control": "X-DNS-Prefetch-Control",
    "content-security-policy-report-only": "Content-Security-Policy-Report-Only",
    "nel": "NEL",
    "www-authenticate": "WWW-Authenticate",
    "x-ua-compatible": "X-UA-Compatible",
}

SECURITY_HEADERS = frozenset(
    {
        "strict-transport-security",
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "x-xss-protection",
        "referrer-policy",
        "permissions-policy",
        "cross-origin-opener-policy",
        "cross-origin-embedder-policy",
        "cross-origin-resource-policy",
        "reporting-endpoints",
        "x-permitted-cross-domain-policies",
        "x-dns-prefetch-control",
        "origin-agent-cluster",
        "x-download-options",
        "cache-control",
        "clear-site-data",
    }
)

REFERRER_TOKENS = frozenset(
    {
        "no-referrer",
        "no-referrer-when-downgrade",
        "same-origin",
        "origin",
        "strict-origin",
        "origin-when-cross-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    }
)
UNSAFE_REFERRER = frozenset(
    {"no-referrer-when-downgrade", "origin", "origin-when-cross-origin", "unsafe-url"}
)
COOP_TOKENS = ("same-origin", "same-origin-allow-popups", "noopener-allow-popups", "unsafe-none")
COEP_TOKENS = ("require-corp", "credentialless", "unsafe-none")
CORP_TOKENS = ("same-origin", "same-site", "cross-origin")
# Features browsers recognise in Permissions-Policy (W3C registry plus shipped proposals).
PERMISSIONS_FEATURES = frozenset(
    {
        "accelerometer",
        "ambient-light-sensor",
        "attribution-reporting",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "captured-surface-control",
        "ch-ua",
        "ch-ua-arch",
        "ch-ua-bitness",
        "ch-ua-full-version-list",
        "ch-ua-mobile",
        "ch-ua-model",
        "ch-ua-platform",
        "ch-ua-platform-version",
        "clipboard-read",
        "clipboard-write",
        "compute-pressure",
        "cross-origin-isolated",
        "deferred-fetch",
        "digital-credentials-get",
        "direct-sockets",
        "display-capture",
        "document-domain",
        "encrypted-media",
        "execution-while-not-rendered",
        "execution-while-out-of-viewport",
        "fullscreen",
        "gamepad",
        "geolocation",
        "gyroscope",
        "hid",
        "identity-credentials-get",
        "idle-detection",
        "interest-cohort",
        "join-ad-interest-group",
        "keyboard-map",
        "language-detector",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "navigation-override",
        "otp-credentials",
        "payment",
        "picture-in-picture",
        "private-state-token-issuance",
        "private-state-token-redemption",
        "publickey-credentials-create",
        "publickey-credentials-get",
        "rewriter",
        "run-ad-auction",
        "screen-wake-lock",
        "serial",
        "shared-storage",
        "shared-storage-select-url",
        "speaker-selection",
        "storage-access",
        "summarizer",
        "sync-xhr",
        "translator",
        "unload",
        "usb",
        "vertical-scroll",
        "web-share",
        "window-management",
        "writer",
        "xr-spatial-tracking",
    }
)
# The edge engine refuses these families too (edge/engine.py); the policy says so up front.
AWS_RESERVED_PREFIXES = ("x-amzn-", "x-accel-")
# Set or removed by the policy, these would contradict the body the function never sees.
FRAMING_HEADERS = frozenset({"content-length", "content-encoding", "content-range"})
WARN_VALUE_BYTES = 8192
MAX_VALUE_BYTES = 16384
# https://github.com/mdn/mdn-http-observatory/blob/main/src/analyzer/tests/strict-transport-security.js
SIX_MONTHS = 15_552_000  # 180 days: the Observatory's threshold (its HSTS test, linked above)
PRELOAD_MIN_AGE = 31_536_000  # hstspreload.org requires at least one year
_ORIGIN_RE = re.compile(r"^https?://[^\s/\"]+$")


def wire_key(name: str) -> str:
    return _KEY_OVERRIDES.get(name, rules.canonical_key(name))


# Names checked for typos: within TYPO_DISTANCE edits of one of these is an error.
KNOWN_HEADERS = SECURITY_HEADERS | {"content-security-policy-report-only"}
TYPO_DISTANCE = 2


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    two neighbours (``optoins``) each count one."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def misspelt_header(name: str) -> str | None:
    """The security header ``name`` is a typo of, if it is within a few edits of one."""
    if name in KNOWN_HEADERS:
        return None
    # The distance is at least the difference in length: only names of about the same length
    # can be typos (and a megabyte-long name is not compared character by character).
    near = [k for k in KNOWN_HEADERS if abs(len(k) - len(name)) <= TYPO_DISTANCE]
    if not near:
        return None
    best = min(near, key=lambda known: (edit_distance(name, known), known))
    return best if edit_distance(name, best) <= TYPO_DISTANCE else None


def _close(name: str, choices: frozenset[str] | tuple[str, ...]) -> str | None:
    found = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.75)
    return found[0] if found else None


_C1_RE = re.compile(r"[\x80-\x9f]")


def check_value(value: str) -> list[Finding]:
    """Characters CloudFront or HTTP refuse in a header value: C0 controls but tab, DEL, and
    the C1 controls U+0080-U+009F (Latin-1 code points that are controls, e.g. U+0085 NEL)."""
    bad = rules.control_character(value)
    if bad is None and (c1 := _C1_RE.search(value)) is not None:
        bad = c1.group(0)
    if bad is not None:
        return [
            (
                "",
                f"value contains the control character {bad!r}",
                "header values may not contain CR, LF, NUL or other control characters (CloudFront rejects them with a 502)",
                "error",
            )
        ]
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return [
            (
                "",
                "value contains text outside Latin-1",
                "HTTP header values are Latin-1; percent-encode URLs and keep text ASCII",
                "error",
            )
        ]
    if len(value) > MAX_VALUE_BYTES:
        return [
            (
                "",
                f"value is {len(value)} bytes long",
                f"at most {MAX_VALUE_BYTES} bytes: servers, proxies and browsers refuse longer header lines",
                "error",
            )
        ]
    if len(value) > WARN_VALUE_BYTES:
        return [
            (
                "",
                f"value is {len(value)} bytes long",
                "many browsers and proxies refuse header lines over 8 KB; shorten it",
                "warning",
            )
        ]
    return []


def check_name(name: str, trigger: str, action: str) -> list[Finding]:
    """A header name the policy adds or removes: a token CloudFront lets a function touch."""
    if not rules.is_token(name):
        return [
            (
                "",
                f"{name!r} is not a valid header name",
                "use letters, digits and !#$%&'*+-.^_`|~ only",
                "error",
            )
        ]
    if rules.is_disallowed(name):
        return [
            (
                "",
                f"CloudFront does not let Lambda@Edge {action} {name!r}",
                "remove it from the policy: CloudFront answers 502 LambdaValidationError (disallowed headers: Connection, Keep-Alive, Upgrade, X-Cache, X-Amz-Cf-*, X-Edge-*, …)",
                "error",
            )
        ]
    if name.lower().startswith(AWS_RESERVED_PREFIXES):
        return [
            (
                "",
                f"{name!r} is in a family AWS reserves",
                "remove it: CloudFront owns X-Amzn-* (older AWS docs disallow the whole family) and "
                "X-Accel-*, and edgeshield's function never touches them",
                "error",
            )
        ]
    if name.lower() in FRAMING_HEADERS:
        return [
            (
                "",
                f"the policy must not {action} {name!r}",
                "it describes the body's framing or encoding, which the function never sees; "
                "changing it corrupts responses (CloudFront and the origin set it)",
                "error",
            )
        ]
    if rules.is_read_only(name, trigger):
        read_only = ", ".join(sorted(rules.READ_ONLY_HEADERS[trigger]))
        return [
            (
                "",
                f"{name!r} is read-only on {trigger}",
                f"remove it from the policy; on {trigger} a function may not add, change or delete {read_only} (502 LambdaValidationError)",
                "error",
            )
        ]
    return []


def _table_keys(spec: dict[str, Any], allowed: set[str]) -> list[Finding]:
    findings: list[Finding] = []
    for key in spec:
        if key not in allowed:
            hint = _close(key, tuple(allowed))
            findings.append(
                (
                    key,
                    f"unknown key {key!r}",
                    f"did you mean {hint!r}?" if hint else "allowed: " + ", ".join(sorted(allowed)),
                    "error",
                )
            )
    return findings


def _bool(spec: dict[str, Any], key: str, default: bool, findings: list[Finding]) -> bool:
    value = spec.get(key, default)
    if not isinstance(value, bool):
        findings.append(
            (
                key,
                f"{key} must be true or false, not {shown(value)}",
                "write true or false",
                "error",
            )
        )
        return default
    return value


# What a header's validator does: read the policy's entry (``spec``), add every problem to
# ``findings``, and return the rendered value (None when it cannot be rendered).
Validator = Callable[[Any, list[Finding]], str | None]
# The simpler kind: the value as written (a string, or ``{ value = "…" }``) -> rendered value.
ValueCheck = Callable[[str, list[Finding]], str | None]


def build(name: str, spec: Any, trigger: str) -> tuple[HeaderSetting | None, list[Finding]]:
    """One header entry -> its setting and the problems found."""
    findings = check_name(name, trigger, "set")
    if any(f[3] == "error" for f in findings):
        return None, findings
    override = True
    custom = False
    if isinstance(spec, dict):
        override = _bool(spec, "override", True, findings)
        custom = _bool(spec, "custom", False, findings)
    if not _known_or_custom(name, custom, findings):
        return None, findings
    validator = VALIDATORS.get(name)
    value = validator(spec, findings) if validator else _other(name, spec, findings, custom)
    if value is None:
        return None, findings
    if name == "content-security-policy" and _report_only(spec):
        name = "content-security-policy-report-only"
    if not any(f[3] == "error" for f in findings):  # else the error already says where
        findings.extend(check_value(value))
    if any(f[3] == "error" for f in findings):
        return None, findings
    return HeaderSetting(name, wire_key(name), value, override), findings


def _known_or_custom(name: str, custom: bool, findings: list[Finding]) -> bool:
    """False (with the error) for ``custom = true`` on a header we check, or for a name that
    is a typo of one."""
    if custom and name in KNOWN_HEADERS:
        findings.append(
            (
                "custom",
                f"custom = true is for your own headers; {name!r} is one edgeshield checks",
                "remove custom = true",
                "error",
            )
        )
        return False
    typo = None if custom else misspelt_header(name)
    if typo is not None:
        findings.append(
            (
                "",
                f"unknown header {name!r}: a misspelt {typo!r}? Browsers ignore it",
                f"rename it to {typo!r}, or if it is your own header mark it: "
                f'{name} = {{ value = "…", custom = true }}',
                "error",
            )
        )
        return False
    return True


def _plain_value(spec: Any, findings: list[Finding], extra: set[str] | None = None) -> str | None:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        findings.extend(_table_keys(spec, {"value", "override", *(extra or set())}))
        value = spec.get("value")
        if isinstance(value, str):
            return value
        findings.append(
            (
                "",
                "missing string 'value'",
                'write value = "…" or give the value as a string',
                "error",
            )
        )
        return None
    findings.append(
        (
            "",
            f"expected a string or a table, not {shown(spec)}",
            'write name = "value" or name = { value = "…", override = false }',
            "error",
        )
    )
    return None


def _plain(check: ValueCheck) -> Validator:
    """A validator for a header written only as a value: read the value, then ``check`` it."""

    def validate(spec: Any, findings: list[Finding]) -> str | None:
        value = _plain_value(spec, findings)
        return None if value is None else check(value, findings)

    return validate


def _other(name: str, spec: Any, findings: list[Finding], custom: bool) -> str | None:
    """A header without a validator of its own: any value; a warning when the name looks like
    a security header's."""
    value = _plain_value(spec, findings, None if name in KNOWN_HEADERS else {"custom"})
    if value is None:
        return None
    if name not in SECURITY_HEADERS and not custom:
        close = _close(name, SECURITY_HEADERS)
        if close:
            findings.append(
                (
                    "",
                    f"custom header {name!r} looks like a misspelt {close!r}",
                    f"rename it to {close!r} if that was meant",
                    "warning",
                )
            )
    return value


def _nosniff(value: str, findings: list[Finding]) -> str | None:
    if value.strip().lower() != "nosniff":
        findings.append(("", f"invalid value {value!r}", 'the only value is "nosniff"', "error"))
        return None
    return "nosniff"


def _frame_options(value: str, findings: list[Finding]) -> str | None:
    lower = value.strip().lower()
    if lower.startswith("allow-from"):
        findings.append(
            (
                "",
                "ALLOW-FROM is not supported by any current browser",
                "use DENY or SAMEORIGIN, and CSP frame-ancestors to allow specific origins",
                "error",
            )
        )
        return None
    if lower not in ("deny", "sameorigin"):
        findings.append(("", f"invalid value {value!r}", "use DENY or SAMEORIGIN", "error"))
        return None
    return lower.upper()


def _xss_protection(value: str, findings: list[Finding]) -> str | None:
    token = value.strip()
    if token == "0":
        return token
    if re.fullmatch(r"1\s*(;\s*mode=block|;\s*report=\S+)?", token):
        findings.append(
            (
                "",
                f"{value!r} turns on the legacy XSS auditor, which itself enabled cross-site leaks",
                'use "0" and rely on Content-Security-Policy',
                "warning",
            )
        )
        return token
    findings.append(
        (
            "",
            f"invalid value {value!r}",
            'use "0" (recommended), "1" or "1; mode=block"',
            "error",
        )
    )
    return None


def _referrer_policy(value: str, findings: list[Finding]) -> str | None:
    tokens = [t.strip().lower() for t in value.strip().split(",") if t.strip()]
    unknown = [t for t in tokens if t not in REFERRER_TOKENS]
    if not tokens or unknown:
        bad = unknown[0] if unknown else value
        hint = _close(bad, REFERRER_TOKENS) if unknown else None
        findings.append(
            (
                "",
                f"unknown Referrer-Policy {bad!r}",
                f"did you mean {hint!r}?"
                if hint
                else "allowed: " + ", ".join(sorted(REFERRER_TOKENS)),
                "error",
            )
        )
        return None
    if tokens[-1] in UNSAFE_REFERRER:
        findings.append(
            (
                "",
                f"{tokens[-1]!r} sends full or cross-origin referrers",
                "use strict-origin-when-cross-origin or no-referrer",
                "warning",
            )
        )
    return ", ".join(tokens)


def _resource_policy(value: str, findings: list[Finding]) -> str | None:
    token = value.strip()
    if token in CORP_TOKENS:
        return token
    lower = token.lower()
    hint = _close(lower, CORP_TOKENS)
    findings.append(
        (
            "",
            f"invalid value {value!r}",
            f"use {hint!r}" if hint and hint == lower else "allowed: " + ", ".join(CORP_TOKENS),
            "error",
        )
    )
    return None


def _structured_token(allowed: tuple[str, ...]) -> ValueCheck:
    """COOP/COEP are RFC 8941 items whose value is a token: case matters. Read by the
    grader's own reader (sf.item_token), so `check` accepts exactly what the grade accepts."""

    def check(value: str, findings: list[Finding]) -> str | None:
        token = sf.item_token(value)
        if token is None or token not in allowed:
            # A quoted string or a different case of an allowed token: say which was meant.
            lowered = (token or value.strip().split(";")[0].strip().strip('"')).lower()
            fix = (
                f"write {lowered!r} (tokens are case-sensitive and unquoted)"
                if lowered in allowed
                else "allowed: " + ", ".join(allowed)
            )
            findings.append(("", f"invalid value {value!r}", fix, "error"))
            return None
        return value.strip()

    return check


MAX_AGE_DIGITS = 12  # more is no number of seconds anyone means (10**12 s is 31,000 years)


def _hsts_string(text: str, findings: list[Finding]) -> dict[str, Any]:
    """The header's own syntax (``max-age=N; includeSubDomains; preload``) as table keys."""
    table: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        key, _, raw = part.partition("=")
        key = key.strip().lower()
        if key == "max-age":
            raw = raw.strip().strip('"')
            # isascii: str.isdigit() is also true for "²" and other non-ASCII digits.
            ok = raw.isascii() and raw.isdigit() and len(raw) <= MAX_AGE_DIGITS
            table["max-age"] = int(raw) if ok else raw
        elif key == "includesubdomains":
            table["include-subdomains"] = True
        elif key == "preload":
            table["preload"] = True
        else:
            findings.append(
                (
                    "",
                    f"unknown HSTS directive {part!r}",
                    "allowed: max-age=N; includeSubDomains; preload",
                    "error",
                )
            )
    return table


def _hsts_table(spec: Any, findings: list[Finding]) -> dict[str, Any] | None:
    """Any of the three spellings (the header string, ``{ value = "…" }``, the keys) as keys."""
    if isinstance(spec, str):
        return _hsts_string(spec, findings)
    if isinstance(spec, dict) and "value" in spec:
        findings.extend(_table_keys(spec, {"value", "override"}))
        if not isinstance(spec["value"], str):
            findings.append(
                ("value", "value must be a string", 'e.g. value = "max-age=63072000"', "error")
            )
            return None
        return _hsts_string(spec["value"], findings)
    if isinstance(spec, dict):
        findings.extend(_table_keys(spec, {"max-age", "include-subdomains", "preload", "override"}))
        return spec
    findings.append(
        (
            "",
            "expected a table",
            "write [headers.strict-transport-security] with max-age = 63072000",
            "error",
        )
    )
    return None


def _max_age(table: dict[str, Any], findings: list[Finding]) -> int | None:
    max_age = table.get("max-age")
    if max_age is None:
        findings.append(
            ("max-age", "max-age is missing", "e.g. max-age = 63072000 (two years)", "error")
        )
        return None
    if (
        isinstance(max_age, bool)
        or not isinstance(max_age, int)
        or not 0 <= max_age < 10**MAX_AGE_DIGITS
    ):
        findings.append(
            (
                "max-age",
                f"max-age must be a whole number of seconds, not {shown(max_age)}",
                "e.g. max-age = 63072000 (two years)",
                "error",
            )
        )
        return None
    return max_age


def _hsts(spec: Any, findings: list[Finding]) -> str | None:
    table = _hsts_table(spec, findings)
    max_age = None if table is None else _max_age(table, findings)
    if table is None or max_age is None:
        return None
    include = _bool(table, "include-subdomains", False, findings)
    preload = _bool(table, "preload", False, findings)
    findings.extend(_hsts_advice(max_age, include, preload))
    value = f"max-age={max_age}"
    if include:
        value += "; includeSubDomains"
    if preload:
        value += "; preload"
    return value


def _hsts_advice(max_age: int, include: bool, preload: bool) -> list[Finding]:
    """What the preload list requires, and what the Observatory deducts for."""
    findings: list[Finding] = []
    if preload and not include:
        findings.append(
            (
                "preload",
                "preload without include-subdomains",
                "the preload list requires include-subdomains = true",
                "error",
            )
        )
    if preload and max_age < PRELOAD_MIN_AGE:
        findings.append(
            (
                "preload",
                f"preload with max-age {max_age} (under one year)",
                "the preload list requires max-age >= 31536000",
                "error",
            )
        )
    if max_age == 0:
        findings.append(
            (
                "max-age",
                "max-age = 0 tells browsers to forget HSTS",
                "use at least 15552000 (180 days); 63072000 is common",
                "warning",
            )
        )
    elif max_age < SIX_MONTHS:
        findings.append(
            (
                "max-age",
                f"max-age {max_age} is under 180 days",
                "use at least 15552000; the Observatory deducts points below that",
                "warning",
            )
        )
    return findings


def _report_only(spec: Any) -> bool:
    """A CSP entry written with mode = "report-only" is sent as the report-only header."""
    return isinstance(spec, dict) and spec.get("mode") == "report-only"


def _csp_report_only(spec: Any, findings: list[Finding]) -> str | None:
    """The same policy written under the report-only header's own name."""
    if isinstance(spec, str):
        spec = {"mode": "report-only", "value": spec}
    elif isinstance(spec, dict):
        spec = {**spec, "mode": "report-only"}
    return _csp(spec, findings)


def _csp(spec: Any, findings: list[Finding]) -> str | None:
    mode = "enforce"
    if isinstance(spec, str):
        directives: dict[str, list[str]] | None = _csp_string(
            spec,
            None,
            "browsers ignore the second one; merge the sources into one directive",
            findings,
        )
    elif isinstance(spec, dict):
        mode = _csp_mode(spec, findings)
        directives = _csp_table(spec, findings)
    else:
        findings.append(("", "expected a string or a table", "see docs/policy.md", "error"))
        return None
    if directives is None:
        return None
    if not directives:
        findings.append(("", "empty policy", "add at least default-src", "error"))
        return None
    prefix = "directives." if isinstance(spec, dict) and "directives" in spec else ""
    for where, what, fix, severity in csp.check_directives(directives, mode):
        where = "mode" if where == "mode" else prefix + where
        findings.append((where, what, fix, severity))
    if isinstance(spec, dict) and "fitted" in spec:
        directives = _fitted(spec["fitted"], directives, findings)
    return csp.render(directives)


def _csp_string(
    text: str, where: str | None, fix: str, findings: list[Finding]
) -> dict[str, list[str]]:
    """A policy string -> directives; a repeated directive is an error at ``where`` (None:
    at the directive itself)."""
    directives, duplicates = csp.parse_raw(text)
    for dup in duplicates:
        findings.append(
            (dup if where is None else where, f"directive {dup!r} appears twice", fix, "error")
        )
    return directives


def _csp_mode(spec: dict[str, Any], findings: list[Finding]) -> str:
    findings.extend(_table_keys(spec, {"mode", "value", "directives", "override", "fitted"}))
    mode = spec.get("mode", "enforce")
    if mode not in ("enforce", "report-only"):
        findings.append(
            ("mode", f"unknown mode {mode!r}", 'use "enforce" or "report-only"', "error")
        )
        return "enforce"
    return str(mode)


def _csp_table(spec: dict[str, Any], findings: list[Finding]) -> dict[str, list[str]] | None:
    """The directives of a table entry: from its ``value`` string or its ``directives`` table."""
    if ("value" in spec) == ("directives" in spec):
        findings.append(
            (
                "",
                "give either value (a policy string) or a directives table",
                "not both, not neither",
                "error",
            )
        )
        return None
    if "directives" in spec:
        return _csp_directives(spec["directives"], findings)
    if not isinstance(spec["value"], str):
        findings.append(
            ("value", "value must be a string", "e.g. value = \"default-src 'self'\"", "error")
        )
        return None
    return _csp_string(
        spec["value"], "value", "browsers ignore the second one; merge them", findings
    )


def _csp_directives(raw: Any, findings: list[Finding]) -> dict[str, list[str]] | None:
    """``[….directives]``: directive name -> sources (a list, or one string of them)."""
    if not isinstance(raw, dict):
        findings.append(
            (
                "directives",
                "directives must be a table",
                "e.g. [headers.content-security-policy.directives]",
                "error",
            )
        )
        return None
    directives: dict[str, list[str]] = {}
    for key, sources in raw.items():
        lower = key.lower()
        if lower in directives:
            findings.append(
                (
                    f"directives.{key}",
                    f"directive {lower!r} appears twice",
                    "merge the sources into one key",
                    "error",
                )
            )
            continue
        if isinstance(sources, str):
            sources = csp.split_ascii_whitespace(sources)
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            findings.append(
                (
                    f"directives.{key}",
                    "sources must be a list of strings",
                    'e.g. script-src = ["\'self\'", "https://cdn.example.com"]',
                    "error",
                )
            )
            continue
        directives[lower] = list(sources)
    return directives


def _fitted(
    table: Any, directives: dict[str, list[str]], findings: list[Finding]
) -> dict[str, list[str]]:
    """Merge the sources ``edgeshield csp fit`` wrote (``fitted``) into the user's directives."""
    from edgeshield.policy.csp_pages import merge_sources

    if not isinstance(table, dict):
        findings.append(
            ("fitted", "fitted must be a table", "it is written by `edgeshield csp fit`", "error")
        )
        return directives
    additions: dict[str, list[str]] = {}
    for key, sources in table.items():
        if key == "per-page":
            findings.extend(_per_page_name(sources))
            continue
        checked = _fitted_sources(key, sources, findings)
        if checked is not None:
            additions[key.lower()] = checked
    return merge_sources(directives, additions)


def _per_page_name(file: Any) -> list[Finding]:
    if isinstance(file, str) and file.strip():
        return []
    return [
        (
            "fitted.per-page",
            "per-page must be a file name",
            'e.g. "edgeshield.csp-pages.json"',
            "error",
        )
    ]


def _fitted_sources(key: str, sources: Any, findings: list[Finding]) -> list[str] | None:
    """One fitted directive's sources, checked (None = not usable)."""
    from edgeshield.policy.csp_pages import PAGE_DIRECTIVES

    where = f"fitted.{key}"
    if key.lower() not in PAGE_DIRECTIVES:
        findings.append(
            (
                where,
                f"{key!r} cannot be fitted",
                "fetch directives (script-src, img-src, …), base-uri, form-action or per-page",
                "error",
            )
        )
        return None
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        findings.append(
            (where, "sources must be a list of strings", "re-run `edgeshield csp fit`", "error")
        )
        return None
    for _w, what, fix, severity in (f for s in sources for f in csp.check_source(key, s)):
        findings.append((where, what, fix, severity))
    return list(sources)


def _permissions(spec: Any, findings: list[Finding]) -> str | None:
    raw = _permissions_text(spec, findings)
    if raw is None:
        return None
    try:
        parsed = sf.parse_dictionary(raw)
    except sf.SFError as exc:
        findings.append(
            (
                "",
                f"not a valid structured-field dictionary ({exc})",
                'write feature=(self "https://a.example"), one per feature, comma-separated',
                "error",
            )
        )
        return None
    for feature, (member, _params) in parsed.items():
        findings.extend(_permissions_member(feature, member))
    if not parsed:
        findings.append(
            (
                "",
                "empty Permissions-Policy",
                "list at least one feature, or leave the header out",
                "warning",
            )
        )
    return raw


def _permissions_text(spec: Any, findings: list[Finding]) -> str | None:
    """The header value: as written, or rendered from a features table."""
    if isinstance(spec, str):
        return spec
    if not isinstance(spec, dict):
        findings.append(("", "expected a string or a table", "see docs/policy.md", "error"))
        return None
    findings.extend(_table_keys(spec, {"features", "value", "override"}))
    if "value" in spec and isinstance(spec["value"], str):
        return str(spec["value"])
    if isinstance(spec.get("features"), dict):
        parts = []
        for feature, allow in spec["features"].items():
            rendered = _allowlist(feature, allow, findings)
            if rendered is not None:
                parts.append(f"{feature}={rendered}")
        return ", ".join(parts)
    findings.append(
        (
            "",
            "give a features table or a value string",
            "e.g. [headers.permissions-policy.features] geolocation = []",
            "error",
        )
    )
    return None


def _permissions_member(feature: str, member: Any) -> list[Finding]:
    """One parsed feature: a name browsers know, and an allowlist they can read."""
    findings: list[Finding] = []
    if feature not in PERMISSIONS_FEATURES:
        hint = _close(feature, PERMISSIONS_FEATURES)
        findings.append(
            (
                f"features.{feature}",
                f"unknown feature {feature!r}",
                f"did you mean {hint!r}?"
                if hint
                else "see the Permissions-Policy feature list in docs/policy.md",
                "error",
            )
        )
    items = member if isinstance(member, list) else [(member, {})]
    for item, _ in items:
        # An allowlist holds the tokens self, * and src, and origins as strings; anything
        # else (numbers, booleans, a bare key) is valid syntax that browsers ignore.
        if isinstance(item, sf.Token):
            ok = item in ("self", "*", "src")
        else:
            ok = (
                isinstance(item, str)
                and not isinstance(item, bool)
                and bool(_ORIGIN_RE.match(item))
            )
        if not ok:
            findings.append(
                (
                    f"features.{feature}",
                    f"invalid allowlist entry {shown(item)}",
                    'use () for none, self, *, or a quoted origin like "https://a.example"',
                    "error",
                )
            )
    return findings


def _allowlist(feature: str, allow: Any, findings: list[Finding]) -> str | None:
    where = f"features.{feature}"
    if isinstance(allow, str):
        allow = [allow]
    if not isinstance(allow, list) or not all(isinstance(a, str) for a in allow):
        findings.append(
            (
                where,
                "allowlist must be a list of strings",
                'e.g. [] for none, ["self"], ["self", "https://a.example"]',
                "error",
            )
        )
        return None
    if allow == ["*"]:
        return "*"
    out = []
    for entry in allow:
        if entry in ("self", "src"):
            out.append(entry)
        elif entry == "'self'":
            findings.append(
                (
                    where,
                    "'self' is written without quotes in Permissions-Policy",
                    'write "self"',
                    "error",
                )
            )
        elif entry == "*":
            findings.append((where, "* must be the only entry", 'write ["*"]', "error"))
        elif _ORIGIN_RE.match(entry):
            out.append(f'"{entry}"')
        else:
            findings.append(
                (
                    where,
                    f"invalid allowlist entry {entry!r}",
                    'use "self", "*", or an origin like "https://a.example"',
                    "error",
                )
            )
    return "(" + " ".join(out) + ")"


def _reporting_endpoints(spec: Any, findings: list[Finding]) -> str | None:
    if isinstance(spec, dict) and isinstance(spec.get("endpoints"), dict):
        return _endpoints_table(spec, findings)
    value = _plain_value(spec, findings)
    if value is None:
        return None
    try:
        members = sf.parse_dictionary(value)
    except sf.SFError as exc:
        findings.append(
            (
                "",
                f"not a valid structured-field dictionary ({exc})",
                'write name="https://…", comma-separated',
                "error",
            )
        )
        return None
    for endpoint, (url, _params) in members.items():
        if not isinstance(url, str) or isinstance(url, sf.Token):
            findings.append(
                (
                    "",
                    f"endpoint {endpoint!r} is not a quoted URL",
                    f'write {endpoint}="https://…"',
                    "error",
                )
            )
            continue
        findings.extend(csp.check_report_url("", url, secure_only=True))
    return value


def _endpoints_table(spec: dict[str, Any], findings: list[Finding]) -> str | None:
    """``{ endpoints = { name = "url" } }`` rendered as the header's dictionary."""
    findings.extend(_table_keys(spec, {"endpoints", "override"}))
    parts = []
    for endpoint, url in spec["endpoints"].items():
        if not isinstance(url, str) or not url or '"' in url:
            findings.append(
                (
                    f"endpoints.{endpoint}",
                    "endpoint URL must be a non-empty string",
                    'e.g. csp = "/_edgeshield/csp-report"',
                    "error",
                )
            )
            continue
        bad = csp.check_report_url(f"endpoints.{endpoint}", url, secure_only=True)
        findings.extend(bad)
        if not bad:
            parts.append(f'{endpoint}="{url}"')
    rendered = ", ".join(parts)
    try:  # the same structured-field check as a raw value
        sf.parse_dictionary(rendered)
    except sf.SFError as exc:
        findings.append(
            (
                "endpoints",
                f"not a valid Reporting-Endpoints value ({exc})",
                "endpoint names are lower-case tokens (a-z, 0-9, _ - . *), URLs ASCII without quotes or backslashes",
                "error",
            )
        )
        return None
    return rendered


# Header name -> its validator. A name not here takes any value (``_other``).
VALIDATORS: dict[str, Validator] = {
    "strict-transport-security": _hsts,
    "content-security-policy": _csp,
    "content-security-policy-report-only": _csp_report_only,
    "permissions-policy": _permissions,
    "reporting-endpoints": _reporting_endpoints,
    "x-content-type-options": _plain(_nosniff),
    "x-frame-options": _plain(_frame_options),
    "x-xss-protection": _plain(_xss_protection),
    "referrer-policy": _plain(_referrer_policy),
    "cross-origin-opener-policy": _plain(_structured_token(COOP_TOKENS)),
    "cross-origin-embedder-policy": _plain(_structured_token(COEP_TOKENS)),
    "cross-origin-resource-policy": _plain(_resource_policy),
}
