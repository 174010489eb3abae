"""The shape of a compiled policy: the JSON (policy.json) the edge function loads.

Defined once here for the build side (compile, bundle, targets, the local edge, the API). The
edge package reads the same JSON as plain dicts: it is stdlib only and imports nothing from
the policy package, so these types describe what it receives without being imported by it.
JSON has no tuples, so fixed-length rows are lists; their layout is written beside each alias.
"""

# No ``from __future__ import annotations``: TypedDict reads NotRequired at run time only
# from evaluated annotations (Python 3.11), and tests check the declared keys.
from typing import Any, NotRequired, TypedDict

# [name (lower-case), key (wire casing), value, override (bool)]
HeaderRow = list[Any]
# [index of the base directive it replaces (-1 appends), "directive sources…"]
VariantPart = list[Any]


class CompiledRule(TypedDict):
    """A rule: its conditions (None = no condition) and what it does."""

    name: str
    paths: list[str] | None  # anchored regular expressions (compile.glob_to_regex)
    types: list[str] | None  # content types: "text/html", "image/*"
    statuses: list[list[int]] | None  # inclusive [low, high] ranges
    set: list[HeaderRow]
    remove: list[str]  # lower-case names removed from the response
    drop: list[str]  # policy headers not added; ["*"] = none at all


class CompiledPages(TypedDict):
    """The per-page CSP table: request path -> variant of the base policy."""

    name: str  # content-security-policy or its report-only form
    key: str  # its wire casing
    base: str  # the policy's own value
    parts: list[str]  # the base policy's directives, rendered one each
    variants: list[list[VariantPart]]
    paths: dict[str, int]  # request path -> index into variants


class PolicyBody(TypedDict):
    """Everything the digest is taken over."""

    format: int
    trigger: str  # the CloudFront event the function is attached to
    headers: list[HeaderRow]
    remove: list[str]
    rules: list[CompiledRule]
    log_sample_rate: float
    metrics: bool
    metrics_namespace: str
    csp_pages: NotRequired[CompiledPages]


class CompiledPolicy(PolicyBody):
    """What ``compile_policy`` returns and the edge loads."""

    digest: str  # first 16 hex digits of the SHA-256 of the canonical JSON without it
