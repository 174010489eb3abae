"""``csp fit`` as one library call: site + policy text -> the fitted policy text (+ manifest)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from edgeshield.csp.fit import FitOptions, FitResult, Plan, fit_site, plan
from edgeshield.csp.write import PolicyEditError, csp_directives, find_csp, with_fitted
from edgeshield.policy.csp_pages import manifest_text
from edgeshield.policy.presets import preset_text


@dataclass(frozen=True)
class FittedPolicy:
    result: FitResult
    plan: Plan
    policy_text: str
    manifest_text: str | None  # per-page mode only


def strict_csp() -> dict[str, list[str]]:
    found = find_csp(tomllib.loads(preset_text("strict")))
    assert found is not None  # the preset ships with a CSP; tests keep it so
    return csp_directives(found[1])


def base_directives(policy_text: str) -> dict[str, list[str]]:
    """The user's own CSP directives (the strict preset's when the policy has no CSP)."""
    try:
        found = find_csp(tomllib.loads(policy_text))
    except tomllib.TOMLDecodeError as exc:
        raise PolicyEditError(f"not valid TOML: {exc}") from None
    return csp_directives(found[1]) if found is not None else strict_csp()


def fit_policy(
    origin: Path,
    policy_text: str,
    options: FitOptions = FitOptions(),
    manifest_name: str = "edgeshield.csp-pages.json",
    same_origins: Iterable[str] = (),
    result: FitResult | None = None,
) -> FittedPolicy:
    """Fit ``policy_text``'s CSP to the site at ``origin``. Pass ``result`` to plan from a
    result that was extended (by the browser pass) instead of reading the site again."""
    base = base_directives(policy_text)
    if result is None:
        result = fit_site(origin, same_origins)
    chosen = plan(result, base, options)
    per_page = chosen.mode == "per-page"
    text = with_fitted(
        policy_text, chosen.fitted, manifest_name if per_page else None, strict_csp()
    )
    return FittedPolicy(result, chosen, text, manifest_text(chosen.pages) if per_page else None)
