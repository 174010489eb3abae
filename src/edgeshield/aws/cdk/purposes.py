"""Why each resource of the stack exists: the table ``edgeshield synth`` prints."""

from __future__ import annotations

# (logical-id prefix, purpose); first match wins, so specific prefixes come first.
_BY_PREFIX: tuple[tuple[str, str], ...] = (
    # Outside us-east-1, CDK's EdgeFunction names things a little differently.
    ("HeadersFunctionServiceRole", "Lambda@Edge role: trusted by lambda + edgelambda, logs only"),
    ("ReportHashFunctionServiceRole", "Lambda@Edge role of the report hasher: logs only"),
    ("HeadersHeadersFunctionArnReader", "reads the headers function's version ARN (us-east-1)"),
    ("ReportHashReportHashFunctionArnReader", "reads the hasher's version ARN (us-east-1)"),
    ("HeadersPolicy", "response headers policy: the security headers, applied by CloudFront"),
    ("HeadersCfFunction", "CloudFront Function (viewer-response): the security headers"),
    ("HeadersRole", "Lambda@Edge role: trusted by lambda + edgelambda, logs in every region"),
    ("HeadersFunctionCurrentVersion", "published version the distribution references"),
    ("HeadersFunction", "security-headers function (origin-response), us-east-1"),
    ("ReportHashRole", "Lambda@Edge role of the report hasher: logs only"),
    ("ReportHashFunctionCurrentVersion", "published version of the report hasher"),
    ("ReportHashFunction", "origin-request: SHA-256 of report bodies for the OAC signature"),
    ("CollectorRoleDefaultPolicy", "collector's own log group, reports prefix, own secret"),
    ("CollectorRole", "collector execution role (lambda.amazonaws.com only)"),
    ("CollectorKeyAlias", "alias/<collector> for the key"),
    ("CollectorKey", "customer-managed key: collector environment and log group"),
    ("CollectorLogs", "collector log group with retention, encrypted with the key"),
    ("CollectorReportsPolicy", "reports bucket: TLS-only access"),
    ("CollectorReports", "private, encrypted bucket for stored CSP reports"),
    ("CollectorFunctionFunctionUrl", "function URL, auth AWS_IAM: reachable only signed"),
    ("CollectorFunctionUrl", "function URL, auth AWS_IAM: reachable only signed"),
    ("CollectorFunction", "CSP-report collector (regular Lambda)"),
    ("CollectorErrors", "alarm: collector errors"),
    ("Distribution5xx", "alarm: distribution 5xx error rate"),
    ("DistributionOrigin", "origin access control / CloudFront's permission on an origin"),
    ("Distribution", "CloudFront distribution: HTTPS redirect, logging, edge associations"),
    ("ReportRequests", "origin request policy: content type and user agent only"),
    ("AccessLogsPolicy", "access-log bucket policy: TLS only, log delivery"),
    ("AccessLogs", "access-log bucket for the distribution and the other buckets"),
    ("SitePolicy", "site bucket policy: only this distribution reads (AWS:SourceArn), TLS only"),
    ("Site", "private site bucket (S3 origin behind origin access control)"),
    ("KeyUsersPolicy", "managed policy for deployers: use the key via Lambda, encrypt secret"),
    ("CrossRegionStringParameterReader", "reads the edge version ARN from us-east-1 (SSM)"),
    ("CustomCrossRegionStringParameterReader", "provider of the cross-region reader"),
)

_BY_TYPE = {
    "AWS::Lambda::Permission": "resource policy: only CloudFront, only this distribution",
    "AWS::SSM::Parameter": "edge version ARN for the distribution's stack",
    "AWS::CloudFront::OriginAccessControl": "origin access control (SigV4 signing)",
}


def purpose(logical_id: str, resource_type: str) -> str:
    if resource_type in _BY_TYPE:
        return _BY_TYPE[resource_type]
    for prefix, text in _BY_PREFIX:
        if logical_id.startswith(prefix):
            return text
    return ""
