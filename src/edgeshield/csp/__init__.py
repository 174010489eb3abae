"""Fitting a Content-Security-Policy to a site: static analysis of its HTML and CSS, hashing,
a browser pass for what only exists at run time, verification in Chromium, and Google's CSP
Evaluator checks.

The static part: ``fit_site`` reads a site folder into a ``FitResult`` (what each page needs and
why); ``plan`` decides between one union CSP and a per-page manifest; ``fit_policy`` does both
and writes the result into a policy's text.
"""

from edgeshield.csp.fit import FitOptions, FitResult, Plan, Reason, fit_site, plan
from edgeshield.csp.fitpolicy import FittedPolicy, fit_policy
from edgeshield.csp.hashing import hash_source
from edgeshield.csp.write import PolicyEditError

__all__ = [
    "FitOptions",
    "FitResult",
    "FittedPolicy",
    "Plan",
    "PolicyEditError",
    "Reason",
    "fit_policy",
    "fit_site",
    "hash_source",
    "plan",
]
