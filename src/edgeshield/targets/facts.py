"""CloudFront's limits and prices for the three header mechanisms, each with its public source.

Checked against AWS's documentation on 2026-11-30. Prices are US list prices without free
tiers; quotas are the defaults (some can be raised through Service Quotas, noted below).
"""

from __future__ import annotations

from typing import Final

# --- sources -------------------------------------------------------------------------------
QUOTAS_URL: Final = (
    "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html"
)
RHP_URL: Final = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/understanding-response-headers-policies.html"
RHP_HOW_URL: Final = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/modifying-response-headers.html"
CFF_RESTRICTIONS_URL: Final = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-function-restrictions.html"
CFF_RUNTIME_URL: Final = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-20.html"
CFF_EVENT_URL: Final = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html"
EDGE_RESTRICTIONS_URL: Final = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-function-restrictions-all.html"
PRICING_URL: Final = "https://aws.amazon.com/cloudfront/pricing/"
LAMBDA_EDGE_TRIGGERS_URL: Final = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-cloudfront-trigger-events.html"

# --- response headers policies (QUOTAS_URL, "Quotas on policies" and "Quotas on headers") ---
RHP_CSP_MAX: Final = 1_783  # Content-Security-Policy value; adjustable (quota L-E9944CCE)
RHP_CUSTOM_HEADERS_MAX: Final = 10  # custom headers per policy; adjustable
RHP_HEADER_NAME_MAX: Final = 256
RHP_HEADER_VALUE_MAX: Final = 1_783
RHP_CUSTOM_TOTAL_MAX: Final = 10_240  # all custom header names and values combined
RHP_PER_ACCOUNT: Final = 20
# RHP_URL, "Security headers": the values each security header may take.
RHP_REFERRER_POLICIES: Final = frozenset(
    {
        "no-referrer",
        "no-referrer-when-downgrade",
        "origin",
        "origin-when-cross-origin",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    }
)
RHP_FRAME_OPTIONS: Final = frozenset({"DENY", "SAMEORIGIN"})
# RHP_URL, "Remove headers": names a policy cannot remove (exact names, then prefixes).
RHP_CANNOT_REMOVE: Final = frozenset(
    {
        "connection",
        "content-encoding",
        "content-length",
        "expect",
        "host",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
        "warning",
        "x-amzn-auth",
        "x-amzn-cf-billing",
        "x-amzn-cf-id",
        "x-amzn-cf-xff",
        "x-amzn-errortype",
        "x-amzn-fle-profile",
        "x-amzn-header-count",
        "x-amzn-header-order",
        "x-amzn-lambda-integration-tag",
        "x-amzn-requestid",
        "x-cache",
        "x-forwarded-proto",
        "x-real-ip",
    }
)
RHP_CANNOT_REMOVE_PREFIXES: Final = ("x-accel-", "x-amz-cf-", "x-edge-")

# --- CloudFront Functions (QUOTAS_URL "Quotas on CloudFront Functions"; CFF_RESTRICTIONS_URL) --
CFF_RUNTIME: Final = "cloudfront-js-2.0"
CFF_CODE_MAX: Final = 10 * 1024  # bytes; not adjustable
CFF_MEMORY_MAX: Final = 2 * 1024 * 1024  # bytes
# EDGE_RESTRICTIONS_URL: "CloudFront doesn't invoke edge functions for viewer response events
# when the origin returns HTTP status code 400 or higher." (CloudFront Functions and Lambda@Edge)
VIEWER_RESPONSE_MIN_SKIPPED_STATUS: Final = 400

# --- prices (PRICING_URL; US list prices, no free tier) ------------------------------------
RHP_PRICE: Final = 0.0  # no charge line for response headers policies on the pricing page
CFF_PRICE_PER_MILLION: Final = 0.10  # per invocation
LAMBDA_EDGE_PRICE_PER_MILLION: Final = 0.60  # per request
LAMBDA_EDGE_PRICE_PER_GB_SECOND: Final = 0.00005001  # duration, billed in 1 ms steps
LAMBDA_EDGE_BILLING_STEP_MS: Final = 1.0

MECHANISMS: Final = ("response-headers-policy", "cloudfront-function", "lambda-edge")
