"""The policy as a CloudFront response headers policy (``AWS::CloudFront::ResponseHeadersPolicy``).

A response headers policy holds static values: six security headers with fixed forms, up to
ten custom headers, and a list of headers to remove. CloudFront applies it to every response
of the cache behaviours it is attached to, from the cache and from the origin (sources in
``facts``). ``reasons`` says exactly why a policy cannot be carried; ``config`` builds the
CloudFormation ``ResponseHeadersPolicyConfig`` when it can.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from edgeshield.targets import facts
from edgeshield.targets.merge import Base, base, condition_kinds, lambda_only_features

if TYPE_CHECKING:
    from edgeshield.policy.compiled import CompiledPolicy

_HSTS = re.compile(r"^max-age=(\d+)(; includeSubDomains)?(; preload)?$")
_XSS = re.compile(r"^(0|1)(?:; mode=block|; report=(\S+))?$")
SECURITY = (
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "strict-transport-security",
    "x-xss-protection",
)


def render_hsts(max_age: int, include: bool, preload: bool) -> str:
    """How CloudFront writes the HSTS header from a policy's settings (the same form
    edgeshield's policy renders, so an exact match is a string comparison)."""
    return (
        f"max-age={max_age}"
        + ("; includeSubDomains" if include else "")
        + ("; preload" if preload else "")
    )


def _security(name: str, value: str, override: bool) -> tuple[str, dict[str, Any]] | str:
    """The SecurityHeadersConfig entry for one header, or why it does not fit."""
    if name == "content-security-policy":
        if len(value) > facts.RHP_CSP_MAX:
            return f"CSP is {len(value):,} characters, over {facts.RHP_CSP_MAX:,}"
        return "ContentSecurityPolicy", {"ContentSecurityPolicy": value, "Override": override}
    if name == "x-content-type-options":
        if value != "nosniff":
            return (
                f"X-Content-Type-Options {value!r}: a response headers policy sends only 'nosniff'"
            )
        return "ContentTypeOptions", {"Override": override}
    if name == "x-frame-options":
        if value not in facts.RHP_FRAME_OPTIONS:
            return f"X-Frame-Options {value!r}: a response headers policy allows DENY or SAMEORIGIN"
        return "FrameOptions", {"FrameOption": value, "Override": override}
    if name == "referrer-policy":
        if value not in facts.RHP_REFERRER_POLICIES:
            return (
                f"Referrer-Policy {value!r}: a response headers policy allows one of its 8 values"
            )
        return "ReferrerPolicy", {"ReferrerPolicy": value, "Override": override}
    if name == "strict-transport-security":
        m = _HSTS.match(value)
        if m is None:
            return f"Strict-Transport-Security {value!r} is not a form a response headers policy writes"
        return "StrictTransportSecurity", {
            "AccessControlMaxAgeSec": int(m.group(1)),
            "IncludeSubdomains": bool(m.group(2)),
            "Preload": bool(m.group(3)),
            "Override": override,
        }
    m = _XSS.match(value)  # x-xss-protection
    if m is None:
        return f"X-XSS-Protection {value!r} is not a form a response headers policy writes"
    entry: dict[str, Any] = {"Protection": m.group(1) == "1", "Override": override}
    if m.group(1) == "1":
        entry["ModeBlock"] = "mode=block" in value
        if m.group(2):
            entry["ReportUri"] = m.group(2)
    return "XSSProtection", entry


def _analyse(compiled: CompiledPolicy) -> tuple[dict[str, Any], list[str]]:
    b: Base = base(compiled)
    reasons: list[str] = []
    for rule in b.conditional:
        for kind in condition_kinds(rule):
            if kind == "path":
                reasons.append(
                    f"rule {rule['name']!r} varies by path (a response headers policy applies to a "
                    "whole cache behaviour; edgeshield emits one policy for the default behaviour)"
                )
            else:
                reasons.append(f"rule {rule['name']!r} varies by {kind}")
    pages = compiled.get("csp_pages")
    if pages:
        reasons.append(
            f"per-page CSP manifest ({len(pages.get('paths', {})):,} paths): "
            "a response headers policy has one CSP"
        )
    reasons.extend(lambda_only_features(compiled))

    security: dict[str, Any] = {}
    custom: list[dict[str, Any]] = []
    for name, (key, value, override) in b.headers.items():
        if name in SECURITY:
            fitted = _security(name, value, override)
            if isinstance(fitted, str):
                reasons.append(fitted)
            else:
                security[fitted[0]] = fitted[1]
            continue
        if len(key) > facts.RHP_HEADER_NAME_MAX:
            reasons.append(
                f"header name {key[:40]!r}… is over {facts.RHP_HEADER_NAME_MAX} characters"
            )
        if len(value) > facts.RHP_HEADER_VALUE_MAX:
            reasons.append(
                f"{key} is {len(value):,} characters, over {facts.RHP_HEADER_VALUE_MAX:,}"
            )
        custom.append({"Header": key, "Value": value, "Override": override})
    if len(custom) > facts.RHP_CUSTOM_HEADERS_MAX:
        reasons.append(
            f"{len(custom)} custom headers, over {facts.RHP_CUSTOM_HEADERS_MAX} per policy"
        )
    total = sum(len(c["Header"]) + len(c["Value"]) for c in custom)
    if total > facts.RHP_CUSTOM_TOTAL_MAX:
        reasons.append(
            f"custom header names and values total {total:,} characters, over {facts.RHP_CUSTOM_TOTAL_MAX:,}"
        )

    removable: list[dict[str, str]] = []
    for name in b.remove:
        if name in facts.RHP_CANNOT_REMOVE or name.startswith(facts.RHP_CANNOT_REMOVE_PREFIXES):
            reasons.append(f"a response headers policy cannot remove {name!r}")
        else:  # Server and Date come back as CloudFront's own, as after a function
            removable.append({"Header": name})

    config: dict[str, Any] = {}
    if security:
        config["SecurityHeadersConfig"] = security
    if custom:
        config["CustomHeadersConfig"] = {"Items": custom}
    if removable:
        config["RemoveHeadersConfig"] = {"Items": removable}
    return config, reasons


def reasons(compiled: CompiledPolicy) -> list[str]:
    """Why a response headers policy cannot give exactly the headers the policy gives; []
    when it can."""
    return _analyse(compiled)[1]


def config(compiled: CompiledPolicy, name: str, comment: str = "") -> dict[str, Any]:
    """The ``ResponseHeadersPolicyConfig`` for the policy (best effort when ``reasons`` is not
    empty: what does not fit is left out)."""
    body, _reasons = _analyse(compiled)
    out: dict[str, Any] = {"Name": name}
    if comment:
        out["Comment"] = comment[:128]
    out.update(body)
    return out


def cloudformation(compiled: CompiledPolicy, name: str = "edgeshield") -> dict[str, Any]:
    """A CloudFormation template holding the policy as one resource, with its id as output."""
    digest = str(compiled.get("digest", ""))
    policy_name = f"{name}-{digest}"[:128] if digest else name
    comment = f"edgeshield policy {digest}" if digest else "edgeshield policy"
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "edgeshield: security headers as a CloudFront response headers policy",
        "Resources": {
            "ResponseHeadersPolicy": {
                "Type": "AWS::CloudFront::ResponseHeadersPolicy",
                "Properties": {
                    "ResponseHeadersPolicyConfig": config(compiled, policy_name, comment)
                },
            }
        },
        "Outputs": {
            "ResponseHeadersPolicyId": {
                "Description": "Attach to a cache behaviour's ResponseHeadersPolicyId",
                "Value": {"Ref": "ResponseHeadersPolicy"},
            }
        },
    }
