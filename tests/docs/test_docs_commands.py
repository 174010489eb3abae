"""Every command in README.md and docs/tutorial.md, run as documented (issue 9.9).

The commands are read from the documents' code blocks, so a command added, changed or removed
there changes what runs here: the docs cannot drift from the tool. Each runs in a workspace
of its own per document, in document order. What cannot run offline is substituted the least
possible way: fixed ports become free ones, example.com/example.org become loopback servers,
placeholders (NAME, URL...) get values; `deploy`, `env encrypt` and `logs --function` need AWS
and must fail cleanly (one line, no traceback) without it; `serve` runs as a real process.
"""

from __future__ import annotations

import http.client
import os
import re
import shlex
import shutil
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from edgeshield.policy import preset_text
from tests.servers import StaticServer

REPO = Path(__file__).resolve().parents[2]
DOCS = {"README.md": REPO / "README.md", "tutorial": REPO / "docs" / "tutorial.md"}
EDGESHIELD = str(Path(sys.executable).with_name("edgeshield"))
_BANNER = re.compile(r"local CloudFront edge at (https?://127\.0\.0\.1:(\d+))/")
_REDIRECT = re.compile(r"redirect\s+http://127\.0\.0\.1:(\d+)/")
_FENCE = re.compile(r"^```(\w*)\s*$")
_COMMENT = re.compile(r"\s+#\s.*$")
PLACEHOLDERS = {"NAME": "edgeshield-security-headers", "VALUE": "s3cret", "ID": "E2EXAMPLE1"}
# No AWS here: no credentials, no instance metadata, and any endpoint is a closed local port.
OFFLINE_AWS = {
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_MAX_ATTEMPTS": "1",
}


def documented_commands(text: str) -> list[str]:
    """The shell commands in the document's plain code blocks (not TOML, not output)."""
    commands: list[str] = []
    language: str | None = None
    pending = ""
    for raw in text.splitlines():
        fence = _FENCE.match(raw.strip())
        if fence:
            language = None if language is not None else fence.group(1)
            continue
        if language not in ("", "sh", "bash", "console"):
            continue
        line = raw.strip()
        if pending:
            line = pending + " " + line
            pending = ""
        elif line.startswith("$ "):
            line = line[2:]
        elif not line.startswith(("edgeshield ", "make ", "curl ")):
            continue
        if " — " in line:  # serve's banner in an output block, not a command
            continue
        line = _COMMENT.sub("", line)
        if line.endswith("\\"):
            pending = line[:-1].strip()
            continue
        commands.append(" ".join(line.split()))
    return commands


def _all() -> list[object]:
    params: list[object] = []
    for doc, path in DOCS.items():
        for i, command in enumerate(documented_commands(path.read_text(encoding="utf-8"))):
            marks = [pytest.mark.cdk] if command.startswith("edgeshield synth") else []
            params.append(
                pytest.param(doc, command, id=f"{doc}-{i:02d}-{command[:60]}", marks=marks)
            )
    return params


def test_the_documents_have_commands() -> None:
    for doc, path in DOCS.items():
        found = documented_commands(path.read_text(encoding="utf-8"))
        assert len(found) >= 8, (doc, found)
        assert all(c.split()[0] in ("edgeshield", "make", "curl") for c in found), found


# --- the workspace each document's commands run in ----------------------------------------------


@dataclass
class Served:
    proc: subprocess.Popen[str]
    url: str
    port: int
    redirect_port: int | None = None
    lines: list[str] = field(default_factory=list)

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return "\n".join(self.lines)


def start_serve(args: list[str], cwd: Path) -> Served:
    """`edgeshield serve` with any fixed port swapped for a free one (port 0)."""
    args = list(args)
    for flag in ("--port", "--http-port"):
        if flag in args:
            args[args.index(flag) + 1] = "0"
    if "--port" not in args:
        args += ["--port", "0"]
    proc = subprocess.Popen(
        [EDGESHIELD, *args[1:]],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    url = port = redirect = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline().rstrip("\n")
        lines.append(line)
        if (m := _BANNER.search(line)) is not None:
            url, port = m.group(1), int(m.group(2))
        if (r := _REDIRECT.search(line)) is not None:
            redirect = int(r.group(1))
        if line.startswith("Ctrl-C stops"):
            break
    if url is None or port is None:
        proc.kill()
        raise AssertionError("serve did not start:\n" + "\n".join(lines))
    served = Served(proc, url, port, redirect, lines)

    def drain() -> None:
        assert proc.stdout is not None
        for rest in proc.stdout:
            lines.append(rest.rstrip("\n"))

    threading.Thread(target=drain, daemon=True).start()
    return served


@dataclass
class Workspace:
    path: Path
    origin: StaticServer
    edge: Served | None = None  # the edge the tutorial keeps running in its first terminal
    tls_edge: Served | None = None

    def running_edge(self) -> Served:
        if self.edge is None:
            self.edge = start_serve(["edgeshield", "serve", "--quiet", "--no-reload"], self.path)
            request(self.edge.port, "/")  # a miss, then a hit: logs and stats have content
            request(self.edge.port, "/")
            report = (
                b'{"csp-report":{"document-uri":"http://127.0.0.1/","blocked-uri":"inline",'
                b'"effective-directive":"script-src-elem","disposition":"enforce"}}'
            )
            status = request(
                self.edge.port, "/_edgeshield/csp-report", "POST", report,
                {"Content-Type": "application/csp-report"},
            )[0]  # fmt: skip
            assert status == 204
        return self.edge

    def running_tls_edge(self) -> Served:
        if self.tls_edge is None:
            args = ["edgeshield", "serve", "--tls", "--http-port", "0", "--quiet", "--no-reload"]
            self.tls_edge = start_serve(args, self.path)
        return self.tls_edge


def request(
    port: int,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
) -> tuple[int, dict[str, str]]:
    conn: http.client.HTTPConnection = (
        http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
        if context is not None
        else http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    )
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


HANDLERS = {
    "auth.py": "def handler(event, context):\n    return event['Records'][0]['cf']['request']\n",
    "headers.py": (
        "def handler(event, context):\n"
        "    response = event['Records'][0]['cf']['response']\n"
        "    response['headers']['x-from-headers'] = [{'key': 'X-From-Headers', 'value': '1'}]\n"
        "    return response\n"
    ),
    "mymodule.py": (
        "def handler(event, context):\n    return event['Records'][0]['cf'].get('response')"
        " or event['Records'][0]['cf']['request']\n"
    ),
}


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Workspace]]:
    made: dict[str, Workspace] = {}
    site = tmp_path_factory.mktemp("example-org")
    (site / "index.html").write_text("<!doctype html><title>example</title><p>hello</p>\n")
    origin = StaticServer(site)
    for doc in DOCS:
        path = tmp_path_factory.mktemp(f"docs-{doc.replace('.', '-')}")
        (path / "public").mkdir()
        (path / "public" / "index.html").write_text("<!doctype html><title>public</title>\n")
        for name, code in HANDLERS.items():
            (path / name).write_text(code)
        (path / "headers.json").write_text('{"x-frame-options": "DENY"}\n')
        (path / "staging.toml").write_text(preset_text("recommended"))
        # The tutorial runs `csp fit` on the demo site by its path in a clone of the repository.
        demo = Path("src/edgeshield/emulator/demo")
        shutil.copytree(REPO / demo, path / demo)
        made[doc] = Workspace(path, origin)
    yield made
    for ws in made.values():
        for served in (ws.edge, ws.tls_edge):
            if served is not None:
                served.stop()
    origin.close()


# --- running one documented command ---------------------------------------------------------------


def cli(
    ws: Workspace, args: list[str], env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    stdout_file = None
    if ">" in args:  # `edgeshield event ... > event.json`
        at = args.index(">")
        args, stdout_file = args[:at], args[at + 1]
    result = subprocess.run(
        [EDGESHIELD, *args[1:]], cwd=ws.path, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    if stdout_file is not None:
        (ws.path / stdout_file).write_text(result.stdout)
    return result


def _tutorial_edits(ws: Workspace) -> None:
    """Step 4 of the tutorial: the hash and the rule, as its TOML blocks say."""
    policy = ws.path / "edgeshield.toml"
    text = policy.read_text()
    blocks = re.findall(r"```toml\n(.*?)```", DOCS["tutorial"].read_text(), re.S)
    script_src = next(b for b in blocks if "script-src" in b).strip().splitlines()[-1]
    rule = next(b for b in blocks if "[[rules]]" in b)
    if "sha256-" not in text:
        text = re.sub(r"^script-src = .*$", script_src, text, count=1, flags=re.M)
        policy.write_text(text + "\n" + rule)


def run_documented(doc: str, command: str, ws: Workspace) -> None:
    for placeholder, value in PLACEHOLDERS.items():
        command = re.sub(rf"\b{placeholder}\b", value, command)
    args = shlex.split(command)
    # The reader works in the clone: a path the docs give from its root is the repository's.
    args = [
        str(REPO / a) if "/" in a and not a.startswith(("/", ".", "http")) and (REPO / a).exists()
        and not (ws.path / a).exists() else a
        for a in args
    ]  # fmt: skip

    if args[0] == "make":
        # -n -B: what a fresh clone, with nothing installed yet, would run.
        dry = subprocess.run(
            ["make", "-n", "-B", *args[1:]], cwd=REPO, capture_output=True, text=True
        )
        assert dry.returncode == 0, dry.stderr
        if args[1] == "serve":  # the core only: serving starts in well under a minute
            assert "pip install" in dry.stdout and "-e ." in dry.stdout
            assert "[aws" not in dry.stdout and "edgeshield serve" in dry.stdout
        else:
            assert "'.[aws,dev]'" in dry.stdout and "pytest" in dry.stdout
        return

    if args[0] == "curl":
        edge = ws.running_edge()
        url = re.sub(r"http://127\.0\.0\.1:\d+", f"http://127.0.0.1:{edge.port}", args[-1])
        shown = subprocess.run([*args[:-1], url], capture_output=True, text=True, timeout=30)
        assert shown.stdout.startswith("HTTP/1.1 200"), shown.stdout
        block = DOCS["tutorial"].read_text().split("$ curl -sI", 1)[1].split("```", 1)[0]
        documented = {ln.split(":", 1)[0].lower() for ln in block.splitlines()[1:] if ":" in ln}
        sent = {ln.split(":", 1)[0].lower() for ln in shown.stdout.splitlines() if ":" in ln}
        assert documented <= sent, documented - sent
        return

    sub = args[1]
    if sub == "serve":
        origin_at = args.index("--origin") + 1 if "--origin" in args else None
        if origin_at is not None and args[origin_at].startswith("https://"):
            args[origin_at] = ws.origin.url  # example.org: a loopback origin instead
        # A reader who gives --policy FILE has that file; the README shows serve before init.
        made = None
        if "--policy" in args and not (ws.path / args[args.index("--policy") + 1]).exists():
            made = ws.path / args[args.index("--policy") + 1]
            made.write_text(preset_text("strict"))
        served = start_serve([*args, "--no-reload"], ws.path)
        try:
            context = None
            if "--tls" in args:
                context = ssl.create_default_context(cafile=str(ws.path / ".edgeshield/tls/ca.pem"))
                assert served.redirect_port is not None
                assert request(served.redirect_port, "/")[0] == 301
            status, headers = request(served.port, "/", context=context)
            assert status == 200
            if "origin-response=headers:handler" in args:
                assert headers.get("x-from-headers") == "1"
            elif (
                "--policy" in args
                or (ws.path / "edgeshield.toml").exists()
                or "--function" not in args
            ):
                assert "x-content-type-options" in headers  # edgeshield's function ran
        finally:
            output = served.stop()
            if made is not None:
                made.unlink()
        assert "Traceback" not in output
        return

    if sub in ("deploy",) or (sub == "env") or (sub == "logs" and "--function" in args):
        result = cli(ws, args, env=OFFLINE_AWS, timeout=120)
        assert result.returncode in (1, 2), result.stdout + result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
        return

    if sub == "logs" and "--follow" in args:
        ws.running_edge()
        proc = subprocess.Popen(
            [EDGESHIELD, *args[1:]], cwd=ws.path, stdout=subprocess.PIPE, text=True
        )
        time.sleep(4)
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
        assert "START RequestId" in out and "REPORT RequestId" in out, out
        return

    if sub in ("logs", "stats"):
        ws.running_edge()
        time.sleep(0.5)  # serve flushes logs and counters every 100 ms / 1 s
        result = cli(ws, args)
        assert result.returncode == 0, result.stderr
        expected = {"stats": "requests", "logs": "csp-violation" if "--filter" in args else "START"}
        assert expected[sub] in result.stdout, result.stdout
        return

    if sub == "scan":
        target = ws.running_tls_edge() if "--https-port" in args or "--min-grade" in args else None
        if target is not None:
            assert target.redirect_port is not None
            ca = str(ws.path / ".edgeshield/tls/ca.pem")
            rest = [a for a in args[2:] if not a.startswith(("http://", "https://"))]
            for flag, value in (("--http-port", str(target.redirect_port)), ("--https-port", str(target.port)), ("--ca-file", ca)):  # fmt: skip
                if flag in rest:
                    rest[rest.index(flag) + 1] = value
                else:
                    rest += [flag, value]
            args = [*args[:2], f"http://127.0.0.1:{target.redirect_port}/", *rest]
        else:
            edge = ws.running_edge()
            args = [a if a != "URL..." else edge.url + "/" for a in args]
        result = cli(ws, args)
        assert result.returncode == 0, result.stdout + result.stderr
        if "--output" in args:
            assert (ws.path / args[args.index("--output") + 1]).stat().st_size > 1000
        return

    if doc == "tutorial" and args[1:] == ["check"]:
        _tutorial_edits(ws)
    result = cli(ws, args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    if doc == "tutorial" and args[1] == "check":
        if "--grade" in args:
            assert "Observatory grade A+ (150)" in result.stdout  # as the tutorial says
        else:
            assert "only on JSON 200" in result.stdout  # the rule's no-store, as it says
    if sub == "synth":
        assert "AWS::CloudFront::Distribution" in result.stdout


@pytest.mark.parametrize(("doc", "command"), _all())
def test_documented_command_runs(doc: str, command: str, workspaces: dict[str, Workspace]) -> None:
    if command.startswith("edgeshield synth") and shutil.which("node") is None:
        pytest.fail("synth needs Node.js for the CDK; install it")
    run_documented(doc, command, workspaces[doc])
