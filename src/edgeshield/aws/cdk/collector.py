"""The CSP-report collector: a regular Lambda, its customer-managed key, role, logs and bucket.

Least privilege, statement by statement (docs/deploy.md has the table and the AWS pages behind
it):

* Key policy — administrators (the account) manage the key but cannot use it; callers that
  deploy or inspect the function may CreateGrant/Encrypt/Decrypt only through Lambda
  (``kms:ViaService``), grants only for AWS resources; Encrypt outside Lambda (the
  ``edgeshield env encrypt`` helper) only under this function's encryption context; the
  function's role may Decrypt only under its own name's context; CloudWatch Logs may use the
  key only for this function's log group. No GenerateDataKey for Lambda: it does not use
  envelope encryption for environment variables.
* Role — write its own log group; ``s3:PutObject`` under the reports prefix only when the
  caller is this function (``lambda:SourceFunctionArn``, an identity-policy-only key);
  Decrypt as above. Nothing else.

Names are fixed strings (not tokens) where a policy must name the function: referring to the
function's own attributes from the key or role would make a circular dependency.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import ArnFormat, Aws, CfnResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from edgeshield.aws.cdk.buckets import private_bucket
from edgeshield.aws.cdk.nag import skip_checkov, suppress
from edgeshield.aws.collector import BUCKET_ENV, PREFIX_ENV, REPORTS_PREFIX
from edgeshield.aws.kms_env import CONTEXT_KEY, PREVIOUS_ENV, REQUIRE_ENV, SECRET_ENV
from edgeshield.packaging import COLLECTOR_HANDLER

COLLECTOR_RUNTIME = lambda_.Runtime.PYTHON_3_13
DEFAULT_RETENTION_DAYS = 90

# Key administration without use (the key users' actions are granted separately below).
KEY_ADMIN_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
]
# What Lambda needs from whoever configures a function with a customer-managed key (Lambda
# guide, https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html).
KEY_USER_ACTIONS = ["kms:CreateGrant", "kms:Encrypt", "kms:Decrypt"]
COLLECTOR_SKIPS = [
    (
        "CKV_AWS_115",
        "reserved concurrency is opt-in (new accounts have too little to reserve); "
        "CloudFront and the 64 KB limit bound the load",
    ),
    ("CKV_AWS_116", "invoked synchronously through its URL; a DLQ never receives"),
    ("CKV_AWS_117", "talks only to AWS APIs over TLS; a VPC would add NAT/endpoints"),
]


def encrypted_for(function_name: str) -> dict[str, dict[str, str]]:
    """The condition that limits a KMS call to ciphertext made for ``function_name`` (the
    encryption context Lambda and ``edgeshield env encrypt`` both use)."""
    return {"StringEquals": {f"kms:EncryptionContext:{CONTEXT_KEY}": function_name}}


class CspCollector(Construct):
    """Collector function + function URL (AWS_IAM), key, role, log group, reports bucket."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code_dir: Path,
        function_name: str,
        secret_ciphertext: str,
        previous_secret_ciphertext: str = "",
        log_retention_days: int = DEFAULT_RETENTION_DAYS,
        access_logs_bucket: s3.IBucket | None = None,
        key_user_role_arns: tuple[str, ...] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.function_name = function_name
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.function_arn = self._arn("lambda", "function", function_name)
        log_group_arn = self._arn("logs", "log-group", self.log_group_name)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {function_name}: its logs, its reports, its secret",
        )
        self.key = self._key(function_name, log_group_arn, key_user_role_arns)
        self.log_group = self._log_group(log_retention_days)
        self.bucket = private_bucket(
            self,
            "Reports",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix="reports-bucket/" if access_logs_bucket else None,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
        )
        self._role_policy()
        self.function = self._function(
            code_dir,
            {
                SECRET_ENV: secret_ciphertext,
                PREVIOUS_ENV: previous_secret_ciphertext,
                REQUIRE_ENV: "1",
                BUCKET_ENV: self.bucket.bucket_name,
                PREFIX_ENV: REPORTS_PREFIX,
            },
        )
        self.url = self.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.AWS_IAM)

    def _arn(self, service: str, resource: str, name: str) -> str:
        return Stack.of(self).format_arn(
            service=service,
            resource=resource,
            resource_name=name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    def _log_group(self, retention_days: int) -> logs.LogGroup:
        group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=self.log_group_name,
            encryption_key=self.key,
            # Fixed name: a retained group would block re-creating the stack under that name.
            removal_policy=RemovalPolicy.DESTROY,
        )
        cfn_log_group = group.node.default_child
        assert isinstance(cfn_log_group, logs.CfnLogGroup)
        cfn_log_group.retention_in_days = retention_days
        return group

    def _role_policy(self) -> None:
        """Identity policy of the role (an inline policy resource, so the function waits for
        it): its own log group, its reports, its own secret."""
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="OwnLogGroupOnly",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="StoreReportsOnlyFromThisFunction",
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(REPORTS_PREFIX + "*")],
                conditions={"ArnEquals": {"lambda:SourceFunctionArn": self.function_arn}},
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="DecryptOwnSecretOnly",
                actions=["kms:Decrypt"],
                resources=[self.key.key_arn],
                conditions=encrypted_for(self.function_name),
            )
        )
        stack = Stack.of(self)
        bucket = self.bucket.node.default_child
        assert isinstance(bucket, CfnResource)
        reports_id = stack.resolve(stack.get_logical_id(bucket))
        suppress(
            self.role,
            f"AwsSolutions-IAM5[Resource::<{reports_id}.Arn>/{REPORTS_PREFIX}*]",
            "one object per report batch under the reports prefix; object keys are not "
            "known in advance, and only this function may write (lambda:SourceFunctionArn)",
        )

    def _function(self, code_dir: Path, environment: dict[str, str]) -> lambda_.Function:
        function = lambda_.Function(
            self,
            "Function",
            function_name=self.function_name,
            description="edgeshield CSP-report collector (behind CloudFront only)",
            runtime=COLLECTOR_RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            handler=COLLECTOR_HANDLER,
            code=lambda_.Code.from_asset(str(code_dir)),
            memory_size=256,
            timeout=Duration.seconds(10),
            role=self.role,
            log_group=self.log_group,
            environment_encryption=self.key,
            environment=environment,
        )
        skip_checkov(function, COLLECTOR_SKIPS)
        suppress(
            function,
            "AwsSolutions-L1",
            "kept on the edge function's runtime (python3.13) so one interpreter is tested",
        )
        return function

    def _key(
        self, function_name: str, log_group_arn: str, key_user_role_arns: tuple[str, ...]
    ) -> kms.Key:
        users: list[iam.IPrincipal] = (
            [iam.ArnPrincipal(arn) for arn in key_user_role_arns]
            if key_user_role_arns
            else [iam.AccountRootPrincipal()]
        )
        document = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="KeyAdministration",
                    principals=[iam.AccountRootPrincipal()],
                    actions=KEY_ADMIN_ACTIONS,
                    resources=["*"],
                ),
                *_key_user_statements(users, function_name),
                iam.PolicyStatement(
                    sid="FunctionDecryptsOwnSecret",
                    principals=[iam.ArnPrincipal(self.role.role_arn)],
                    actions=["kms:Decrypt"],
                    resources=["*"],
                    conditions=encrypted_for(function_name),
                ),
                self._logs_statement(log_group_arn),
            ]
        )
        key = kms.Key(
            self,
            "Key",
            description=f"Encrypts {function_name}'s environment and log group",
            enable_key_rotation=True,
            policy=document,
            removal_policy=RemovalPolicy.RETAIN,
            pending_window=Duration.days(30),
        )
        kms.Alias(self, "KeyAlias", alias_name=f"alias/{function_name}", target_key=key)
        return key

    def _logs_statement(self, log_group_arn: str) -> iam.PolicyStatement:
        """CloudWatch Logs may use the key for this function's log group and no other."""
        return iam.PolicyStatement(
            sid="CloudWatchLogsForThisLogGroup",
            principals=[iam.ServicePrincipal(f"logs.{Stack.of(self).region}.amazonaws.com")],
            actions=[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            resources=["*"],
            conditions={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
        )


def _key_user_statements(
    users: list[iam.IPrincipal], function_name: str
) -> list[iam.PolicyStatement]:
    """What deployers may do with the key: configure Lambda through Lambda only, and encrypt
    this function's secret outside it only under the function's own context."""
    via_lambda = {
        "kms:ViaService": f"lambda.{Aws.REGION}.amazonaws.com",
        "kms:CallerAccount": Aws.ACCOUNT_ID,
    }
    return [
        iam.PolicyStatement(
            sid="LambdaConfigurationThroughLambdaOnly",
            principals=users,
            actions=["kms:Encrypt", "kms:Decrypt"],
            resources=["*"],
            conditions={"StringEquals": via_lambda},
        ),
        iam.PolicyStatement(
            sid="LambdaGrantsThroughLambdaOnly",
            principals=users,
            actions=["kms:CreateGrant"],
            resources=["*"],
            conditions={
                "StringEquals": via_lambda,
                "Bool": {"kms:GrantIsForAWSResource": "true"},
            },
        ),
        iam.PolicyStatement(
            sid="EncryptSecretForThisFunctionOnly",
            principals=users,
            actions=["kms:Encrypt"],
            resources=["*"],
            conditions=encrypted_for(function_name),
        ),
    ]
