"""bundle --target: the response headers policy template (cfn-lint clean) and the CloudFront
Function source (valid JavaScript for Node, within 10 KB); lambda-edge stays the default."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from edgeshield.policy import PRESETS
from tests.targets.policies import RULES

EDGESHIELD = str(Path(sys.executable).with_name("edgeshield"))
CFN_LINT = Path(sys.executable).with_name("cfn-lint")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EDGESHIELD, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_response_headers_policy_template_is_cfn_lint_clean(tmp_path: Path, preset: str) -> None:
    assert run("init", "--preset", preset, cwd=tmp_path).returncode == 0
    done = run("bundle", "--target", "response-headers-policy", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    template = json.loads(Path(tmp_path / info["path"]).read_text())
    (resource,) = template["Resources"].values()
    assert resource["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"
    lint = subprocess.run(
        [str(CFN_LINT), "--regions", "us-east-1", "--", str(tmp_path / info["path"])],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_inexact_target_is_written_with_the_reasons(tmp_path: Path) -> None:
    (tmp_path / "edgeshield.toml").write_text(RULES)
    done = run("bundle", "--target", "response-headers-policy", "-o", "rhp.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "warning: not exact: rule 'API' varies by status" in done.stderr
    assert (tmp_path / "rhp.json").is_file()


def test_cloudfront_function_source_runs_in_node(tmp_path: Path) -> None:
    (tmp_path / "edgeshield.toml").write_text(RULES)
    done = run("bundle", "--target", "cloudfront-function", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    source = tmp_path / info["path"]
    assert info["size"] == len(source.read_bytes()) <= 10 * 1024
    # The function as CloudFront calls it: a handler(event) that returns the response.
    script = source.read_text() + (
        "\nvar r = handler({request: {uri: '/api/x'}, response: {statusCode: 200, headers: "
        "{'content-type': {value: 'application/json'}, etag: {value: 'x'}}}});"
        "\nconsole.log(JSON.stringify(r.headers));"
    )
    node = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30)
    assert node.returncode == 0, node.stderr
    headers = json.loads(node.stdout)
    assert headers["cache-control"] == {"value": "no-store"}
    assert "etag" not in headers and "content-security-policy" not in headers


def test_lambda_edge_is_still_the_default(tmp_path: Path) -> None:
    done = run("bundle", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(tmp_path / json.loads(done.stdout)["path"]) as archive:
        assert "edgeshield/edge/handler.py" in archive.namelist()


def test_unknown_target_is_a_usage_error(tmp_path: Path) -> None:
    done = run("bundle", "--target", "fastly", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "use lambda-edge, response-headers-policy or cloudfront-function" in done.stderr
