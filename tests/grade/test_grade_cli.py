"""`edgeshield grade --headers FILE.json`: offline grading from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from edgeshield.cli import app
from tests.grade import anchors

runner = CliRunner()


def _write(tmp_path: Path, data: object, name: str = "h.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_json_output_matches_the_api(tmp_path: Path) -> None:
    path = _write(tmp_path, anchors.owasp_headers())
    result = runner.invoke(app, ["grade", "--headers", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["score"], report["grade"]) == (145, "A+")
    assert report["header_only"] is True
    assert "assumed" in report["tests"]["redirection"]


def test_json_flag_is_format_json_on_every_command_with_a_format(tmp_path: Path) -> None:
    """--json means --format json wherever a command has --format (grade, scan, plan, csp
    verify), as it does on the commands without one; with another --format it is refused."""
    path = _write(tmp_path, anchors.owasp_headers())
    flag = runner.invoke(app, ["grade", "--headers", str(path), "--json"])
    named = runner.invoke(app, ["grade", "--headers", str(path), "--format", "json"])
    assert flag.exit_code == 0, flag.stderr
    assert json.loads(flag.stdout) == json.loads(named.stdout)
    plan = runner.invoke(app, ["plan", "--json"])
    assert plan.exit_code == 0, plan.stderr
    assert json.loads(plan.stdout)["recommended"]
    clash = runner.invoke(app, ["scan", "--json", "--format", "html", "example.com"])
    assert clash.exit_code == 2
    assert "--json and --format html ask for two formats" in clash.stderr
    # csp verify takes the flag too (it stops later, at the empty site folder)
    verify = runner.invoke(app, ["csp", "verify", "--origin", str(tmp_path / "none"), "--json"])
    assert verify.exit_code == 2
    assert "not a directory" in verify.stderr


def test_table_output(tmp_path: Path) -> None:
    path = _write(tmp_path, anchors.DJANGO)
    result = runner.invoke(app, ["grade", "--headers", str(path)])
    assert result.exit_code == 0
    assert "Grade C, score 55 (header-only)" in result.stdout
    assert "[headers.content-security-policy]" in result.stdout


def test_min_grade_gate(tmp_path: Path) -> None:
    path = _write(tmp_path, anchors.CLOUDFRONT_MANAGED)
    ok = runner.invoke(app, ["grade", "--headers", str(path), "--min-grade", "b"])
    assert ok.exit_code == 0
    low = runner.invoke(app, ["grade", "--headers", str(path), "--min-grade", "A"])
    assert low.exit_code == 1
    assert "grade B is below the required A" in low.stderr


def test_wrapped_case_file_and_stdin(tmp_path: Path) -> None:
    path = _write(tmp_path, {"id": "x", "headers": {"x-frame-options": "DENY"}})
    result = runner.invoke(app, ["grade", "--headers", str(path), "--format", "json"])
    assert json.loads(result.stdout)["tests"]["x-frame-options"]["score_modifier"] == 5
    piped = runner.invoke(
        app, ["grade", "--headers", "-", "--format", "json"], input='{"x-frame-options": "DENY"}'
    )
    assert piped.exit_code == 0
    assert json.loads(piped.stdout)["tests"]["x-frame-options"]["pass"] is True


def test_url_scheme_matters(tmp_path: Path) -> None:
    path = _write(tmp_path, {"content-security-policy": "default-src 'self' http://cdn.example"})
    for url, expected in [
        ("https://site.example/", "csp-implemented-with-insecure-scheme"),
        ("http://site.example/", "csp-implemented-with-no-unsafe"),
    ]:
        result = runner.invoke(
            app, ["grade", "--headers", str(path), "--url", url, "--format", "json"]
        )
        assert json.loads(result.stdout)["tests"]["content-security-policy"]["result"] == expected


def test_user_mistakes_get_one_message_and_exit_2(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    cases = [
        (["--headers", str(tmp_path / "missing.json")], "no such file"),
        (["--headers", str(bad_json)], "not valid JSON (line 1"),
        (["--headers", str(_write(tmp_path, ["a"], "list.json"))], "expected a JSON object"),
        (["--headers", str(_write(tmp_path, {"a": 1}, "num.json"))], "header 'a' must be a string"),
        (
            ["--headers", str(_write(tmp_path, {}, "ok.json")), "--url", "ftp://x"],
            "must start with",
        ),
        (["--headers", str(_write(tmp_path, {}, "ok2.json")), "--min-grade", "E"], "not a grade"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["grade", *args])
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr
        assert "Traceback" not in result.stderr + result.stdout


def test_curl_header_dump(tmp_path: Path) -> None:
    dump = tmp_path / "curl.txt"
    dump.write_text(
        "HTTP/1.1 301 Moved Permanently\r\nLocation: https://example.com/\r\n\r\n"
        "HTTP/2 200\r\ncontent-type: text/html\r\nx-frame-options: DENY\r\n"
        "x-frame-options: DENY\r\nset-cookie: a=1\r\nset-cookie: b=2; Secure\r\n"
        "content-security-policy: default-src 'none';\r\n  frame-ancestors 'none'\r\n\r\n"
    )
    result = runner.invoke(app, ["grade", "--headers", str(dump), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    tests = json.loads(result.stdout)["tests"]
    # The last response counts; the repeated XFO line is folded, and frame-ancestors (on a
    # continuation line) replaces it.
    assert tests["x-frame-options"]["result"] == "x-frame-options-implemented-via-csp"
    assert tests["content-security-policy"]["result"] == (
        "csp-implemented-with-no-unsafe-default-src-none"
    )
    assert tests["cookies"]["result"] == "cookies-without-secure-flag"


def test_junk_text_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("this is not a header\nnor json\n")
    result = runner.invoke(app, ["grade", "--headers", str(junk)])
    assert result.exit_code == 2
    assert "not 'Name: value' header lines" in result.stderr


def test_a_header_dump_with_latin1_bytes_is_read(tmp_path: Path) -> None:
    """A legal response may carry ISO-8859-1 bytes in a header value (RFC 9110 §5.5); its curl
    dump is not UTF-8 and must still be graded."""
    dump = tmp_path / "h.txt"
    dump.write_bytes(
        b"HTTP/1.1 200 OK\r\nX-Note: caf\xe9\r\nX-Content-Type-Options: nosniff\r\n\r\n"
    )
    result = runner.invoke(app, ["grade", "--headers", str(dump), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["tests"]["x-content-type-options"]["pass"] is True


def test_json_headers_must_be_utf8(tmp_path: Path) -> None:
    path = tmp_path / "h.json"
    path.write_bytes(b'{"X-Note": "caf\xe9"}')
    result = runner.invoke(app, ["grade", "--headers", str(path)])
    assert result.exit_code == 2
    assert "JSON must be UTF-8" in result.stderr
