"""A local log store that mirrors CloudWatch Logs: region -> group -> stream -> events.

Layout under the root (``.edgeshield/logs`` in the directory ``serve`` runs in)::

    <region>/<group, %-quoted>/<stream, %-quoted>.jsonl     one {"t": ms, "m": text} per line

Files are append-only and every event is written with one ``write`` of a whole line, so a
reader never sees half an event: it only consumes up to the last newline. Within a stream,
timestamps never go backwards (the writer clamps them), so each file is time-ordered and
readers merge files with ``heapq.merge``.

Reader API (used by ``edgeshield logs --local``): ``default_root``, ``read_events``, ``follow``.
"""

from __future__ import annotations

import fnmatch
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Final
from urllib.parse import quote, unquote

from edgeshield.logrecords import LogEvent, merge

STATE_DIR: Final = ".edgeshield"
LOGS_DIR: Final = "logs"
_SUFFIX: Final = ".jsonl"
_MAX_OPEN_FILES: Final = 64
_MAX_PATHS: Final = 4096
# CloudWatch's limit for one event is 256 KB; longer messages are cut, as CloudWatch would.
MAX_EVENT_BYTES: Final = 256 * 1024


_json_string: Final = json.encoder.encode_basestring  # type: ignore[attr-defined]


def default_root(cwd: Path | None = None) -> Path:
    """Where ``serve`` keeps its logs when run in ``cwd`` (default: the current directory)."""
    return (cwd or Path.cwd()) / STATE_DIR / LOGS_DIR


def _encode(name: str) -> str:
    return quote(name, safe="")


def _decode(name: str) -> str:
    return unquote(name)


class LogStore:
    """Thread-safe, append-only writer. ``put`` appends events to one stream."""

    def __init__(self, root: Path, *, buffered: bool = False) -> None:
        """With ``buffered``, ``put`` only queues lines and ``flush`` (which the emulator calls
        every 100 ms and at exit) writes them: one write per stream instead of one per
        invocation, on the request path. Readers then lag by at most the flush interval
        (CloudWatch itself delivers logs seconds late)."""
        self.root = root
        self.buffered = buffered
        self._lock = threading.Lock()
        self._files: OrderedDict[Path, IO[str]] = OrderedDict()
        self._last_ms: dict[Path, int] = {}
        self._pending: dict[Path, list[str]] = {}
        self._paths: dict[tuple[str, str, str], Path] = {}

    def path_for(self, region: str, group: str, stream: str) -> Path:
        key = (region, group, stream)
        path = self._paths.get(key)
        if path is None:  # a few streams take every event: build each path once
            if len(self._paths) >= _MAX_PATHS:
                self._paths.clear()
            path = self._paths[key] = (
                self.root / region / _encode(group) / (_encode(stream) + _SUFFIX)
            )
        return path

    def put(
        self,
        region: str,
        group: str,
        stream: str,
        events: Iterable[tuple[int, str]],
    ) -> None:
        """Append ``(timestamp_ms, message)`` events to a stream, creating it if needed."""
        path = self.path_for(region, group, stream)
        with self._lock:
            last = self._last_ms.get(path, 0)
            pending = self._pending.get(path) if self.buffered else None
            lines = [] if pending is None else pending  # queued in place when buffered
            for ts, message in events:
                if ts > last:
                    last = ts
                if len(message) > MAX_EVENT_BYTES:
                    message = message[:MAX_EVENT_BYTES] + " ... [truncated]"
                # What json.dumps({"t": last, "m": message}, ensure_ascii=False) writes,
                # without the encoder's per-call set-up: it runs for every log line.
                lines.append(f'{{"t": {last}, "m": {_json_string(message)}}}\n')
            self._last_ms[path] = last
            if self.buffered:
                if pending is None:
                    self._pending[path] = lines
                return
            handle = self._open(path)
            handle.write("".join(lines))
            handle.flush()

    def end_stream(self, region: str, group: str, stream: str) -> None:
        """The execution environment behind ``stream`` is gone: write what is queued for it
        and close its file (a later ``put`` would simply reopen it)."""
        path = self.path_for(region, group, stream)
        with self._lock:
            lines = self._pending.pop(path, None)
            if lines:
                self._open(path).write("".join(lines))
            handle = self._files.pop(path, None)
            if handle is not None:
                handle.close()
            self._last_ms.pop(path, None)

    def flush(self) -> None:
        """Write every queued line (buffered mode)."""
        with self._lock:
            pending, self._pending = self._pending, {}
            for path, lines in pending.items():
                handle = self._open(path)
                handle.write("".join(lines))
                handle.flush()

    def _open(self, path: Path) -> IO[str]:
        handle = self._files.get(path)
        if handle is not None:
            self._files.move_to_end(path)
            return handle
        path.parent.mkdir(parents=True, exist_ok=True)
        # backslashreplace: a lone surrogate (from a hostile report or function) is written as
        # the six characters \udXXX, which inside a JSON string is the same character again,
        # instead of failing the write and every later one on this handle.
        handle = path.open("a", encoding="utf-8", errors="backslashreplace")
        self._files[path] = handle
        if len(self._files) > _MAX_OPEN_FILES:
            _, oldest = self._files.popitem(last=False)
            oldest.close()
        return handle

    def close(self) -> None:
        self.flush()
        with self._lock:
            for handle in self._files.values():
                handle.close()
            self._files.clear()


def _is_pattern(name: str) -> bool:
    return any(ch in name for ch in "*?[")


def _group_matches(group: str, groups: Sequence[str] | None) -> bool:
    if not groups:
        return True
    return any(fnmatch.fnmatchcase(group, g) if _is_pattern(g) else group == g for g in groups)


def _stream_files(root: Path, groups: Sequence[str] | None) -> list[tuple[str, str, str, Path]]:
    """(region, group, stream, path) for every stream file under ``root`` whose group matches."""
    out: list[tuple[str, str, str, Path]] = []
    if not root.is_dir():
        return out
    for region_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for group_dir in sorted(p for p in region_dir.iterdir() if p.is_dir()):
            group = _decode(group_dir.name)
            if not _group_matches(group, groups):
                continue
            for stream_file in sorted(group_dir.glob("*" + _SUFFIX)):
                stream = _decode(stream_file.name[: -len(_SUFFIX)])
                out.append((region_dir.name, group, stream, stream_file))
    return out


def _parse(line: str, region: str, group: str, stream: str) -> LogEvent | None:
    try:
        obj = json.loads(line)
        return LogEvent(int(obj["t"]), region, group, stream, str(obj["m"]))
    except (ValueError, KeyError, TypeError):
        return None  # a damaged line is skipped, never fatal to a reader


def _wanted(event: LogEvent, since_ms: int | None, text: str | None) -> bool:
    if since_ms is not None and event.timestamp_ms < since_ms:
        return False
    return text is None or text.lower() in event.message.lower()


def _read_file(
    region: str, group: str, stream: str, path: Path, since_ms: int | None, text: str | None
) -> Iterator[LogEvent]:
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except OSError:
        return
    with handle:
        for line in handle:
            if not line.endswith("\n"):
                break  # being written right now
            event = _parse(line, region, group, stream)
            if event is not None and _wanted(event, since_ms, text):
                yield event


def read_events(
    root: Path,
    *,
    groups: Sequence[str] | None = None,
    since_ms: int | None = None,
    text: str | None = None,
) -> Iterator[LogEvent]:
    """Every stored event, oldest first, across all regions. ``groups`` are exact group names
    or glob patterns; ``text`` is a case-insensitive substring filter."""
    sources = [
        _read_file(region, group, stream, path, since_ms, text)
        for region, group, stream, path in _stream_files(root, groups)
    ]
    return merge(sources)


def follow(
    root: Path,
    *,
    groups: Sequence[str] | None = None,
    text: str | None = None,
    poll_seconds: float = 0.5,
    stop: threading.Event | None = None,
) -> Iterator[LogEvent]:
    """Events written after the call, as they arrive (like ``tail -f``), until ``stop`` is set.

    Streams that exist at the call are read from their current end; streams created later
    from their start. Each poll's new events are yielded in time order."""
    offsets: dict[Path, int] = {}
    for _, _, _, path in _stream_files(root, groups):
        try:
            offsets[path] = path.stat().st_size
        except OSError:
            continue
    while stop is None or not stop.is_set():
        batch: list[LogEvent] = []
        for region, group, stream, path in _stream_files(root, groups):
            start = offsets.get(path, 0)
            try:
                size = path.stat().st_size
                if size <= start:
                    continue
                with path.open("rb") as handle:
                    handle.seek(start)
                    chunk = handle.read(size - start)
            except OSError:
                continue
            end = chunk.rfind(b"\n")
            if end < 0:
                continue
            offsets[path] = start + end + 1
            for raw in chunk[: end + 1].decode("utf-8", "replace").splitlines():
                event = _parse(raw, region, group, stream)
                if event is not None and _wanted(event, None, text):
                    batch.append(event)
        batch.sort()
        yield from batch
        if stop is not None:
            if stop.wait(poll_seconds):
                return
        else:
            time.sleep(poll_seconds)
