"""What a local edge is asked to be: ``ServeConfig``, its checks, and the errors they raise.

The checks speak in field names (``port``, ``min_ttl``): a ``ServeConfigError`` names the field
at fault, and its message marks every field it mentions so that a front end can show its own
names for them instead (``edgeshield serve`` shows ``--port``, ``--min-ttl``). ``runner``
turns a checked configuration into a running edge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from edgeshield.cloudfront.rules import TIMEOUT_SECONDS, TRIGGERS
from edgeshield.emulator.console import console_line
from edgeshield.emulator.http.server import (
    HEADER_TIMEOUT,
    AccessLog,
    LocalRoute,
    console_access_log,
)
from edgeshield.emulator.logstore import LOGS_DIR, STATE_DIR
from edgeshield.emulator.pipeline.viewer_stage import (
    FunctionSource,
    ViewerSetup,
    parse_behaviour_option,
    parse_function_file_option,
)
from edgeshield.emulator.pops import PopError, normalize_pop, region_for_pop
from edgeshield.errors import EdgeshieldError, FieldError

if TYPE_CHECKING:
    from edgeshield.emulator.functions.runtime import FunctionSpec
    from edgeshield.emulator.logstore import LogStore
    from edgeshield.emulator.pipeline import OriginSetup

_HANDLER_RE: Final = re.compile(r"^[A-Za-z_][\w.]*[.:][A-Za-z_]\w*$")
# CloudFront's limits for a custom origin's connection attempts (1-3) and our worker pool's.
MAX_WORKERS: Final = 64
BODY_TRIGGERS: Final = ("viewer-request", "origin-request")


class ServeError(EdgeshieldError):
    """A local edge that cannot start as asked: one line, no traceback."""


class ServeConfigError(FieldError, ServeError):
    """A ``ServeConfig`` field holds a value the edge cannot use; ``field`` names it and the
    message speaks in field names (``render`` shows other names, ``FieldError``)."""


class Extension(Protocol):
    """Something that runs alongside the edge. ``start`` gets the checked configuration and
    the edge's log store, returns the local routes it serves (path -> handler) and may raise
    ServeError; ``label`` is shown in the start-up banner; ``close`` runs at shutdown."""

    label: str

    async def start(self, prepared: Prepared, logs: LogStore) -> Mapping[str, LocalRoute]: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class FunctionOption:
    trigger: str
    handler: str


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    origin: str | None = None  # URL or folder; None = the embedded demo site
    policy: Path | None = None  # None = the strict preset
    functions: Sequence[FunctionOption] = ()
    pop: str = "IAD89-C1"
    function_timeout: float | None = None
    origin_connect_timeout: float = 10.0
    origin_connect_attempts: int = 3
    origin_read_timeout: float = 30.0
    origin_ca: Path | None = None
    cache: bool = True
    cache_mb: int = 64
    query_string: bool = False
    forward_cookies: bool = False
    default_ttl: float = 86400.0
    min_ttl: float = 0.0
    max_ttl: float = 31536000.0
    execution_error_status: int = 503
    include_body: Sequence[str] = ()
    origin_memory_mb: int = 128
    workers: int = 4
    max_in_flight: int = 256
    cwd: Path = field(default_factory=Path.cwd)
    access_log: AccessLog | None = console_access_log
    # Why a function's answer failed (or what it did that AWS documents nowhere), one line each.
    console: Callable[[str], None] | None = console_line
    shutdown_timeout: float = 30.0
    header_timeout: float = HEADER_TIMEOUT  # for a request's headers, or a stalled body
    # Paths answered locally instead of through the edge: in production another cache
    # behavior routes them (e.g. /_edgeshield/csp-report to the collector).
    local_routes: Mapping[str, LocalRoute] = field(default_factory=dict)
    # Parts that need to start and stop with the edge and may add local routes (e.g. the
    # CSP-report collector, which runs its own function pool).
    extensions: Sequence[Extension] = ()
    # HTTPS towards the viewer, as CloudFront serves it (see tls.py for why it matters locally).
    tls: bool = False
    tls_cert: Path | None = None  # your own certificate chain and key; default: one we make
    tls_key: Path | None = None
    http_port: int | None = None  # with tls: a plain listener that redirects to https
    # Watch the function's code (or the policy file) and load it afresh when it changes.
    reload: bool = True
    notify: Callable[[str], None] | None = None  # console messages (reloads, their errors)
    # CloudFront Functions (TRIGGER, FILE.js) and response headers policies per cache
    # behaviour (PATTERN, FILE.json); the generated_* ones come from a policy compiled by the
    # CLI (serve --mechanism). policy_function=False: no edgeshield Lambda@Edge function.
    cloudfront_functions: Sequence[tuple[str, Path]] = ()
    response_headers_policies: Sequence[tuple[str, Path]] = ()
    generated_functions: Sequence[FunctionSource] = ()
    generated_policies: Sequence[tuple[str, Any]] = ()
    cff_timeout_ms: float = 50.0
    policy_function: bool = True

    # Where logs, stats and the staged bundle go (default: .edgeshield under cwd); the pytest
    # plugin points it at a temporary folder so tests leave nothing in the user's project.
    state_root: Path | None = None

    @property
    def state_dir(self) -> Path:
        return self.state_root if self.state_root is not None else self.cwd / STATE_DIR

    @property
    def logs_root(self) -> Path:
        return self.state_dir / LOGS_DIR

    def check(self) -> None:
        """Raise ``ServeConfigError`` for the first field the edge cannot use. Reads no file
        other than checking that the ones named exist; origins and functions are checked
        when ``prepare`` loads them."""
        _check_network(self)
        _check_limits(self)
        _check_cache(self)
        _check_functions(self)
        _check_tls(self)


@dataclass
class Prepared:
    """Everything ``run`` needs, checked."""

    config: ServeConfig
    region: str
    pop: str
    origin: OriginSetup
    origin_label: str
    specs: list[FunctionSpec]
    policy_label: str | None
    viewer: ViewerSetup = field(default_factory=ViewerSetup)
    # Where this run staged edgeshield's own function (None without it): a directory of its
    # own, so another serve in the same directory never changes what this one runs.
    bundle_root: Path | None = None


def _check_network(config: ServeConfig) -> None:
    for name, port in (("port", config.port), ("http_port", config.http_port)):
        if port is not None and not 0 <= port <= 65535:
            raise ServeConfigError(name, "{field} must be between 0 and 65535")
    try:
        region_for_pop(normalize_pop(config.pop))
    except PopError as exc:
        raise ServeConfigError("pop", "{pop}: {reason}", reason=str(exc)) from None
    if config.origin_ca is not None and not config.origin_ca.is_file():
        raise ServeConfigError(
            "origin_ca", "{origin_ca} {path}: no such file", path=config.origin_ca
        )
    if config.execution_error_status not in (500, 503):
        raise ServeConfigError(
            "execution_error_status", "{execution_error_status} must be 500 or 503"
        )


def _check_limits(config: ServeConfig) -> None:
    for name in ("function_timeout", "origin_connect_timeout", "origin_read_timeout"):
        value = getattr(config, name)
        if value is not None and not (0 < value < math.inf):  # NaN fails both
            raise ServeConfigError(name, "{field} must be a positive number of seconds")
    shortest, longest = min(TIMEOUT_SECONDS.values()), max(TIMEOUT_SECONDS.values())
    if config.function_timeout is not None and config.function_timeout > longest:
        # It can only lower Lambda@Edge's limits: a larger value would change nothing, silently.
        raise ServeConfigError(
            "function_timeout",
            f"{{function_timeout}} can only lower Lambda@Edge's time limits ({shortest:g} s at "
            f"viewer triggers, {longest:g} s at origin triggers): use at most {longest:g}",
        )
    if not 1 <= config.origin_connect_attempts <= 3:
        raise ServeConfigError(
            "origin_connect_attempts",
            "{origin_connect_attempts} must be 1, 2 or 3 (CloudFront's range)",
        )
    if not 1 <= config.workers <= MAX_WORKERS:
        raise ServeConfigError("workers", f"{{workers}} must be between 1 and {MAX_WORKERS}")
    if config.max_in_flight < 1:
        raise ServeConfigError("max_in_flight", "{max_in_flight} must be at least 1")
    if not 0 < config.cff_timeout_ms <= 1000:
        raise ServeConfigError(
            "cff_timeout_ms",
            "{cff_timeout_ms} must be more than 0 and at most 1000 (milliseconds)",
        )


def _check_cache(config: ServeConfig) -> None:
    if config.cache_mb < 1:
        raise ServeConfigError("cache_mb", "{cache_mb} must be at least 1")
    if not 0 <= config.min_ttl <= config.default_ttl <= config.max_ttl:
        raise ServeConfigError(
            "min_ttl", "TTLs must satisfy 0 <= {min_ttl} <= {default_ttl} <= {max_ttl}"
        )


def _check_functions(config: ServeConfig) -> None:
    for trigger in config.include_body:
        if trigger not in BODY_TRIGGERS:
            raise ServeConfigError(
                "include_body",
                "{include_body} {trigger!r}: only viewer-request and origin-request can see "
                "the body",
                trigger=trigger,
            )
    seen: set[str] = set()
    for option in config.functions:
        if option.trigger in seen:
            raise ServeConfigError(
                "functions",
                "{functions}: two functions on {trigger}; CloudFront allows one per trigger",
                trigger=option.trigger,
            )
        seen.add(option.trigger)
    if config.policy is not None and not config.policy.is_file():
        raise ServeConfigError("policy", "{policy} {path}: no such file", path=config.policy)


def _check_tls(config: ServeConfig) -> None:
    if config.http_port is not None and not config.tls:
        raise ServeConfigError("http_port", "{http_port} redirects to HTTPS, so it needs {tls}")
    if (config.tls_cert is None) != (config.tls_key is None):
        raise ServeConfigError("tls_cert", "{tls_cert} and {tls_key} go together")
    for name in ("tls_cert", "tls_key"):
        path = getattr(config, name)
        if path is not None and not path.is_file():
            raise ServeConfigError(name, "{field} {path}: no such file", path=path)


def parse_function_option(text: str) -> FunctionOption:
    """``TRIGGER=HANDLER`` with HANDLER as ``module.function`` or ``module:function``."""
    trigger, eq, handler = text.partition("=")
    trigger, handler = trigger.strip(), handler.strip()
    if not eq or not trigger or not handler:
        raise ServeConfigError(
            "functions",
            "{functions} {text!r}: expected TRIGGER=HANDLER, e.g. viewer-request=app.handler",
            text=text,
        )
    if trigger not in TRIGGERS:
        raise ServeConfigError(
            "functions",
            "{functions} {text!r}: unknown trigger {trigger!r}; use one of {triggers}",
            text=text,
            trigger=trigger,
            triggers=", ".join(TRIGGERS),
        )
    if not _HANDLER_RE.match(handler):
        raise ServeConfigError(
            "functions",
            "{functions} {text!r}: HANDLER must be module.function or module:function "
            "(a Python module importable from the current directory)",
            text=text,
        )
    return FunctionOption(trigger, handler)


def parse_cloudfront_function(text: str) -> tuple[str, Path]:
    """``TRIGGER=FILE.js``: a CloudFront Function on a viewer trigger."""
    try:
        return parse_function_file_option(text)
    except ValueError as exc:
        raise ServeConfigError(
            "cloudfront_functions", "{cloudfront_functions} {reason}", reason=str(exc)
        ) from None


def parse_response_headers_policy(text: str) -> tuple[str, Path]:
    """``[PATTERN=]FILE.json``: a response headers policy for a cache behaviour."""
    try:
        return parse_behaviour_option(text)
    except ValueError as exc:
        raise ServeConfigError(
            "response_headers_policies", "{response_headers_policies} {reason}", reason=str(exc)
        ) from None


__all__ = [
    "Extension",
    "FunctionOption",
    "ServeConfig",
    "ServeConfigError",
    "ServeError",
    "parse_cloudfront_function",
    "parse_function_option",
    "parse_response_headers_policy",
]
