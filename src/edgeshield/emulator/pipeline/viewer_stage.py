"""What happens at the viewer edge besides Lambda@Edge: CloudFront Functions on
viewer-request/viewer-response and response headers policies per cache behaviour.

The pipeline calls ``request`` right after viewer-request and ``response`` right before the
response leaves for the viewer (after any viewer-response function), so the order is
CloudFront's: a viewer-response function only for statuses below 400
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-function-restrictions-all.html),
then the response headers policy of the request's cache behaviour, on every response from the
cache or the origin, errors included.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgeshield.cloudfront import HeaderPairs
from edgeshield.emulator.functions.cff import (
    FunctionError,
    FunctionSource,
    Runtime,
    from_cf_headers,
    response_headers_from,
    viewer_event,
)
from edgeshield.emulator.logstore import LogStore
from edgeshield.emulator.pipeline.answers import Answer
from edgeshield.emulator.pipeline.response_headers_policy import (
    PolicyConfigError,
    ResponseHeadersPolicy,
)
from edgeshield.emulator.pipeline.response_headers_policy import load as load_policy
from edgeshield.emulator.pipeline.response_headers_policy import parse as parse_rhp

__all__ = [
    "FunctionError",
    "FunctionSource",
    "PolicyConfigError",
    "ViewerSetup",
    "ViewerStage",
    "close_stage",
    "load_setup",
    "parse_rhp",
    "start_stage",
]


def behaviour_regex(pattern: str) -> re.Pattern[str]:
    """A cache behaviour path pattern (``*`` any run, ``?`` one character, case-sensitive)."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL)


@dataclass
class Behaviour:
    pattern: str  # "*" = the default behaviour
    policy: ResponseHeadersPolicy
    regex: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        self.regex = behaviour_regex(self.pattern)


@dataclass
class Generated:
    status: int
    reason: str
    headers: HeaderPairs
    body: bytes


@dataclass
class RequestOutcome:
    uri: str
    querystring: str
    headers: HeaderPairs
    generated: Generated | None = None


@dataclass
class ViewerStage:
    functions: Runtime | None = None
    behaviours: list[Behaviour] = field(default_factory=list)  # in precedence order

    def policy_for(self, uri: str) -> ResponseHeadersPolicy | None:
        """The first behaviour whose pattern matches the path, as CloudFront picks one."""
        for behaviour in self.behaviours:
            if behaviour.regex.fullmatch(uri):
                return behaviour.policy
        return None

    async def request(
        self,
        *,
        method: str,
        uri: str,
        querystring: str,
        headers: HeaderPairs,
        client_ip: str,
        distribution_id: str,
        distribution_domain: str,
        request_id: str,
    ) -> RequestOutcome | Answer:
        if self.functions is None or not self.functions.has("viewer-request"):
            return RequestOutcome(uri, querystring, headers)
        event = viewer_event(
            "viewer-request",
            method=method,
            uri=uri,
            querystring=querystring,
            headers=headers,
            client_ip=client_ip,
            distribution_id=distribution_id,
            distribution_domain=distribution_domain,
            request_id=request_id,
        )
        outcome = await self.functions.invoke("viewer-request", event, request_id)
        if outcome.status:
            return Answer(outcome.status, outcome.x_cache, outcome.message)
        result: dict[str, Any] = outcome.result or {}
        if "statusCode" in result:
            return RequestOutcome(uri, querystring, headers, _generated(result))
        changed = result.get("uri")
        new_uri = changed if isinstance(changed, str) and changed.startswith("/") else uri
        new_qs = _querystring_text(result.get("querystring"), querystring)
        returned = result.get("headers")
        if isinstance(returned, dict):
            new_headers = from_cf_headers(returned)
        else:  # no headers in the result: the request's stay as they were
            new_headers = [(n, v) for n, v in headers if n.lower() != "cookie"]
        cookies = result.get("cookies")
        if isinstance(cookies, dict) and cookies:
            pairs = [f"{k}={v.get('value', '')}" for k, v in cookies.items() if isinstance(v, dict)]
            new_headers.append(("Cookie", "; ".join(pairs)))
        return RequestOutcome(new_uri, new_qs, new_headers)

    async def response(
        self,
        *,
        method: str,
        uri: str,
        path: str,  # the viewer's own path: CloudFront picks the cache behaviour before functions
        querystring: str,
        request_headers: HeaderPairs,
        client_ip: str,
        status: int,
        reason: str,
        headers: HeaderPairs,
        distribution_id: str,
        distribution_domain: str,
        request_id: str,
    ) -> tuple[int, str, HeaderPairs] | Answer:
        if self.functions is not None and self.functions.has("viewer-response") and status < 400:
            event = viewer_event(
                "viewer-response",
                method=method,
                uri=uri,
                querystring=querystring,
                headers=request_headers,
                client_ip=client_ip,
                distribution_id=distribution_id,
                distribution_domain=distribution_domain,
                request_id=request_id,
                status=status,
                status_description=reason,
                response_headers=[(n, v) for n, v in headers if n.lower() != "content-length"],
            )
            outcome = await self.functions.invoke("viewer-response", event, request_id)
            if outcome.status:
                return Answer(outcome.status, outcome.x_cache, outcome.message)
            result: dict[str, Any] = outcome.result or {}
            length = [(n, v) for n, v in headers if n.lower() == "content-length"]
            if isinstance(result.get("headers"), dict):
                headers = response_headers_from(result, headers) + length
            status = int(result.get("statusCode", status))
            text = result.get("statusDescription")
            reason = text if isinstance(text, str) and text else reason
        policy = self.policy_for(path)
        if policy is not None:
            headers = policy.apply(headers)
        return status, reason, headers


def _querystring_text(value: Any, original: str) -> str:
    if not isinstance(value, dict):
        return original if value is None else str(value)
    from urllib.parse import quote

    parts = []
    for key, entry in value.items():
        if not isinstance(entry, dict):
            continue
        multi = entry.get("multiValue")
        values = (
            [m.get("value", "") for m in multi]
            if isinstance(multi, list)
            else [entry.get("value", "")]
        )
        parts += [f"{quote(str(key), safe='')}={quote(str(v), safe='')}" for v in values]
    return "&".join(parts)


def _generated(result: dict[str, Any]) -> Generated:
    status = int(result["statusCode"])
    body = result.get("body", b"")
    data: bytes
    if isinstance(body, dict):
        raw = str(body.get("data", ""))
        data = base64.b64decode(raw) if body.get("encoding") == "base64" else raw.encode()
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = b""
    text = result.get("statusDescription")
    return Generated(
        status,
        text if isinstance(text, str) and text else "",
        from_cf_headers(result.get("headers") or {}),
        data,
    )


# -- setting it up for `serve` -------------------------------------------------------------


@dataclass(frozen=True)
class ViewerSetup:
    """Checked inputs for the stage: function sources and behaviours' policies."""

    functions: tuple[FunctionSource, ...] = ()
    behaviours: tuple[tuple[str, ResponseHeadersPolicy], ...] = ()
    timeout_ms: float = 50.0

    def __bool__(self) -> bool:
        return bool(self.functions or self.behaviours)


def parse_behaviour_option(text: str) -> tuple[str, Path]:
    """``[PATTERN=]FILE``: a policy for the cache behaviour with that path pattern (default
    ``*``, the default behaviour)."""
    pattern, eq, path = text.partition("=")
    if not eq:
        return "*", Path(text)
    pattern = pattern.strip()
    if not pattern or not (pattern.startswith("/") or pattern.startswith("*")):
        raise ValueError(
            f"{text!r}: the path pattern must start with / or * (e.g. /api/*=policy.json)"
        )
    return pattern, Path(path.strip())


def parse_function_file_option(text: str) -> tuple[str, Path]:
    """``TRIGGER=FILE.js`` for a CloudFront Function."""
    trigger, eq, path = text.partition("=")
    trigger = trigger.strip()
    if not eq or trigger not in ("viewer-request", "viewer-response") or not path.strip():
        raise ValueError(f"{text!r}: expected viewer-request=FILE.js or viewer-response=FILE.js")
    return trigger, Path(path.strip())


def load_setup(
    functions: list[tuple[str, Path]],
    policies: list[tuple[str, Path]],
    timeout_ms: float = 50.0,
    generated: list[FunctionSource] | None = None,
    generated_policies: list[tuple[str, ResponseHeadersPolicy]] | None = None,
) -> ViewerSetup:
    """Read and check everything; FunctionError or PolicyConfigError with a clear message."""
    sources = [FunctionSource.from_file(t, p) for t, p in functions] + list(generated or [])
    triggers = [s.trigger for s in sources]
    for trigger in set(triggers):
        if triggers.count(trigger) > 1:
            raise FunctionError(f"two CloudFront Functions on {trigger}; CloudFront allows one")
    behaviours = [(pattern, load_policy(path)) for pattern, path in policies]
    behaviours += list(generated_policies or [])
    patterns = [p for p, _ in behaviours]
    for pattern in set(patterns):
        if patterns.count(pattern) > 1:
            raise PolicyConfigError(f"two response headers policies for the behaviour {pattern!r}")
    if not 0 < timeout_ms <= 1000:
        raise FunctionError(
            "the CloudFront Functions time budget must be more than 0 and at most 1000 ms"
        )
    # The default behaviour ("*") matches everything, so it goes last, as in a distribution.
    behaviours.sort(key=lambda b: b[0] == "*")
    return ViewerSetup(tuple(sources), tuple(behaviours), timeout_ms)


async def start_stage(
    setup: ViewerSetup, logs: LogStore, distribution_id: str
) -> ViewerStage | None:
    if not setup:
        return None
    runtime = None
    if setup.functions:
        runtime = Runtime(list(setup.functions), logs, distribution_id, setup.timeout_ms)
        try:
            await runtime.start()
        except FunctionError:
            await runtime.close()
            raise
    return ViewerStage(runtime, [Behaviour(p, policy) for p, policy in setup.behaviours])


async def close_stage(stage: ViewerStage | None) -> None:
    if stage is not None and stage.functions is not None:
        await stage.functions.close()
