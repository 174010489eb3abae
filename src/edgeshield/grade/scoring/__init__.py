"""From outcomes to a verdict: run the analyzers, score them, and present the result.

``grader`` runs the twelve analyzers and scores them with the Observatory's table
(``results``); ``report`` is the graded scan as data, ``fixes`` the policy snippet for each
shortfall, ``html_report`` one page for many reports. Pure: no network.
"""
