"""A CloudFront response headers policy, applied as CloudFront applies it.

What CloudFront does (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/modifying-response-headers.html,
.../understanding-response-headers-policies.html):

- the policy belongs to a cache behaviour and touches every response of that behaviour that
  CloudFront sends to viewers, served from the cache or forwarded from the origin, whatever the
  status; it changes the viewer response only, never the cached object;
- first the headers in ``RemoveHeadersConfig`` go, then each configured header is added; with
  ``Override`` true it replaces the origin's value, with false the origin's value wins;
- removing ``Server`` makes CloudFront send its own ``Server: CloudFront`` (the edge's
  ``_to_viewer`` already does that for any response without one).

Where it runs relative to a viewer-response function is not documented; the local edge applies
it last, to what the viewer receives. CORS and Server-Timing settings are refused, not guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeshield import jsontext
from edgeshield.cloudfront import HeaderPairs
from edgeshield.cloudfront.rules import is_token
from edgeshield.errors import EdgeshieldError

_SECURITY_KEYS = {
    "ContentSecurityPolicy": "Content-Security-Policy",
    "ContentTypeOptions": "X-Content-Type-Options",
    "FrameOptions": "X-Frame-Options",
    "ReferrerPolicy": "Referrer-Policy",
    "StrictTransportSecurity": "Strict-Transport-Security",
    "XSSProtection": "X-XSS-Protection",
}
_KNOWN = {"Name", "Comment", "SecurityHeadersConfig", "CustomHeadersConfig", "RemoveHeadersConfig"}


class PolicyConfigError(EdgeshieldError, ValueError):
    """The file is not a response headers policy this edge can apply; the message says why."""


def _bool(entry: dict[str, Any], key: str, where: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise PolicyConfigError(f"{where}.{key} must be true or false")
    return value


def _str(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise PolicyConfigError(
            f"{where}.{key} must be a non-empty string without control characters"
        )
    return value


def _security_value(kind: str, entry: dict[str, Any], where: str) -> str:
    if kind == "ContentSecurityPolicy":
        return _str(entry, "ContentSecurityPolicy", where)
    if kind == "ContentTypeOptions":
        return "nosniff"
    if kind == "FrameOptions":
        return _str(entry, "FrameOption", where)
    if kind == "ReferrerPolicy":
        return _str(entry, "ReferrerPolicy", where)
    if kind == "StrictTransportSecurity":
        age = entry.get("AccessControlMaxAgeSec")
        if not isinstance(age, int) or isinstance(age, bool) or age < 0:
            raise PolicyConfigError(
                f"{where}.AccessControlMaxAgeSec must be a whole number of seconds"
            )
        value = f"max-age={age}"
        if _bool(entry, "IncludeSubdomains", where):
            value += "; includeSubDomains"
        if _bool(entry, "Preload", where):
            value += "; preload"
        return value
    # XSSProtection
    if not _bool(entry, "Protection", where):
        return "0"
    value = "1"
    if _bool(entry, "ModeBlock", where):
        value += "; mode=block"
    elif entry.get("ReportUri"):
        value += "; report=" + _str(entry, "ReportUri", where)
    return value


@dataclass(frozen=True)
class ResponseHeadersPolicy:
    name: str
    remove: frozenset[str]
    headers: tuple[tuple[str, str, bool], ...]  # (wire name, value, override)

    @classmethod
    def from_config(cls, config: Any) -> ResponseHeadersPolicy:
        if not isinstance(config, dict):
            raise PolicyConfigError("ResponseHeadersPolicyConfig must be an object")
        unknown = sorted(set(config) - _KNOWN)
        if unknown:
            raise PolicyConfigError(
                f"{', '.join(unknown)} is not emulated; the local edge applies "
                "SecurityHeadersConfig, CustomHeadersConfig and RemoveHeadersConfig"
            )
        headers: list[tuple[str, str, bool]] = []
        security = config.get("SecurityHeadersConfig") or {}
        if not isinstance(security, dict):
            raise PolicyConfigError("SecurityHeadersConfig must be an object")
        for kind, entry in security.items():
            where = f"SecurityHeadersConfig.{kind}"
            if kind not in _SECURITY_KEYS or not isinstance(entry, dict):
                raise PolicyConfigError(f"{where}: unknown security header setting")
            value = _security_value(kind, entry, where)
            headers.append((_SECURITY_KEYS[kind], value, _bool(entry, "Override", where)))
        for i, item in enumerate(_items(config, "CustomHeadersConfig")):
            where = f"CustomHeadersConfig.Items[{i}]"
            name = _str(item, "Header", where)
            if not is_token(name):
                raise PolicyConfigError(f"{where}.Header {name!r} is not a header name")
            headers.append((name, _str(item, "Value", where), _bool(item, "Override", where)))
        remove = frozenset(
            _str(item, "Header", f"RemoveHeadersConfig.Items[{i}]").lower()
            for i, item in enumerate(_items(config, "RemoveHeadersConfig"))
        )
        name = config.get("Name", "policy")
        return cls(str(name), remove, tuple(headers))

    def apply(self, headers: HeaderPairs) -> HeaderPairs:
        """The viewer's headers: remove first, then add (override or only-if-missing), each
        of the policy's headers in turn. A header it sets replaces every line of that name
        and goes last. One pass over the response's headers, not one per policy header."""
        remove = self.remove
        kept: list[tuple[str, str, str]] = []  # (lower-case name, name, value)
        for name, value in headers:
            lower = name.lower()
            if lower not in remove:
                kept.append((lower, name, value))
        present = {lower for lower, _n, _v in kept}
        # What the policy set, in the order of each name's last setting; a name set here has
        # lost its original lines.
        added: dict[str, tuple[str, str]] = {}
        for name, value, override in self.headers:
            lower = name.lower()
            if not override and (lower in added or lower in present):
                continue
            added.pop(lower, None)  # set again: it moves to the end
            added[lower] = (name, value)
        out = [(n, v) for lower, n, v in kept if lower not in added]
        out += added.values()
        return out


def _items(config: dict[str, Any], key: str) -> list[dict[str, Any]]:
    section = config.get(key) or {}
    items = section.get("Items", []) if isinstance(section, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise PolicyConfigError(f"{key}.Items must be a list of objects")
    return items


def parse(data: Any) -> ResponseHeadersPolicy:
    """A policy from a CloudFormation template (the one ``bundle --target
    response-headers-policy`` writes: its first AWS::CloudFront::ResponseHeadersPolicy), a
    resource's Properties, or a bare ResponseHeadersPolicyConfig."""
    if isinstance(data, dict) and isinstance(data.get("Resources"), dict):
        for resource in data["Resources"].values():
            if (
                isinstance(resource, dict)
                and resource.get("Type") == "AWS::CloudFront::ResponseHeadersPolicy"
            ):
                data = resource.get("Properties", {})
                break
        else:
            raise PolicyConfigError("the template has no AWS::CloudFront::ResponseHeadersPolicy")
    if isinstance(data, dict) and "ResponseHeadersPolicyConfig" in data:
        data = data["ResponseHeadersPolicyConfig"]
    return ResponseHeadersPolicy.from_config(data)


def load(path: Path) -> ResponseHeadersPolicy:
    try:
        data = jsontext.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyConfigError(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PolicyConfigError(f"{path} is not JSON: {exc}") from None
    try:
        return parse(data)
    except PolicyConfigError as exc:
        raise PolicyConfigError(f"{path}: {exc}") from None
