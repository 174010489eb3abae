"""plan: exactness with the exact reason, monthly costs with their formulas, the choice."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from edgeshield.targets import Traffic, cff, plan, rhp
from tests.targets.policies import BY_TYPE, RULES, compiled_text

EDGESHIELD = str(Path(sys.executable).with_name("edgeshield"))


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EDGESHIELD, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def csp_policy(length: int) -> str:
    """A CSP of exactly ``length`` characters: hosts, the last one padded to fit."""
    value = "default-src 'self'; img-src 'self'"
    i = 0
    while len(value) + 60 < length:
        value += f" https://h{i:04d}.example.org"
        i += 1
    pad = length - len(value) - len(" https://.example.org")
    value += " https://" + "p" * pad + ".example.org"
    assert len(value) == length, len(value)
    return f'[headers]\ncontent-security-policy = "{value}"\n'


def test_long_csp_names_its_length() -> None:
    compiled = compiled_text(csp_policy(2165))
    assert rhp.reasons(compiled) == ["CSP is 2,165 characters, over 1,783"]
    assert rhp.reasons(compiled_text(csp_policy(1783))) == []


def test_status_rule_and_other_limits() -> None:
    reasons = rhp.reasons(compiled_text(RULES))
    assert "rule 'API' varies by status" in reasons
    assert rhp.reasons(compiled_text(BY_TYPE)) == ["rule 'HTML' varies by content type"]
    eleven = "[headers]\n" + "".join(f'x-h{i} = "v"\n' for i in range(11))
    assert rhp.reasons(compiled_text(eleven)) == ["11 custom headers, over 10 per policy"]
    referrer = '[headers]\nreferrer-policy = "no-referrer, strict-origin-when-cross-origin"\n'
    (reason,) = rhp.reasons(compiled_text(referrer))
    assert reason.startswith("Referrer-Policy 'no-referrer, strict-origin-when-cross-origin'")
    remove = '[remove]\nheaders = ["host", "warning"]\n'
    policy_reasons = rhp.reasons(compiled_text(remove))
    assert policy_reasons == [
        "a response headers policy cannot remove 'host'",
        "a response headers policy cannot remove 'warning'",
    ]


def test_function_size_limit() -> None:
    big = "[headers]\n" + "".join(f'x-h{i} = "{"v" * 200}"\n' for i in range(60))
    compiled = compiled_text(big)
    code = cff.generate(compiled)
    assert code.size > 10 * 1024 and not code.fits
    assert any(
        r.startswith(f"function is {code.size:,} bytes, over the 10,240-byte limit")
        for r in cff.reasons(compiled)
    )


def test_costs_follow_the_formulas() -> None:
    traffic = Traffic(requests_per_month=50_000_000, hit_ratio=0.95)
    result = plan(compiled_text(RULES), traffic)
    by_name = {m.name: m for m in result.mechanisms}
    assert by_name["response-headers-policy"].monthly_cost_usd == 0.0
    assert by_name["cloudfront-function"].monthly_cost_usd == pytest.approx(5.0)
    misses = 50_000_000 * 0.05
    per_call = 0.60 / 1e6 + 0.001 * (128 / 1024) * 0.00005001
    assert by_name["lambda-edge"].monthly_cost_usd == pytest.approx(misses * per_call, rel=1e-6)
    assert "2,500,000 misses" in by_name["lambda-edge"].formula
    # rules by status: only Lambda@Edge is exact, so it is the choice whatever it costs
    assert result.recommended == "lambda-edge"


def test_cheapest_exact_wins_and_hit_ratio_matters() -> None:
    flat = compiled_text('[headers]\nx-content-type-options = "nosniff"\n')
    assert plan(flat).recommended == "response-headers-policy"
    viewer = compiled_text('[function]\ntrigger = "viewer-response"\n[headers]\nx-a = "1"\n')
    lam = next(
        m for m in plan(viewer, Traffic(1_000_000, 0.99)).mechanisms if m.name == "lambda-edge"
    )
    assert lam.invocations == 1_000_000  # viewer-response runs on hits too
    billed = math.ceil(2.5)  # 2.5 ms is billed as 3 ms
    slow = plan(flat, Traffic(1_000_000, 0.5, lambda_memory_mb=1024, lambda_duration_ms=2.5))
    lam = next(m for m in slow.mechanisms if m.name == "lambda-edge")
    assert lam.monthly_cost_usd == pytest.approx(
        500_000 * (0.6 / 1e6 + billed / 1000 * 1.0 * 0.00005001)
    )


def test_cli_json_is_exactly_the_documented_shape(tmp_path: Path) -> None:
    (tmp_path / "edgeshield.toml").write_text(RULES)
    done = run(
        "plan",
        "--format",
        "json",
        "--requests-per-month",
        "1000000",
        "--hit-ratio",
        "0.8",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {"recommended", "mechanisms"}
    assert data["recommended"] == "lambda-edge"
    assert [m["name"] for m in data["mechanisms"]] == [
        "response-headers-policy",
        "cloudfront-function",
        "lambda-edge",
    ]
    for m in data["mechanisms"]:
        assert set(m) == {"name", "exact", "reasons", "monthly_cost_usd"}
        assert isinstance(m["exact"], bool) and isinstance(m["monthly_cost_usd"], float | int)
    assert "rule 'API' varies by status" in data["mechanisms"][0]["reasons"]


def test_cli_table_shows_formulas(tmp_path: Path) -> None:
    done = run("plan", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "recommended: response-headers-policy" in done.stdout
    assert "misses" in done.stdout and "$0.10" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("--hit-ratio", "1.5"),
        ("--hit-ratio", "nan"),
        ("--requests-per-month", "-1"),
        ("--format", "xml"),
        ("--policy", "missing.toml"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = run("plan", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stdout
    assert "Traceback" not in done.stderr and done.stderr.strip()


def test_read_only_and_lambda_only_features() -> None:
    warning = compiled_text('[remove]\nheaders = ["warning", "x-powered-by"]\n')
    assert "'warning' is read-only at viewer-response; the function leaves it alone" in cff.reasons(
        warning
    )
    assert '"warning"' not in cff.generate(warning).code  # never deleted: that would be a 502
    metrics = compiled_text(
        '[function]\nmetrics = true\nlog-sample-rate = 0.5\n[headers]\nx-frame-options = "DENY"\n'
    )
    for reasons in (rhp.reasons(metrics), cff.reasons(metrics)):
        assert any(r.startswith("metrics = true") for r in reasons)
        assert any(r.startswith("log-sample-rate > 0") for r in reasons)
    assert plan(metrics).recommended == "lambda-edge"
