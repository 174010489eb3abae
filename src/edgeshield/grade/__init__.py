"""edgeshield.grade: the MDN HTTP Observatory's grading (algorithm v6), offline and live.

``grade_headers(headers, url)`` grades one response's headers; ``analyze_scan(ScanInput)``
grades everything a live scan collected (``edgeshield.grade.scanner`` collects it).
"""

from edgeshield.grade.grader import analyze_scan, grade_headers, header_only_input
from edgeshield.grade.headers import Headers
from edgeshield.grade.model import OBSERVATORY_ORIGIN, Hop, Outcome, Response, ScanInput
from edgeshield.grade.report import Report
from edgeshield.grade.results import (
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
