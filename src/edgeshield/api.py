"""The functions behind ``from edgeshield import ...``: thin, stable entry points into the
packages that do the work. Each raises an ``EdgeshieldError`` subclass for bad input."""

from __future__ import annotations

from pathlib import Path

from edgeshield.policy import CompiledPolicy, PolicyError, Problem, load, load_preset, parse_policy
from edgeshield.policy.model import Policy


def load_policy(path: str | Path | None = None, *, preset: str | None = None) -> Policy:
    """The validated policy in ``path`` (or the named preset; neither: the strict preset).
    Raises ``PolicyError`` (its ``problems`` name file, line and fix) when it has errors."""
    if path is not None and preset is not None:
        raise PolicyError(
            [Problem("policy", "both a file and a preset were given", "give one of them")]
        )
    if preset is not None:
        return load_preset(preset)
    policy, _warnings = load(Path(path) if path is not None else None)
    return policy


def check_policy(source: str | Path, *, text: str | None = None) -> list[Problem]:
    """Every problem (errors and warnings) in the policy file ``source``, or in ``text`` named
    ``source``; ``[]`` for a clean policy. Never raises for a bad policy."""
    if text is not None:
        _policy, problems = parse_policy(text, str(source))
        return problems
    try:
        _policy, warnings = load(Path(source))
    except PolicyError as exc:
        return list(exc.problems)
    return list(warnings)


def compile_policy(policy: Policy) -> CompiledPolicy:
    """The artifact edgeshield's edge function loads (canonical JSON via ``policy.dumps``)."""
    from edgeshield.policy.compile import compile_policy as _compile

    return _compile(policy)


__all__ = ["check_policy", "compile_policy", "load_policy"]
