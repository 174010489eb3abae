"""The header policy: TOML parsing, validation, presets, and compilation for the edge.

Pure: the only file access is reading a policy file or a packaged preset.
"""

from __future__ import annotations

from pathlib import Path

from edgeshield.policy.compile import compile_policy, dumps
from edgeshield.policy.compiled import CompiledPages, CompiledPolicy, CompiledRule
from edgeshield.policy.load import load_policy, parse_policy
from edgeshield.policy.model import Match, Policy, Rule
from edgeshield.policy.presets import DEFAULT_PRESET, PRESETS, preset_text
from edgeshield.policy.problems import PolicyError, Problem


def load_preset(name: str) -> Policy:
    policy, problems = parse_policy(preset_text(name), f"<preset {name}>")
    if policy is None:  # a broken preset is our bug; the tests keep this from shipping
        raise PolicyError(problems)
    return policy


def load(path: Path | None) -> tuple[Policy, list[Problem]]:
    """The policy at ``path`` (or the default preset) and its warnings; PolicyError on errors."""
    if path is None:
        return load_preset(DEFAULT_PRESET), []
    policy, problems = load_policy(path)
    if policy is None:
        raise PolicyError(problems)
    return policy, problems


def load_and_compile(path: Path | None) -> CompiledPolicy:
    """The compiled artifact for ``path`` (None = the built-in strict preset)."""
    policy, _warnings = load(path)
    return compile_policy(policy)


__all__ = [
    "DEFAULT_PRESET",
    "PRESETS",
    "CompiledPages",
    "CompiledPolicy",
    "CompiledRule",
    "Match",
    "Policy",
    "PolicyError",
    "Problem",
    "Rule",
    "compile_policy",
    "dumps",
    "load",
    "load_and_compile",
    "load_policy",
    "load_preset",
    "parse_policy",
    "preset_text",
]
