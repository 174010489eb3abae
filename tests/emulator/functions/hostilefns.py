"""Functions for the hostile-input tests (tests/emulator/test_hostile.py)."""

import os


def forks(event, context):
    """origin-response: forks a child that exits at once, and returns the response unchanged.
    Nobody in the function waits for the child: the runtime must reap it."""
    if os.fork() == 0:
        os._exit(0)
    return event["Records"][0]["cf"]["response"]


def unchanged(event, context):
    """origin-response: returns the response exactly as it came."""
    return event["Records"][0]["cf"]["response"]


def forks_sleeper(event, context):
    """origin-response: leaves a child that outlives the call (and holds the worker's pipes)."""
    if os.fork() == 0:
        import time

        time.sleep(30)
        os._exit(0)
    return event["Records"][0]["cf"]["response"]
