"""Rule-bearing policies shared by the target tests (presets come from the package)."""

from __future__ import annotations

from edgeshield.policy import CompiledPolicy, compile_policy, load_preset, parse_policy

RULES = """
[headers]
x-content-type-options = "nosniff"
x-frame-options = { value = "DENY", override = false }
referrer-policy = "strict-origin-when-cross-origin"
cache-control = { value = "max-age=60", override = false }

[headers.content-security-policy]
value = "default-src 'self'; img-src 'self' data:"

[remove]
headers = ["x-powered-by", "etag"]

[[rules]]
name = "CSP only on HTML"
match = { content-type = ["application/*", "image/*"] }
drop = ["content-security-policy"]

[[rules]]
name = "API"
match = { path = ["/api/*"], status = ["200-299"] }
set = { cache-control = "no-store" }
remove = ["last-modified"]

[[rules]]
name = "errors"
match = { status = ["4xx", "500-599"] }
set = { x-robots-tag = "noindex" }
drop = ["x-frame-options"]

[[rules]]
name = "everywhere"
set = { x-extra = "1" }
"""

# Only unconditional rules: a response headers policy can carry this one.
FLAT = """
[headers]
x-content-type-options = "nosniff"
x-frame-options = "SAMEORIGIN"
x-xss-protection = "1; mode=block"

[headers.strict-transport-security]
max-age = 31536000
include-subdomains = true

[remove]
headers = ["x-powered-by"]

[[rules]]
name = "everywhere"
set = { permissions-policy = "geolocation=()" }
drop = ["x-xss-protection"]
"""

# A response headers policy would lose this: text/html only.
BY_TYPE = """
[headers]
x-content-type-options = "nosniff"

[[rules]]
name = "HTML"
match = { content-type = ["text/html"] }
set = { content-security-policy = "default-src 'none'" }
"""


def compiled_text(text: str) -> CompiledPolicy:
    policy, problems = parse_policy(text, "<test>")
    assert policy is not None, [p.format() for p in problems]
    return compile_policy(policy)


def all_policies() -> dict[str, CompiledPolicy]:
    from edgeshield.policy import PRESETS

    out = {f"preset {name}": compile_policy(load_preset(name)) for name in PRESETS}
    out["rules"] = compiled_text(RULES)
    out["flat"] = compiled_text(FLAT)
    out["by-type"] = compiled_text(BY_TYPE)
    return out
