"""Fitting a Content-Security-Policy to a site: static analysis of its HTML and CSS, hashing,
a browser pass for what only exists at run time, verification in Chromium, and Google's CSP
Evaluator checks."""
