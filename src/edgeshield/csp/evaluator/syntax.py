"""The evaluator's parser checks (types 1xx): unknown directives, a forgotten semicolon,
keywords without their quotes or that do not exist. Run on the policy as written."""

from __future__ import annotations

import re
from typing import Final

from edgeshield.csp.evaluator.model import EvaluatorFinding, FindingType, Severity
from edgeshield.csp.evaluator.parser import (
    KEYWORDS,
    NONE,
    TRUSTED_TYPES_SINK_SCRIPT,
    Csp,
    is_directive,
    is_hash,
    is_keyword,
    is_nonce,
)

T = FindingType
S = Severity
_UNQUOTED_KEYWORDS: Final = frozenset(k.replace("'", "") for k in KEYWORDS)
_UNQUOTED_HASH: Final = re.compile(r"(sha256|sha384|sha512)-")


def check_unknown_directive(csp: Csp) -> list[EvaluatorFinding]:
    out = []
    for name in csp.directives:
        if is_directive(name):
            continue
        text = (
            "A directive name has no colon after it."
            if name.endswith(":")
            else f"{name!r} is not a CSP directive; browsers ignore it."
        )
        out.append(EvaluatorFinding(T.UNKNOWN_DIRECTIVE, S.SYNTAX, name, None, text))
    return out


def check_missing_semicolon(csp: Csp) -> list[EvaluatorFinding]:
    return [
        EvaluatorFinding(
            T.MISSING_SEMICOLON,
            S.SYNTAX,
            directive,
            value,
            f"{value!r} is a directive name inside {directive}'s sources: a missing ';'?",
        )
        for directive, values in csp.directives.items()
        for value in values
        if is_directive(value)
    ]


def _valid_quoted(directive: str, value: str) -> bool:
    if directive == "require-trusted-types-for":
        return value == TRUSTED_TYPES_SINK_SCRIPT
    if directive == "trusted-types":
        return value in ("'allow-duplicates'", NONE)
    return is_keyword(value) or is_hash(value, strict=True) or is_nonce(value, strict=True)


def check_invalid_keyword(csp: Csp) -> list[EvaluatorFinding]:
    out = []
    for directive, values in csp.directives.items():
        for value in values:
            if (
                value in _UNQUOTED_KEYWORDS
                or value.startswith("nonce-")
                or _UNQUOTED_HASH.match(value)
            ):
                text = (
                    f"{value!r} needs single quotes around it to be a keyword, nonce or hash; "
                    "without them it is read as a host name."
                )
            elif value.startswith("'") and not _valid_quoted(directive, value):
                text = f"{value} is not a keyword this directive knows; browsers ignore it."
            else:
                continue
            out.append(EvaluatorFinding(T.INVALID_KEYWORD, S.SYNTAX, directive, value, text))
    return out
