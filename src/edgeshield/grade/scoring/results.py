"""Result names, score modifiers and test titles of the MDN HTTP Observatory (algorithm v6).

The names and modifiers are the Observatory's own so users can compare results one to one
("Tests and score modifiers" on
https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring, exactly as in
https://github.com/mdn/mdn-http-observatory/blob/main/src/grader/charts.js); the descriptions
are ours.
"""

from __future__ import annotations

from typing import Final

ALGORITHM_VERSION: Final = 6
BASE_SCORE: Final = 100
MINIMUM_SCORE_FOR_EXTRA_CREDIT: Final = 90  # bonuses count only for an A before bonuses

# The order the Observatory reports its tests in.
TEST_TITLES: Final[dict[str, str]] = {
    "content-security-policy": "Content Security Policy (CSP)",
    "cookies": "Cookies",
    "cross-origin-resource-sharing": "Cross Origin Resource Sharing (CORS)",
    "redirection": "Redirection",
    "referrer-policy": "Referrer Policy",
    "strict-transport-security": "Strict Transport Security (HSTS)",
    "subresource-integrity": "Subresource Integrity",
    "x-content-type-options": "X-Content-Type-Options",
    "x-frame-options": "X-Frame-Options",
    "cross-origin-resource-policy": "Cross Origin Resource Policy",
    "cross-origin-opener-policy": "Cross Origin Opener Policy",
    "cross-origin-embedder-policy": "Cross Origin Embedder Policy",
}
TEST_NAMES: Final = tuple(TEST_TITLES)

# result -> (score modifier, what it means)
SCORE_TABLE: Final[dict[str, tuple[int, str]]] = {
    # content-security-policy
    "csp-implemented-with-no-unsafe-default-src-none": (
        10,
        "CSP is enforced, allows nothing unsafe, and default-src is 'none'.",
    ),
    "csp-implemented-with-no-unsafe": (
        5,
        "CSP is enforced without 'unsafe-inline', 'unsafe-eval' or overly broad script sources.",
    ),
    "csp-implemented-with-unsafe-inline-in-style-src-only": (
        0,
        "CSP is enforced, but style-src allows inline styles, data: or overly broad sources.",
    ),
    "csp-implemented-but-duplicate-directives": (
        0,
        "CSP would pass, but report-uri or report-to appears more than once in one policy.",
    ),
    "csp-implemented-with-insecure-scheme-in-passive-content-only": (
        -10,
        "CSP is enforced, but images or media may still load over plain HTTP on this HTTPS page.",
    ),
    "csp-implemented-with-unsafe-eval": (
        -10,
        "CSP allows 'unsafe-eval' in script-src or style-src.",
    ),
    "csp-implemented-with-unsafe-inline": (
        -20,
        "CSP allows inline script or data: scripts, allows any script or plugin origin, "
        "or leaves script-src/object-src unrestricted.",
    ),
    "csp-implemented-with-insecure-scheme": (
        -20,
        "CSP lets this HTTPS page load active content over http: or ftp:.",
    ),
    "csp-header-invalid": (-25, "The Content-Security-Policy header cannot be parsed."),
    "csp-not-implemented": (-25, "No Content-Security-Policy is enforced."),
    "csp-not-implemented-but-reporting-enabled": (
        -25,
        "Only Content-Security-Policy-Report-Only is sent: violations are reported, not blocked.",
    ),
    # cookies
    "cookies-secure-with-httponly-sessions-and-samesite": (
        5,
        "Every cookie is Secure and has SameSite; session cookies are HttpOnly.",
    ),
    "cookies-secure-with-httponly-sessions": (
        0,
        "Every cookie is Secure and session cookies are HttpOnly, but not all use SameSite.",
    ),
    "cookies-not-found": (0, "No cookies were set."),
    "cookies-without-secure-flag-but-protected-by-hsts": (
        -5,
        "A cookie lacks the Secure flag; HSTS keeps it off plain HTTP.",
    ),
    "cookies-session-without-secure-flag-but-protected-by-hsts": (
        -10,
        "A session cookie lacks the Secure flag; HSTS keeps it off plain HTTP.",
    ),
    "cookies-without-secure-flag": (
        -20,
        "A cookie lacks the Secure flag and nothing keeps it off plain HTTP.",
    ),
    "cookies-samesite-flag-invalid": (
        -20,
        "A cookie has a SameSite value other than Strict, Lax or None, or SameSite=None without Secure.",
    ),
    "cookies-anticsrf-without-samesite-flag": (
        -20,
        "An anti-CSRF cookie is set without SameSite.",
    ),
    "cookies-session-without-httponly-flag": (
        -30,
        "A session cookie is readable from JavaScript (no HttpOnly).",
    ),
    "cookies-session-without-secure-flag": (
        -40,
        "A session cookie lacks the Secure flag and can travel over plain HTTP.",
    ),
    # cross-origin-resource-sharing
    "cross-origin-resource-sharing-not-implemented": (
        0,
        "The preflight grants no cross-origin access.",
    ),
    "cross-origin-resource-sharing-implemented-with-public-access": (
        0,
        "Any origin may read the content, without credentials (Access-Control-Allow-Origin: *).",
    ),
    "cross-origin-resource-sharing-implemented-with-restricted-access": (
        0,
        "Cross-origin reads are limited to specific origins.",
    ),
    "cross-origin-resource-sharing-implemented-with-universal-access": (
        -50,
        "The site echoes any Origin and allows credentials: any site can read it as the user.",
    ),
    # redirection
    "redirection-all-redirects-preloaded": (
        0,
        "Every host on the redirect chain is on the HSTS preload list.",
    ),
    "redirection-to-https": (
        0,
        "HTTP redirects to HTTPS on the same host first and ends on HTTPS.",
    ),
    "redirection-not-needed-no-http": (0, "The site does not answer plain HTTP."),
    "redirection-off-host-from-http": (
        -5,
        "HTTP redirects straight to HTTPS on another host, so this host's HSTS is never seen.",
    ),
    "redirection-not-to-https-on-initial-redirection": (
        -10,
        "HTTPS is reached eventually, but the first redirect goes to another HTTP URL.",
    ),
    "redirection-not-to-https": (-20, "The redirect chain does not end on HTTPS."),
    "redirection-missing": (-20, "HTTP does not redirect to HTTPS."),
    "redirection-invalid-cert": (-20, "A certificate on the redirect chain is not valid."),
    # referrer-policy
    "referrer-policy-private": (
        5,
        "Referrer-Policy keeps the full URL private (no-referrer, same-origin, strict-origin or "
        "strict-origin-when-cross-origin).",
    ),
    "referrer-policy-not-implemented": (
        0,
        "No Referrer-Policy: browsers use their default (strict-origin-when-cross-origin).",
    ),
    "referrer-policy-unsafe": (
        -5,
        "Referrer-Policy leaks URLs (origin, origin-when-cross-origin, unsafe-url or "
        "no-referrer-when-downgrade).",
    ),
    "referrer-policy-header-invalid": (-5, "Referrer-Policy has no recognised value."),
    # strict-transport-security
    "hsts-preloaded": (5, "The host is on the browsers' HSTS preload list."),
    "hsts-implemented-max-age-at-least-six-months": (
        0,
        "HSTS is set with a max-age of at least six months.",
    ),
    "hsts-implemented-max-age-less-than-six-months": (
        -10,
        "HSTS max-age is shorter than six months (15552000 s).",
    ),
    "hsts-not-implemented": (-20, "No Strict-Transport-Security header."),
    "hsts-header-invalid": (
        -20,
        "Strict-Transport-Security cannot be parsed (no max-age, or the header is repeated).",
    ),
    "hsts-not-implemented-no-https": (-20, "The site does not answer HTTPS, so HSTS cannot apply."),
    "hsts-invalid-cert": (-20, "The certificate is not valid, so browsers ignore HSTS."),
    # subresource-integrity
    "sri-implemented-and-all-scripts-loaded-securely": (
        5,
        "Scripts carry integrity hashes and load over HTTPS.",
    ),
    "sri-implemented-and-external-scripts-loaded-securely": (
        5,
        "Scripts from other origins carry integrity hashes and load over HTTPS.",
    ),
    "sri-not-implemented-response-not-html": (0, "The response is not HTML."),
    "sri-not-implemented-but-no-scripts-loaded": (0, "The page loads no scripts."),
    "sri-not-implemented-but-all-scripts-loaded-from-secure-origin": (
        0,
        "No integrity hashes, but every script comes from the site itself.",
    ),
    "sri-not-implemented-but-external-scripts-loaded-securely": (
        -5,
        "Scripts from other origins load over HTTPS but without integrity hashes.",
    ),
    "sri-implemented-but-external-scripts-not-loaded-securely": (
        -20,
        "Scripts from other origins carry integrity hashes but do not load over HTTPS.",
    ),
    "sri-not-implemented-and-external-scripts-not-loaded-securely": (
        -50,
        "Scripts from other origins load without integrity hashes and not over HTTPS.",
    ),
    "html-not-parseable": (-20, "The HTML body could not be parsed."),
    # x-content-type-options
    "x-content-type-options-nosniff": (0, "X-Content-Type-Options is nosniff."),
    "x-content-type-options-not-implemented": (-5, "No X-Content-Type-Options header."),
    "x-content-type-options-header-invalid": (
        -5,
        "X-Content-Type-Options is not exactly nosniff.",
    ),
    # x-frame-options
    "x-frame-options-implemented-via-csp": (
        5,
        "Framing is controlled by the CSP frame-ancestors directive.",
    ),
    "x-frame-options-sameorigin-or-deny": (5, "X-Frame-Options is DENY or SAMEORIGIN."),
    "x-frame-options-allow-from-origin": (
        0,
        "X-Frame-Options uses ALLOW-FROM, which current browsers ignore.",
    ),
    "x-frame-options-not-implemented": (
        -20,
        "Neither X-Frame-Options nor CSP frame-ancestors protects against framing.",
    ),
    "x-frame-options-header-invalid": (
        -20,
        "X-Frame-Options cannot be parsed (a repeated header counts as invalid).",
    ),
    # cross-origin-resource-policy
    "corp-implemented-with-same-origin": (
        10,
        "Cross-Origin-Resource-Policy is same-origin.",
    ),
    "corp-implemented-with-same-site": (10, "Cross-Origin-Resource-Policy is same-site."),
    "corp-implemented-with-cross-origin": (
        0,
        "Cross-Origin-Resource-Policy is cross-origin: any site may embed the resource.",
    ),
    "corp-not-implemented": (0, "No Cross-Origin-Resource-Policy header."),
    "corp-header-invalid": (-5, "Cross-Origin-Resource-Policy has no recognised value."),
    # cross-origin-opener-policy
    "coop-implemented-with-same-origin": (10, "Cross-Origin-Opener-Policy is same-origin."),
    "coop-implemented-with-same-origin-allow-popups": (
        10,
        "Cross-Origin-Opener-Policy is same-origin-allow-popups.",
    ),
    "coop-implemented-with-noopener-allow-popups": (
        10,
        "Cross-Origin-Opener-Policy is noopener-allow-popups.",
    ),
    "coop-implemented-with-unsafe-none": (
        0,
        "Cross-Origin-Opener-Policy is unsafe-none: no isolation from openers.",
    ),
    "coop-not-implemented": (0, "No Cross-Origin-Opener-Policy header."),
    "coop-header-invalid": (
        -5,
        "Cross-Origin-Opener-Policy is not a single valid token (values are case-sensitive).",
    ),
    # cross-origin-embedder-policy
    "coep-implemented-with-require-corp": (
        10,
        "Cross-Origin-Embedder-Policy is require-corp.",
    ),
    "coep-implemented-with-credentialless": (
        10,
        "Cross-Origin-Embedder-Policy is credentialless.",
    ),
    "coep-implemented-with-unsafe-none": (0, "Cross-Origin-Embedder-Policy is unsafe-none."),
    "coep-not-implemented": (0, "No Cross-Origin-Embedder-Policy header."),
    "coep-header-invalid": (
        -5,
        "Cross-Origin-Embedder-Policy is not a single valid token (values are case-sensitive).",
    ),
}

# The best modifier each test can reach: a result below it leaves points on the table.
BEST_MODIFIER: Final[dict[str, int]] = {
    "content-security-policy": 10,
    "cookies": 5,
    "cross-origin-resource-sharing": 0,
    "redirection": 0,
    "referrer-policy": 5,
    "strict-transport-security": 5,
    "subresource-integrity": 5,
    "x-content-type-options": 0,
    "x-frame-options": 5,
    "cross-origin-resource-policy": 10,
    "cross-origin-opener-policy": 10,
    "cross-origin-embedder-policy": 10,
}


def modifier(result: str) -> int:
    return SCORE_TABLE[result][0]


def description(result: str) -> str:
    return SCORE_TABLE[result][1]


# Score thresholds (multiples of 5, capped at 100) and their grades, best first.
GRADE_CHART: Final = (
    (100, "A+"),
    (90, "A"),
    (85, "A-"),
    (80, "B+"),
    (70, "B"),
    (65, "B-"),
    (60, "C+"),
    (50, "C"),
    (45, "C-"),
    (40, "D+"),
    (30, "D"),
    (25, "D-"),
    (0, "F"),
)
GRADES: Final = tuple(g for _, g in GRADE_CHART)
_GRADE_BY_KEY: Final = {
    key: next(g for floor, g in GRADE_CHART if key >= floor) for key in range(0, 101, 5)
}


def grade_for_score(score: int) -> str:
    """The letter grade of a (non-negative) score; scores above 100 are A+."""
    score = max(score, 0)
    return _GRADE_BY_KEY[min(score - score % 5, 100)]


def grade_rank(grade: str) -> int:
    """0 for A+, growing as grades get worse; raises ValueError for an unknown grade."""
    return GRADES.index(grade)
