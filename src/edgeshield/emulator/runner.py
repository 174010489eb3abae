"""Assemble and run ``edgeshield serve``: origin, functions, cache, log store, HTTP server.

``ServeConfig`` holds every option; ``prepare`` turns the user's input into checked parts
(raising ``ServeError`` with one clear line on a mistake) and ``run`` serves until SIGINT or
SIGTERM, then finishes the requests in flight before stopping the function workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from edgeshield.cloudfront.events import custom_origin, s3_origin
from edgeshield.cloudfront.rules import MEMORY_MB_VIEWER, TIMEOUT_SECONDS, Trigger, trigger_named
from edgeshield.emulator import run_dirs
from edgeshield.emulator.config import (
    Extension,
    FunctionOption,
    Prepared,
    ServeConfig,
    ServeConfigError,
    ServeError,
    parse_function_option,
)
from edgeshield.emulator.functions.runtime import (
    FunctionPool,
    FunctionSpec,
    InitError,
    function_name_for,
)
from edgeshield.emulator.http.server import EdgeServer
from edgeshield.emulator.logstore import LogStore
from edgeshield.emulator.pipeline import ALL_METHODS, GET_HEAD, Edge, EdgeSettings, OriginSetup
from edgeshield.emulator.pipeline.cache import Cache, TtlSettings
from edgeshield.emulator.pipeline.origin_fetch import (
    CustomTarget,
    DirOrigin,
    HttpOrigin,
    OriginTimeouts,
)
from edgeshield.emulator.pipeline.viewer_stage import (
    FunctionError,
    PolicyConfigError,
    ViewerSetup,
    close_stage,
    load_setup,
    parse_rhp,
    start_stage,
)
from edgeshield.emulator.pops import normalize_pop, region_for_pop
from edgeshield.emulator.stats import Stats
from edgeshield.packaging import EDGE_HANDLER as BUILTIN_HANDLER

if TYPE_CHECKING:
    from edgeshield.policy import CompiledPolicy

BUILTIN_NAME: Final = "edgeshield-security-headers"
BUILD_DIR: Final = "build"


def demo_site() -> Path:
    return Path(str(resources.files("edgeshield.emulator").joinpath("demo")))


def prepare(config: ServeConfig) -> Prepared:
    """Check the configuration, load what it names (origin, policy, functions) and stage the
    policy's bundle; ``ServeError`` (often a ``ServeConfigError``) on the first problem."""
    config.check()
    pop = normalize_pop(config.pop)
    region = region_for_pop(pop)
    seen = {option.trigger for option in config.functions}

    origin, label = _origin(config)
    specs = [
        _spec(
            config,
            _trigger(o.trigger),
            o.handler,
            config.cwd,
            function_name_for(o.handler),
            region,
            False,
        )
        for o in config.functions
    ]
    policy_label: str | None = None
    viewer = _viewer_setup(config)
    # edgeshield's own function runs alone by default, and next to the user's functions
    # when a policy is given: at the trigger the policy names (origin-response by default).
    # With --mechanism other than lambda-edge the policy travels another way (no function).
    compiled: CompiledPolicy | None = None
    if config.policy_function and (not config.functions or config.policy is not None):
        compiled = _compile_policy(config.policy)
        trigger = _trigger(compiled.get("trigger", "origin-response"))
        if trigger in seen:
            raise ServeConfigError(
                "functions",
                "{functions} {trigger}=… and the policy's function both want {trigger}; "
                "CloudFront runs one function per trigger: move yours to another trigger, "
                'or set [function] trigger = "viewer-response" in the policy',
                trigger=trigger,
            )
        seen.add(trigger)
    for function in viewer.functions:
        if function.trigger in seen:
            raise ServeError(
                f"{function.trigger}: a CloudFront Function and a Lambda@Edge function cannot "
                "share a viewer event of one cache behaviour"
            )
    # Staged last, once every check has passed: nothing to undo on a refusal.
    bundle_root: Path | None = None
    if compiled is not None:
        bundle_root = _stage_run(compiled, config)
        policy_label = str(config.policy) if config.policy else "built-in preset 'strict'"
        specs.append(
            _spec(config, trigger, BUILTIN_HANDLER, bundle_root, BUILTIN_NAME, region, True)
        )
    return Prepared(config, region, pop, origin, label, specs, policy_label, viewer, bundle_root)


def _viewer_setup(config: ServeConfig) -> ViewerSetup:
    try:
        generated = [(pattern, parse_rhp(data)) for pattern, data in config.generated_policies]
        return load_setup(
            list(config.cloudfront_functions),
            list(config.response_headers_policies),
            config.cff_timeout_ms,
            list(config.generated_functions),
            generated,
        )
    except (FunctionError, PolicyConfigError) as exc:
        raise ServeError(str(exc)) from None


def _stage_run(compiled: CompiledPolicy, config: ServeConfig) -> Path:
    """The policy's bundle, staged in a directory of this run's own (``run_dirs``)."""
    build = config.state_dir / BUILD_DIR
    try:
        root = run_dirs.new_run_dir(build)
    except OSError as exc:
        raise ServeError(
            f"cannot write the function bundle to {build}: {exc.strerror or exc}"
        ) from None
    try:
        return _stage(compiled, root)
    except ServeError:
        run_dirs.release(root)
        raise


def _stage(compiled: CompiledPolicy, root: Path) -> Path:
    from edgeshield.bundle import stage

    try:
        return stage(compiled, root)
    except OSError as exc:
        raise ServeError(
            f"cannot write the function bundle to {root}: {exc.strerror or exc}"
        ) from None


def _compile_policy(path: Path | None) -> CompiledPolicy:
    from edgeshield.policy import PolicyError, load_and_compile

    if path is not None and not path.is_file():
        raise ServeConfigError("policy", "{policy} {path}: no such file", path=path)
    try:
        return load_and_compile(path)
    except PolicyError as exc:
        raise ServeError(str(exc)) from None


def _trigger(value: object) -> Trigger:
    # Both sources were checked before (ServeConfig.check, the policy's validation).
    trigger = trigger_named(value)
    if trigger is None:
        raise ServeError(f"unknown trigger {str(value)!r}")
    return trigger


def _spec(
    config: ServeConfig,
    trigger: Trigger,
    handler: str,
    root: Path,
    name: str,
    region: str,
    stdlib_only: bool,
) -> FunctionSpec:
    limit = TIMEOUT_SECONDS[trigger]
    timeout = min(limit, config.function_timeout) if config.function_timeout else limit
    memory = MEMORY_MB_VIEWER if trigger.startswith("viewer") else config.origin_memory_mb
    return FunctionSpec(
        trigger, handler, root.resolve(), name, memory, timeout, region, stdlib_only
    )


def _origin(config: ServeConfig) -> tuple[OriginSetup, str]:
    value = config.origin
    if value is None:
        root = demo_site()
        return OriginSetup(
            s3_origin("edgeshield-demo.s3.amazonaws.com"), DirOrigin(root)
        ), "embedded demo site"
    if "://" in value:
        return _url_origin(value, config)
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ServeConfigError(
            "origin",
            "{origin} {value}: not a folder and not an http:// or https:// URL",
            value=value,
        )
    bucket = re.sub(r"[^a-z0-9.-]+", "-", path.resolve().name.lower()).strip("-.") or "bucket"
    return (
        OriginSetup(s3_origin(f"{bucket[:63]}.s3.amazonaws.com"), DirOrigin(path)),
        f"folder {path.resolve()} (as an S3 origin)",
    )


def _url_origin(value: str, config: ServeConfig) -> tuple[OriginSetup, str]:
    try:
        parts = urlsplit(value)
    except ValueError as exc:  # "Invalid IPv6 URL"
        raise ServeConfigError("origin", "{origin} {value}: {why}", value=value, why=exc) from None
    if parts.scheme not in ("http", "https"):
        raise ServeConfigError(
            "origin",
            "{origin} {value}: only http:// and https:// origins are supported",
            value=value,
        )
    if not parts.hostname:
        raise ServeConfigError("origin", "{origin} {value}: the URL names no host", value=value)
    if parts.query or parts.fragment:
        raise ServeConfigError(
            "origin", "{origin} {value}: an origin URL has no query string or fragment", value=value
        )
    if parts.username is not None or parts.password is not None:
        raise ServeConfigError(
            "origin", "{origin} {value}: an origin URL has no user or password", value=value
        )
    host = parts.hostname
    address = _ip_address(host)
    if address is None and not _HOST.fullmatch(host):
        raise ServeConfigError(
            "origin", "{origin} {value}: {host!r} is no host name or IP address",
            value=value, host=host,
        )  # fmt: skip
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        port = 0
    if port == 0:
        raise ServeConfigError("origin", "{origin} {value}: invalid port", value=value)
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    path = parts.path.rstrip("/")
    domain, connect_host = host, None
    if address is not None and address.is_loopback:
        # CloudFront origins are DNS names; show a loopback origin as localhost in events.
        domain, connect_host = "localhost", host
    target = CustomTarget(parts.scheme, domain, port, path, connect_host)
    read = int(min(60, max(4, round(config.origin_read_timeout))))
    event_origin = custom_origin(
        domain, port=port, protocol=parts.scheme, path=path, read_timeout=read
    )
    shown = f"[{host}]" if ":" in host else host
    return OriginSetup(event_origin, None, target), f"{parts.scheme}://{shown}:{port}{path}"


# A DNS name as an origin's domain name may be written (letters, digits, hyphens, dots).
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def _ip_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def start_pools(
    prepared: Prepared, logs: LogStore, stats: Stats
) -> dict[Trigger, FunctionPool]:
    """One warm worker per function, so a handler that cannot be imported fails at start."""
    if not prepared.specs:  # no function (a response headers policy alone): no scratch folder
        return {}
    scratch = Path(tempfile.mkdtemp(prefix="edgeshield-workers-"))

    def record(spec: FunctionSpec, invocation: Any) -> None:
        pass  # counted by the pipeline, which also sees validation results

    pools: dict[Trigger, FunctionPool] = {}
    try:
        for spec in prepared.specs:
            pool = FunctionPool(
                spec,
                logs,
                max_workers=prepared.config.workers,
                on_invocation=record,
                scratch=scratch,
            )
            await pool.start()
            pools[_trigger(spec.trigger)] = pool
    except InitError as exc:
        for pool in pools.values():
            await pool.close()
        shutil.rmtree(scratch, ignore_errors=True)
        where = "the staged edgeshield bundle" if exc.spec.stdlib_only else str(exc.spec.task_root)
        raise ServeError(
            f"{exc.spec.trigger} function {exc.spec.handler}: {exc.error_type}: {exc.message} "
            f"(resolved against {where})"
        ) from None
    return pools


def tls_files(config: ServeConfig) -> Any:
    """The certificate the edge serves: the user's, or a local CA's made under .edgeshield/."""
    from edgeshield.emulator.http.tls import TlsFiles, ensure_local_certificate

    # ServeConfig.check has made sure the two come together and exist.
    if config.tls_cert is not None and config.tls_key is not None:
        return TlsFiles(config.tls_cert, config.tls_key, None)
    return ensure_local_certificate(config.state_dir / "tls")


def _tls(config: ServeConfig) -> tuple[Any, Any]:
    """The SSL context and the files it was made from; (None, None) without --tls."""
    if not config.tls:
        return None, None
    import ssl

    from edgeshield.emulator.http.tls import server_context

    try:
        files = tls_files(config)
        return server_context(files), files
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise ServeError(f"cannot use the TLS certificate: {exc}") from exc


@dataclass
class Running:
    """A started edge, for the banner and for tests that run it in-process."""

    prepared: Prepared
    server: EdgeServer
    edge: Edge
    pools: dict[Trigger, FunctionPool]
    http: HttpOrigin
    logs: LogStore
    tls: Any = None  # the TlsFiles served, with --tls

    @property
    def url(self) -> str:
        host = self.server.host
        shown = f"[{host}]" if ":" in host else host
        scheme = "https" if self.server.ssl_context is not None else "http"
        return f"{scheme}://{shown}:{self.server.port}/"

    @property
    def redirect_url(self) -> str | None:
        """The plain-HTTP address that redirects to ``url`` (``--tls --http-port``)."""
        if self.server.redirect_port is None:
            return None
        host = self.server.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.server.redirect_port}/"

    async def close(self) -> None:
        await self.server.stop()
        await asyncio.gather(*(p.close() for p in self.pools.values()), return_exceptions=True)
        await close_stage(self.edge.viewer_stage)
        await self.http.close()
        for extension in self.prepared.config.extensions:
            with contextlib.suppress(Exception):
                await extension.close()
        with contextlib.suppress(OSError):
            self.edge.stats.write(self.prepared.config.state_dir)
        for path in {p.scratch for p in self.pools.values()}:
            shutil.rmtree(path, ignore_errors=True)
        if self.prepared.bundle_root is not None:
            run_dirs.release(self.prepared.bundle_root)
        self.logs.close()


async def start(prepared: Prepared) -> Running:
    """Start the function pools, the origin client, the viewer stage, the extensions and the
    server; on a failure, stop what started, remove the run's bundle, and raise
    ``ServeError``."""
    try:
        return await _start(prepared)
    except BaseException:
        if prepared.bundle_root is not None:
            run_dirs.release(prepared.bundle_root)
        raise


async def _start(prepared: Prepared) -> Running:
    config = prepared.config
    logs = LogStore(config.logs_root, buffered=True)
    stats = Stats()
    pools = await start_pools(prepared, logs, stats)
    http = HttpOrigin(
        OriginTimeouts(
            config.origin_connect_timeout,
            config.origin_connect_attempts,
            config.origin_read_timeout,
        ),
        config.origin_ca,
    )
    await http.start()
    settings = edge_settings(prepared)
    cache = _cache(config, settings)
    edge = Edge(
        settings, prepared.origin, pools, logs, http, stats, cache=cache, console=config.console
    )
    ssl_context, tls_used = _tls(config)
    server = EdgeServer(
        edge,
        config.host,
        config.port,
        max_in_flight=config.max_in_flight,
        access_log=config.access_log,
        shutdown_timeout=config.shutdown_timeout,
        ssl_context=ssl_context,
        redirect_port=config.http_port if config.tls else None,
        header_timeout=config.header_timeout,
    )
    for path, route in config.local_routes.items():
        server.add_local_route(path, route)
    started: list[Extension] = []
    try:
        await _start_around(prepared, edge, server, logs, started, settings.distribution_id)
    except (OSError, ServeError) as exc:
        await server.stop()  # the site may be up when the redirect's port is the taken one
        for extension in started:
            with contextlib.suppress(Exception):
                await extension.close()
        await asyncio.gather(*(p.close() for p in pools.values()), return_exceptions=True)
        await close_stage(edge.viewer_stage)
        await http.close()
        logs.close()
        if isinstance(exc, ServeError):
            raise
        raise ServeError(f"cannot start the edge: {exc.strerror or exc}") from None
    return Running(prepared, server, edge, pools, http, logs, tls_used)


def _listen_error(config: ServeConfig, exc: OSError) -> str:
    """One line for a port the edge cannot listen on, naming the port (the edge's or the
    redirect's) and, when it is taken, the option that picks another."""
    port, option = config.port, "--port"
    redirect = config.http_port if config.tls else None
    # asyncio names the address: ('127.0.0.1', 8080) or ('::1', 8080, 0, 0).
    if redirect is not None and re.search(rf", {redirect}[,)]", str(exc)):
        port, option = redirect, "--http-port"
    host = f"[{config.host}]" if ":" in config.host else config.host
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {host}:{port}: the port is in use (another serve?); "
            f"choose another with {option} N, or {option} 0 for any free port"
        )
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def edge_settings(prepared: Prepared) -> EdgeSettings:
    config = prepared.config
    return EdgeSettings(
        pop=prepared.pop,
        region=prepared.region,
        execution_error_status=config.execution_error_status,
        cache_enabled=config.cache,
        query_string=config.query_string,
        forward_cookies=config.forward_cookies,
        ttl=TtlSettings(config.default_ttl, config.min_ttl, config.max_ttl),
        include_body=frozenset(config.include_body),
        # A folder stands for an S3 bucket, whose behavior allows GET and HEAD (CDK's default,
        # as `edgeshield deploy` creates it); an app behind a URL gets every method.
        allowed_methods=GET_HEAD if prepared.origin.directory is not None else ALL_METHODS,
    )


def _cache(config: ServeConfig, settings: EdgeSettings) -> Cache | None:
    if not config.cache:
        return None
    size = config.cache_mb * 1024 * 1024
    return Cache(size, min(settings.max_object_bytes, size // 4))


async def _start_around(
    prepared: Prepared,
    edge: Edge,
    server: EdgeServer,
    logs: LogStore,
    started: list[Extension],
    distribution_id: str,
) -> None:
    """What starts around the edge, then the server itself; ``started`` collects the
    extensions that did, for the caller to close on a failure."""
    try:
        edge.viewer_stage = await start_stage(prepared.viewer, logs, distribution_id)
    except FunctionError as exc:
        raise ServeError(str(exc)) from None
    for extension in prepared.config.extensions:
        try:
            routes = await extension.start(prepared, logs)
        except OSError as exc:
            name = type(extension).__name__
            raise ServeError(f"cannot start {name}: {exc.strerror or exc}") from None
        started.append(extension)
        for path, route in routes.items():
            server.add_local_route(path, route)
    try:
        await server.start()
    except OSError as exc:
        raise ServeError(_listen_error(prepared.config, exc)) from None


def serve_forever(prepared: Prepared, on_ready: Callable[[Running], None] | None = None) -> None:
    """``run`` on its own event loop, until SIGINT/SIGTERM (what ``edgeshield serve`` does)."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(run(prepared, on_ready))


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (Linux and macOS): the edge spends a good
    part of each request in the loop and in socket I/O, which uvloop does in C. None (asyncio's
    own loop) without it, or with ``EDGESHIELD_LOOP=asyncio``."""
    if os.environ.get("EDGESHIELD_LOOP", "").strip().lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def run(prepared: Prepared, on_ready: Callable[[Running], None] | None = None) -> None:
    """Serve until SIGINT/SIGTERM; then stop accepting, finish in-flight requests, clean up."""
    running = await start(prepared)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if on_ready is not None:
        on_ready(running)
    state_dir = prepared.config.state_dir

    async def write_stats() -> None:
        ticks = 0
        while True:
            with contextlib.suppress(OSError):
                running.logs.flush()
                if ticks % 10 == 0:
                    running.edge.stats.write(state_dir, _stats_extra(running))
            ticks += 1
            await asyncio.sleep(0.1)

    tasks = [asyncio.create_task(write_stats())]
    if prepared.config.reload and watched_files(prepared):
        tasks.append(asyncio.create_task(watch(running)))
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await running.close()
        with contextlib.suppress(OSError):
            running.edge.stats.write(state_dir, _stats_extra(running))


def _stats_extra(running: Running) -> dict[str, Any]:
    cache = running.edge.cache
    return {
        "url": running.url,
        "cache_objects": len(cache) if cache is not None else 0,
        "cache_bytes": cache.bytes if cache is not None else 0,
        "cache_evictions": cache.evictions if cache is not None else 0,
        "workers": {t: p.size for t, p in running.pools.items()},
    }


_SKIP_DIRS: Final = frozenset({"node_modules", "__pycache__", "venv", "site-packages", "cdk.out"})
_MAX_WATCHED: Final = 5000


def watched_files(prepared: Prepared) -> dict[Path, int]:
    """What a change reloads: the policy file (edgeshield's function) and the Python files under
    the task root (your functions), with their modification times."""
    config = prepared.config
    # With --mechanism the policy was compiled by the CLI at start: not reloaded here.
    policy = config.policy if config.policy_function else None
    paths = [policy] if policy is not None else []
    if config.functions:
        for directory, dirs, files in os.walk(config.cwd):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS]
            paths.extend(Path(directory) / f for f in files if f.endswith(".py"))
            if len(paths) > _MAX_WATCHED:
                break
    out: dict[Path, int] = {}
    for path in paths[:_MAX_WATCHED]:
        with contextlib.suppress(OSError):
            out[path] = path.stat().st_mtime_ns
    return out


async def watch(running: Running, interval: float = 0.5) -> None:
    before = await asyncio.to_thread(watched_files, running.prepared)
    while True:
        await asyncio.sleep(interval)
        now = await asyncio.to_thread(watched_files, running.prepared)
        if now != before:
            before = now
            await reload(running)


async def reload(running: Running) -> None:
    """Load changed code like a new function version: new execution environments (cold
    starts), and an empty cache (what the old code produced is gone)."""
    config = running.prepared.config
    say = config.notify or (lambda _text: None)
    if running.prepared.policy_label is not None:
        try:
            compiled = _compile_policy(config.policy)
        except ServeError as exc:
            say(f"policy not reloaded, the running one stays: {exc}")
            return
        if compiled.get("trigger") != next(
            (s.trigger for s in running.prepared.specs if s.handler == BUILTIN_HANDLER), None
        ):
            say("policy not reloaded: its [function] trigger changed; restart serve for that")
            return
        assert running.prepared.bundle_root is not None
        try:
            _stage(compiled, running.prepared.bundle_root)
        except ServeError as exc:
            say(f"policy not reloaded: {exc}")
            return
    for pool in running.pools.values():
        error = await pool.recycle()
        if error is not None:
            say(
                f"{pool.spec.trigger} function {pool.spec.handler} fails to load: "
                f"{error.error_type}: {error.message}"
            )
    if running.edge.cache is not None:
        running.edge.cache.clear()
    say("reloaded: new execution environments, cache emptied")


__all__ = [
    "BUILD_DIR",
    "BUILTIN_NAME",
    "Extension",
    "FunctionOption",
    "Prepared",
    "Running",
    "ServeConfig",
    "ServeConfigError",
    "ServeError",
    "demo_site",
    "parse_function_option",
    "prepare",
    "run",
    "start",
]
