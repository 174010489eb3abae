"""Write a fitted CSP into a policy file, keeping everything the user wrote.

``csp fit`` owns one table, ``[headers.<csp>.fitted]``: it is replaced on every run (a rebuilt
site gets fresh hashes, stale ones go) and the user's own directives are never touched. The
file is edited as text so comments and layout survive.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from typing import Any

from edgeshield.errors import EdgeshieldError
from edgeshield.policy.locate import LineIndex

CSP = "content-security-policy"
CSP_REPORT_ONLY = "content-security-policy-report-only"
MARKER = "# Written by `edgeshield csp fit`; replaced on every run: do not edit (docs/csp.md)."
_TABLE_HEADER_RE = re.compile(r"^\s*\[")


class PolicyEditError(EdgeshieldError):
    """The policy cannot take a fitted table; the message says what to change."""


@dataclass(frozen=True)
class CspEntry:
    key: str  # the key as written under [headers]
    directives: dict[str, list[str]]  # the user's own directives (fitted ones excluded)


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def _bare(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def find_csp(data: dict[str, Any]) -> tuple[str, Any] | None:
    """The CSP entry under [headers]: the enforced one, else the report-only one."""
    headers = data.get("headers")
    if not isinstance(headers, dict):
        return None
    for wanted in (CSP, CSP_REPORT_ONLY):
        for key, spec in headers.items():
            if key.lower() == wanted:
                return key, spec
    return None


def csp_directives(spec: Any) -> dict[str, list[str]]:
    """The user's directives from a CSP entry in any of its forms, fitted table ignored."""
    from edgeshield.policy.csp import parse_raw

    if isinstance(spec, str):
        return parse_raw(spec)[0]
    if isinstance(spec, dict):
        if isinstance(spec.get("value"), str):
            return parse_raw(spec["value"])[0]
        raw = spec.get("directives")
        if isinstance(raw, dict):
            return {
                k.lower(): (v.split() if isinstance(v, str) else [str(s) for s in v])
                for k, v in raw.items()
                if isinstance(v, str | list)
            }
    return {}


def _fitted_block(key: str, fitted: dict[str, list[str]], per_page: str | None) -> str:
    lines = [MARKER, f"[headers.{_bare(key)}.fitted]"]
    if per_page is not None:
        lines.append(f"per-page = {_toml_string(per_page)}")
    for directive, sources in fitted.items():
        if len(sources) <= 2:
            lines.append(f"{directive} = [{', '.join(_toml_string(s) for s in sources)}]")
        else:
            lines.append(f"{directive} = [")
            lines.extend(f"  {_toml_string(s)}," for s in sources)
            lines.append("]")
    return "\n".join(lines) + "\n"


def _drop_fitted(lines: list[str], key: str) -> list[str]:
    """The lines without an earlier fitted table (and its marker comment)."""
    header = re.compile(
        r"^\s*\[\s*headers\s*\.\s*(?:"
        + re.escape(key)
        + "|"
        + re.escape(_toml_string(key))
        + r")\s*\.\s*fitted\s*\]"
    )
    out: list[str] = []
    skipping = False
    for line in lines:
        if header.match(line):
            skipping = True
            if out and out[-1].strip() == MARKER:
                out.pop()
            continue
        if (skipping and _TABLE_HEADER_RE.match(line) and not line.lstrip().startswith("[[")) or (
            skipping and line.lstrip().startswith("[[")
        ):
            skipping = False
        if not skipping:
            out.append(line)
    return out


def with_fitted(
    text: str,
    fitted: dict[str, list[str]],
    per_page: str | None,
    default_csp: dict[str, list[str]],
) -> str:
    """``text`` with its fitted table replaced. A policy without a CSP gets ``default_csp``
    (the strict preset's directives); one whose CSP is a plain string gets it as a table."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyEditError(f"not valid TOML: {exc}") from None
    found = find_csp(data)
    lines = text.splitlines()
    if found is None:
        key = CSP
        block = [f"\n[headers.{key}]", 'mode = "enforce"', "", f"[headers.{key}.directives]"]
        block += [
            f"{d} = [{', '.join(_toml_string(s) for s in sources)}]"
            for d, sources in default_csp.items()
        ]
        lines += block
    else:
        key, spec = found
        if isinstance(spec, str):
            number = LineIndex(text).line_of(f"headers.{key}")
            line = lines[number - 1] if 0 < number <= len(lines) else ""
            match = re.match(r"^\s*(\S+)\s*=\s*(.*)$", line)
            try:
                same = match is not None and tomllib.loads(f"v = {match.group(2)}")["v"] == spec
            except tomllib.TOMLDecodeError:
                same = False
            if not same:
                raise PolicyEditError(
                    f'line {number}: write the CSP as a table ([headers.{key}] with value = "…") so csp fit can add to it'
                )
            del lines[number - 1]
            lines += ["", f"[headers.{_bare(key)}]", f"value = {_toml_string(spec)}"]
        elif not isinstance(spec, dict):
            raise PolicyEditError(f"headers.{key}: expected a table with directives or value")
        else:
            lines = _drop_fitted(lines, key)
            left = find_csp(tomllib.loads("\n".join(lines)))
            if left is not None and isinstance(left[1], dict) and "fitted" in left[1]:
                raise PolicyEditError(
                    f"headers.{key}.fitted is not a [headers.{key}.fitted] section; remove it and re-run csp fit"
                )
    while lines and not lines[-1].strip():
        lines.pop()
    result = "\n".join(lines) + "\n\n" + _fitted_block(key, fitted, per_page)
    tomllib.loads(result)  # our own output must parse; a failure here is a bug
    return result
