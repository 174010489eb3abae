"""One policy, three CloudFront mechanisms: a response headers policy, a CloudFront Function
(cloudfront-js-2.0, viewer-response) or the Lambda@Edge bundle; which can carry the policy
exactly, what each costs, and the artifacts. Pure: no I/O."""

from __future__ import annotations

from edgeshield.targets.plan import Mechanism, PlanResult, Traffic, plan

TARGETS = ("lambda-edge", "response-headers-policy", "cloudfront-function")

__all__ = ["TARGETS", "Mechanism", "PlanResult", "Traffic", "plan"]
