"""The twelve Observatory tests, one module per test.

Each module grades one test from the scan input (``edgeshield.grade.model``) with the parsers of
``grade.parse`` and the offline lists of ``grade.lists``, and returns an ``Outcome``. Analyzers
know nothing of scores, reports or the network, and do not import one another.
"""
