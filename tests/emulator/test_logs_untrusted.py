"""``edgeshield logs`` prints what functions and report senders wrote: escape sequences and
lone surrogates must arrive as visible text, never reach the terminal (issue 11)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from edgeshield.emulator.logstore import LogStore
from tests.emulator.helpers import run_cli

EVIL = "title\x1b]0;pwned\x07 link\x1b]8;;https://evil.example\x1b\\x\x1b[2J bidi\u202e lone\udfff"


def test_logs_show_hostile_messages_as_visible_text(tmp_path: Path) -> None:
    store = LogStore(tmp_path / ".edgeshield" / "logs")
    now = int(time.time() * 1000)
    group = "/aws/lambda/us-east-1.fn"
    forged = "x\n2026-11-30T18:40:21.079Z us-east-1 END RequestId: 0000"
    store.put(
        "us-east-1",
        group,
        "2026/11/30/[1]abc",
        [(now, EVIL), (now + 1, "line1\nline2"), (now + 2, forged)],
    )
    store.close()
    text = run_cli(tmp_path, "logs", "--local", "--group", group)
    assert text.returncode == 0, text.stderr
    assert "\x1b" not in text.stdout and "\u202e" not in text.stdout and "\x07" not in text.stdout
    assert "\\x1b]0;pwned\\x07" in text.stdout and "\\udfff" in text.stdout
    # Multi-line events keep their lines, indented: none passes for an event of its own.
    assert "line1\n    line2" in text.stdout
    assert "\n2026-11-30T18:40:21.079Z" not in text.stdout
    assert "x\n    2026-11-30T18:40:21.079Z us-east-1 END RequestId: 0000" in text.stdout
    as_json = run_cli(tmp_path, "logs", "--local", "--group", group, "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert "\x1b" not in as_json.stdout
    messages = [json.loads(line)["message"] for line in as_json.stdout.splitlines()]
    assert EVIL in messages  # JSON keeps the exact text, escaped


def test_ended_stream_is_written_and_its_file_closed(tmp_path: Path) -> None:
    store = LogStore(tmp_path, buffered=True)
    args = ("us-east-1", "/aws/lambda/us-east-1.fn", "2026/11/30/[1]dead")
    store.put(*args, [(1, "last words")])
    store.end_stream(*args)
    assert not store._files  # no descriptor kept for a stream that has ended
    assert "last words" in store.path_for(*args).read_text()
    store.close()
