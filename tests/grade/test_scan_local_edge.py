"""scan against the local edge: the grade comes from the headers edgeshield's function adds."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import EDGESHIELD, Edge


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    server = Edge(tmp_path_factory.mktemp("edge"), policy=None, origin=None)  # `make serve`
    yield server
    server.close()


def test_scan_of_the_local_edge(edge: Edge, tmp_path: Path) -> None:
    result = subprocess.run(
        [EDGESHIELD, "scan", edge.url + "/", "--format", "json", "--timeout", "5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    (report,) = json.loads(result.stdout)
    results = {name: test["result"] for name, test in report["tests"].items()}
    # What the function added, as the Observatory reads it ...
    assert results["content-security-policy"] == "csp-implemented-with-no-unsafe-default-src-none"
    assert results["x-frame-options"] == "x-frame-options-implemented-via-csp"
    assert results["cross-origin-opener-policy"] == "coop-implemented-with-same-origin"
    assert results["cross-origin-embedder-policy"] == "coep-implemented-with-require-corp"
    assert results["cross-origin-resource-policy"] == "corp-implemented-with-same-origin"
    assert results["referrer-policy"] == "referrer-policy-private"
    # ... and what only a real CloudFront viewer certificate can give: the local edge is plain HTTP.
    assert results["strict-transport-security"] == "hsts-not-implemented-no-https"
    assert results["redirection"] == "redirection-missing"
    assert (
        results["subresource-integrity"]
        == "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
    )
    assert (report["score"], report["grade"]) == (60, "C+")


def test_html_report_of_the_local_edge(edge: Edge, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    subprocess.run(
        [
            EDGESHIELD,
            "scan",
            edge.url + "/",
            "--format",
            "html",
            "--output",
            str(out),
            "--timeout",
            "5",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    html = out.read_text()
    assert "csp-implemented-with-no-unsafe-default-src-none" in html
    assert "Grade C+" in html or "C+" in html


def test_no_policy_snippet_when_only_https_is_missing(edge: Edge) -> None:
    result = subprocess.run(
        [EDGESHIELD, "scan", edge.url + "/", "--format", "table", "--timeout", "5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Serve the site over HTTPS" in result.stdout
    assert "[headers.strict-transport-security]" not in result.stdout
