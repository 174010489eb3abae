"""plan: which CloudFront mechanism carries the policy exactly and what each costs; and the
non-Lambda targets of ``bundle`` (a response headers policy, a CloudFront Function)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from edgeshield.cli.app import EXIT_USAGE, app
from edgeshield.cli.console import err, fail, out, print_json
from edgeshield.cli.options import JsonFlag, PolicyOption, with_json

if TYPE_CHECKING:
    from edgeshield.policy import CompiledPolicy


def _compiled(policy: Path | None) -> CompiledPolicy:
    from edgeshield.cli.options import resolve_policy as _resolve_policy
    from edgeshield.policy import PolicyError, load_and_compile

    try:
        return load_and_compile(_resolve_policy(policy))
    except PolicyError as exc:
        for problem in exc.problems:
            err.print(problem.format(), markup=False)
        fail("the policy has errors (run `edgeshield check` for details)", EXIT_USAGE)


@app.command(rich_help_panel="Policy and function")
def plan(
    policy: PolicyOption = None,
    requests_per_month: Annotated[
        int, typer.Option("--requests-per-month", help="Viewer requests per month")
    ] = 10_000_000,
    hit_ratio: Annotated[
        float, typer.Option("--hit-ratio", help="Share of requests served from cache, 0-1")
    ] = 0.9,
    lambda_memory: Annotated[
        int, typer.Option("--lambda-memory", help="Lambda@Edge memory in MB")
    ] = 128,
    lambda_duration_ms: Annotated[
        float,
        typer.Option(
            "--lambda-duration-ms", help="Lambda@Edge run time per call (billed per 1 ms)"
        ),
    ] = 1.0,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    as_json: JsonFlag = False,
) -> None:
    """Which CloudFront mechanism carries the policy exactly, its monthly cost, the cheapest.

    Response headers policy, CloudFront Function or Lambda@Edge: each one's reasons when it
    cannot give exactly the headers `check` shows, and the formula behind each cost."""
    from edgeshield.targets import Traffic
    from edgeshield.targets import plan as make_plan

    if fmt not in ("table", "json"):
        fail(f"--format {fmt!r}: use table or json", EXIT_USAGE)
    fmt = with_json(fmt, as_json, "table", "json")
    try:
        traffic = Traffic(requests_per_month, hit_ratio, lambda_memory, lambda_duration_ms)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    result = make_plan(_compiled(policy), traffic)
    if fmt == "json":
        print_json(result.to_dict())
        return
    from rich.table import Table

    table = Table(
        title=(
            f"{requests_per_month:,} requests/month, hit ratio {hit_ratio:g} "
            "(US list prices, no free tier)"
        ),
        title_justify="left",
    )
    table.add_column("mechanism", no_wrap=True)
    table.add_column("exact")
    table.add_column("USD/month", justify="right")
    for m in result.mechanisms:
        mark = " (recommended)" if m.name == result.recommended else ""
        table.add_row(m.name + mark, "yes" if m.exact else "no", f"{m.monthly_cost_usd:,.2f}")
    out.print(table)
    for m in result.mechanisms:
        # markup=False: reasons quote header values from the policy.
        out.print(f"{m.name}: {m.formula}", markup=False)
        for reason in m.reasons:
            out.print(f"  not exact: {reason}", markup=False)
    out.print(f"recommended: {result.recommended}", markup=False)


def bundle_target(target: str, policy: Path | None, output: Path | None, as_json: bool) -> None:
    """``bundle --target response-headers-policy|cloudfront-function``: write the artifact."""
    from edgeshield.targets import cff, facts, rhp

    compiled = _compiled(policy)
    if target == "response-headers-policy":
        why = rhp.reasons(compiled)
        text = json.dumps(rhp.cloudformation(compiled), indent=2) + "\n"
        default = Path("edgeshield-response-headers-policy.json")
    elif target == "cloudfront-function":
        why = cff.reasons(compiled)
        fn = cff.generate(compiled)
        if not fn.fits:
            fail(
                f"the function is {fn.size:,} bytes, over CloudFront's {facts.CFF_CODE_MAX:,}-byte "
                "limit; use --target lambda-edge",
                EXIT_USAGE,
            )
        text = fn.code
        default = Path("edgeshield-function.js")
    else:
        fail(
            f"--target {target!r}: use lambda-edge, response-headers-policy or cloudfront-function",
            EXIT_USAGE,
        )
    path = output or default
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}", EXIT_USAGE)
    size = len(text.encode("utf-8"))
    if as_json:
        print_json(
            {
                "path": str(path),
                "target": target,
                "size": size,
                "policy_digest": compiled["digest"],
                "exact": not why,
                "reasons": why,
            }
        )
        return
    out.print(f"wrote {path} ({target}, {size:,} bytes)", markup=False)
    if target == "cloudfront-function":
        share = 100 * size / facts.CFF_CODE_MAX
        out.print(
            f"{size:,} bytes = {share:.1f}% of the {facts.CFF_CODE_MAX // 1024} KB limit; "
            f"runtime {facts.CFF_RUNTIME}, event viewer-response",
            markup=False,
        )
    for reason in why:
        err.print(f"warning: not exact: {reason}", markup=False)


MECHANISM_HELP = (
    "auto (plan's recommendation for the default traffic), lambda-edge, "
    "response-headers-policy or cloudfront-function"
)


def resolve_mechanism(policy: Path | None, mechanism: str) -> dict[str, Any]:
    """AppOptions fields for ``synth``/``deploy --mechanism``: the concrete mechanism and the
    artifact compiled for it. ``auto`` takes ``plan``'s recommendation."""
    from edgeshield.targets import TARGETS, cff, rhp
    from edgeshield.targets import plan as make_plan

    if mechanism != "auto" and mechanism not in TARGETS:
        fail(f"--mechanism {mechanism!r}: use {MECHANISM_HELP}", EXIT_USAGE)
    compiled = _compiled(policy)
    if mechanism == "auto":
        mechanism = make_plan(compiled).recommended
        err.print(f"mechanism: {mechanism} (plan's recommendation)", markup=False)
    fields: dict[str, Any] = {"mechanism": mechanism}
    if mechanism == "response-headers-policy":
        for reason in rhp.reasons(compiled):
            err.print(f"warning: not exact: {reason}", markup=False)
        fields["headers_policy_config"] = rhp.config(compiled, "edgeshield")
    elif mechanism == "cloudfront-function":
        code = cff.generate(compiled)
        if not code.fits:
            fail(f"the CloudFront Function is {code.size:,} bytes, over 10 KB", EXIT_USAGE)
        for reason in cff.reasons(compiled):
            err.print(f"warning: not exact: {reason}", markup=False)
        fields["function_code"] = code.code
    return fields
