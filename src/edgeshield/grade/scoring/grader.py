"""Run the twelve tests on a scan input and score it the Observatory's way.

The Observatory's "Tests & Scoring" page describes the scoring
(https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring); its source states it
exactly (https://github.com/mdn/mdn-http-observatory, src/grader/grader.js and charts.js).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from edgeshield.grade.analyzers import (
    coep,
    cookies,
    coop,
    corp,
    cors,
    csp,
    hsts,
    redirection,
    referrer,
    sri,
    xcto,
    xfo,
)
from edgeshield.grade.model import OBSERVATORY_ORIGIN, Hop, Outcome, Response, ScanInput
from edgeshield.grade.parse.headers import Headers
from edgeshield.grade.parse.page import Page, PageParseError, parse_page
from edgeshield.grade.scoring.report import Report
from edgeshield.grade.scoring.results import (
    BASE_SCORE,
    MINIMUM_SCORE_FOR_EXTRA_CREDIT,
    SCORE_TABLE,
)

ASSUMED_REDIRECTION: Final = "header-only: assumes http:// redirects to https:// on the same host"
ASSUMED_SRI: Final = "header-only: assumes the HTML page loads no scripts"
ASSUMED_CORS: Final = (
    "header-only: assumes the CORS preflight answers with this response's Access-Control headers"
)


def score_outcomes(outcomes: list[Outcome]) -> int:
    with_bonus = uncurved = BASE_SCORE
    for o in outcomes:
        m = SCORE_TABLE[o.result][0]
        with_bonus += m
        if m < 0:
            uncurved += m
    # Bonuses only count for a site that already has an A without them.
    score = with_bonus if uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT else uncurved
    return max(score, 0)


def _content_type(resp: Response | None) -> str | None:
    return resp.headers.get("content-type") if resp is not None else None


def _read_page(scan: ScanInput) -> tuple[Page | None, bool, list[str], list[str]]:
    """The parsed body, whether it failed to parse, and its meta CSPs and meta referrers."""
    page: Page | None = None
    page_error = False
    if scan.body is not None:
        try:
            page = parse_page(scan.body)
        except PageParseError:
            page_error = True
    # Meta policies count only on an HTML page with a body, as in the Observatory's retriever.
    if page is not None and scan.body and sri.mime_type(_content_type(scan.auto)) in sri.HTML_TYPES:
        return page, page_error, page.csp_meta, page.referrer_meta
    return page, page_error, [], []


def _csp(auto: Response | None, meta_csp: list[str], https_page: bool) -> csp.CspAnalysis:
    if auto is None:
        return csp.CspAnalysis(Outcome(csp.NAME, "csp-not-implemented", False), None)
    return csp.analyze(
        auto.headers.get("content-security-policy"),
        meta_csp,
        auto.headers.get("content-security-policy-report-only"),
        https_page,
    )


def _sri(scan: ScanInput, page: Page | None, page_error: bool, https_page: bool) -> Outcome:
    auto = scan.auto
    if scan.body is None:
        if sri.mime_type(_content_type(auto)) not in ("", *sri.HTML_TYPES):
            return Outcome(sri.NAME, "sri-not-implemented-response-not-html", True)
        return Outcome(
            sri.NAME,
            "sri-not-implemented-but-no-scripts-loaded",
            True,
            assumed=scan.assumed.get(sri.NAME, ASSUMED_SRI),
        )
    if auto is None:
        return Outcome(sri.NAME, "sri-not-implemented-but-no-scripts-loaded", False)
    return sri.analyze(_content_type(auto), None if page_error else page, scan.host, https_page)


def analyze_scan(scan: ScanInput) -> Report:
    """Run every test on what a scan collected and score it."""
    auto = scan.auto
    https_page = scan.url[:6].lower() == "https:"
    page, page_error, meta_csp, meta_referrer = _read_page(scan)
    csp_result = _csp(auto, meta_csp, https_page)
    hsts_result = hsts.analyze(scan.https, scan.host)
    sri_result = _sri(scan, page, page_error, https_page)

    redirect_result = redirection.analyze(scan.http, scan.http_redirects)
    if redirection.NAME in scan.assumed:
        redirect_result.assumed = scan.assumed[redirection.NAME]
    cors_result = cors.analyze(scan.preflight, scan.preflight_origin)
    if cors.NAME in scan.assumed:
        cors_result.assumed = scan.assumed[cors.NAME]

    outcomes = [
        csp_result.outcome,
        cookies.analyze(
            auto.headers.set_cookie if auto is not None else [], scan.cookies, hsts_result.passed
        ),
        cors_result,
        redirect_result,
        referrer.analyze(auto, meta_referrer),
        hsts_result,
        sri_result,
        xcto.analyze(auto),
        xfo.analyze(auto, csp_result.data),
        corp.analyze(auto),
        coop.analyze(auto),
        coep.analyze(auto),
    ]
    return Report(scan.url, score_outcomes(outcomes), outcomes, header_only=scan.body is None)


@functools.lru_cache(maxsize=1024)
def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def header_only_input(headers: Headers, url: str) -> ScanInput:
    """A scan input for headers alone: the page, HTTPS and the preflight are this response."""
    host = _host_of(url)
    resp = Response(url, 200, headers)
    return ScanInput(
        url=url,
        host=host,
        auto=resp,
        https=resp,
        http=resp,
        http_redirects=[Hop("http://" + host + "/", 301), Hop(url, 200)],
        body=None,
        preflight=resp,
        preflight_origin=OBSERVATORY_ORIGIN,
        cookies=[(line, url) for line in headers.set_cookie],
        assumed={
            redirection.NAME: ASSUMED_REDIRECTION,
            cors.NAME: ASSUMED_CORS,
        },
    )


def grade_headers(
    headers: Mapping[Any, Any] | Headers, url: str = "https://example.com/"
) -> Report:
    """Grade one response's headers as the Observatory would grade a well-configured site.

    ``headers`` maps header names to a value or a list of values (a list is a repeated header
    line); names may be any case, values str or bytes. Tests that need more than headers
    (redirection, subresource integrity, the CORS preflight) are assumed and say so.
    """
    folded = Headers.from_mapping(headers)
    scan = header_only_input(folded, url)
    report = analyze_scan(scan)
    return report
