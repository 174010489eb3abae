"""The compiled policy's declared shape (policy/compiled.py) is the shape compile_policy emits:
a key added to the artifact without its type, or a type left behind, fails here."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_type_hints

from edgeshield.policy import (
    CompiledPages,
    CompiledPolicy,
    CompiledRule,
    compile_policy,
    load,
    preset_text,
)
from edgeshield.policy.csp_pages import manifest_text
from edgeshield.policy.headers import KNOWN_HEADERS, VALIDATORS

HASH = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
RULES = """
[[rules]]
name = "API responses are not stored"
match = { path = ["/api/*"], status = ["200-299"], content-type = ["application/json"] }
set = { cache-control = "no-store" }
remove = ["etag"]
drop = ["content-security-policy"]
"""


def _full(tmp_path: Path) -> CompiledPolicy:
    """A policy with every optional part: rules and a per-page CSP manifest."""
    (tmp_path / "pages.json").write_text(
        manifest_text({"/docs/index.html": {"script-src": [HASH]}})
    )
    text = (
        preset_text("strict")
        + '\n[headers.content-security-policy.fitted]\nper-page = "pages.json"\n'
        + RULES
    )
    (tmp_path / "policy.toml").write_text(text)
    policy, _warnings = load(tmp_path / "policy.toml")
    return compile_policy(policy)


def _keys(typed: Any) -> frozenset[str]:
    return frozenset(typed.__required_keys__ | typed.__optional_keys__)


def test_compiled_policy_has_exactly_the_declared_keys(tmp_path: Path) -> None:
    compiled = _full(tmp_path)
    assert set(compiled) == _keys(CompiledPolicy)
    assert CompiledPolicy.__optional_keys__ == frozenset({"csp_pages"})
    assert all(set(rule) == _keys(CompiledRule) for rule in compiled["rules"])
    assert set(compiled["csp_pages"]) == _keys(CompiledPages)
    plain = compile_policy(load(None)[0])
    assert set(plain) == _keys(CompiledPolicy) - {"csp_pages"}


def test_compiled_values_have_the_declared_types(tmp_path: Path) -> None:
    compiled = _full(tmp_path)
    hints = get_type_hints(CompiledPolicy)
    scalars = {k: t for k, t in hints.items() if t in (int, str, bool, float)}
    assert set(scalars) == {"format", "trigger", "log_sample_rate", "metrics"} | {
        "metrics_namespace",
        "digest",
    }
    by_name: Mapping[str, object] = compiled  # keys known only at run time
    for key, kind in scalars.items():
        assert isinstance(by_name[key], kind), key
    for name, key, value, override in compiled["headers"]:
        assert (type(name), type(key), type(value), type(override)) == (str, str, str, bool)
    rule = compiled["rules"][0]
    assert rule["paths"] == ["^/api/.*$"]
    assert rule["statuses"] == [[200, 299]]
    assert rule["types"] == ["application/json"]
    pages = compiled["csp_pages"]
    assert all(isinstance(i, int) for i in pages["paths"].values())
    assert all(
        isinstance(index, int) and isinstance(text, str)
        for v in pages["variants"]
        for index, text in v
    )


def test_every_validated_header_is_one_the_typo_check_knows() -> None:
    """A header with a validator of its own must not be flagged as a misspelling of another."""
    assert set(VALIDATORS) <= KNOWN_HEADERS
