"""Fixtures for the emulator tests; the helpers live in ``helpers``."""

from tests.emulator.helpers import origin, workdir

__all__ = ["origin", "workdir"]
