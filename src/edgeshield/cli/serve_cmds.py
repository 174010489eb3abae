"""``edgeshield serve`` (the local CloudFront edge) and ``edgeshield stats`` (its counters)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from edgeshield.cli import serve_options as opt
from edgeshield.cli.app import EXIT_USAGE, app
from edgeshield.cli.console import fail, out, print_json, print_untrusted
from edgeshield.cli.options import policy_label, resolve_policy

if TYPE_CHECKING:
    from edgeshield.emulator.runner import Running


@app.command(rich_help_panel="Local edge")
def serve(
    policy: opt.Policy = None,
    origin: opt.Origin = None,
    function: opt.Function = None,
    host: opt.Host = "127.0.0.1",
    port: opt.Port = 8080,
    pop: opt.Pop = "IAD89-C1",
    function_timeout: opt.FunctionTimeout = None,
    origin_connect_timeout: opt.OriginConnectTimeout = 10.0,
    origin_connect_attempts: opt.OriginConnectAttempts = 3,
    origin_read_timeout: opt.OriginReadTimeout = 30.0,
    origin_ca: opt.OriginCa = None,
    no_cache: opt.NoCache = False,
    cache_mb: opt.CacheMb = 64,
    query_string: opt.QueryString = False,
    forward_cookies: opt.ForwardCookies = False,
    default_ttl: opt.DefaultTtl = 86400,
    min_ttl: opt.MinTtl = 0,
    max_ttl: opt.MaxTtl = 31536000,
    execution_error_status: opt.ExecutionErrorStatus = 503,
    include_body: opt.IncludeBody = None,
    workers: opt.Workers = 4,
    max_in_flight: opt.MaxInFlight = 256,
    no_reload: opt.NoReload = False,
    quiet: opt.Quiet = False,
    tls: opt.Tls = False,
    tls_cert: opt.TlsCert = None,
    tls_key: opt.TlsKey = None,
    http_port: opt.HttpPort = None,
    no_collector: opt.NoCollector = False,
    collector_env: opt.CollectorEnv = None,
    collector_secret: opt.CollectorSecret = None,
    mechanism: opt.Mechanism = "lambda-edge",
    cloudfront_function: opt.CloudfrontFunction = None,
    response_headers_policy: opt.ResponseHeadersPolicy = None,
    cff_timeout_ms: opt.CffTimeoutMs = 50.0,
) -> None:
    """Run a local CloudFront edge with your Lambda@Edge functions.

    The four triggers with CloudFront's rules, cache and error pages, and CloudWatch-style logs under .edgeshield/."""
    options = dict(locals())
    from edgeshield.emulator import runner
    from edgeshield.emulator.config import (
        parse_cloudfront_function,
        parse_function_option,
        parse_response_headers_policy,
    )
    from edgeshield.emulator.http.server import console_access_log

    fields = _same_named(options, runner.ServeConfig)
    try:
        functions = [parse_function_option(text) for text in function or []]
        # Alone, edgeshield's function takes the policy the other commands take; next to your
        # own functions it runs only when asked for with --policy.
        chosen = policy if functions else resolve_policy(policy)
        fields.update(
            policy=chosen,
            functions=functions,
            cache=not no_cache,
            reload=not no_reload,
            include_body=list(include_body or []),
            tls=tls or tls_cert is not None,
            notify=_notify,
            access_log=None if quiet else console_access_log,
            extensions=_collector(no_collector, collector_env or [], collector_secret),
            cloudfront_functions=[parse_cloudfront_function(t) for t in cloudfront_function or []],
            response_headers_policies=[
                parse_response_headers_policy(t) for t in response_headers_policy or []
            ],
            **_mechanism(mechanism, policy, bool(functions)),
        )
        prepared = runner.prepare(runner.ServeConfig(**fields))
        implicit = policy is None and chosen is not None
        runner.serve_forever(prepared, lambda running: _banner(running, implicit))
    except runner.ServeConfigError as exc:
        fail(exc.render(flag_for_field), EXIT_USAGE)
    except runner.ServeError as exc:
        fail(str(exc), EXIT_USAGE)


# ServeConfig fields whose flag is not "--" + the field name with dashes.
_FLAGS = {
    "functions": "--function",
    "cache": "--no-cache",
    "reload": "--no-reload",
    "cloudfront_functions": "--cloudfront-function",
    "response_headers_policies": "--response-headers-policy",
}


def flag_for_field(name: str) -> str:
    """The serve flag that sets ServeConfig field ``name``, for error messages."""
    return _FLAGS.get(name, "--" + name.replace("_", "-"))


def _same_named(values: dict[str, Any], config: type) -> dict[str, Any]:
    """The options named like a field of ``config`` (--port is ``port``): they pass through
    unchanged; the others are turned into fields by hand."""
    names = {f.name for f in dataclasses.fields(config)}
    return {name: value for name, value in values.items() if name in names}


def _mechanism(mechanism: str, policy: Path | None, with_functions: bool) -> dict[str, Any]:
    """ServeConfig settings for a policy applied by a response headers policy or a CloudFront
    Function: the policy compiled to that mechanism here, so the emulator never imports the
    compilers of ``edgeshield.targets``."""
    from edgeshield.emulator.pipeline.viewer_stage import FunctionSource
    from edgeshield.emulator.runner import ServeError

    if mechanism == "lambda-edge":
        return {}
    if mechanism not in ("response-headers-policy", "cloudfront-function"):
        raise ServeError(
            f"--mechanism {mechanism!r}: use lambda-edge, response-headers-policy or cloudfront-function"
        )
    if with_functions:
        raise ServeError("--mechanism applies to the policy; with --function there is none")
    from edgeshield.policy import PolicyError, load_and_compile
    from edgeshield.targets import cff, rhp

    try:
        compiled = load_and_compile(policy)
    except PolicyError as exc:
        raise ServeError(
            "; ".join(p.format() for p in exc.problems if p.severity == "error")
        ) from None
    if mechanism == "response-headers-policy":
        for reason in rhp.reasons(compiled):  # policy text: never read as markup
            out.print(
                f"edgeshield: the response headers policy is not exact: {reason}", markup=False
            )
        return {
            "policy_function": False,
            "generated_policies": [("*", rhp.config(compiled, "edgeshield"))],
        }
    code = cff.generate(compiled)
    if not code.fits:
        raise ServeError(f"the generated CloudFront Function is {code.size:,} bytes, over 10 KB")
    source = FunctionSource("viewer-response", "edgeshield-security-headers", code.code)
    return {"policy_function": False, "generated_functions": [source]}


def _collector(off: bool, env: list[str], secret: str | None) -> list[Any]:
    """The CSP-report collector as a serve extension ([] with --no-collector)."""
    from edgeshield.emulator.collector_route import CollectorExtension, CollectorOptions
    from edgeshield.emulator.runner import ServeError

    if off:
        if env or secret is not None:
            raise ServeError("--collector-env and --collector-secret need the collector on")
        return []
    environment = {}
    for item in env:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise ServeError(f"--collector-env {item!r} must look like NAME=VALUE")
        environment[name] = value
    return [CollectorExtension(CollectorOptions(environment, secret), _violation)]


def _violation(text: str) -> None:
    print_untrusted(text, "yellow")  # report fields: untrusted


def _banner(running: Running, implicit_policy: bool = False) -> None:
    prepared = running.prepared
    config = prepared.config
    out.print(f"[bold]edgeshield serve[/] — local CloudFront edge at [bold]{running.url}[/]")
    if running.redirect_url:
        out.print(f"  redirect   {running.redirect_url} -> https (viewer protocol policy)")
    if config.tls:
        files = running.tls
        trust = f"; trust {files.ca} to avoid browser warnings" if files.ca else ""
        out.print(f"  tls        {files.cert}{trust}")
    out.print(f"  origin     {prepared.origin_label}")
    for spec in prepared.specs:
        timeout = f"{spec.timeout_s:g} s"
        out.print(f"  {spec.trigger:<16}{spec.handler}  (function {spec.name}, timeout {timeout})")
    for cf in prepared.viewer.functions:  # names come from file names: print them plainly
        out.print(
            f"  {cf.trigger:<16}CloudFront Function {cf.name} (cloudfront-js-2.0, Node)",
            markup=False,
        )
    for pattern, rhp in prepared.viewer.behaviours:
        out.print(f"  {'headers policy':<16}{rhp.name} on cache behaviour {pattern}", markup=False)
    for extension in config.extensions:
        out.print(f"  {extension.label}")
    out.print(f"  policy     {_policy_line(prepared, implicit_policy)}", markup=False)
    cache = f"on, {config.cache_mb} MB" if config.cache else "off"
    out.print(f"  cache      {cache}")
    out.print(f"  pop        {prepared.pop} (logs in region {prepared.region})")
    out.print(f"  logs       {config.logs_root}  (read with: edgeshield logs --local)")
    out.print(f"  counters   {config.state_dir / 'stats.json'}  (read with: edgeshield stats)")
    if config.reload:
        watched = [str(config.policy)] if config.policy is not None else []
        if config.functions:
            watched.append(f"*.py under {config.cwd}")
        if watched:
            out.print(f"  reload     on change of {' and '.join(watched)}", markup=False)
    out.print("Ctrl-C stops after finishing the requests in flight.")


def _policy_line(prepared: Any, implicit: bool) -> str:
    config = prepared.config
    if prepared.policy_label is not None:
        return policy_label(config.policy) + (" (found in this directory)" if implicit else "")
    here = resolve_policy(None)
    hint = f"--policy {here}" if here is not None else "--policy FILE"
    return f"none: only your functions run (add {hint} to run edgeshield's function too)"


def _notify(text: str) -> None:
    out.print(f"[bold]edgeshield:[/] {text}" if out.is_terminal else f"edgeshield: {text}")


@app.command(rich_help_panel="Local edge")
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw counters as JSON")] = False,
    state: Annotated[
        Path | None,
        typer.Option("--state", help="The .edgeshield directory (default: ./.edgeshield)"),
    ] = None,
) -> None:
    """Counters of the local edge started in this directory.

    Requests, cache, invocations, errors and durations."""
    from edgeshield.emulator.logstore import STATE_DIR
    from edgeshield.emulator.stats import read_stats

    directory = state or Path.cwd() / STATE_DIR
    data = read_stats(directory)
    if data is None:
        fail(
            f"no counters in {directory}; start the local edge there with: edgeshield serve",
            EXIT_USAGE,
        )
    if as_json:
        print_json(data)
        return
    out.print(f"requests       {data['requests']}  ({_fmt(data['statuses'])})")
    out.print(f"x-cache        {_fmt(data['x_cache'])}")
    out.print(f"cache          hits {data['cache']['hits']}, misses {data['cache']['misses']}, "
              f"{data.get('cache_objects', 0)} objects, {data.get('cache_bytes', 0)} bytes")  # fmt: skip
    out.print(
        f"invocations    {_fmt(data['invocations'])}  (cold starts: {_fmt(data['cold_starts'])})"
    )
    out.print(f"errors         {_fmt(data['errors'])}")
    for trigger, hist in data["function_duration_ms"].items():
        out.print(f"{trigger}  mean {hist['mean_ms']} ms, max {hist['max_ms']} ms")
        out.print(f"{'':15}buckets (ms) {_fmt(hist['buckets'])}")
    req = data["request_duration_ms"]
    out.print(f"request time   mean {req['mean_ms']} ms, max {req['max_ms']} ms")


def _fmt(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"
