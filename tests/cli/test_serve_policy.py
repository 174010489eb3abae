"""`serve` takes the policy the way every other command does (issue 9.1): ./edgeshield.toml
when it exists, --policy FILE otherwise, and edgeshield's function next to your own."""

from __future__ import annotations

from pathlib import Path

from tests.emulator.helpers import fetch, run_cli, start_serve

POLICY = '[headers]\nx-frame-options = "SAMEORIGIN"\nx-policy-marker = "mine"\n'
VIEWER_REQUEST = """
def handler(event, context):
    request = event["Records"][0]["cf"]["request"]
    request["headers"]["x-seen"] = [{"key": "X-Seen", "value": "yes"}]
    if request["uri"] == "/blocked":
        return {"status": "403", "statusDescription": "Forbidden", "body": "no"}
    return request
"""


def test_serve_uses_the_policy_file_in_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "edgeshield.toml").write_text(POLICY)
    proc = start_serve(tmp_path, "--quiet", "--no-reload")
    try:
        reply = fetch(proc.port, "/")
        assert reply.header("x-policy-marker") == "mine"
        assert reply.header("x-frame-options") == "SAMEORIGIN"
        assert reply.header("content-security-policy") is None  # not the strict preset
    finally:
        proc.stop()
    assert "policy     edgeshield.toml (found in this directory)" in proc.output()


def test_without_a_policy_file_serve_says_it_runs_the_preset(tmp_path: Path) -> None:
    proc = start_serve(tmp_path, "--quiet", "--no-reload")
    try:
        assert fetch(proc.port, "/").header("content-security-policy") is not None
    finally:
        proc.stop()
    assert "policy     built-in strict preset" in proc.output()


def test_your_function_plus_edgeshields_with_your_policy_is_one_command(tmp_path: Path) -> None:
    (tmp_path / "edgeshield.toml").write_text(POLICY)
    (tmp_path / "auth.py").write_text(VIEWER_REQUEST)
    proc = start_serve(
        tmp_path,
        "--quiet",
        "--no-reload",
        "--function",
        "viewer-request=auth.handler",
        "--policy",
        "edgeshield.toml",
    )
    try:
        page = fetch(proc.port, "/")
        assert page.status == 200
        assert page.header("x-policy-marker") == "mine"  # edgeshield's function ran
        # The viewer-request function answered itself: origin-response does not run then.
        assert fetch(proc.port, "/blocked").status == 403
    finally:
        proc.stop()
    output = proc.output()
    assert "viewer-request  auth.handler" in output
    assert "origin-response edgeshield.edge.handler.handler" in output
    assert "policy     edgeshield.toml" in output


def test_your_function_alone_names_the_policy_it_leaves_out(tmp_path: Path) -> None:
    (tmp_path / "edgeshield.toml").write_text(POLICY)
    (tmp_path / "auth.py").write_text(VIEWER_REQUEST)
    proc = start_serve(
        tmp_path, "--quiet", "--no-reload", "--function", "viewer-request=auth.handler"
    )
    try:
        assert fetch(proc.port, "/").header("x-policy-marker") is None
    finally:
        proc.stop()
    assert "add --policy edgeshield.toml to run edgeshield's function too" in proc.output()


def test_two_functions_on_one_trigger_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "edgeshield.toml").write_text(POLICY)
    (tmp_path / "auth.py").write_text(VIEWER_REQUEST)
    result = run_cli(
        tmp_path,
        "serve",
        "--port",
        "0",
        "--function",
        "origin-response=auth.handler",
        "--policy",
        "edgeshield.toml",
    )
    assert result.returncode == 2
    assert "both want origin-response" in result.stderr
    assert 'set [function] trigger = "viewer-response"' in result.stderr
    assert "Traceback" not in result.stderr


def test_the_policy_at_viewer_response_next_to_your_origin_response(tmp_path: Path) -> None:
    (tmp_path / "edgeshield.toml").write_text('[function]\ntrigger = "viewer-response"\n' + POLICY)
    (tmp_path / "headers.py").write_text(
        "def handler(event, context):\n"
        "    response = event['Records'][0]['cf']['response']\n"
        "    response['headers']['x-mine'] = [{'key': 'X-Mine', 'value': '1'}]\n"
        "    return response\n"
    )
    proc = start_serve(
        tmp_path,
        "--quiet",
        "--no-reload",
        "--function",
        "origin-response=headers.handler",
        "-p",
        "edgeshield.toml",
    )
    try:
        reply = fetch(proc.port, "/")
        assert reply.header("x-mine") == "1" and reply.header("x-policy-marker") == "mine"
    finally:
        proc.stop()


def test_a_huge_number_in_the_policy_is_one_line_for_serve(tmp_path: Path) -> None:
    (tmp_path / "edgeshield.toml").write_text(
        "[headers.strict-transport-security]\nmax-age = 1" + "0" * 5000 + "\n"
    )
    result = run_cli(tmp_path, "serve", "--port", "0")
    assert result.returncode == 2
    assert "edgeshield.toml:2: a number is too long to read" in result.stderr
    assert "Traceback" not in result.stderr
