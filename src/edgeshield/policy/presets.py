"""Built-in policies. Each is a TOML file shipped in ``presets/``: ``edgeshield init`` writes it
out verbatim, so what users start from is exactly what the function runs by default."""

from __future__ import annotations

from importlib import resources

PRESETS: dict[str, str] = {
    "strict": "the strongest same-origin policy; earns the Observatory's top grade",
    "recommended": "the OWASP Secure Headers Project's proposed values",
    "cloudfront-managed": "CloudFront's managed SecurityHeadersPolicy, for migration and comparison",
    "helmet": "the defaults of helmet 8 (Node.js)",
}
DEFAULT_PRESET = "strict"


def preset_text(name: str) -> str:
    if name not in PRESETS:
        raise KeyError(name)
    return resources.files("edgeshield.policy").joinpath(f"presets/{name}.toml").read_text()
