"""The ready CDK app behind ``edgeshield synth`` and ``edgeshield deploy``.

``build_app`` stages the three code trees, builds the stack(s) with CloudFormation validation
and cdk-nag turned on, and ``synth`` writes the cloud assembly — offline, without the CDK CLI.
The CLI's ``deploy`` runs ``npx aws-cdk deploy --app <assembly dir>`` on that assembly.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from edgeshield.aws.cdk.names import DEFAULT_REGION, DEFAULT_STACK_NAME

# Turns CDK's built-in CloudFormation validation findings (circular dependencies, invalid
# properties) from warnings into a failed synth.
VALIDATE_CONTEXT = {
    "@aws-cdk/core:validateAgainstDefaultRules": True,
    # S3 server access logs delivered through a bucket policy, not the legacy ACL.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


@dataclass(frozen=True)
class AppOptions:
    policy: Path | None = None  # None = the built-in strict preset
    stack_name: str = DEFAULT_STACK_NAME
    region: str = DEFAULT_REGION
    account: str | None = None  # None: resolved at deploy time from the credentials
    origin_domain: str | None = None
    domain_names: tuple[str, ...] = ()
    certificate_arn: str | None = None
    web_acl_arn: str | None = None
    log_retention_days: int = 90
    key_user_role_arns: tuple[str, ...] = ()
    alarm_topic_arn: str | None = None
    nag: bool = True
    # lambda-edge, response-headers-policy or cloudfront-function, with the artifact the CLI
    # compiled for it (the aws package does not import the compilers in edgeshield.targets).
    mechanism: str = "lambda-edge"
    headers_policy_config: dict[str, Any] | None = None
    function_code: str | None = None


@dataclass(frozen=True)
class SynthResult:
    outdir: Path
    templates: dict[str, Path]  # stack artifact id -> template file
    resources: list[dict[str, str]]  # logical id, type, stack, purpose


_TOKEN_MARK = "${Token["


def build_app(options: AppOptions, outdir: Path) -> tuple[Any, Any]:
    """(app, main stack). Raises PolicyError for a bad policy, ValueError for bad options."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from aws_cdk import App, Environment

    from edgeshield.aws.cdk.assets import stage_all
    from edgeshield.aws.cdk.nag import add_checks
    from edgeshield.aws.cdk.stack import EdgeShieldStack, StackConfig
    from edgeshield.policy import load_and_compile

    compiled = load_and_compile(options.policy)
    if _TOKEN_MARK in json.dumps(compiled, ensure_ascii=False):
        # The CDK reads that text anywhere in a template as one of its tokens and replaces it
        # (a region, an ARN) or fails: the stack would not carry the policy as written.
        raise ValueError(
            f"the policy holds the text {_TOKEN_MARK!r} in a header value, which the AWS CDK "
            "reads as a token of its own; change the value"
        )
    outdir.mkdir(parents=True, exist_ok=True)
    # The code trees live inside the assembly directory, so synth leaves nothing else behind.
    code = stage_all(compiled, outdir / ".edgeshield-src")
    app = App(outdir=str(outdir), context=dict(VALIDATE_CONTEXT))
    config = StackConfig(
        edge_code=code["edge"],
        collector_code=code["collector"],
        hasher_code=code["hasher"],
        origin_domain=options.origin_domain,
        domain_names=options.domain_names,
        certificate_arn=options.certificate_arn,
        web_acl_arn=options.web_acl_arn,
        log_retention_days=options.log_retention_days,
        key_user_role_arns=options.key_user_role_arns,
        alarm_topic_arn=options.alarm_topic_arn,
        mechanism=options.mechanism,
        headers_policy_config=options.headers_policy_config,
        function_code=options.function_code,
    )
    env = Environment(account=options.account, region=options.region)
    stack = EdgeShieldStack(app, options.stack_name, config=config, env=env)
    if options.nag:
        add_checks(app)
    return app, stack


def synth(options: AppOptions, outdir: Path) -> SynthResult:
    app, _stack = build_app(options, outdir)
    assembly = app.synth()
    templates = {
        artifact.id: Path(assembly.directory) / artifact.template_file
        for artifact in assembly.stacks
    }
    return SynthResult(outdir=outdir, templates=templates, resources=describe(templates))


def describe(templates: dict[str, Path]) -> list[dict[str, str]]:
    """One row per resource: what the stack creates and why (from the resource's purpose)."""
    from edgeshield.aws.cdk.purposes import purpose

    rows = []
    for stack_id, path in templates.items():
        template = json.loads(path.read_text(encoding="utf-8"))
        for logical_id, resource in template.get("Resources", {}).items():
            rtype = resource.get("Type", "")
            rows.append(
                {
                    "stack": stack_id,
                    "logical_id": logical_id,
                    "type": rtype,
                    "purpose": purpose(logical_id, rtype),
                }
            )
    return rows


def with_defaults(options: AppOptions, **changes: Any) -> AppOptions:
    return replace(options, **{k: v for k, v in changes.items() if v is not None})
