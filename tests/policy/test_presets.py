"""The built-in presets: valid, compiled, and shipped in sync with the default edge policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import edgeshield.edge
from edgeshield.policy import (
    PRESETS,
    compile_policy,
    dumps,
    load_and_compile,
    load_preset,
    parse_policy,
    preset_text,
)

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_valid(name: str) -> None:
    policy, problems = parse_policy(preset_text(name), name)
    assert policy is not None, [p.format() for p in problems]
    assert not [p for p in problems if p.severity == "error"]


def test_strict_has_no_warnings_and_reports_to_the_collector() -> None:
    policy, problems = parse_policy(preset_text("strict"))
    assert problems == []
    assert policy is not None
    csp = {h.name: h.value for h in policy.headers}["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "report-uri /_edgeshield/csp-report" in csp


def test_shipped_default_policy_is_the_compiled_strict_preset() -> None:
    """src/edgeshield/edge/policy.json is generated; regenerate it with
    `python -m edgeshield.policy.regenerate` if this fails."""
    shipped = Path(edgeshield.edge.__file__).with_name("policy.json").read_text()
    assert shipped == dumps(load_and_compile(None)) + "\n"


def test_recommended_matches_the_owasp_values() -> None:
    owasp = json.loads((DATA / "owasp-headers_add.json").read_text())["headers"]
    values = {h.name: h.value for h in load_preset("recommended").headers}
    for entry in owasp:
        name = entry["name"].lower()
        if name == "clear-site-data":  # OWASP: only on logout; shown as a commented rule
            continue
        expected = entry["value"]
        if name == "x-frame-options":
            expected = expected.upper()
        assert values[name] == expected, name


def test_owasp_remove_list_is_complete() -> None:
    owasp = json.loads((DATA / "owasp-headers_remove.json").read_text())["headers"]
    removed = set(compile_policy(load_preset("strict"))["remove"])
    assert {n.lower() for n in owasp} <= removed
    assert {"server", "x-powered-by"} <= removed


def test_cloudfront_managed_keeps_origin_values_except_nosniff() -> None:
    overrides = {h.name: h.override for h in load_preset("cloudfront-managed").headers}
    assert overrides == {
        "x-content-type-options": True,
        "x-frame-options": False,
        "referrer-policy": False,
        "x-xss-protection": False,
        "strict-transport-security": False,
    }
