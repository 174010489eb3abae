"""Policy commands: init, check, event, invoke, bundle."""

from __future__ import annotations
