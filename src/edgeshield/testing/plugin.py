"""edgeshield's pytest plugin: CloudFront's edge for people's own Lambda@Edge functions.

Installed with the package (entry point ``pytest11``), so a project that depends on
edgeshield gets two fixtures without any import:

``local_edge``
    a factory: ``local_edge(origin=..., functions={"viewer-request": "auth.handler"})``
    starts a local CloudFront edge with those functions (and/or ``policy=``) in front of a
    folder or URL origin, and returns a started ``LocalEdge`` whose ``get``/``head``/``post``
    speak HTTP to it. Every edge a test started is stopped when the test ends.
``invoke_edge``
    ``invoke_edge("auth.handler", event)`` runs a handler once on an event (see
    ``edgeshield.build_event``) and returns an ``InvokeResult``: the function's result, its
    log lines, and CloudFront's verdict (``accepted``, ``cloudfront_error``, ``violations``).

Handlers are imported from pytest's root directory (``rootdir``), as Lambda imports them from
the package root; logs and staged bundles go to the test's temporary directory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Imported inside the fixtures: pytest loads this plugin in every session of every project
# that has edgeshield installed, and most of those sessions never touch an edge.
if TYPE_CHECKING:
    from edgeshield.cloudfront.rules import Trigger
    from edgeshield.emulator.functions.invoke import InvokeResult
    from edgeshield.testing.local_edge import LocalEdge

LocalEdgeFactory = Callable[..., "LocalEdge"]
InvokeEdge = Callable[..., "InvokeResult"]


@pytest.fixture
def local_edge(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalEdgeFactory]:
    """Start a local CloudFront edge: ``local_edge(origin="site", functions={"viewer-request":
    "auth.handler"}, policy=None, cwd=None, **options)`` returns it started (``get``, ``head``,
    ``post``, ``request``, ``logs``); stopped when the test ends. ``options`` are
    ``edgeshield serve``'s, as ServeConfig names them (``cache=False``, ``query_string=True``,
    ``include_body=True``, ``function_timeout=2``), given as keywords or as ``options={...}``.
    Relative paths are read from pytest's root directory."""
    from edgeshield.testing.local_edge import LocalEdge

    started: list[LocalEdge] = []
    root = Path(str(request.config.rootpath))

    def factory(
        origin: str | Path | None = None,
        functions: Mapping[str, str] | None = None,
        policy: str | Path | None = None,
        *,
        cwd: str | Path | None = None,
        options: Mapping[str, Any] | None = None,
        **more: Any,
    ) -> LocalEdge:
        __tracebackhide__ = True  # a refusal points at the test's line, not at this one
        edge = LocalEdge(
            origin=origin,
            functions=dict(functions or {}),
            policy=Path(policy) if policy is not None else None,
            cwd=root / cwd if cwd is not None else root,
            state_dir=tmp_path / f"edge-{len(started)}",
            # one warm worker per trigger starts fastest
            options={"workers": 1, **(options or {}), **more},
        )
        edge.start()
        started.append(edge)
        return edge

    yield factory
    for edge in reversed(started):
        edge.stop()


@pytest.fixture
def invoke_edge(request: pytest.FixtureRequest) -> InvokeEdge:
    """Run a handler once: ``invoke_edge("auth.handler", build_event("viewer-request"),
    trigger=None, timeout=None, task_root=None)`` returns an ``InvokeResult``: ``result``,
    ``logs`` and CloudFront's verdict (``accepted``, ``refusals``, ``violations``,
    ``cloudfront_error``, ``http_status``, ``verdict`` in one line). Handlers are imported
    from ``task_root`` (default: pytest's root directory; a relative one is read from it)."""
    from edgeshield.emulator.functions.invoke import invoke

    root = Path(str(request.config.rootpath))

    def run(
        handler: str,
        event: Mapping[str, Any],
        *,
        trigger: Trigger | None = None,
        timeout: float | None = None,
        task_root: str | Path | None = None,
    ) -> InvokeResult:
        __tracebackhide__ = True
        return invoke(
            event,
            handler=handler,
            trigger=trigger,
            timeout=timeout,
            task_root=root / task_root if task_root is not None else root,
        )

    return run
