"""Policy commands: init, check, event, bundle (and invoke, which runs a function once)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, cast

import typer

from edgeshield.cli.app import EXIT_FAILURE, EXIT_USAGE, app
from edgeshield.cli.console import err, fail, out, print_json
from edgeshield.cli.options import DEFAULT_POLICY_FILE, PolicyOption, policy_label, resolve_policy

if TYPE_CHECKING:
    from edgeshield.cloudfront.rules import Trigger
    from edgeshield.emulator.functions.invoke import InvokeResult
    from edgeshield.policy import CompiledPolicy


@app.command(rich_help_panel="Policy and function")
def init(
    preset: Annotated[
        str,
        typer.Option("--preset", help="strict, recommended, cloudfront-managed or helmet"),
    ] = "strict",
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the policy")
    ] = DEFAULT_POLICY_FILE,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file")] = False,
    list_presets: Annotated[bool, typer.Option("--list", help="List the presets and exit")] = False,
) -> None:
    """Write a starter policy file from a preset."""
    from edgeshield.policy.presets import PRESETS, preset_text

    if list_presets:
        for name, about in PRESETS.items():
            out.print(f"{name:20} {about}")
        return
    if preset not in PRESETS:
        fail(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}", EXIT_USAGE)
    if output.exists() and not force:
        fail(f"{output} already exists; pass --force to overwrite it", EXIT_USAGE)
    try:
        output.write_text(preset_text(preset), encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}", EXIT_USAGE)
    follow = (
        "edgeshield check"
        if output == DEFAULT_POLICY_FILE
        else f"edgeshield check --policy {output}"
    )
    out.print(f"wrote {output} (preset {preset}); next: {follow}", markup=False)


# type/subtype, then any parameters (RFC 9110, section 8.3.1): the form rules match against.
_MEDIA_TYPE: Final = re.compile(
    r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*(;.*)?$"
)


def _samples(uri: str | None, content_type: str | None, status: int | None) -> list[Any]:
    """The sample responses ``check`` shows: the defaults, or the one the options describe."""
    from edgeshield.preview import DEFAULT_SAMPLES, Sample

    if uri is None and content_type is None and status is None:
        return list(DEFAULT_SAMPLES)
    if status is not None and not 100 <= status <= 599:
        fail(f"--status {status} is not an HTTP status; use 100-599", EXIT_USAGE)
    if uri is not None and not uri.startswith("/"):
        # CloudFront's uri always starts with "/": a rule's path pattern would not match it.
        fail(f"--uri {uri!r} is not a path; use one that starts with /, like /{uri}", EXIT_USAGE)
    if content_type is not None and not _MEDIA_TYPE.match(content_type):
        fail(
            f"--content-type {content_type!r} is not a media type; use type/subtype, "
            "like text/html or application/json",
            EXIT_USAGE,
        )
    return [Sample("custom", _as_sent(uri or "/"), status or 200, content_type or "text/html")]


def _compiled(policy: Path | None, message: str) -> CompiledPolicy:
    """The compiled policy; on errors, one line per problem and then ``message``, exit 2."""
    from edgeshield.policy import PolicyError, load_and_compile

    try:
        return load_and_compile(resolve_policy(policy))
    except PolicyError as exc:
        from edgeshield.cli.check_view import MAX_PROBLEMS_SHOWN

        for problem in exc.problems[:MAX_PROBLEMS_SHOWN]:
            err.print(problem.format(), markup=False)
        if len(exc.problems) > MAX_PROBLEMS_SHOWN:
            more = len(exc.problems) - MAX_PROBLEMS_SHOWN
            err.print(f"… and {more} more (edgeshield check --json lists them)", markup=False)
        fail(message, EXIT_USAGE)


@app.command(rich_help_panel="Policy and function")
def check(
    policy: PolicyOption = None,
    policy_argument: Annotated[
        Path | None,
        typer.Argument(hidden=True, metavar="FILE", help="Same as --policy (older form)"),
    ] = None,
    uri: Annotated[str | None, typer.Option(help="Show the headers for this request path")] = None,
    content_type: Annotated[
        str | None, typer.Option("--content-type", help="…with this response Content-Type")
    ] = None,
    status: Annotated[int | None, typer.Option(help="…and this origin status")] = None,
    grade: Annotated[
        bool,
        typer.Option(
            "--grade", help="Show every Observatory test behind the grade of an HTML response"
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only the verdict and the problems")
    ] = False,
) -> None:
    """Validate a policy, grade it, and show the headers it gives sample responses.

    Exit 0 when valid (warnings allowed), 2 with one line per problem otherwise."""
    from edgeshield.cli import evaluator_view
    from edgeshield.cli.check_view import CheckView, render_check
    from edgeshield.csp.evaluator import policy_findings
    from edgeshield.policy import Policy, Problem, compile_policy, load_policy, load_preset
    from edgeshield.preview import run_sample

    if policy is not None and policy_argument is not None:
        fail("give the policy once: --policy FILE", EXIT_USAGE)
    path = resolve_policy(policy or policy_argument)
    parsed: Policy | None
    problems: list[Problem]
    if path is None:
        parsed, problems, source = load_preset("strict"), [], "<preset strict>"
    else:
        parsed, problems = load_policy(path)
        source = str(path)

    samples = _samples(uri, content_type, status)
    compiled = compile_policy(parsed) if parsed is not None else None
    results = [run_sample(compiled, s) for s in samples] if compiled and not quiet else []
    report = _grade(compiled) if compiled is not None else None
    evaluated = policy_findings(parsed) if parsed is not None else None

    if as_json:
        data = {
            "policy": source,
            "valid": parsed is not None,
            "problems": [p.to_dict() for p in problems],
            "samples": [r.to_dict() for r in results],
        }
        if report is not None and grade:
            data["grade"] = report
        if evaluated is not None:
            data["csp_evaluator"] = evaluator_view.to_json(evaluated)
        print_json(data)
    else:
        view = CheckView(policy_label(path), problems, parsed is not None, results, report, grade)
        sections = [evaluator_view.section(evaluated, every=grade)] if evaluated is not None else []
        render_check(view, sections)
    if parsed is None:
        raise typer.Exit(EXIT_USAGE)


def _as_sent(uri: str) -> str:
    """A path as a browser sends it, and so as CloudFront hands it to the function: characters
    outside ASCII and spaces percent-encoded (UTF-8), what is already encoded left alone."""
    from urllib.parse import quote

    return quote(uri, safe="/%:@!$&'()*+,;=-._~?[]")


def _grade(compiled: CompiledPolicy) -> dict[str, Any]:
    """Run the edge function on an HTML 200 sample and grade the headers it produces."""
    from edgeshield.grade import grade_headers
    from edgeshield.preview import DEFAULT_SAMPLES, run_sample

    result = run_sample(compiled, DEFAULT_SAMPLES[0])
    headers: dict[str, list[str]] = {}
    for key, value, _how in result.headers:
        headers.setdefault(key.lower(), []).append(value)
    report: dict[str, Any] = grade_headers(headers, url="https://example.com/").to_dict()
    return report


# The methods a distribution can allow (AllowedMethods in the API reference):
# https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_AllowedMethods.html
_CLOUDFRONT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"})


def _split_header(text: str) -> tuple[str, str]:
    from edgeshield.cloudfront.rules import control_character, is_token

    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name:
        fail(f"--header {text!r} must look like 'Name: value'", EXIT_USAGE)
    if not is_token(name):
        fail(f"--header {text!r}: {name!r} is not a valid header name", EXIT_USAGE)
    if control_character(value) is not None:
        fail(f"--header {text!r}: the value holds a control character", EXIT_USAGE)
    return name, value


@app.command(rich_help_panel="Policy and function")
def event(
    trigger: Annotated[
        str,
        typer.Argument(help="viewer-request, origin-request, origin-response or viewer-response"),
    ],
    uri: Annotated[str, typer.Option(help="Request path")] = "/",
    method: Annotated[str, typer.Option(help="Request method")] = "GET",
    status: Annotated[int, typer.Option(help="Response status (response triggers)")] = 200,
    header: Annotated[
        list[str] | None,
        typer.Option(
            "--header",
            "-H",
            help="'Name: value'; response headers on response triggers, else request headers. Repeatable",
        ),
    ] = None,
    request_header: Annotated[
        list[str] | None,
        typer.Option(
            "--request-header", help="'Name: value' request header on response triggers. Repeatable"
        ),
    ] = None,
    querystring: Annotated[str, typer.Option(help="Query string without the '?'")] = "",
    body: Annotated[
        str | None,
        typer.Option(help="Request body (request triggers; exposed as with Include Body)"),
    ] = None,
) -> None:
    """Print a Lambda@Edge event exactly as CloudFront builds it."""
    from edgeshield.cloudfront import TRIGGERS, build_event

    if trigger not in TRIGGERS:
        fail(f"unknown trigger {trigger!r}; use one of {', '.join(TRIGGERS)}", EXIT_USAGE)
    response_trigger = trigger.endswith("response")
    if response_trigger and not 100 <= status <= 599:
        fail(f"--status {status} is not an HTTP status an origin sends; use 100-599", EXIT_USAGE)
    if method.upper() not in _CLOUDFRONT_METHODS:
        fail(
            f"--method {method!r}: CloudFront passes on {', '.join(sorted(_CLOUDFRONT_METHODS))}",
            EXIT_USAGE,
        )
    pairs = [_split_header(h) for h in header or []]
    request_pairs = [_split_header(h) for h in request_header or []]
    kwargs: dict[str, Any] = {"uri": uri, "method": method.upper(), "querystring": querystring}
    if response_trigger:
        kwargs["status"] = status
        if pairs:
            kwargs["response_headers"] = pairs
        if request_pairs:
            kwargs["headers"] = request_pairs
    else:
        if request_pairs:
            fail("--request-header is for response triggers; use --header", EXIT_USAGE)
        if pairs:
            kwargs["headers"] = pairs
        if body is not None:
            kwargs.update(body=body.encode(), include_body=True)
    if body is not None and response_trigger:
        fail(
            "--body applies to request triggers only (origin bodies are never exposed)", EXIT_USAGE
        )
    try:
        chosen = next(t for t in TRIGGERS if t == trigger)  # checked above; now a Trigger
        print_json(build_event(chosen, **kwargs))
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)


@app.command(rich_help_panel="Policy and function")
def bundle(
    policy: PolicyOption = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Zip to write")] = Path(
        "edgeshield-edge.zip"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    target: Annotated[
        str,
        typer.Option(
            "--target",
            help="lambda-edge (the zip), response-headers-policy (CloudFormation JSON) "
            "or cloudfront-function (cloudfront-js-2.0 source); see `edgeshield plan`",
        ),
    ] = "lambda-edge",
) -> None:
    """Build the reproducible Lambda@Edge zip: the edge function and the compiled policy."""
    if target != "lambda-edge":
        from edgeshield.cli.plan_cmds import bundle_target

        explicit = output if output != Path("edgeshield-edge.zip") else None
        bundle_target(target, policy, explicit, as_json)
        return
    from edgeshield.bundle import build_zip

    compiled = _compiled(
        policy, "the policy has errors; nothing was built (run `edgeshield check` for details)"
    )
    try:
        info = build_zip(compiled, output)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}", EXIT_USAGE)
    _print_bundle(info, compiled, policy, as_json)


def _print_bundle(info: Any, compiled: CompiledPolicy, policy: Path | None, as_json: bool) -> None:
    from edgeshield.cloudfront.rules import PACKAGE_LIMIT_ORIGIN, PACKAGE_LIMIT_VIEWER
    from edgeshield.packaging import EDGE_HANDLER

    if as_json:
        print_json(
            {
                "path": str(info.path),
                "size": info.size,
                "sha256": info.sha256,
                "handler": EDGE_HANDLER,
                "policy_digest": compiled["digest"],
                "fits_viewer_trigger": info.fits_viewer,
                "fits_origin_trigger": info.fits_origin,
            }
        )
        return
    out.print(f"wrote {info.path}  sha256 {info.sha256}", markup=False)
    out.print(
        f"policy {policy_label(resolve_policy(policy))}, digest {compiled['digest']}", markup=False
    )
    out.print(f"handler {EDGE_HANDLER}, runtime python3.12 or python3.13, x86_64")
    for label, limit in (
        ("viewer triggers", PACKAGE_LIMIT_VIEWER),
        ("origin triggers", PACKAGE_LIMIT_ORIGIN),
    ):
        share = 100 * info.size / limit
        out.print(
            f"{info.size:,} bytes compressed = {share:.2f}% of the {limit // 1024 // 1024} MB limit for {label}"
        )


def _read_event_arg(source: str) -> Any:
    from edgeshield.cloudfront import EventError, load_event

    try:
        if source == "-":
            return load_event(sys.stdin.read())
        return load_event(Path(source))
    except EventError as exc:
        fail(f"{source}: {exc}", EXIT_USAGE)
    except OSError as exc:
        fail(f"cannot read {source}: {exc.strerror}", EXIT_USAGE)


@app.command(rich_help_panel="Policy and function")
def invoke(
    event_file: Annotated[
        str,
        typer.Option(
            "--event", "-e", help="Event JSON file, or - for stdin (SAM CLI samples accepted)"
        ),
    ],
    policy: PolicyOption = None,
    handler: Annotated[
        str | None,
        typer.Option(
            "--handler",
            help="Run this handler instead: module.function, resolved from the current directory",
        ),
    ] = None,
    trigger: Annotated[
        str | None, typer.Option(help="Trigger, when the event does not say (SAM samples)")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(help="Seconds; default the trigger's limit (5 viewer, 30 origin)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Run a function once, as Lambda@Edge would, and check its result with CloudFront's rules.

    Exit 0 when CloudFront would accept the result, 1 when it would not (or the function failed),
    2 for bad input."""
    from edgeshield.cloudfront import EventError
    from edgeshield.emulator.functions.invoke import InvokeError
    from edgeshield.emulator.functions.invoke import invoke as run_once

    if policy is not None and handler is not None:
        fail("give --policy or --handler, not both", EXIT_USAGE)
    if timeout is not None and not (0 < timeout <= 30):  # also refuses nan
        fail(
            f"--timeout {timeout} must be more than 0 and at most the trigger's limit (5 s viewer, 30 s origin)",
            EXIT_USAGE,
        )
    raw = _read_event_arg(event_file)
    compiled = None
    if handler is None:
        compiled = _compiled(policy, "the policy has errors (run `edgeshield check`)")
    try:
        answer = run_once(
            raw,
            handler=handler,
            compiled_policy=compiled,
            trigger=cast("Trigger | None", trigger),
            timeout=timeout,
        )
    except InvokeError as exc:
        fail(str(exc), EXIT_USAGE)
    except (EventError, ValueError) as exc:
        fail(f"{event_file}: {exc}", EXIT_USAGE)
    if as_json:
        print_json(answer.to_dict())
    else:
        _print_invocation(answer)
    if not answer.accepted:
        raise typer.Exit(EXIT_FAILURE)


def _print_invocation(answer: InvokeResult) -> None:
    from edgeshield.safetext import printable_lines

    # The function wrote the logs and the error, and its result or the event named the
    # headers the messages quote: none of it reaches the terminal unescaped.
    for line in answer.logs:
        err.print(printable_lines(line), markup=False, highlight=False)
    if answer.status == "ok":
        print_json(answer.result)
    if answer.status == "timeout":
        out.print(
            f"LambdaLimitExceeded: the function ran past its {answer.timeout_s:g} s timeout (CloudFront answers 503)"
        )
    elif answer.status == "error":
        error = printable_lines(f"{answer.error_type}: {answer.error_message}")
        out.print(
            f"LambdaExecutionError: {error} (CloudFront answers 503)", markup=False, highlight=False
        )
    for v in answer.violations:
        if v.kind == "validation":
            label = "LambdaValidationError"
        elif v.kind == "execution":
            label = "LambdaExecutionError"
        else:  # served anyway: a rule AWS does not document
            label = "warning"
        out.print(f"{label}: {printable_lines(v.message)}", markup=False, highlight=False)
    if answer.accepted:
        out.print(f"CloudFront would accept this {answer.trigger} result.")
