"""edgeshield.grade: the MDN HTTP Observatory's grading (algorithm v6), offline and live.

``grade_headers(headers, url)`` grades one response's headers; ``analyze_scan(ScanInput)``
grades everything a live scan collected (``edgeshield.grade.scan.scanner`` collects it).

Rooms, from the bottom up (each imports only the ones above it in this list; tests/test_layers.py
holds them to it):

- ``parse``: headers as Node folds them, the CSP parser, HTML pages, JS string semantics;
- ``lists``: the Public Suffix List and the HSTS preload list, offline;
- ``model``: the scan input every analyzer reads and the ``Outcome`` each returns;
- ``analyzers``: one module per Observatory test, independent of one another;
- ``scoring``: the grader, the Observatory's score table, the report, fixes, the HTML page;
- ``scan``: the I/O edge, live scans and the targets users type.
"""

from edgeshield.grade.model import OBSERVATORY_ORIGIN, Hop, Outcome, Response, ScanInput
from edgeshield.grade.parse.headers import Headers
from edgeshield.grade.scoring.grader import analyze_scan, grade_headers, header_only_input
from edgeshield.grade.scoring.report import Report
from edgeshield.grade.scoring.results import (
    ALGORITHM_VERSION,
    GRADES,
    TEST_NAMES,
    grade_for_score,
    grade_rank,
)

__all__ = [
    "ALGORITHM_VERSION",
    "GRADES",
    "OBSERVATORY_ORIGIN",
    "TEST_NAMES",
    "Headers",
    "Hop",
    "Outcome",
    "Report",
    "Response",
    "ScanInput",
    "analyze_scan",
    "grade_for_score",
    "grade_headers",
    "grade_rank",
    "header_only_input",
]
