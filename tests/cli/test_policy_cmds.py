"""init, check, event and bundle, run as the user runs them: the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from edgeshield.cloudfront import event_trigger, validate_result
from edgeshield.policy import PRESETS

EDGESHIELD = str(Path(sys.executable).with_name("edgeshield"))


def run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EDGESHIELD, *args], cwd=cwd, capture_output=True, text=True, input=stdin, timeout=60
    )


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_init_then_check_every_preset(tmp_path: Path, preset: str) -> None:
    made = run("init", "--preset", preset, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    checked = run("check", "--json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout
    report = json.loads(checked.stdout)
    assert report["valid"] is True
    assert report["policy"] == "edgeshield.toml"
    assert [s["sample"] for s in report["samples"]] == [
        "HTML 200",
        "JSON 200",
        "PNG 200",
        "HTML 404",
    ]
    html = {h["name"]: h for h in report["samples"][0]["headers"]}
    assert html["X-Content-Type-Options"]["source"] == "policy"


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    assert run("init", cwd=tmp_path).returncode == 0
    again = run("init", cwd=tmp_path)
    assert again.returncode == 2
    assert "already exists; pass --force" in again.stderr
    assert run("init", "--force", "--preset", "helmet", cwd=tmp_path).returncode == 0
    assert "helmet" in (tmp_path / "edgeshield.toml").read_text()


def test_init_unknown_preset(tmp_path: Path) -> None:
    result = run("init", "--preset", "lax", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown preset 'lax'; choose one of: strict, recommended" in result.stderr


def test_check_reports_each_problem_on_its_line_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('[headers]\nx-frame-options = "ALLOW-FROM x"\nvia = "me"\n')
    result = run("check", "--policy", "p.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        "p.toml: not valid, 2 errors",
        "p.toml:2: headers.x-frame-options: ALLOW-FROM is not supported by any current browser; use DENY or SAMEORIGIN, and CSP frame-ancestors to allow specific origins",
        "p.toml:3: headers.via: 'via' is read-only on origin-response; remove it from the policy; on origin-response a function may not add, change or delete transfer-encoding, via (502 LambdaValidationError)",
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "content", [b"\xff\xfe\x00garbage", b"[[[", b"headers = 5\n", b"[rules]\nx=1\n"]
)
def test_check_never_crashes_on_garbage(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "p.toml").write_bytes(content)
    result = run("check", "p.toml", cwd=tmp_path)
    assert result.returncode == 2
    verdict, problem = result.stdout.splitlines()
    assert verdict == "p.toml: not valid, 1 error"
    assert problem.startswith("p.toml:1: ")
    assert "Traceback" not in result.stderr + result.stdout


def test_check_missing_file(tmp_path: Path) -> None:
    result = run("check", "--policy", "nope.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        "nope.toml: not valid, 1 error",
        "nope.toml: not found; create it with: edgeshield init",
    ]


def test_check_warnings_exit_0(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('[headers]\nx-xss-protection = "1"\n')
    result = run("check", "p.toml", "--quiet", cwd=tmp_path)
    assert result.returncode == 0
    assert "p.toml:2: warning: headers.x-xss-protection:" in result.stdout


def test_check_custom_response(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(
        '[headers]\nx-a = "1"\n[[rules]]\nname = "api"\nmatch = { path = ["/api/*"], status = ["2xx"] }\nset = { cache-control = "no-store" }\n'
    )
    result = run(
        "check",
        "p.toml",
        "--json",
        "--uri",
        "/api/x",
        "--content-type",
        "application/json",
        "--status",
        "201",
        cwd=tmp_path,
    )
    (sample,) = json.loads(result.stdout)["samples"]
    assert sample["rules"] == ["api"]
    assert {"name": "Cache-Control", "value": "no-store", "source": "policy"} in sample["headers"]


def test_check_without_a_file_uses_strict(tmp_path: Path) -> None:
    result = run("check", "--json", cwd=tmp_path)
    assert json.loads(result.stdout)["policy"] == "<preset strict>"


def test_event_prints_a_cloudfront_event(tmp_path: Path) -> None:
    result = run(
        "event",
        "origin-response",
        "--uri",
        "/a",
        "--status",
        "404",
        "-H",
        "Content-Type: text/html",
        "-H",
        "X-A: 1",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    event = json.loads(result.stdout)
    assert event_trigger(event) == "origin-response"
    response = event["Records"][0]["cf"]["response"]
    assert response["status"] == "404"
    assert response["headers"]["x-a"] == [{"key": "X-A", "value": "1"}]
    assert validate_result("origin-response", event, response) == []


def test_event_body_and_bad_input(tmp_path: Path) -> None:
    event = json.loads(
        run("event", "viewer-request", "--method", "post", "--body", "hello", cwd=tmp_path).stdout
    )
    body = event["Records"][0]["cf"]["request"]["body"]
    assert body["encoding"] == "base64" and body["inputTruncated"] is False
    bad = run("event", "viewer-mumble", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown trigger 'viewer-mumble'" in bad.stderr
    bad = run("event", "viewer-request", "-H", "no colon", cwd=tmp_path)
    assert bad.returncode == 2 and "must look like 'Name: value'" in bad.stderr


def test_bundle_is_reproducible_and_small(tmp_path: Path) -> None:
    first = json.loads(run("bundle", "-o", "a.zip", "--json", cwd=tmp_path).stdout)
    second = json.loads(run("bundle", "-o", "b.zip", "--json", cwd=tmp_path).stdout)
    assert first["sha256"] == second["sha256"]
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert first["size"] < 100 * 1024 and first["fits_viewer_trigger"]
    assert first["handler"] == "edgeshield.edge.handler.handler"
    names = zipfile.ZipFile(tmp_path / "a.zip").namelist()
    assert names == [
        "edgeshield/__init__.py",
        "edgeshield/edge/__init__.py",
        "edgeshield/edge/engine.py",
        "edgeshield/edge/handler.py",
        "edgeshield/edge/pages.py",
        "edgeshield/edge/policy.json",
    ]
    human = run("bundle", "-o", "c.zip", cwd=tmp_path)
    assert "% of the 1 MB limit for viewer triggers" in human.stdout


def test_bundle_refuses_an_invalid_policy(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('[headers]\nx-cache = "1"\n')
    result = run("bundle", "--policy", "p.toml", "-o", "x.zip", cwd=tmp_path)
    assert result.returncode == 2
    assert "p.toml:2: headers.x-cache:" in result.stderr
    assert not (tmp_path / "x.zip").exists()


def test_help_everywhere(tmp_path: Path) -> None:
    for command in ("init", "check", "event", "bundle"):
        result = run(command, "--help", cwd=tmp_path)
        assert result.returncode == 0 and "Usage" in result.stdout


@pytest.mark.parametrize(
    ("preset", "score", "grade"),
    [
        ("strict", 150, "A+"),
        ("recommended", 145, "A+"),
        ("helmet", 130, "A+"),
        ("cloudfront-managed", 75, "B"),
    ],
)
def test_check_grade_of_each_preset(tmp_path: Path, preset: str, score: int, grade: str) -> None:
    """The function's real output on an HTML page, graded like the Observatory (the figures in
    docs/grading.md)."""
    assert run("init", "--preset", preset, cwd=tmp_path).returncode == 0
    result = run("check", "--grade", "--json", cwd=tmp_path)
    report = json.loads(result.stdout)["grade"]
    assert (report["score"], report["grade"]) == (score, grade)


def test_check_grade_table(tmp_path: Path) -> None:
    result = run("check", "--grade", "--quiet", cwd=tmp_path)
    assert "Observatory grade on an HTML 200 response: A+ (150)" in result.stdout
    assert "* not decidable from headers" in result.stdout


FUNCTIONS = Path(__file__).parent / "functions"
SAM_EVENTS = Path(__file__).resolve().parents[1] / "data" / "sam-events"


def _event_file(tmp_path: Path) -> Path:
    made = run(
        "event",
        "origin-response",
        "-H",
        "Content-Type: text/html",
        "-H",
        "Transfer-Encoding: chunked",
        cwd=tmp_path,
    )
    path = tmp_path / "event.json"
    path.write_text(made.stdout)
    return path


def test_invoke_edgeshield_function_is_accepted(tmp_path: Path) -> None:
    event = _event_file(tmp_path)
    result = run("invoke", "--event", str(event), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["accepted"] is True and report["violations"] == []
    assert "x-content-type-options" in report["result"]["headers"]
    assert report["logs"][0].startswith("START RequestId: ")
    assert report["logs"][-1].startswith("REPORT RequestId: ")


def test_invoke_reads_stdin_and_sam_samples(tmp_path: Path) -> None:
    sample = (SAM_EVENTS / "cloudfront-modify-response-header.json").read_text()
    result = run("invoke", "--event", "-", cwd=tmp_path, stdin=sample)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CloudFront would accept this origin-response result." in result.stdout


def test_invoke_with_a_policy(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('[headers]\nx-hello = "edge"\n')
    result = run(
        "invoke",
        "--policy",
        "p.toml",
        "--event",
        str(_event_file(tmp_path)),
        "--json",
        cwd=tmp_path,
    )
    assert json.loads(result.stdout)["result"]["headers"]["x-hello"] == [
        {"key": "X-Hello", "value": "edge"}
    ]


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (
            "misbehave.add_via",
            "LambdaValidationError: Lambda function result failed validation, the function tried to add read-only header, headerName : Via.",
        ),
        (
            "misbehave.delete_transfer_encoding",
            "the function tried to delete read-only header, headerName : Transfer-Encoding.",
        ),
        ("misbehave.raise_error", "LambdaExecutionError: RuntimeError: boom at the edge"),
        (
            "misbehave.not_a_dict",
            "LambdaValidationError: The Lambda function returned invalid JSON",
        ),
        ("misbehave:set_object", "LambdaExecutionError"),
    ],
)
def test_invoke_reports_what_cloudfront_would_refuse(
    tmp_path: Path, handler: str, expected: str
) -> None:
    event = _event_file(tmp_path)
    result = run("invoke", "--handler", handler, "--event", str(event), cwd=FUNCTIONS)
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout


def test_invoke_timeout(tmp_path: Path) -> None:
    event = _event_file(tmp_path)
    result = run(
        "invoke",
        "--handler",
        "misbehave.sleep_past_timeout",
        "--timeout",
        "0.5",
        "--event",
        str(event),
        cwd=FUNCTIONS,
    )
    assert result.returncode == 1
    assert "LambdaLimitExceeded: the function ran past its 0.5 s timeout" in result.stdout


def test_invoke_gives_a_lambda_context(tmp_path: Path) -> None:
    event = _event_file(tmp_path)
    result = run(
        "invoke",
        "--handler",
        "misbehave.context_fields",
        "--event",
        str(event),
        "--json",
        cwd=FUNCTIONS,
    )
    logs = json.loads(result.stdout)["logs"]
    line = next(x for x in logs if x.startswith("ctx "))
    assert line.split()[1:3] == ["us-east-1.misbehave-context_fields", "128"]
    assert line.split()[3].startswith("arn:aws:lambda:us-east-1:")
    assert line.split()[3].endswith(":1")


def test_invoke_bad_input(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{nope")
    result = run("invoke", "--event", "bad.json", cwd=tmp_path)
    assert (
        result.returncode == 2 and "bad.json" in result.stderr and "Traceback" not in result.stderr
    )
    result = run("invoke", "--event", "missing.json", cwd=tmp_path)
    assert result.returncode == 2
    result = run(
        "invoke",
        "--event",
        str(_event_file(tmp_path)),
        "--handler",
        "nosuchmodule.fn",
        cwd=tmp_path,
    )
    # A handler that is not there is a mistake in the command, not a function that fails.
    assert result.returncode == 2, result.stdout + result.stderr
    assert "handler 'nosuchmodule.fn'" in result.stderr
    assert "No module named 'nosuchmodule'" in result.stderr


def test_user_text_is_never_read_as_markup(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(
        '[headers]\nx-note = "see [/x] here"\nx-b = "[bold]hi[/bold]"\n'
    )
    result = run("check", "p.toml", "--uri", "/[/a]", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "see [/x] here" in result.stdout and "[bold]hi[/bold]" in result.stdout
    assert "/[/a]" in result.stdout


@pytest.mark.parametrize("value", ["nan", "-1", "0", "31"])
def test_invoke_refuses_bad_timeouts(tmp_path: Path, value: str) -> None:
    result = run("invoke", "--event", str(_event_file(tmp_path)), "--timeout", value, cwd=tmp_path)
    assert result.returncode == 2
    assert "must be more than 0" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--status", "999"), "not an HTTP status"),
        (("-H", "bad name: y"), "not a valid header name"),
        (("--method", "GE T"), "--method 'GE T': CloudFront passes on DELETE, GET, HEAD"),
        (("--method", "TRACE"), "--method 'TRACE': CloudFront passes on"),
    ],
)
def test_event_refuses_what_cloudfront_never_sends(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = run("event", "origin-response", *args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--uri", "api", "error: --uri 'api' is not a path; use one that starts with /, like /api"),
        ("--content-type", "json", "error: --content-type 'json' is not a media type; use type/subtype, like text/html or application/json"),
    ],
)  # fmt: skip
def test_check_refuses_a_sample_that_is_not_a_request(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    result = run("check", option, value, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [message]


def test_check_takes_a_media_type_with_parameters(tmp_path: Path) -> None:
    result = run("check", "--json", "--content-type", "text/html; charset=utf-8", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_invoke_prints_what_the_function_wrote_as_visible_text(tmp_path: Path) -> None:
    """A function's output, its exception and the header names a refusal quotes come from the
    function (or its event): escape sequences arrive escaped, and a newline cannot start a line
    that passes for one of edgeshield's."""
    (tmp_path / "evil.py").write_text(
        "import sys\n"
        "def handler(event, context):\n"
        "    print('title\\x1b]0;pwned\\x07 clear\\x1b[2J')\n"
        "    raise RuntimeError('boom\\x1b[31m\\nLambdaValidationError: forged')\n"
        "def header(event, context):\n"
        "    response = event['Records'][0]['cf']['response']\n"
        "    response['headers']['x-evil\\x1b[31m'] = [{'key': 'X-Evil\\x1b[31m', 'value': 'v'}]\n"
        "    return response\n"
    )
    event = _event_file(tmp_path)
    for handler in ("evil.handler", "evil.header"):
        result = run("invoke", "--handler", handler, "--event", str(event), cwd=tmp_path)
        assert result.returncode == 1, result.stdout + result.stderr
        both = result.stdout + result.stderr
        assert "\x1b" not in both and "\x07" not in both, both
        assert "\\x1b" in both
    assert "\nLambdaValidationError: forged" not in both.replace("\n    ", " ")
    raised = run("invoke", "--handler", "evil.handler", "--event", str(event), cwd=tmp_path)
    assert "boom\\x1b[31m\n    LambdaValidationError: forged" in raised.stdout
