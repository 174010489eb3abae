"""Apply a compiled policy to a CloudFront response. Stdlib only; no I/O.

Per response the work is: read status, content type and uri; find the matching rules; pick
the memoised plan for that combination; copy the headers dict; pop the removed names; set the
policy headers. The event is never mutated, so the caller can always fall back to it.
"""

from __future__ import annotations

from edgeshield.edge.pages import PageCsp

TYPE_CHECKING = False  # typing costs ~2.7 ms of cold start; only the type checker needs it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

# Defence in depth: the policy validator already refuses these, but the engine must never
# touch a header CloudFront forbids (502 LambdaValidationError). Read-only on origin-response
# and viewer-response (Via, Transfer-Encoding, Warning) plus the disallowed set: AWS's
# "Restrictions on all edge functions", "Disallowed headers" and "Read-only headers",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-function-restrictions-all.html
_PROTECTED = frozenset(
    {
        "via",
        "transfer-encoding",
        "warning",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "trailer",
        "upgrade",
        "x-cache",
        "x-forwarded-proto",
        "x-real-ip",
    }
)
_PROTECTED_PREFIXES = ("x-amz-cf-", "x-edge-", "x-accel-", "x-amzn-")
_EMPTY: dict[str, Any] = {}
_MAX_PLANS = 256  # distinct rule combinations remembered; a policy rarely has more than a few


def _allowed(name: str) -> bool:
    return name not in _PROTECTED and not name.startswith(_PROTECTED_PREFIXES)


class Plan:
    """What to do to one kind of response: names to remove, headers to set.

    Header entries are pre-rendered once and shared by every response this plan produces, so
    applying a plan is one ``dict.update``. They are read-only: Lambda serialises the result
    right away; code that post-processes a result must copy an entry before changing it.
    """

    __slots__ = ("if_missing", "names", "remove", "replace")

    def __init__(self, remove: list[str], adds: dict[str, tuple[str, str, bool]]) -> None:
        # A name the plan sets is not also removed: the header set wins either way, and the
        # engine can then remove after setting (see Engine.harden).
        self.remove = frozenset(n for n in remove if _allowed(n) and n not in adds)
        allowed = [(n, k, v, o) for n, (k, v, o) in adds.items() if _allowed(n)]
        self.names = tuple(n for n, _k, _v, _o in allowed)
        self.replace = {n: [{"key": k, "value": v}] for n, k, v, o in allowed if o}
        self.if_missing = tuple((n, [{"key": k, "value": v}]) for n, k, v, o in allowed if not o)


class _Rule:
    __slots__ = ("drop", "name", "paths", "remove", "set", "statuses", "types")

    def __init__(self, data: dict[str, Any]) -> None:
        self.name: str = data["name"]
        self.paths = None
        if data.get("paths"):
            import re  # only policies with path rules pay for it at cold start

            self.paths = [re.compile(p) for p in data["paths"]]
        self.types: list[str] | None = data.get("types") or None
        self.statuses: list[list[int]] | None = data.get("statuses") or None
        self.set: list[list[Any]] = data.get("set", [])
        self.remove: list[str] = data.get("remove", [])
        self.drop: list[str] = data.get("drop", [])

    def matches(self, uri: str, media_type: str, status: int) -> bool:
        if self.statuses is not None and not any(lo <= status <= hi for lo, hi in self.statuses):
            return False
        if self.types is not None:
            major = media_type.split("/", 1)[0] + "/*"
            if media_type not in self.types and major not in self.types:
                return False
        return self.paths is None or any(p.match(uri) for p in self.paths)


class Engine:
    def __init__(self, compiled: Mapping[str, Any]) -> None:
        self.compiled = compiled
        self.rules = [_Rule(r) for r in compiled.get("rules", [])]
        self.base = self._build(())
        self._plans: dict[tuple[int, ...], Plan] = {(): self.base}
        pages = compiled.get("csp_pages")
        self.pages = PageCsp(pages, self.base.replace) if pages else None

    def _build(self, matched: tuple[int, ...]) -> Plan:
        """Base headers, then each matching rule in file order; a later rule wins."""
        adds: dict[str, tuple[str, str, bool]] = {
            n: (k, v, o) for n, k, v, o in self.compiled.get("headers", [])
        }
        remove = list(self.compiled.get("remove", []))
        for index in matched:
            rule = self.rules[index]
            for name in rule.drop:
                if name == "*":
                    adds.clear()
                else:
                    adds.pop(name, None)
            remove.extend(rule.remove)
            for n, k, v, o in rule.set:
                adds.pop(n, None)  # re-insert so the header lands in rule order
                adds[n] = (k, v, o)
        return Plan(remove, adds)

    def plan(self, uri: str, media_type: str, status: int) -> tuple[Plan, tuple[int, ...]]:
        matched = tuple(
            i for i, rule in enumerate(self.rules) if rule.matches(uri, media_type, status)
        )
        plan = self._plans.get(matched)
        if plan is None:
            plan = self._build(matched)
            if len(self._plans) < _MAX_PLANS:
                self._plans[matched] = plan
        return plan, matched

    def apply(
        self, response: dict[str, Any], uri: str
    ) -> tuple[dict[str, Any], Plan, tuple[int, ...]]:
        """The hardened copy of ``response``, the plan used and the indices of matched rules."""
        origin: dict[str, Any] = response.get("headers") or _EMPTY
        if self.rules:
            media_type = ""
            ctype = origin.get("content-type")
            if ctype:
                media_type = ctype[0]["value"].split(";", 1)[0].strip().lower()
            try:
                status = int(response.get("status", 0))
            except (TypeError, ValueError):
                status = 0
            plan, matched = self.plan(uri, media_type, status)
        else:
            plan, matched = self.base, ()

        return self.harden(response, uri, origin, plan), plan, matched

    def harden(
        self,
        response: dict[str, Any],
        uri: str = "/",
        origin: dict[str, Any] | None = None,
        plan: Plan | None = None,
    ) -> dict[str, Any]:
        """The hardened copy of ``response`` under ``plan`` (default: the base plan, right for a
        policy without rules). The hot path: two dict copies, one update, a removal check.
        ``uri`` only matters to a per-page CSP."""
        if origin is None:
            origin = response.get("headers") or _EMPTY
        if plan is None:
            plan = self.base
        # Copy the origin's headers and write only the names the policy sets, so read-only ones
        # (Via, Transfer-Encoding) stay exactly as they came.
        headers = dict(origin)
        for name, entry in plan.if_missing:
            if name not in headers:
                headers[name] = entry
        headers.update(plan.replace)
        # Removed names are never set by the same plan (Plan drops them), so removing after the
        # merge gives the same result; most responses carry none of them: no set is built.
        if not plan.remove.isdisjoint(origin):
            for name in plan.remove.intersection(origin):
                del headers[name]
        if self.pages is not None:  # per-page CSP, unless a rule replaced the policy's CSP
            current = plan.replace.get(self.pages.name)
            if current is not None and current[0]["value"] == self.pages.base:
                page = self.pages.entry(uri)
                if page is not None:
                    headers[self.pages.name] = page
        result = dict(response)
        result["headers"] = headers
        return result
