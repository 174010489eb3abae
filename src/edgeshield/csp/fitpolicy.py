"""``csp fit`` as one library call: site + policy text -> the fitted policy text (+ manifest)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeshield.csp.evaluator import EvaluatorFinding, evaluate, high_severity
from edgeshield.csp.fit import FitOptions, FitResult, Plan, fit_site, plan
from edgeshield.csp.write import PolicyEditError, csp_directives, find_csp, with_fitted
from edgeshield.policy.csp import render
from edgeshield.policy.csp_pages import manifest_text, merge_sources
from edgeshield.policy.presets import preset_text


@dataclass(frozen=True)
class FittedCspFindings:
    """Google's CSP Evaluator on one CSP the fit produces: ``where`` is "every page" (union),
    "pages without sources of their own" (the per-page base) or a request path."""

    where: str
    csp: str
    findings: tuple[EvaluatorFinding, ...]

    @property
    def high(self) -> list[EvaluatorFinding]:
        return high_severity(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "csp": self.csp,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class FittedPolicy:
    result: FitResult
    plan: Plan
    policy_text: str
    manifest_text: str | None  # per-page mode only
    # The evaluator on every CSP a page can get: the union, or the per-page base and each
    # page's own; pages whose CSP adds only hashes are judged by the base (hashes add none).
    evaluated: tuple[FittedCspFindings, ...] = ()

    @property
    def high_findings(self) -> list[tuple[str, EvaluatorFinding]]:
        """(where, finding) for every high-severity finding, same finding once per CSP."""
        return [(e.where, f) for e in self.evaluated for f in e.high]


def evaluate_plan(base: dict[str, list[str]], chosen: Plan) -> tuple[FittedCspFindings, ...]:
    """Evaluator findings for the CSPs ``chosen`` gives pages. Pure.

    A page's own sources that are all hashes cannot change a finding (the evaluator looks at
    keywords, schemes and hosts), so such pages are covered by the base CSP's entry; the page
    with the largest CSP is evaluated anyway, as a check of that claim."""
    shared = merge_sources(base, chosen.fitted)
    where = "every page" if chosen.mode == "union" else "pages without sources of their own"
    out = [FittedCspFindings(where, render(shared), tuple(evaluate(render(shared))))]
    for page, own in chosen.pages.items():
        only_hashes = all(s.startswith("'sha") for sources in own.values() for s in sources)
        if only_hashes and page != chosen.largest_page:
            continue
        value = render(merge_sources(shared, own))
        out.append(FittedCspFindings(page, value, tuple(evaluate(value))))
    return tuple(out)


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


# Loads a page makes in no-cors mode (or, for frames, of documents), which an embedder policy of
# require-corp blocks from another host unless that host answers with
# Cross-Origin-Resource-Policy (frames: with their own COEP):
# https://html.spec.whatwg.org/multipage/browsers.html#coep
_NO_CORS_DIRECTIVES = (
    "img-src", "media-src", "script-src", "script-src-elem", "style-src", "style-src-elem",
    "frame-src", "child-src", "object-src",
)  # fmt: skip


def embedder_warning(policy_text: str, result: FitResult) -> str | None:
    """A warning when the policy's Cross-Origin-Embedder-Policy is ``require-corp`` and the site
    loads images, media, scripts, styles or frames from other hosts: the CSP now allows them,
    but browsers still block each one whose host does not opt in, and ``csp verify`` (which
    loads nothing beyond the site) cannot see it."""
    try:
        headers = tomllib.loads(policy_text).get("headers")
    except tomllib.TOMLDecodeError:
        return None
    if not isinstance(headers, dict):
        return None
    coep = next(
        (v for k, v in headers.items() if k.lower() == "cross-origin-embedder-policy"), None
    )
    if not isinstance(coep, str) or coep.split(";")[0].strip() != "require-corp":
        return None
    hosts = sorted(
        {
            source
            for _page, directive, source, _reasons in result.reasons()
            if directive in _NO_CORS_DIRECTIVES and "://" in source
        }
    )
    if not hosts:
        return None
    shown = ", ".join(hosts[:5]) + (f" and {len(hosts) - 5} more" if len(hosts) > 5 else "")
    return (
        f"cross-origin-embedder-policy require-corp blocks what pages load from {len(hosts)} "
        f"other host(s) ({shown}) unless each answers with Cross-Origin-Resource-Policy: "
        "cross-origin (a frame: with its own COEP); csp verify cannot see it. Unless you need "
        'cross-origin isolation, use "credentialless" (frames: remove the header)'
    )


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
    warning = embedder_warning(policy_text, result)
    if warning is not None and warning not in result.warnings:
        result.warnings.append(warning)
    chosen = plan(result, base, options)
    per_page = chosen.mode == "per-page"
    routing = result.client_routing
    note = (
        f"this site routes on the client ({routing}): a page reached by a link keeps the CSP "
        "of the page first loaded; per-page mode gives every page all the site's hosts but "
        "each page's inline code (hashes) only its own: use --mode union unless the union CSP "
        "is too large to send"
    )
    if per_page and routing is not None and note not in result.warnings:
        result.warnings.append(note)
    text = with_fitted(
        policy_text, chosen.fitted, manifest_name if per_page else None, strict_csp()
    )
    return FittedPolicy(
        result,
        chosen,
        text,
        manifest_text(chosen.pages) if per_page else None,
        evaluate_plan(base, chosen),
    )
