"""Real servers for tests, on 127.0.0.1: `edgeshield serve` as a user starts it, and plain
static origins on other ports."""

from __future__ import annotations

import http.server
import re
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

from edgeshield.policy import preset_text

EDGESHIELD = str(Path(sys.executable).with_name("edgeshield"))
_BANNER = re.compile(r"local CloudFront edge at (https?://127\.0\.0\.1:\d+)/")
_REDIRECT = re.compile(r"redirect\s+(http://127\.0\.0\.1:\d+)/")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticServer:
    """A plain HTTP server for a folder on 127.0.0.1: another origin, no edge in front."""

    def __init__(self, folder: Path) -> None:
        handler = partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Edge:
    """`edgeshield serve` as a user starts it, in its own working directory."""

    def __init__(
        self,
        workdir: Path,
        policy: str | None,
        origin: Path | None,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.workdir = workdir
        self.redirect_url: str | None = None
        self.output: list[str] = []  # console lines after the banner
        args = [EDGESHIELD, "serve", "--port", "0", "--no-cache", "--quiet", *extra]
        if origin is not None:
            args += ["--origin", str(origin)]
        if policy is not None:
            (workdir / "edgeshield.toml").write_text(policy)
            args += ["--policy", "edgeshield.toml"]
        self.args = args
        self.proc = subprocess.Popen(
            args, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.url = self._wait_for_banner()

    def _wait_for_banner(self) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 30
        seen = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            redirect = _REDIRECT.search(line)
            if redirect:
                self.redirect_url = redirect.group(1)
            match = _BANNER.search(line)
            if match:
                url = match.group(1)
                if "--http-port" in self.args:  # the redirect line follows the banner
                    redirect = _REDIRECT.search(self.proc.stdout.readline())
                    self.redirect_url = redirect.group(1) if redirect else None
                threading.Thread(target=self._drain, daemon=True).start()
                return url
        self.close()
        raise RuntimeError("edgeshield serve did not start:\n" + "".join(seen))

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line.rstrip("\n"))

    @property
    def ca_file(self) -> Path:
        """The local CA ``serve --tls`` made (trust it as a client would)."""
        return self.workdir / ".edgeshield" / "tls" / "ca.pem"

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def strict_with(extra: str = "", replace: tuple[str, str] | None = None) -> str:
    """The strict preset, optionally weakened by a trailing rule or a text replacement."""
    text = preset_text("strict")
    if replace is not None:
        assert replace[0] in text
        text = text.replace(*replace)
    return text + "\n" + extra
