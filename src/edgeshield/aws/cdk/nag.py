"""Acknowledged findings of cdk-nag (AwsSolutions) and checkov: every one carries its reason
next to the construct it concerns, and the reasons are copied into the template metadata for
auditors."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct


def suppress(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding (``AwsSolutions-IAM5[Resource::...]`` for a single
    finding of a multi-finding rule) on ``scope`` and its children."""
    if rule_id.startswith("AwsSolutions-"):
        rule_id = "AwsSolutions::" + rule_id  # cdk-nag v3 namespaces its findings
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def add_checks(app: IConstruct) -> None:
    """Run AwsSolutions on every stack of ``app`` at synth; findings interrupt synthesis."""
    from cdk_nag import AwsSolutionsChecks

    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    )


def skip_checkov(scope: IConstruct, skips: Sequence[tuple[str, str]]) -> None:
    """Record checkov skips, ``(check id, reason)``, on ``scope``'s CloudFormation resource
    (``scope`` itself when it is one, else its default child)."""
    resource = scope if isinstance(scope, CfnResource) else scope.node.default_child
    assert isinstance(resource, CfnResource), scope.node.path
    resource.add_metadata(
        "checkov", {"skip": [{"id": check, "comment": why} for check, why in skips]}
    )
