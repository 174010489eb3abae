"""Differential test against Google's CSP Evaluator itself (npm ``csp_evaluator``, Node).

Thousands of generated policies go through the npm package (one Node process per batch) and
through ``edgeshield.csp.evaluator.evaluate``; every finding's type, severity, directive and
value must agree, in order. Where the package throws (a source the URL parser rejects, such as
``a:b.com``), ours must have noticed the same source (``sources_without_host``).

The package is installed by ``make csp-evaluator`` into .cache/csp-evaluator (or point
``EDGESHIELD_CSP_EVALUATOR_DIR`` at a folder with ``node_modules/csp_evaluator``). Without it
or without ``node`` the test skips, except under CI (``CI=true``, or
``EDGESHIELD_REQUIRE_ORACLES=1`` as .ci/run sets), where a missing oracle is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.csp.evaluator.policies import cases

from edgeshield.csp.evaluator import FindingType, Version, evaluate, sources_without_host

ROOT = Path(__file__).resolve().parents[3]
HARNESS = Path(__file__).with_name("evaluator_harness.js")
EVAL_DIR = Path(os.environ.get("EDGESHIELD_CSP_EVALUATOR_DIR") or ROOT / ".cache/csp-evaluator")


def _require_oracle() -> None:
    missing = []
    if not (EVAL_DIR / "node_modules/csp_evaluator/dist/evaluator.js").is_file():
        missing.append(f"csp_evaluator is not installed in {EVAL_DIR} (run `make csp-evaluator`)")
    if shutil.which("node") is None:
        missing.append("node is not on PATH")
    if not missing:
        return
    message = "; ".join(missing)
    if os.environ.get("CI") == "true" or "1" in (
        os.environ.get("EDGESHIELD_REQUIRE_ORACLES"),
        os.environ.get("EDGESHIELD_REQUIRE_BROWSER"),
    ):
        pytest.fail(message + " — under CI the CSP Evaluator oracle is required")
    pytest.skip(message)


def run_npm(batch: list[dict[str, Any]]) -> list[Any]:
    proc = subprocess.run(
        ["node", str(HARNESS), str(EVAL_DIR)],
        input="\n".join(json.dumps(c) for c in batch) + "\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    # split("\n"), not splitlines(): \x1c, \x85 and U+2028 in policies are not line ends here.
    results = [json.loads(line) for line in proc.stdout.split("\n") if line]
    assert len(results) == len(batch)
    return results


def _key(f: Any) -> tuple[int, int, str, str | None]:
    return (int(f.type), int(f.severity), f.directive, f.value)


def _compare(batch: list[dict[str, Any]]) -> tuple[list[str], int]:
    mismatches: list[str] = []
    threw = 0
    for case, theirs in zip(batch, run_npm(batch), strict=True):
        version = Version(case["version"])
        ours = evaluate(case["csp"], version)
        if isinstance(theirs, dict):
            threw += 1
            if not sources_without_host(case["csp"], version):
                mismatches.append(f"npm threw {theirs['threw']!r}, we saw no bad source: {case}")
            continue
        if sources_without_host(case["csp"], version):
            mismatches.append(f"we flagged a bad source npm parsed: {case}")
        want = [tuple(f[:4]) for f in theirs]
        got = [_key(f) for f in ours]
        if got != want:
            mismatches.append(f"{case}\n  npm:  {want}\n  ours: {got}")
            continue
        # The bypass host named in the text is part of the finding: check we name the same.
        for f, t in zip(ours, theirs, strict=True):
            if f.type in (FindingType.SCRIPT_ALLOWLIST_BYPASS, FindingType.OBJECT_ALLOWLIST_BYPASS):
                host = re.match(r"(\S+) is known to host", t[4])
                if host and not f.description.startswith(host.group(1) + " "):
                    mismatches.append(f"bypass host differs: {case}: {t[4]!r} vs {f.description!r}")
    return mismatches, threw


@pytest.mark.parametrize("seed", range(4))
def test_agrees_with_the_npm_csp_evaluator(seed: int) -> None:
    _require_oracle()
    batch = cases(seed, 1000)
    mismatches, threw = _compare(batch)
    assert not mismatches, f"{len(mismatches)} of {len(batch)} differ:\n" + "\n".join(
        mismatches[:8]
    )
    # The generator must keep most cases comparable, not mostly ones the package throws on.
    assert threw < len(batch) // 5


HAND_PICKED = [
    "",
    "script-src 'unsafe-inline'",
    "script-src 'nonce-abc' 'unsafe-inline' 'strict-dynamic' https: http:; object-src 'none'",
    "default-src 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' 'strict-dynamic'",
    "script-src *.googleapis.com 'unsafe-eval' www.googletagmanager.com; object-src vk.com",
    "script-src https://www.google.com/tools/feedback/; plugin-types application/pdf",
    "script-src 0x7f.1 2130706433 [::1]:8080 1.2.3.4; report-uri http://r.example/",
    "constructor x; __proto__ y; 12 a; 0 b; script-src 'self'; Script-Src *",
    "script-src\u00a0'unsafe-inline'\ufeff; object-src\x1c'none'",
    "trusted-types 'allow-duplicates' 'script'; require-trusted-types-for 'script' 'x'",
    "script-src a:b.com",
]


@pytest.mark.parametrize("version", [1, 2, 3])
def test_hand_picked_cases_agree(version: int) -> None:
    _require_oracle()
    mismatches, threw = _compare([{"csp": c, "version": version} for c in HAND_PICKED])
    assert not mismatches, "\n".join(mismatches)
    assert threw == 1  # a:b.com
