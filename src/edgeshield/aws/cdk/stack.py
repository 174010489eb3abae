"""The edgeshield stack: distribution + security-headers edge function + CSP-report collector.

Usable in a user's own CDK app (``EdgeShieldStack(app, "Site", config=..., env=...)``, or the
constructs in ``edge`` and ``collector`` on their own) and behind ``edgeshield synth/deploy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, CfnParameter, CfnResource, Duration, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from edgeshield.aws.cdk.buckets import private_bucket
from edgeshield.aws.cdk.collector import KEY_USER_ACTIONS, CspCollector, encrypted_for
from edgeshield.aws.cdk.edge import EDGE_REGION, EdgeFunction
from edgeshield.aws.cdk.nag import skip_checkov, suppress
from edgeshield.aws.cdk.names import (
    CIPHERTEXT_PARAMETER,
    KEY_OUTPUT,
    PREVIOUS_PARAMETER,
    SECRET_PARAMETER,
    STACK_NAME_RE,
)
from edgeshield.aws.kms_env import CONTEXT_KEY
from edgeshield.packaging import EDGE_HANDLER, HASHER_HANDLER
from edgeshield.report_route import REPORT_PATH, SECRET_HEADER

PROVIDER_REASON = (
    "CDK's deploy-time provider that reads the edge version ARN from SSM; CloudFormation "
    "calls it synchronously a few times per deployment, it needs no VPC, DLQ or reservation"
)
SECRET_PLACEHOLDER = "not-configured"  # the collector refuses every report until rotated


@dataclass(frozen=True)
class StackConfig:
    """What varies between deployments. Code directories come from ``assets.stage_all``."""

    edge_code: Path
    collector_code: Path
    hasher_code: Path
    origin_domain: str | None = None  # custom origin; None = a private S3 bucket behind OAC
    domain_names: tuple[str, ...] = ()
    certificate_arn: str | None = None  # ACM, us-east-1; enables TLSv1.2_2021 for viewers
    web_acl_arn: str | None = None  # a CLOUDFRONT-scope WAF web ACL
    log_retention_days: int = 90
    key_user_role_arns: tuple[str, ...] = ()  # deployer roles; default: the account (IAM)
    alarm_topic_arn: str | None = None  # SNS topic notified when an alarm fires or clears
    # How the security headers reach viewers (docs/mechanisms.md): the Lambda@Edge function
    # at origin-response, a response headers policy (its ResponseHeadersPolicyConfig) or a
    # CloudFront Function at viewer-response (its cloudfront-js-2.0 source).
    mechanism: str = "lambda-edge"
    headers_policy_config: dict[str, Any] | None = None
    function_code: str | None = None


def function_names(stack_name: str) -> dict[str, str]:
    return {
        "edge": f"{stack_name}-headers",
        "hasher": f"{stack_name}-report-hash",
        "collector": f"{stack_name}-csp-collector",
    }


class EdgeShieldStack(Stack):
    """Built in the order CloudFormation needs: parameters, the access-log bucket, the header
    mechanism and the two regular/edge functions, the origin, the distribution, then what
    watches and explains it (acknowledgements, the key users' policy, alarms, outputs)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StackConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        _check_names(self.stack_name, config)
        names = function_names(self.stack_name)
        self.config = config
        secret, ciphertext, previous = self._secret_parameters(names["collector"])
        self.access_logs = self._access_logs_bucket()
        headers = self._headers_mechanism(config, names["edge"])
        self.hasher = EdgeFunction(
            self,
            "ReportHash",
            code_dir=config.hasher_code,
            handler=HASHER_HANDLER,
            function_name=names["hasher"],
            description="edgeshield: SHA-256 of CSP-report bodies for the OAC signature",
        )
        self.collector = CspCollector(
            self,
            "Collector",
            code_dir=config.collector_code,
            function_name=names["collector"],
            secret_ciphertext=ciphertext.value_as_string,
            previous_secret_ciphertext=previous.value_as_string,
            log_retention_days=config.log_retention_days,
            access_logs_bucket=self.access_logs,
            key_user_role_arns=config.key_user_role_arns,
        )
        origin = self._site_origin(config)
        report_behavior = self._report_behavior(secret.value_as_string)
        self.distribution = self._distribution(config, origin, headers, report_behavior)
        self._acknowledge_distribution(config)
        self._key_users_policy(names["collector"], config.key_user_role_arns)
        self._alarms()
        self._notify(config.alarm_topic_arn)
        self._outputs(names)
        self._skip_cdk_providers()

    def _secret_parameters(
        self, collector_name: str
    ) -> tuple[CfnParameter, CfnParameter, CfnParameter]:
        """The collector's shared secret, its KMS ciphertext and the one being rotated out
        (``edgeshield deploy --rotate-secret`` sets all three)."""
        secret = CfnParameter(
            self,
            SECRET_PARAMETER,
            type="String",
            no_echo=True,
            min_length=1,
            default=SECRET_PLACEHOLDER,
            description="Shared secret CloudFront sends to the collector (edgeshield deploy "
            "--rotate-secret sets it together with its ciphertext)",
        )
        ciphertext = CfnParameter(
            self,
            CIPHERTEXT_PARAMETER,
            type="String",
            no_echo=True,  # not secret, but CloudFormation's linter cannot know that
            default="",
            description=f"Base64 KMS ciphertext of the secret, context {CONTEXT_KEY}="
            f"{collector_name}",
        )
        previous = CfnParameter(
            self,
            PREVIOUS_PARAMETER,
            type="String",
            no_echo=True,
            default="",
            description="Ciphertext of the secret being rotated out; accepted until retired",
        )
        return secret, ciphertext, previous

    def _access_logs_bucket(self) -> s3.Bucket:
        bucket = private_bucket(
            self,
            "AccessLogs",
            # CloudFront standard logging writes with ACLs.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
        )
        # No AwsSolutions-S1 acknowledgement: cdk-nag itself exempts a bucket that receives
        # other buckets' access logs (test_every_acknowledgement_matches_a_finding).
        skip_checkov(
            bucket,
            [("CKV_AWS_18", "this is the access-log bucket; logging it into itself would loop")],
        )
        return bucket

    def _site_origin(self, config: StackConfig) -> cloudfront.IOrigin:
        """The user's HTTPS origin, or a private bucket that only this distribution reads."""
        self.site_bucket: s3.Bucket | None = None
        if config.origin_domain:
            return origins.HttpOrigin(
                config.origin_domain,
                protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            )
        self.site_bucket = private_bucket(
            self,
            "Site",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="site-bucket/",
        )
        return origins.S3BucketOrigin.with_origin_access_control(self.site_bucket)

    def _report_behavior(self, secret: str) -> cloudfront.BehaviorOptions:
        """``REPORT_PATH``: uncached, signed (OAC) to the collector's URL with the shared secret,
        the body hashed at origin-request because OAC signs the payload's SHA-256."""
        report_requests = cloudfront.OriginRequestPolicy(
            self,
            "ReportRequests",
            comment="CSP reports: content type and user agent only; no cookies, no query",
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(
                "content-type", "user-agent"
            ),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.none(),
        )
        return cloudfront.BehaviorOptions(
            origin=origins.FunctionUrlOrigin.with_origin_access_control(
                self.collector.url,
                custom_headers={SECRET_HEADER: secret},
                read_timeout=Duration.seconds(15),
            ),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=report_requests,
            edge_lambdas=[
                cloudfront.EdgeLambda(
                    event_type=cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST,
                    function_version=self.hasher.version,
                    include_body=True,
                )
            ],
        )

    def _distribution(
        self,
        config: StackConfig,
        origin: cloudfront.IOrigin,
        headers: dict[str, Any],
        report_behavior: cloudfront.BehaviorOptions,
    ) -> cloudfront.Distribution:
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", config.certificate_arn)
            if config.certificate_arn
            else None
        )
        return cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"edgeshield {self.stack_name}",
            default_root_object=None if config.origin_domain else "index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                **headers,
            ),
            additional_behaviors={REPORT_PATH: report_behavior},
            certificate=certificate,
            domain_names=list(config.domain_names) or None,
            # The default *.cloudfront.net certificate has a fixed policy: only set it with ours.
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021
            if certificate
            else None,
            enable_logging=True,
            log_bucket=self.access_logs,
            log_file_prefix="cloudfront/",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            web_acl_id=config.web_acl_arn,
        )

    def _headers_mechanism(self, config: StackConfig, name: str) -> dict[str, Any]:
        """The default behaviour's settings that put the security headers on responses."""
        self.headers: EdgeFunction | None = None
        build = {
            "lambda-edge": self._edge_headers,
            "response-headers-policy": self._policy_headers,
            "cloudfront-function": self._function_headers,
        }.get(config.mechanism)
        if build is None:
            raise ValueError(
                f"mechanism {config.mechanism!r}: use lambda-edge, response-headers-policy or "
                "cloudfront-function"
            )
        return build(config, name)

    def _edge_headers(self, config: StackConfig, name: str) -> dict[str, Any]:
        self.headers = EdgeFunction(
            self,
            "Headers",
            code_dir=config.edge_code,
            handler=EDGE_HANDLER,
            function_name=name,
            description="edgeshield security headers (origin-response)",
        )
        return {
            "edge_lambdas": [
                cloudfront.EdgeLambda(
                    event_type=cloudfront.LambdaEdgeEventType.ORIGIN_RESPONSE,
                    function_version=self.headers.version,
                )
            ]
        }

    def _policy_headers(self, config: StackConfig, name: str) -> dict[str, Any]:
        if not config.headers_policy_config:
            raise ValueError("the response headers policy mechanism needs the policy's config")
        body = {**config.headers_policy_config, "Name": name}
        policy = CfnResource(
            self,
            "HeadersPolicy",
            type="AWS::CloudFront::ResponseHeadersPolicy",
            properties={"ResponseHeadersPolicyConfig": body},
        )
        return {
            "response_headers_policy": cloudfront.ResponseHeadersPolicy.from_response_headers_policy_id(
                self, "HeadersPolicyRef", policy.ref
            )
        }

    def _function_headers(self, config: StackConfig, name: str) -> dict[str, Any]:
        if not config.function_code:
            raise ValueError("the CloudFront Function mechanism needs the function's code")
        function = cloudfront.Function(
            self,
            "HeadersCfFunction",
            code=cloudfront.FunctionCode.from_inline(config.function_code),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            function_name=name,
            comment="edgeshield security headers (viewer-response)",
        )
        return {
            "function_associations": [
                cloudfront.FunctionAssociation(
                    function=function, event_type=cloudfront.FunctionEventType.VIEWER_RESPONSE
                )
            ]
        }

    def _skip_cdk_providers(self) -> None:
        """Outside us-east-1 CDK adds a provider Lambda that reads the edge version's ARN from
        SSM in us-east-1 during deployment; it runs only then."""
        for child in self.node.find_all():
            if (
                isinstance(child, CfnResource)
                and child.cfn_resource_type == "AWS::Lambda::Function"
                and "CustomResourceProvider" in child.node.path
            ):
                skip_checkov(
                    child,
                    [
                        (check, PROVIDER_REASON)
                        for check in ("CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117")
                    ],
                )

    def _acknowledge_distribution(self, config: StackConfig) -> None:
        skips: list[tuple[str, str]] = []
        if not config.web_acl_arn:
            reason = (
                "no WAF web ACL given (pass --web-acl-arn): a web ACL costs money and needs "
                "rules chosen per site"
            )
            suppress(self.distribution, "AwsSolutions-CFR2", reason)
            skips.append(("CKV_AWS_68", reason))
        if not config.certificate_arn:
            reason = (
                "no custom domain: the default *.cloudfront.net certificate cannot have a "
                "security policy; pass --domain-name/--certificate-arn for TLSv1.2_2021"
            )
            suppress(self.distribution, "AwsSolutions-CFR4", reason)
            skips.append(("CKV_AWS_174", reason))
        suppress(
            self.distribution,
            "AwsSolutions-CFR1",
            "no geo restriction: the site's audience is not known to edgeshield",
        )
        if skips:
            skip_checkov(self.distribution, skips)

    def _key_users_policy(self, collector_name: str, role_arns: tuple[str, ...]) -> None:
        """A managed policy for the people and roles who deploy and rotate the secret: the key
        policy lets the account delegate exactly this, and IAM must grant it."""
        key_arn = self.collector.key.key_arn
        policy = iam.ManagedPolicy(
            self,
            "KeyUsersPolicy",
            description=f"Deploy {collector_name} and rotate its secret with its KMS key",
            statements=[
                iam.PolicyStatement(
                    sid="ListAliasesForTheConsole",
                    actions=["kms:ListAliases"],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="ConfigureThroughLambda",
                    actions=KEY_USER_ACTIONS,
                    resources=[key_arn],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"lambda.{self.region}.amazonaws.com"}
                    },
                ),
                iam.PolicyStatement(
                    sid="EncryptTheCollectorSecret",
                    actions=["kms:Encrypt"],
                    resources=[key_arn],
                    conditions=encrypted_for(collector_name),
                ),
            ],
            roles=[
                iam.Role.from_role_arn(self, f"KeyUser{i}", arn, mutable=True)
                for i, arn in enumerate(role_arns)
            ]
            or None,
        )
        suppress(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "kms:ListAliases has no resource-level permissions; it only lists alias names",
        )
        self.key_users_policy = policy

    def _alarms(self) -> None:
        self.collector_errors = cloudwatch.Alarm(
            self,
            "CollectorErrors",
            alarm_description="The CSP-report collector raised errors",
            metric=self.collector.function.metric_errors(period=Duration.minutes(5)),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.distribution_5xx: cloudwatch.Alarm | None = None
        if self.region != EDGE_REGION:
            # CloudFront publishes its metrics in us-east-1 only (AWS, "Types of metrics for
            # CloudFront": https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/programming-cloudwatch-metrics.html);
            # an alarm elsewhere would never see data.
            self.node.add_metadata(
                "edgeshield:warning",
                "distribution 5xx alarm not created: CloudFront metrics exist only in us-east-1",
            )
            return
        self.distribution_5xx = cloudwatch.Alarm(
            self,
            "Distribution5xx",
            alarm_description="More than 5% of viewer requests got a 5xx (origin or function)",
            metric=cloudwatch.Metric(
                namespace="AWS/CloudFront",
                metric_name="5xxErrorRate",
                dimensions_map={
                    "DistributionId": self.distribution.distribution_id,
                    "Region": "Global",
                },
                statistic="Average",
                period=Duration.minutes(5),
            ),
            threshold=5,
            evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _notify(self, topic_arn: str | None) -> None:
        """Send the alarms' state changes (to ALARM and back to OK) to the user's SNS topic."""
        if not topic_arn:
            return
        topic = sns.Topic.from_topic_arn(self, "AlarmTopic", topic_arn)
        for alarm in (self.collector_errors, self.distribution_5xx):
            if alarm is not None:
                alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
                alarm.add_ok_action(cloudwatch_actions.SnsAction(topic))

    def _outputs(self, names: dict[str, str]) -> None:
        CfnOutput(self, "DistributionId", value=self.distribution.distribution_id)
        CfnOutput(self, "DistributionDomainName", value=self.distribution.domain_name)
        CfnOutput(self, "HeadersMechanism", value=self.config.mechanism)
        if self.headers is not None:
            CfnOutput(self, "EdgeFunctionName", value=names["edge"])
        CfnOutput(self, "CollectorFunctionName", value=names["collector"])
        CfnOutput(self, KEY_OUTPUT, value=self.collector.key.key_arn)
        CfnOutput(self, "ReportsBucket", value=self.collector.bucket.bucket_name)
        CfnOutput(self, "KeyUsersPolicyArn", value=self.key_users_policy.managed_policy_arn)
        if self.site_bucket is not None:
            CfnOutput(self, "SiteBucket", value=self.site_bucket.bucket_name)


def _check_names(stack_name: str, config: StackConfig) -> None:
    if not STACK_NAME_RE.match(stack_name):
        raise ValueError(
            f"stack name {stack_name!r}: use letters, digits and '-' (at most 41), "
            "starting with a letter; it prefixes the function names"
        )
    if config.certificate_arn and not config.domain_names:
        raise ValueError("a certificate needs at least one domain name")
