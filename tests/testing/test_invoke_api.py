"""``invoke`` and ``LocalEdge`` as a user's test calls them: a mistake in the test is an error
that names it, a function's failure is a result whose verdict reads in one line."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest

from edgeshield import InvokeError, LocalEdge, ServeConfigError, build_event, invoke

FUNCTIONS = """
import json

def ok(event, context):
    return event["Records"][0]["cf"]["request"]

def generated(event, context):
    body = json.dumps({"ok": True})
    return {"status": "200", "body": body, "headers": {
        "content-type": [{"key": "Content-Type", "value": "application/json"}],
        "content-length": [{"key": "Content-Length", "value": str(len(body))}]}}

def boom(event, context):
    raise KeyError("nope")
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "fns.py").write_text(FUNCTIONS)
    (tmp_path / "needs_lib.py").write_text(
        "import requests_not_here\n\ndef handler(e, c):\n    pass\n"
    )
    return tmp_path


def test_the_verdict_reads_in_one_line(root: Path) -> None:
    event = build_event("origin-request", uri="/")
    accepted = invoke(event, handler="fns.ok", task_root=root)
    assert accepted.verdict == "accepted"
    assert repr(accepted) == "InvokeResult(origin-request, accepted)"
    refused = invoke(event, handler="fns.generated", task_root=root)
    assert not refused.accepted
    assert refused.verdict.startswith("LambdaValidationError (502): ")
    assert "read-only header, headerName : Content-Length" in refused.verdict
    # what pytest prints for a failed `assert answer.accepted`: the reason, not the event
    assert repr(refused) == f"InvokeResult(origin-request, {refused.verdict})"
    assert "Records" not in repr(refused)
    raised = invoke(event, handler="fns.boom", task_root=root)
    assert raised.verdict == "LambdaExecutionError (503): KeyError: 'nope'"


def test_a_handler_that_is_not_there_is_the_tests_mistake(root: Path) -> None:
    event = build_event("viewer-request", uri="/")
    with pytest.raises(InvokeError, match=r"handler 'fnz\.ok': .*No module named 'fnz'"):
        invoke(event, handler="fnz.ok", task_root=root)
    with pytest.raises(InvokeError, match=r"Handler 'okay' missing on module 'fns'"):
        invoke(event, handler="fns.okay", task_root=root)
    # A module whose own import fails is the function failing, as on Lambda: a 503.
    broken = invoke(event, handler="needs_lib.handler", task_root=root)
    assert broken.error_type == "Runtime.ImportModuleError"
    assert broken.http_status == 503


def test_a_timeout_above_the_triggers_limit_is_refused(root: Path) -> None:
    with pytest.raises(InvokeError, match="viewer-request's limit of 5 s"):
        invoke(build_event("viewer-request"), handler="fns.ok", task_root=root, timeout=10)
    done = invoke(build_event("origin-request"), handler="fns.ok", task_root=root, timeout=10)
    assert done.accepted and done.timeout_s == 10


def test_invoke_works_inside_a_running_event_loop(root: Path) -> None:
    async def an_async_test() -> str:
        return invoke(build_event("viewer-request"), handler="fns.ok", task_root=root).verdict

    assert asyncio.run(an_async_test()) == "accepted"


def test_an_unknown_local_edge_option_is_named(tmp_path: Path) -> None:
    with pytest.raises(ServeConfigError, match=r"did you mean query_string\?") as caught:
        LocalEdge(origin=str(tmp_path), options={"querystring": True}).start()
    assert caught.value.field == "querystring"


def test_an_edge_without_functions_leaves_no_scratch_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<!doctype html><p>hi</p>\n")
    with LocalEdge(
        origin=str(tmp_path / "site"), cwd=tmp_path, state_dir=tmp_path / "state",
        options={"policy_function": False},
    ) as edge:  # fmt: skip
        assert edge.get("/").status == 200
        assert list(temp.iterdir()) == []
    with LocalEdge(
        origin=str(tmp_path / "site"), cwd=tmp_path, state_dir=tmp_path / "state2"
    ) as edge:
        assert edge.get("/").status == 200
        assert [p.name[:19] for p in temp.iterdir()] == ["edgeshield-workers-"]
    assert list(temp.iterdir()) == []
