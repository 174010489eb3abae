"""A Lambda@Edge function as CloudFront needs it (AWS pages listed at the end).

* created in us-east-1, referenced by a published version's ARN (never $LATEST or an alias);
* python, x86_64 (arm64 is not supported at the edge), 128 MB, no environment variables;
* an execution role trusted by lambda.amazonaws.com and edgelambda.amazonaws.com with
  AWSLambdaBasicExecutionRole, whose logs permissions are not region-scoped — replicas write
  logs in whichever region ran them.

In a us-east-1 stack this is a plain Function plus Version. Elsewhere CDK's EdgeFunction puts
the function in a companion us-east-1 stack and reads the version ARN back through SSM.

Sources, in AWS's CloudFront Developer Guide (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/):
"Restrictions on Lambda@Edge" (lambda-at-edge-function-restrictions.html), "Quotas on
Lambda@Edge" (cloudfront-limits.html), "Set up IAM permissions and roles for Lambda@Edge"
(lambda-edge-permissions.html), "Delete Lambda@Edge functions and replicas"
(lambda-edge-delete-replicas.html).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IConstruct

from edgeshield.aws.cdk.nag import skip_checkov, suppress

# The newest Python "Restrictions on Lambda@Edge", "Supported runtimes" lists. The bundle also runs
# unchanged on python3.12.
EDGE_RUNTIME = lambda_.Runtime.PYTHON_3_13
EDGE_MEMORY_MB = 128  # the viewer-trigger maximum, so the same function can move there
EDGE_TIMEOUT = Duration.seconds(5)  # within both the viewer (5 s) and origin (30 s) limits
EDGE_REGION = "us-east-1"

EDGE_SKIPS = [
    ("CKV_AWS_115", "Lambda@Edge does not support reserved or provisioned concurrency"),
    ("CKV_AWS_116", "CloudFront invokes edge functions synchronously; a DLQ never receives"),
    ("CKV_AWS_117", "Lambda@Edge cannot be attached to a VPC"),
    ("CKV_AWS_173", "Lambda@Edge has no environment variables, so there is nothing to encrypt"),
]


def edge_role(scope: Construct, construct_id: str) -> iam.Role:
    role = iam.Role(
        scope,
        construct_id,
        assumed_by=iam.CompositePrincipal(
            iam.ServicePrincipal("lambda.amazonaws.com"),
            iam.ServicePrincipal("edgelambda.amazonaws.com"),
        ),
        managed_policies=[
            iam.ManagedPolicy.from_aws_managed_policy_name(
                "service-role/AWSLambdaBasicExecutionRole"
            )
        ],
        description="Lambda@Edge execution role: CloudWatch Logs in every region, nothing else",
    )
    _ack_basic_role(role)
    return role


def _ack_basic_role(role: IConstruct) -> None:
    suppress(
        role,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AWSLambdaBasicExecutionRole]",
        "AWS documents AWSLambdaBasicExecutionRole for Lambda@Edge: replicas log in whichever "
        "region runs them, so the logs permissions must not be scoped to one region",
    )


class EdgeFunction(Construct):
    """A versioned Lambda@Edge function from a code directory. ``version`` is what a
    distribution's association must reference."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code_dir: Path,
        handler: str,
        function_name: str,
        description: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        if Token.is_unresolved(stack.region):
            raise ValueError("a stack with an edge function needs an explicit region")
        common: dict[str, Any] = {
            "runtime": EDGE_RUNTIME,
            "architecture": lambda_.Architecture.X86_64,
            "handler": handler,
            "code": lambda_.Code.from_asset(str(code_dir)),
            "memory_size": EDGE_MEMORY_MB,
            "timeout": EDGE_TIMEOUT,
            "function_name": function_name,
            "description": description,
            # CloudFormation cannot delete a function (or version) while CloudFront still has
            # replicas of it, which takes hours after the distribution lets go ("Delete
            # Lambda@Edge functions and replicas"). Retain
            # them so the stack deletes cleanly; docs/deploy.md says how to remove them later.
            "current_version_options": lambda_.VersionOptions(removal_policy=RemovalPolicy.RETAIN),
        }
        self.function_name = function_name
        self.function: Any  # lambda_.Function here, EdgeFunction (a proxy) elsewhere
        if stack.region == EDGE_REGION:
            self.role: iam.IRole | None = edge_role(self, "Role")
            function = lambda_.Function(self, "Function", role=self.role, **common)
            function.apply_removal_policy(RemovalPolicy.RETAIN)
            self.function = function
            self.version: lambda_.IVersion = function.current_version
            skip_checkov(function, EDGE_SKIPS)
            target: Any = function
        else:
            # The role must live in the us-east-1 stack with the function; EdgeFunction makes
            # one with exactly the trust and managed policy above.
            edge = cloudfront.experimental.EdgeFunction(self, f"{construct_id}Function", **common)
            self.function = edge
            self.version = edge.current_version
            edge.lambda_.apply_removal_policy(RemovalPolicy.RETAIN)
            self.role = edge.role
            # The function and its role live in the companion stack: acknowledge them there.
            target = edge.lambda_
            skip_checkov(edge.lambda_, EDGE_SKIPS)
            _ack_basic_role(edge.lambda_)  # its role is a child of the function there
        suppress(
            target,
            "AwsSolutions-L1",
            "python3.13 is the newest runtime the Lambda@Edge restrictions page lists",
        )
