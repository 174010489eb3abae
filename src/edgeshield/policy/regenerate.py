"""Regenerate the default policy shipped with the edge package (the compiled strict preset).

Run ``python -m edgeshield.policy.regenerate`` after changing presets/strict.toml or the
compiler; a test fails while the shipped file is stale.
"""

from __future__ import annotations

from pathlib import Path

import edgeshield.edge
from edgeshield.policy import dumps, load_and_compile


def main() -> None:
    target = Path(edgeshield.edge.__file__).with_name("policy.json")
    target.write_text(dumps(load_and_compile(None)) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
