"""What ``csp fit`` tells its user, as data: what was added to the CSP and why, grouped the
way a reader looks for it, and Google's CSP Evaluator on the result with a fix for each
high-severity finding. Pure: the CLI prints it, ``--json`` dumps it."""

from __future__ import annotations

from typing import Any

from edgeshield.csp.fitpolicy import FittedPolicy


def fit_report(fitted: FittedPolicy) -> dict[str, Any]:
    """What was added and why, grouped as the user reads it."""
    result = fitted.result
    hashed: dict[str, dict[str, Any]] = {}
    unsafe_hashes: dict[str, dict[str, Any]] = {}
    hosts: dict[str, dict[str, Any]] = {}
    schemes: dict[str, dict[str, Any]] = {}
    for _page, directive, source, reasons in result.reasons():
        if source.startswith("'sha"):
            for reason in reasons:
                if not reason.attribute:
                    continue
                group = unsafe_hashes.setdefault(
                    f"{directive} {source}",
                    {
                        "directive": directive,
                        "source": source,
                        "what": reason.why,
                        "code": reason.code,
                        "locations": [],
                    },
                )
                group["locations"].append(reason.location)
            entry = hashed.setdefault(
                f"{directive} {source}",
                {"directive": directive, "source": source, "what": reasons[0].why, "locations": []},
            )
            entry["locations"].extend(r.location for r in reasons if r.location)
        elif "://" in source:
            entry = hosts.setdefault(source, {"source": source, "directives": [], "locations": []})
            if directive not in entry["directives"]:
                entry["directives"].append(directive)
            entry["locations"].extend(f"{r.location} ({r.why})" for r in reasons if r.location)
        elif source.endswith(":"):
            key = f"{directive} {source}"
            entry = schemes.setdefault(
                key, {"directive": directive, "source": source, "locations": []}
            )
            entry["locations"].extend(f"{r.location} ({r.why})" for r in reasons if r.location)
    chosen = fitted.plan
    return {
        "pages": len(result.files),
        "mode": chosen.mode,
        "union_bytes": chosen.union_bytes,
        "largest_header_bytes": chosen.largest_bytes,
        "largest_header_page": chosen.largest_page,
        "pages_with_own_sources": len(chosen.pages),
        "fitted": chosen.fitted,
        # Shared hashes first (most pages), then each page's own, in page order.
        "hashed": sorted(hashed.values(), key=lambda h: (-len(h["locations"]), h["locations"][:1])),
        "unsafe_hashes": sorted(
            unsafe_hashes.values(), key=lambda u: (u["locations"][:1], u["source"])
        ),
        "hosts": list(hosts.values()),
        "schemes": list(schemes.values()),
        "dropped_for_unsafe_inline": chosen.dropped,
        "warnings": result.warnings,
        "evaluator": evaluator_report(fitted),
    }


# What to do about a high-severity evaluator finding in a fitted CSP, by finding type label.
_HIGH_FIXES = {
    "script-allowlist-bypass": "self-host the script (copy it into the site) so 'self' or a "
    "hash covers it; a host or file serving JSONP or AngularJS lets injected markup run script",
    "script-unsafe-inline": "drop --unsafe-inline script (or 'unsafe-inline' from the policy): "
    "csp fit hashes inline code instead",
    "script-unsafe-eval": "drop --unsafe-eval (or 'unsafe-eval' from the policy) once the site "
    "no longer calls eval()",
    "plain-url-schemes": "remove the bare scheme from the policy; load scripts from files on "
    "the site instead of data: or any-host URLs",
    "plain-wildcard": "replace the wildcard in the policy with the exact hosts the site uses",
    "missing-directives": "give the policy object-src 'none' and base-uri 'none' (or 'self'), "
    "as the strict preset does",
}


def evaluator_report(fitted: FittedPolicy) -> dict[str, Any]:
    """Google's CSP Evaluator on the fitted CSPs: counts by severity, each finding once with
    the CSPs it is in, the high ones with a fix."""
    findings: dict[tuple[Any, ...], dict[str, Any]] = {}
    for evaluated in fitted.evaluated:
        for finding in evaluated.findings:
            key = (finding.severity, finding.type, finding.directive, finding.value or "")
            entry = findings.setdefault(key, {**finding.to_dict(), "where": []})
            entry["where"].append(evaluated.where)
    # Where the site brought a flagged source in (file:line), so the fix can start there.
    found_at: dict[tuple[str, str], list[str]] = {}
    for _page, directive, source, reasons in fitted.result.reasons():
        places = found_at.setdefault((directive, source), [])
        places.extend(r.location for r in reasons if r.location and r.location not in places)
    ordered = [findings[k] for k in sorted(findings)]
    by_severity: dict[str, int] = {}
    for entry in ordered:
        by_severity[entry["severity"]] = by_severity.get(entry["severity"], 0) + 1
    high = [f for f in ordered if f["severity"] == "high"]
    for entry in high:
        entry["fix"] = _HIGH_FIXES.get(entry["type"], "see docs/csp.md")
        entry["found_at"] = found_at.get((entry["directive"], entry["value"] or ""), [])
    return {
        "csps_evaluated": [e.where for e in fitted.evaluated],
        "high": len(high),
        "by_severity": by_severity,
        "findings": ordered,
    }
