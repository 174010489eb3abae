"""A local CloudFront edge that a test can start, call and stop, in the test's own process.

The edge runs on its own event loop in a background thread; the functions run in worker
processes exactly as under ``edgeshield serve`` (Lambda's semantics, CloudFront's checks on
their results, its 502/503 answers, its cache). Requests go over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import difflib
import http.client
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from edgeshield.cloudfront.rules import TRIGGERS
from edgeshield.emulator.config import ServeConfigError
from edgeshield.emulator.logstore import read_events
from edgeshield.emulator.runner import (
    FunctionOption,
    Running,
    ServeConfig,
    ServeError,
    prepare,
    start,
)

_START_TIMEOUT_S = 60.0
# What ``options`` may set: ServeConfig's fields, less those LocalEdge sets itself.
_OPTIONS = frozenset(f.name for f in fields(ServeConfig)) - {
    "host", "port", "origin", "policy", "functions", "cwd", "state_root", "access_log", "reload",
}  # fmt: skip


async def _flush(running: Running) -> None:
    running.logs.flush()


@dataclass(frozen=True)
class EdgeResponse:
    """One answer from the edge: status, header lines in order, body."""

    status: int
    reason: str
    header_lines: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of ``name`` (any case), or None."""
        wanted = name.lower()
        for key, value in self.header_lines:
            if key.lower() == wanted:
                return value
        return None

    @property
    def headers(self) -> dict[str, str]:
        """Header names lower-cased; a repeated header keeps its first value."""
        out: dict[str, str] = {}
        for key, value in self.header_lines:
            out.setdefault(key.lower(), value)
        return out

    @property
    def x_cache(self) -> str | None:
        return self.header("x-cache")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class LocalEdge:
    """A local CloudFront edge in front of ``origin`` (a folder, as S3, or an http(s) URL).

    ``functions`` maps a trigger to a handler (``module.function`` importable from ``cwd``).
    ``policy`` is an edgeshield policy file for edgeshield's own function at origin-response.
    Extra keyword options are ``ServeConfig`` fields (``cache``, ``query_string``, ...).
    Use as a context manager, or call ``start()`` and ``stop()``.
    """

    origin: str | Path | None = None
    functions: Mapping[str, str] = field(default_factory=dict)
    policy: str | Path | None = None
    cwd: Path = field(default_factory=Path.cwd)
    state_dir: Path | None = None  # logs, stats and the staged bundle; default cwd/.edgeshield
    options: Mapping[str, Any] = field(default_factory=dict)

    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _running: Running | None = field(default=None, init=False, repr=False)

    def config(self) -> ServeConfig:
        for trigger in self.functions:
            if trigger not in TRIGGERS:
                raise ServeError(f"unknown trigger {trigger!r}; use one of {', '.join(TRIGGERS)}")
        for name in self.options:
            if name not in _OPTIONS:
                close = difflib.get_close_matches(name, _OPTIONS, n=1)
                hint = f"did you mean {close[0]}?" if close else "see ServeConfig's fields"
                raise ServeConfigError(
                    name, "{field} is not an option of the local edge ({hint})", hint=hint
                )
        return ServeConfig(
            host="127.0.0.1",
            port=0,
            origin=str(self.origin) if self.origin is not None else None,
            policy=Path(self.policy) if self.policy is not None else None,
            functions=[FunctionOption(t, h) for t, h in self.functions.items()],
            cwd=self.cwd,
            state_root=self.state_dir,
            access_log=None,
            reload=False,
            **dict(self.options),
        )

    def start(self) -> LocalEdge:
        if self._running is not None:
            return self
        prepared = prepare(self.config())
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        box: dict[str, Any] = {}

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                box["running"] = loop.run_until_complete(start(prepared))
            except BaseException as exc:  # handed to the caller's thread below
                box["error"] = exc
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        thread = threading.Thread(target=serve, name="edgeshield-local-edge", daemon=True)
        thread.start()
        if not ready.wait(_START_TIMEOUT_S):
            raise ServeError(f"the local edge did not start within {_START_TIMEOUT_S:g} s")
        if "error" in box:
            raise box["error"]
        self._loop, self._thread, self._running = loop, thread, box["running"]
        return self

    def stop(self) -> None:
        running, loop, thread = self._running, self._loop, self._thread
        self._running = self._loop = self._thread = None
        if running is None or loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(running.close(), loop).result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)

    def __enter__(self) -> LocalEdge:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> Running:
        if self._running is None:
            raise RuntimeError("the local edge is not running; call start() first")
        return self._running

    @property
    def port(self) -> int:
        return int(self.running.server.port)

    @property
    def url(self) -> str:
        return self.running.url

    def request(
        self,
        method: str,
        path: str = "/",
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 60.0,
    ) -> EdgeResponse:
        """Send one request to the edge, as a viewer would, and read the whole answer."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            answer = conn.getresponse()
            data = answer.read()
            return EdgeResponse(answer.status, answer.reason, tuple(answer.getheaders()), data)
        finally:
            conn.close()

    def get(self, path: str = "/", headers: Mapping[str, str] | None = None) -> EdgeResponse:
        return self.request("GET", path, headers)

    def head(self, path: str = "/", headers: Mapping[str, str] | None = None) -> EdgeResponse:
        return self.request("HEAD", path, headers)

    def post(
        self, path: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> EdgeResponse:
        return self.request("POST", path, headers, body)

    def logs(self, text: str | None = None) -> list[str]:
        """The log lines written so far (function output, START/END/REPORT, CloudFront's
        validation errors), oldest first; ``text`` keeps the lines that contain it."""
        running = self.running
        assert self._loop is not None
        # The log store belongs to the edge's loop: flush it there, not from this thread.
        asyncio.run_coroutine_threadsafe(_flush(running), self._loop).result(timeout=30)
        return [
            e.message.rstrip("\n")
            for e in read_events(running.prepared.config.logs_root, text=text)
        ]


__all__ = ["EdgeResponse", "LocalEdge"]
