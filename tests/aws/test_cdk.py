"""The synthesized stack, checked statically: CDK assertions on every property the design
requires, then cfn-lint, checkov and cdk-nag. All CDK work stays in this one module (and so in
one jsii process); deselect locally with ``-m 'not cdk'``.

Synthesis runs with ``@aws-cdk/core:validateAgainstDefaultRules`` and cdk-nag on, so a
circular dependency, an invalid template or an unacknowledged AwsSolutions finding fails
the fixture itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import EDGESHIELD, REPO

pytestmark = pytest.mark.cdk
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ACCOUNT = "123456789012"
CHECKOV = REPO / ".venv-tools" / "bin" / "checkov"
CFN_LINT = Path(sys.executable).with_name("cfn-lint")


class Synth:
    def __init__(self, outdir: Path, templates: dict[str, Path]) -> None:
        self.outdir = outdir
        self.templates: dict[str, dict[str, Any]] = {
            k: json.loads(v.read_text()) for k, v in templates.items()
        }
        self.files = templates

    @property
    def main(self) -> dict[str, Any]:
        return self.templates["EdgeShield"]

    @property
    def edge(self) -> dict[str, Any]:
        """The template holding the edge functions (the main one in us-east-1)."""
        others = [v for k, v in self.templates.items() if k.startswith("edge-lambda-stack")]
        return others[0] if others else self.main

    def assertions(self, template: dict[str, Any] | None = None) -> Any:
        from aws_cdk.assertions import Template

        return Template.from_json(template or self.main)


def resources(template: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == rtype}


def one(template: dict[str, Any], rtype: str, prefix: str) -> tuple[str, dict[str, Any]]:
    found = [(k, v) for k, v in resources(template, rtype).items() if k.startswith(prefix)]
    assert len(found) == 1, (rtype, prefix, [k for k, _ in found])
    return found[0]


def distribution_arn(dist_id: str) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":cloudfront::",
                {"Ref": "AWS::AccountId"},
                ":distribution/",
                {"Ref": dist_id},
            ],
        ]
    }


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cdk")


@pytest.fixture(scope="module")
def use1(home: Path) -> Synth:
    """The ready app in us-east-1 with the default private S3 origin."""
    from edgeshield.aws.cdk.app import AppOptions, synth

    result = synth(AppOptions(account=ACCOUNT), home / "use1")
    return Synth(result.outdir, result.templates)


@pytest.fixture(scope="module")
def euw1(home: Path) -> Synth:
    """Elsewhere: custom origin, own domain and certificate, a WAF web ACL."""
    from edgeshield.aws.cdk.app import AppOptions, synth

    options = AppOptions(
        region="eu-west-1",
        account=ACCOUNT,
        origin_domain="origin.example.com",
        domain_names=("www.example.com",),
        certificate_arn=f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/abc",
        web_acl_arn=f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/site/123",
        log_retention_days=30,
        key_user_role_arns=(f"arn:aws:iam::{ACCOUNT}:role/deployer",),
        alarm_topic_arn=f"arn:aws:sns:eu-west-1:{ACCOUNT}:ops",
    )
    result = synth(options, home / "euw1")
    return Synth(result.outdir, result.templates)


# --- the edge function -------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["use1", "euw1"])
def test_edge_function_shape(variant: str, request: pytest.FixtureRequest) -> None:
    s: Synth = request.getfixturevalue(variant)
    functions = resources(s.edge, "AWS::Lambda::Function")
    headers = next(v for k, v in functions.items() if k.startswith("HeadersFunction"))
    props = headers["Properties"]
    runtime = props["Runtime"]
    assert runtime.startswith("python3.") and int(runtime.split(".")[1]) >= 12
    assert props["Architectures"] == ["x86_64"]
    assert props["MemorySize"] == 128
    assert 1 <= props["Timeout"] <= 5  # within the viewer limit, so within origin's 30 s
    assert props["Handler"] == "edgeshield.edge.handler.handler"
    for name, fn in functions.items():
        if name.startswith(("HeadersFunction", "ReportHashFunction")):
            assert "Environment" not in fn["Properties"], name  # CloudFront rejects them
    versions = resources(s.edge, "AWS::Lambda::Version")
    assert len(versions) == 2  # headers + report hasher, each published


@pytest.mark.parametrize("variant", ["use1", "euw1"])
def test_edge_functions_and_versions_are_retained(
    variant: str, request: pytest.FixtureRequest
) -> None:
    """Replicas keep a function undeletable for hours after the distribution lets go, so the
    stack must not try (and fail) to delete it: it is retained and removed later."""
    s: Synth = request.getfixturevalue(variant)
    edge = {
        k: v
        for k, v in s.edge["Resources"].items()
        if v["Type"] in ("AWS::Lambda::Function", "AWS::Lambda::Version")
        and k.startswith(("Headers", "ReportHash"))
    }
    assert len(edge) == 4
    assert {v.get("DeletionPolicy") for v in edge.values()} == {"Retain"}
    _, collector = one(s.main, "AWS::Lambda::Function", "CollectorFunction")
    assert "DeletionPolicy" not in collector  # a regular Lambda deletes normally


def test_same_code_same_asset(use1: Synth, euw1: Synth) -> None:
    """Assets are content-addressed and the trees are written deterministically: the same
    policy and code give the same zip key, so no new function version is published."""

    def keys(s: Synth) -> dict[str, str]:
        return {
            v["Properties"]["FunctionName"]: v["Properties"]["Code"]["S3Key"]
            for t in s.templates.values()
            for v in t["Resources"].values()
            if v["Type"] == "AWS::Lambda::Function" and "FunctionName" in v["Properties"]
        }

    assert keys(use1) == keys(euw1)
    assert len(set(keys(use1).values())) == 3


def test_edge_stack_is_in_us_east_1(use1: Synth, euw1: Synth) -> None:
    for synth_result in (use1, euw1):
        manifest = json.loads((synth_result.outdir / "manifest.json").read_text())
        stacks = {
            k: a["environment"]
            for k, a in manifest["artifacts"].items()
            if a["type"] == "aws:cloudformation:stack"
        }
        edge_stacks = [k for k in stacks if k.startswith("edge-lambda-stack")] or ["EdgeShield"]
        assert all(stacks[k] == f"aws://{ACCOUNT}/us-east-1" for k in edge_stacks)
    assert len(euw1.templates) == 2 and len(use1.templates) == 1


def test_association_by_version_arn_in_us_east_1(use1: Synth) -> None:
    dist = one(use1.main, "AWS::CloudFront::Distribution", "Distribution")[1]
    config = dist["Properties"]["DistributionConfig"]
    [assoc] = config["DefaultCacheBehavior"]["LambdaFunctionAssociations"]
    assert assoc["EventType"] == "origin-response"
    version_id = assoc["LambdaFunctionARN"]["Ref"]  # Ref of a Version = its numbered ARN
    assert use1.main["Resources"][version_id]["Type"] == "AWS::Lambda::Version"
    assert "$LATEST" not in json.dumps(config) and "Alias" not in json.dumps(config)
    function_ref = use1.main["Resources"][version_id]["Properties"]["FunctionName"]["Ref"]
    assert function_ref.startswith("HeadersFunction")


def test_association_elsewhere_goes_through_the_us_east_1_version(euw1: Synth) -> None:
    dist = one(euw1.main, "AWS::CloudFront::Distribution", "Distribution")[1]
    [assoc] = dist["Properties"]["DistributionConfig"]["DefaultCacheBehavior"][
        "LambdaFunctionAssociations"
    ]
    reader_id = assoc["LambdaFunctionARN"]["Fn::GetAtt"][0]
    reader = euw1.main["Resources"][reader_id]
    assert reader["Type"] == "Custom::CrossRegionStringParameterReader"
    assert reader["Properties"]["Region"] == "us-east-1"
    params = resources(euw1.edge, "AWS::SSM::Parameter")
    param = next(
        p
        for p in params.values()
        if p["Properties"]["Name"] == reader["Properties"]["ParameterName"]
    )
    version = euw1.edge["Resources"][param["Properties"]["Value"]["Ref"]]
    assert version["Type"] == "AWS::Lambda::Version"


@pytest.mark.parametrize("variant", ["use1", "euw1"])
def test_edge_role_trust_and_only_basic_execution(
    variant: str, request: pytest.FixtureRequest
) -> None:
    s: Synth = request.getfixturevalue(variant)
    roles = resources(s.edge, "AWS::IAM::Role")
    edge_roles = {k: v for k, v in roles.items() if k.startswith(("Headers", "ReportHash"))}
    assert len(edge_roles) == 2
    policies = resources(s.edge, "AWS::IAM::Policy")
    for name, role in edge_roles.items():
        trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        principals = sorted(st["Principal"]["Service"] for st in trust)
        assert principals == ["edgelambda.amazonaws.com", "lambda.amazonaws.com"]
        assert all(st["Action"] == "sts:AssumeRole" for st in trust)
        [managed] = role["Properties"]["ManagedPolicyArns"]
        assert json.dumps(managed).endswith(
            '":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]]}'
        )
        assert "Policies" not in role["Properties"]
        attached = [p for p in policies.values() if {"Ref": name} in p["Properties"]["Roles"]]
        assert attached == [], f"{name} must have nothing but the managed policy"


# --- the distribution ----------------------------------------------------------------------


def test_s3_origin_behind_oac_and_private_bucket(use1: Synth) -> None:
    from aws_cdk.assertions import Match

    t = use1.assertions()
    dist_id, dist = one(use1.main, "AWS::CloudFront::Distribution", "Distribution")
    config = dist["Properties"]["DistributionConfig"]
    s3_origin = next(o for o in config["Origins"] if "S3OriginConfig" in o)
    assert s3_origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert "OriginAccessControlId" in s3_origin
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    t.has_resource_properties(
        "AWS::CloudFront::OriginAccessControl",
        {
            "OriginAccessControlConfig": Match.object_like(
                {"OriginAccessControlOriginType": "s3", "SigningBehavior": "always"}
            )
        },
    )
    site_id, site = one(use1.main, "AWS::S3::Bucket", "Site")
    assert site["Properties"]["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    _, policy = one(use1.main, "AWS::S3::BucketPolicy", "SitePolicy")
    allows = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert allows == [
        {
            "Action": "s3:GetObject",
            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn(dist_id)}},
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [site_id, "Arn"]}, "/*"]]},
        }
    ]


def test_custom_origin_tls12_and_viewer_tls12(euw1: Synth) -> None:
    config = one(euw1.main, "AWS::CloudFront::Distribution", "Distribution")[1]["Properties"][
        "DistributionConfig"
    ]
    custom = next(o for o in config["Origins"] if o["DomainName"] == "origin.example.com")
    assert custom["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert custom["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert config["ViewerCertificate"]["SslSupportMethod"] == "sni-only"
    assert config["Aliases"] == ["www.example.com"]
    assert config["WebACLId"].startswith("arn:aws:wafv2:")
    assert not resources(euw1.main, "AWS::S3::Bucket").keys() & {"Site"}


def test_access_logging_on(use1: Synth) -> None:
    config = one(use1.main, "AWS::CloudFront::Distribution", "Distribution")[1]["Properties"][
        "DistributionConfig"
    ]
    assert config["Logging"]["Bucket"]["Fn::GetAtt"][0].startswith("AccessLogs")


# --- the collector -------------------------------------------------------------------------


def test_collector_behaviour_through_oac_function_url(use1: Synth) -> None:
    _dist_id, dist = one(use1.main, "AWS::CloudFront::Distribution", "Distribution")
    config = dist["Properties"]["DistributionConfig"]
    [behaviour] = [
        b for b in config["CacheBehaviors"] if b["PathPattern"] == "/_edgeshield/csp-report"
    ]
    assert "POST" in behaviour["AllowedMethods"]
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    [hasher] = behaviour["LambdaFunctionAssociations"]
    assert hasher["EventType"] == "origin-request" and hasher["IncludeBody"] is True
    origin = next(o for o in config["Origins"] if o["Id"] == behaviour["TargetOriginId"])
    url_id = origin["DomainName"]["Fn::Select"][1]["Fn::Split"][1]["Fn::GetAtt"][0]
    url = use1.main["Resources"][url_id]
    assert url["Type"] == "AWS::Lambda::Url" and url["Properties"]["AuthType"] == "AWS_IAM"
    oac = use1.main["Resources"][origin["OriginAccessControlId"]["Fn::GetAtt"][0]]
    assert (
        oac["Properties"]["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "lambda"
    )
    assert origin["OriginCustomHeaders"] == [
        {"HeaderName": "x-edgeshield-secret", "HeaderValue": {"Ref": "CollectorSecret"}}
    ]
    assert use1.main["Parameters"]["CollectorSecret"]["NoEcho"] is True
    # The origin request policy forwards no cookies and no query strings.
    policy = use1.main["Resources"][behaviour["OriginRequestPolicyId"]["Ref"]]["Properties"][
        "OriginRequestPolicyConfig"
    ]
    assert policy["CookiesConfig"] == {"CookieBehavior": "none"}
    assert policy["QueryStringsConfig"] == {"QueryStringBehavior": "none"}


def test_only_cloudfront_from_this_distribution_may_invoke(use1: Synth) -> None:
    dist_id, _ = one(use1.main, "AWS::CloudFront::Distribution", "Distribution")
    permissions = resources(use1.main, "AWS::Lambda::Permission")
    assert {p["Properties"]["Action"] for p in permissions.values()} == {
        "lambda:InvokeFunctionUrl",
        "lambda:InvokeFunction",
    }
    for permission in permissions.values():
        props = permission["Properties"]
        assert props["Principal"] == "cloudfront.amazonaws.com"
        assert props["SourceArn"] == distribution_arn(dist_id)
        assert props.get("FunctionUrlAuthType") in (None, "AWS_IAM")
    urls = resources(use1.main, "AWS::Lambda::Url")
    assert [u["Properties"]["AuthType"] for u in urls.values()] == ["AWS_IAM"]


def test_collector_uses_the_customer_managed_key(use1: Synth) -> None:
    key_id, key = one(use1.main, "AWS::KMS::Key", "CollectorKey")
    assert key["Properties"]["EnableKeyRotation"] is True
    _, fn = one(use1.main, "AWS::Lambda::Function", "CollectorFunction")
    props = fn["Properties"]
    assert props["KmsKeyArn"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert props["Environment"]["Variables"]["EDGESHIELD_SECRET_CIPHERTEXT"] == {
        "Ref": "CollectorSecretCiphertext"
    }
    assert props["Environment"]["Variables"]["EDGESHIELD_PREVIOUS_SECRET_CIPHERTEXT"] == {
        "Ref": "CollectorPreviousSecretCiphertext"
    }
    assert props["Environment"]["Variables"]["EDGESHIELD_REQUIRE_SECRET"] == "1"
    assert props["FunctionName"] == "EdgeShield-csp-collector"


def key_statements(s: Synth) -> dict[str, dict[str, Any]]:
    _, key = one(s.main, "AWS::KMS::Key", "CollectorKey")
    return {st["Sid"]: st for st in key["Properties"]["KeyPolicy"]["Statement"]}


def actions(statement: dict[str, Any]) -> set[str]:
    value = statement["Action"]
    return {value} if isinstance(value, str) else set(value)


def test_key_policy_least_privilege(use1: Synth) -> None:
    st = key_statements(use1)
    assert set(st) == {
        "KeyAdministration",
        "LambdaConfigurationThroughLambdaOnly",
        "LambdaGrantsThroughLambdaOnly",
        "EncryptSecretForThisFunctionOnly",
        "FunctionDecryptsOwnSecret",
        "CloudWatchLogsForThisLogGroup",
    }
    assert all(s["Effect"] == "Allow" for s in st.values())
    admin = actions(st["KeyAdministration"])
    assert not admin & {
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:*",
        "kms:ReEncrypt*",
    }
    via = {"Fn::Join": ["", ["lambda.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    users = st["LambdaConfigurationThroughLambdaOnly"]
    assert actions(users) == {"kms:Encrypt", "kms:Decrypt"}
    assert users["Condition"]["StringEquals"]["kms:ViaService"] == via
    grants = st["LambdaGrantsThroughLambdaOnly"]
    assert actions(grants) == {"kms:CreateGrant"}
    assert grants["Condition"]["StringEquals"]["kms:ViaService"] == via
    assert grants["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    context = {"kms:EncryptionContext:LambdaFunctionName": "EdgeShield-csp-collector"}
    assert st["EncryptSecretForThisFunctionOnly"]["Condition"] == {"StringEquals": context}
    own = st["FunctionDecryptsOwnSecret"]
    assert actions(own) == {"kms:Decrypt"} and own["Condition"] == {"StringEquals": context}
    role_id, _ = one(use1.main, "AWS::IAM::Role", "CollectorRole")
    assert own["Principal"] == {"AWS": {"Fn::GetAtt": [role_id, "Arn"]}}
    logs = st["CloudWatchLogsForThisLogGroup"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnEquals"]
    assert "/aws/lambda/EdgeShield-csp-collector" in json.dumps(logs["Condition"])
    # Lambda never needs GenerateDataKey for environment variables; only Logs gets it.
    for sid, statement in st.items():
        if any(a.startswith("kms:GenerateDataKey") for a in actions(statement)):
            assert sid == "CloudWatchLogsForThisLogGroup"


def test_named_key_users_replace_the_account_delegation(euw1: Synth) -> None:
    st = key_statements(euw1)
    deployer = {"AWS": f"arn:aws:iam::{ACCOUNT}:role/deployer"}
    for sid in ("LambdaConfigurationThroughLambdaOnly", "LambdaGrantsThroughLambdaOnly"):
        assert st[sid]["Principal"] == deployer
    _, policy = one(euw1.main, "AWS::IAM::ManagedPolicy", "KeyUsersPolicy")
    assert policy["Properties"]["Roles"] == ["deployer"]
    sids = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert sids["ListAliasesForTheConsole"]["Action"] == "kms:ListAliases"
    assert actions(sids["ConfigureThroughLambda"]) == {
        "kms:CreateGrant",
        "kms:Encrypt",
        "kms:Decrypt",
    }


def test_collector_role_least_privilege(use1: Synth) -> None:
    role_id, role = one(use1.main, "AWS::IAM::Role", "CollectorRole")
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [t["Principal"] for t in trust] == [{"Service": "lambda.amazonaws.com"}]
    assert "ManagedPolicyArns" not in role["Properties"]
    attached = [
        p
        for p in resources(use1.main, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    assert len(attached) == 1
    st = {s["Sid"]: s for s in attached[0]["Properties"]["PolicyDocument"]["Statement"]}
    assert set(st) == {
        "OwnLogGroupOnly",
        "StoreReportsOnlyFromThisFunction",
        "DecryptOwnSecretOnly",
    }
    logs_id, _ = one(use1.main, "AWS::Logs::LogGroup", "CollectorLogs")
    assert actions(st["OwnLogGroupOnly"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert st["OwnLogGroupOnly"]["Resource"] == {"Fn::GetAtt": [logs_id, "Arn"]}
    put = st["StoreReportsOnlyFromThisFunction"]
    assert actions(put) == {"s3:PutObject"}
    assert put["Resource"]["Fn::Join"][1][1] == "/csp-reports/*"
    source = put["Condition"]["ArnEquals"]["lambda:SourceFunctionArn"]
    assert json.dumps(source).endswith(':function:EdgeShield-csp-collector"]]}')
    assert actions(st["DecryptOwnSecretOnly"]) == {"kms:Decrypt"}


def test_reports_bucket_private_encrypted_tls_only(use1: Synth) -> None:
    _bucket_id, bucket = one(use1.main, "AWS::S3::Bucket", "CollectorReports")
    props = bucket["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    _, policy = one(use1.main, "AWS::S3::BucketPolicy", "CollectorReportsPolicy")
    [deny] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }


@pytest.mark.parametrize(("variant", "days"), [("use1", 90), ("euw1", 30)])
def test_log_group_retention_and_encryption(
    variant: str, days: int, request: pytest.FixtureRequest
) -> None:
    s: Synth = request.getfixturevalue(variant)
    logs_id, logs = one(s.main, "AWS::Logs::LogGroup", "CollectorLogs")
    key_id, _ = one(s.main, "AWS::KMS::Key", "CollectorKey")
    assert logs["Properties"]["RetentionInDays"] == days
    assert logs["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert logs["Properties"]["LogGroupName"] == "/aws/lambda/EdgeShield-csp-collector"
    _, fn = one(s.main, "AWS::Lambda::Function", "CollectorFunction")
    assert fn["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": logs_id}}


def test_alarms(use1: Synth, euw1: Synth) -> None:
    alarms = resources(use1.main, "AWS::CloudWatch::Alarm")
    by_metric = {a["Properties"]["MetricName"]: a["Properties"] for a in alarms.values()}
    assert set(by_metric) == {"Errors", "5xxErrorRate"}
    assert by_metric["Errors"]["Namespace"] == "AWS/Lambda"
    fn_id, _ = one(use1.main, "AWS::Lambda::Function", "CollectorFunction")
    assert {"Name": "FunctionName", "Value": {"Ref": fn_id}} in by_metric["Errors"]["Dimensions"]
    assert by_metric["5xxErrorRate"]["Namespace"] == "AWS/CloudFront"
    dims = {d["Name"]: d["Value"] for d in by_metric["5xxErrorRate"]["Dimensions"]}
    assert dims["Region"] == "Global" and "Ref" in dims["DistributionId"]
    # CloudFront metrics exist only in us-east-1: no 5xx alarm elsewhere.
    other = resources(euw1.main, "AWS::CloudWatch::Alarm")
    assert [a["Properties"]["MetricName"] for a in other.values()] == ["Errors"]
    assert "AlarmActions" not in by_metric["Errors"]  # none unless a topic is given
    [errors] = other.values()
    topic = f"arn:aws:sns:eu-west-1:{ACCOUNT}:ops"
    assert errors["Properties"]["AlarmActions"] == [topic]
    assert errors["Properties"]["OKActions"] == [topic]


# --- validators ----------------------------------------------------------------------------


def test_circular_dependency_fails_synth(home: Path) -> None:
    """The validation context is live: the key-policy-names-the-function mistake that the
    fixed-name ARNs avoid is a failed synth, not a warning."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_lambda as lambda_

    from edgeshield.aws.cdk.app import VALIDATE_CONTEXT

    app = App(outdir=str(home / "cycle"), context=dict(VALIDATE_CONTEXT))
    stack = Stack(app, "Cycle", env={"region": "us-east-1", "account": ACCOUNT})
    key = kms.Key(stack, "Key")
    fn = lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="x.handler",
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
        environment={"A": "b"},
        environment_encryption=key,
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            actions=["kms:Decrypt"],
            principals=[iam.AccountRootPrincipal()],
            resources=["*"],
            conditions={"ArnEquals": {"lambda:SourceFunctionArn": fn.function_arn}},
        )
    )
    with pytest.raises(RuntimeError, match="Validation"):
        app.synth()


def test_cdk_nag_is_live(home: Path) -> None:
    """An unacknowledged AwsSolutions error stops synthesis."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_s3 as s3

    from edgeshield.aws.cdk.nag import add_checks

    app = App(outdir=str(home / "nag"))
    stack = Stack(app, "Nag", env={"region": "us-east-1", "account": ACCOUNT})
    s3.Bucket(stack, "Loose")
    add_checks(app)
    with pytest.raises(RuntimeError, match="Validation"):
        app.synth()


def _metadata(outdir: Path) -> list[tuple[str, str, Any]]:
    """(construct path, type, data) of every metadata entry of every stack."""
    entries: list[tuple[str, str, Any]] = []
    for path in sorted(outdir.glob("*.metadata.json")):
        for construct, items in json.loads(path.read_text()).items():
            entries.extend((construct, item["type"], item.get("data")) for item in items)
    return entries


@pytest.mark.parametrize("variant", ["use1", "euw1"])
def test_validation_report_has_no_unacknowledged_finding(
    variant: str, request: pytest.FixtureRequest
) -> None:
    """cdk-nag and CDK's own checks: every finding of any severity is fixed or acknowledged
    with a reason (errors stop synthesis; warnings would pass silently without this)."""
    s: Synth = request.getfixturevalue(variant)
    report = json.loads((s.outdir / "validation-report.json").read_text())
    assert {p["pluginName"] for p in report["pluginReports"]} >= {"AwsSolutions"}
    open_findings = [
        (p["pluginName"], v["ruleName"], v["severity"], [c["constructPath"] for c in v["violatingConstructs"]])
        for p in report["pluginReports"]
        for v in p["violations"]
    ]  # fmt: skip
    assert open_findings == []
    warnings = [
        (c, t, d) for c, t, d in _metadata(s.outdir) if t in ("aws:cdk:warning", "aws:cdk:error")
    ]
    assert warnings == []  # fmt: skip


@pytest.mark.parametrize("variant", ["use1", "euw1"])
def test_every_acknowledgement_matches_a_finding(
    variant: str, request: pytest.FixtureRequest
) -> None:
    """An acknowledgement that silences nothing is stale: it would hide a future finding
    nobody reviewed. Each one must match a suppressed finding in the same synthesis."""
    s: Synth = request.getfixturevalue(variant)
    report = json.loads((s.outdir / "validation-report.json").read_text())
    used = {
        ("/" + v["acknowledgedAt"].strip("/"), v["acknowledgedId"])
        for p in report["pluginReports"]
        for v in p.get("suppressedViolations", [])
    }
    acknowledged = {
        (construct, rule)
        for construct, kind, data in _metadata(s.outdir)
        if kind == "aws:cdk:acknowledged-rules"
        for rule in data
    }
    assert acknowledged, "no acknowledgements found: the metadata format changed"
    assert sorted(acknowledged - used) == []


@pytest.mark.parametrize("variant", ["use1", "euw1"])
def test_every_acknowledgement_has_a_reason(variant: str, request: pytest.FixtureRequest) -> None:
    s: Synth = request.getfixturevalue(variant)
    nag_ids, checkov_ids = set(), set()
    for template in s.templates.values():
        for resource in template["Resources"].values():
            meta = resource.get("Metadata", {})
            for rule in meta.get("cdk_nag", {}).get("rules_to_suppress", []):
                if rule["id"].startswith("AwsSolutions"):
                    assert len(rule["reason"]) >= 30, rule
                    nag_ids.add(rule["id"].split("::")[1].split("[")[0])
            for skip in meta.get("checkov", {}).get("skip", []):
                assert len(skip["comment"]) >= 30, skip
                checkov_ids.add(skip["id"])
    assert {"AwsSolutions-IAM4", "AwsSolutions-L1"} <= nag_ids
    assert {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"} <= checkov_ids


@pytest.mark.parametrize("variant", ["use1", "euw1"])
def test_every_resource_has_a_purpose(variant: str, request: pytest.FixtureRequest) -> None:
    from edgeshield.aws.cdk.app import describe

    s: Synth = request.getfixturevalue(variant)
    rows = describe(s.files)
    assert len(rows) == sum(len(t["Resources"]) for t in s.templates.values())
    assert [r for r in rows if not r["purpose"]] == []


@pytest.mark.parametrize("variant", ["use1", "euw1"])
def test_cfn_lint_clean(variant: str, request: pytest.FixtureRequest) -> None:
    s: Synth = request.getfixturevalue(variant)
    run = subprocess.run(
        [
            str(CFN_LINT),
            "--regions", "us-east-1", "eu-west-1",
            # W3005: CDK's explicit DependsOn next to GetAtt (standard CDK output).
            "--ignore-checks", "W3005",
            "--", *map(str, s.files.values()),
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("variant", ["use1", "euw1"])
def test_checkov_no_failed_checks(variant: str, request: pytest.FixtureRequest) -> None:
    if not CHECKOV.exists():
        pytest.fail("checkov is missing: run `make tools` (make test does it)")
    s: Synth = request.getfixturevalue(variant)
    run = subprocess.run(
        [str(CHECKOV), "-d", str(s.outdir), "--framework", "cloudformation",
         "--skip-download", "--quiet", "--compact", "-o", "json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    report = json.loads(run.stdout)
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert summary["failed"] == 0, failed
    assert summary["passed"] > 50
    assert run.returncode == 0


# --- the CLI -------------------------------------------------------------------------------


def test_synth_command(tmp_path: Path) -> None:
    env = dict(os.environ)
    run = subprocess.run(
        [EDGESHIELD, "synth", "--out", str(tmp_path / "out"), "--json"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert Path(result["templates"]["EdgeShield"]).is_file()
    kinds = {r["type"] for r in result["resources"]}
    assert {"AWS::CloudFront::Distribution", "AWS::KMS::Key", "AWS::Lambda::Url"} <= kinds
    assert all(r["purpose"] for r in result["resources"]), [
        r for r in result["resources"] if not r["purpose"]
    ]
    assert "Traceback" not in run.stderr


def test_synth_with_a_broken_policy_is_one_message(tmp_path: Path) -> None:
    policy = tmp_path / "edgeshield.toml"
    policy.write_text('[headers]\n"x-cache" = "HIT"\n')
    run = subprocess.run(
        [EDGESHIELD, "synth", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 2
    assert "edgeshield.toml" in run.stderr and "Traceback" not in run.stderr


# --- the other header mechanisms (docs/mechanisms.md) ------------------------------------


@pytest.fixture(scope="module")
def mechanisms(home: Path) -> dict[str, Synth]:
    """The stack with the strict preset as a response headers policy and as a CloudFront
    Function instead of the Lambda@Edge function."""
    from edgeshield.aws.cdk.app import AppOptions, synth
    from edgeshield.policy import compile_policy, load_preset
    from edgeshield.targets import cff, rhp

    compiled = compile_policy(load_preset("strict"))
    variants = {
        "response-headers-policy": AppOptions(
            account=ACCOUNT,
            mechanism="response-headers-policy",
            headers_policy_config=rhp.config(compiled, "edgeshield"),
        ),
        "cloudfront-function": AppOptions(
            account=ACCOUNT,
            mechanism="cloudfront-function",
            function_code=cff.generate(compiled).code,
        ),
    }
    out = {}
    for name, options in variants.items():
        result = synth(options, home / name)
        out[name] = Synth(result.outdir, result.templates)
    return out


def test_mechanisms_replace_the_headers_function(mechanisms: dict[str, Synth]) -> None:
    for name, s in mechanisms.items():
        functions = resources(s.main, "AWS::Lambda::Function")
        assert not [k for k in functions if k.startswith("HeadersFunction")], name
        _, dist = one(s.main, "AWS::CloudFront::Distribution", "Distribution")
        behaviour = dist["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
        assert "LambdaFunctionAssociations" not in behaviour, name
        if name == "response-headers-policy":
            logical, policy = one(s.main, "AWS::CloudFront::ResponseHeadersPolicy", "HeadersPolicy")
            assert behaviour["ResponseHeadersPolicyId"] == {"Ref": logical}
            config = policy["Properties"]["ResponseHeadersPolicyConfig"]
            assert config["Name"] == "EdgeShield-headers"
            csp = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]
            assert csp["ContentSecurityPolicy"].startswith("default-src 'none'")
        else:
            logical, function = one(s.main, "AWS::CloudFront::Function", "HeadersCfFunction")
            assert function["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
            assert len(function["Properties"]["FunctionCode"].encode()) <= 10 * 1024
            assert behaviour["FunctionAssociations"] == [
                {
                    "EventType": "viewer-response",
                    "FunctionARN": {"Fn::GetAtt": [logical, "FunctionARN"]},
                }
            ]


def test_mechanisms_cfn_lint_and_checkov_clean(mechanisms: dict[str, Synth]) -> None:
    if not CHECKOV.exists():
        pytest.fail("checkov is missing: run `make tools` (make test does it)")
    for name, s in mechanisms.items():
        lint = subprocess.run(
            [str(CFN_LINT), "--regions", "us-east-1", "--ignore-checks", "W3005",
             "--", *map(str, s.files.values())],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert lint.returncode == 0, (name, lint.stdout + lint.stderr)
        run = subprocess.run(
            [str(CHECKOV), "-d", str(s.outdir), "--framework", "cloudformation",
             "--skip-download", "--quiet", "--compact", "-o", "json"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        summary = json.loads(run.stdout)["summary"]
        assert summary["failed"] == 0, name


def test_synth_mechanism_auto_takes_plans_choice(tmp_path: Path) -> None:
    (tmp_path / "edgeshield.toml").write_text('[headers]\nx-content-type-options = "nosniff"\n')
    run = subprocess.run(
        [EDGESHIELD, "synth", "--mechanism", "auto", "--out", str(tmp_path / "out"), "--json"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "mechanism: response-headers-policy (plan's recommendation)" in run.stderr
    kinds = {r["type"] for r in json.loads(run.stdout)["resources"]}
    assert "AWS::CloudFront::ResponseHeadersPolicy" in kinds
    bad = subprocess.run(
        [EDGESHIELD, "synth", "--mechanism", "fastly", "--out", str(tmp_path / "x")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_a_header_value_the_cdk_would_read_as_a_token_is_refused(tmp_path: Path) -> None:
    """'${Token[...]}' in a header value is replaced by the CDK (a region here) or breaks the
    synthesis: the stack would not carry the policy as check shows it, so synth refuses."""
    from edgeshield.aws.cdk.app import AppOptions, build_app

    policy = tmp_path / "p.toml"
    policy.write_text('[headers]\nx-token-test = "r=${Token[AWS.Region.6]}"\n')
    with pytest.raises(ValueError, match=r"holds the text '\$\{Token\[' in a header value"):
        build_app(AppOptions(account=ACCOUNT, policy=policy), tmp_path / "out")
    assert not (tmp_path / "out").exists()
