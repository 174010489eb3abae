"""Real processes on loopback: ``edgeshield serve``, a test origin, and an HTTP client."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).parent
FUNCTIONS = HERE / "functions"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _text(output: str | bytes) -> str:
    """A pipe's output as text, whether the process was started in text mode or not."""
    return output.decode(errors="replace") if isinstance(output, bytes) else output


def wait_for_port(
    port: int, proc: subprocess.Popen[str] | subprocess.Popen[bytes], timeout: float = 15.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = _text(proc.stdout.read()) if proc.stdout else ""
            err = _text(proc.stderr.read()) if proc.stderr else ""
            raise RuntimeError(f"process exited {proc.returncode}: {out}\n{err}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port} after {timeout} s")


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, state) of the processes whose parent is ``pid``, from /proc ("Z": a zombie)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append((int(entry.name), fields[0]))
    return found


@dataclass
class Reply:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def x_cache(self) -> str | None:
        return self.header("x-cache")

    def json(self) -> object:
        return json.loads(self.body)


def fetch(
    port: int,
    path: str = "/",
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 20.0,
) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return Reply(response.status, response.reason, list(response.getheaders()), data)
    finally:
        conn.close()


@dataclass
class Proc:
    proc: subprocess.Popen[str]
    port: int
    cwd: Path
    args: Sequence[str] = field(default_factory=list)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)

    def output(self) -> str:
        return self.proc.stdout.read() if self.proc.stdout else ""


CLI = [sys.executable, "-c", "from edgeshield.cli import main; main()"]


def start_serve(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Proc:
    port = free_port()
    command = [*CLI, "serve", "--port", str(port), *args]
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    wait_for_port(port, proc)
    return Proc(proc, port, cwd, command)


def run_cli(cwd: Path, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def start_origin(*extra: str) -> Proc:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "origin_server.py"), str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_port(port, proc)
    return Proc(proc, port, HERE)


def origin_hits(origin: Proc, path: str) -> int:
    reply = fetch(origin.port, "/__hits" + path)
    data = reply.json()
    assert isinstance(data, dict)
    return int(data["hits"])


@pytest.fixture(scope="module")
def origin() -> Iterator[Proc]:
    proc = start_origin()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the test functions, where serve keeps its .edgeshield state."""
    path = tmp_path_factory.mktemp("serve")
    shutil.copy(FUNCTIONS / "edgefns.py", path / "edgefns.py")
    return path


def log_text(cwd: Path, *args: str) -> str:
    result = run_cli(cwd, "logs", "--local", "--since", "1h", *args)
    return result.stdout


def wait_until(predicate: object, timeout: float = 5.0) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def exchange(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Send raw bytes; read one response (headers and Content-Length bytes) or until close."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
                _head, sep, body = received.partition(b"\r\n\r\n")
                length = headers_of(received).get("content-length")
                if sep and length is not None and len(body) >= int(length):
                    break
        except (TimeoutError, ConnectionResetError):
            pass
    return received


def status_line(raw: bytes) -> str:
    return raw.split(b"\r\n", 1)[0].decode("latin-1")


def headers_of(raw: bytes) -> dict[str, str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head)}
