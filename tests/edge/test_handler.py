"""The Lambda handler as Lambda runs it: from the bundle, in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

from edgeshield.bundle import build_zip, stage
from edgeshield.cloudfront import Trigger, build_event, validate_result
from edgeshield.policy import CompiledPolicy, compile_policy, load_and_compile, parse_policy

RUNNER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from edgeshield.edge.handler import handler
    class Context:
        function_name = "edgeshield-test"
    event = json.loads(sys.stdin.read())
    result = handler(event, Context())
    sys.stdout.write("RESULT " + json.dumps(result) + "\\n")
    """
)


def invoke(root: Path, event: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    """Run the handler from ``root`` under ``python -I -S``: only the bundle and the stdlib."""
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RUNNER, str(root)],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    result = None
    logs = []
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
        else:
            logs.append(json.loads(line))
    return result, logs


def compiled_from(text: str) -> CompiledPolicy:
    policy, problems = parse_policy(textwrap.dedent(text))
    assert policy is not None, problems
    return compile_policy(policy)


def html_event() -> dict[str, Any]:
    return build_event(
        "origin-response",
        uri="/index.html",
        response_headers=[
            ("Content-Type", "text/html"),
            ("Server", "nginx"),
            ("Via", "1.1 origin"),
            ("Transfer-Encoding", "chunked"),
        ],
    )


def test_zip_runs_isolated_with_only_its_own_contents(tmp_path: Path) -> None:
    info = build_zip(load_and_compile(None), tmp_path / "edge.zip")
    root = tmp_path / "unzipped"
    with zipfile.ZipFile(info.path) as archive:
        archive.extractall(root)
    event = html_event()
    result, logs = invoke(root, event)
    assert logs == []
    assert validate_result("origin-response", event, result) == []
    assert result["headers"]["content-security-policy"][0]["value"].startswith("default-src 'none'")
    assert "server" not in result["headers"]
    assert result["headers"]["via"] == event["Records"][0]["cf"]["response"]["headers"]["via"]
    assert result["headers"]["transfer-encoding"] == [
        {"key": "Transfer-Encoding", "value": "chunked"}
    ]


def test_broken_policy_file_fails_open_with_one_error_line(tmp_path: Path) -> None:
    root = stage(load_and_compile(None), tmp_path / "b")
    (root / "edgeshield" / "edge" / "policy.json").write_text("{not json")
    event = html_event()
    result, logs = invoke(root, event)
    assert result == event["Records"][0]["cf"]["response"]
    (line,) = logs
    assert line["level"] == "ERROR"
    assert "policy.json could not be loaded" in line["error"]
    assert line["requestId"] == event["Records"][0]["cf"]["config"]["requestId"]


def test_malformed_event_fails_open(tmp_path: Path) -> None:
    root = stage(load_and_compile(None), tmp_path / "b")
    event = html_event()
    event["Records"][0]["cf"]["response"]["headers"] = "not a header dict"
    result, logs = invoke(root, event)
    assert result == event["Records"][0]["cf"]["response"]
    assert [entry["level"] for entry in logs] == ["ERROR"]
    assert "ValueError" in logs[0]["error"]


def test_malformed_content_type_fails_open_when_rules_need_it(tmp_path: Path) -> None:
    compiled = compiled_from(
        "[[rules]]\nmatch = { content-type = ['text/html'] }\nset = { x-a = '1' }\n"
    )
    root = stage(compiled, tmp_path / "b")
    event = html_event()
    event["Records"][0]["cf"]["response"]["headers"]["content-type"] = [{"no-value": 1}]
    result, logs = invoke(root, event)
    assert result == event["Records"][0]["cf"]["response"]
    assert "KeyError" in logs[0]["error"]


@pytest.mark.parametrize("trigger", ["viewer-request", "origin-request"])
def test_on_a_request_trigger_the_request_passes_through(tmp_path: Path, trigger: Trigger) -> None:
    """Attached to the wrong trigger, the function must not turn pages into 502s."""
    root = stage(load_and_compile(None), tmp_path / "b")
    event = build_event(trigger)
    result, logs = invoke(root, event)
    assert result == event["Records"][0]["cf"]["request"]
    assert validate_result(trigger, event, result) == []
    assert "KeyError: 'response'" in logs[0]["error"]
    assert logs[0]["message"] == "edgeshield failed open: returned the request unchanged"


def test_sampled_log_line_and_emf_metrics(tmp_path: Path) -> None:
    compiled = compiled_from(
        """
        [function]
        log-sample-rate = 1.0
        metrics = true
        metrics-namespace = "shop/edge"
        [headers]
        x-content-type-options = "nosniff"
        [remove]
        headers = ["server"]
        [[rules]]
        name = "html"
        match = { content-type = ["text/html"] }
        set = { x-frame-options = "DENY" }
        """
    )
    root = stage(compiled, tmp_path / "b")
    _result, logs = invoke(root, html_event())
    info, emf = logs
    assert info["level"] == "INFO"
    assert info["rules"] == ["html"]
    assert info["set"] == ["x-content-type-options", "x-frame-options"]
    assert info["removed"] == ["server"]
    assert info["policy"] == compiled["digest"]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "shop/edge"
    assert emf["FunctionName"] == "edgeshield-test"
    assert (emf["ResponsesHardened"], emf["FailedOpen"]) == (1, 0)


def test_no_log_lines_by_default(tmp_path: Path) -> None:
    root = stage(load_and_compile(None), tmp_path / "b")
    _result, logs = invoke(root, html_event())
    assert logs == []


@pytest.mark.parametrize("status", ["200", "404", "503", 302])
def test_status_is_never_changed(tmp_path: Path, status: Any) -> None:
    root = stage(load_and_compile(None), tmp_path / "b")
    event = html_event()
    event["Records"][0]["cf"]["response"]["status"] = status
    result, _ = invoke(root, event)
    assert result["status"] == status
