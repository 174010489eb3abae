"""AWS commands: ``synth`` (offline), ``deploy`` (CDK CLI through npx), ``env encrypt``."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from edgeshield.cli.app import EXIT_FAILURE, EXIT_USAGE, app
from edgeshield.cli.console import err, fail, out, print_json
from edgeshield.cli.options import PolicyOption, require_aws, resolve_policy

env_app = typer.Typer(
    name="env",
    help="Lambda environment helpers (the collector's secret).",
    no_args_is_help=True,
)
app.add_typer(env_app, name="env", rich_help_panel="AWS")

DEFAULT_OUT = Path("cdk.out")
CDK_CLI = "aws-cdk@2"
SYNTH_MODULES = ("aws_cdk", "constructs", "cdk_nag")  # synthesis is offline: no boto3 needed
StackOpt = Annotated[str, typer.Option("--stack-name", help="Stack name; prefixes resources")]
RegionOpt = Annotated[str | None, typer.Option("--region", help="Stack region (default us-east-1)")]
OriginOpt = Annotated[
    str | None,
    typer.Option("--origin-domain", help="Custom origin host (default: a private S3 bucket)"),
]
DomainOpt = Annotated[
    list[str] | None, typer.Option("--domain-name", help="Alternate domain name (repeatable)")
]
CertOpt = Annotated[
    str | None, typer.Option("--certificate-arn", help="ACM certificate (us-east-1)")
]
WafOpt = Annotated[str | None, typer.Option("--web-acl-arn", help="WAF web ACL (CLOUDFRONT scope)")]
RetentionOpt = Annotated[int, typer.Option("--log-retention-days", help="Collector log retention")]
KeyUserOpt = Annotated[
    list[str] | None,
    typer.Option("--key-user-role-arn", help="Deployer role allowed to use the key (repeatable)"),
]
AlarmOpt = Annotated[str | None, typer.Option("--alarm-topic-arn", help="SNS topic for the alarms")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="AWS profile")]
EndpointOpt = Annotated[
    str | None,
    typer.Option("--endpoint-url", help="AWS endpoint (else AWS_ENDPOINT_URL; for testing)"),
]


MechanismOpt = Annotated[
    str,
    typer.Option(
        "--mechanism",
        help="How the headers reach viewers: auto (plan's recommendation), lambda-edge, "
        "response-headers-policy or cloudfront-function",
    ),
]


def _options(**values: Any) -> Any:
    from edgeshield.aws.cdk.app import AppOptions
    from edgeshield.aws.cdk.names import STACK_NAME_RE
    from edgeshield.aws.logs import RETENTION_DAYS

    if not STACK_NAME_RE.match(values["stack_name"]):
        fail(
            f"--stack-name {values['stack_name']!r}: use letters, digits and '-', starting "
            "with a letter, at most 41 characters (it prefixes the function names)",
            EXIT_USAGE,
        )
    retention = values["log_retention_days"]
    if retention not in RETENTION_DAYS:
        fail(
            f"--log-retention-days {retention}: CloudWatch Logs accepts "
            + ", ".join(map(str, RETENTION_DAYS)),
            EXIT_USAGE,
        )
    from edgeshield.cli.plan_cmds import resolve_mechanism

    mechanism = resolve_mechanism(resolve_policy(values["policy"]), values["mechanism"])
    return AppOptions(
        **mechanism,
        policy=resolve_policy(values["policy"]),
        stack_name=values["stack_name"],
        region=values["region"] or "us-east-1",
        account=values.get("account"),
        origin_domain=values["origin_domain"],
        domain_names=tuple(values["domain_name"] or ()),
        certificate_arn=values["certificate_arn"],
        web_acl_arn=values["web_acl_arn"],
        log_retention_days=retention,
        key_user_role_arns=tuple(values["key_user_role_arn"] or ()),
        alarm_topic_arn=values["alarm_topic_arn"],
    )


def _synth(options: Any, outdir: Path) -> Any:
    """Synthesize, turning every expected failure into one clear message."""
    from edgeshield.aws.cdk.app import synth
    from edgeshield.policy import PolicyError

    if shutil.which("node") is None:
        fail(
            "synth needs Node.js (>= 18) on PATH: the CDK library runs on it; "
            "install it (e.g. apt-get install nodejs) and retry",
            EXIT_USAGE,
        )
    try:
        return synth(options, outdir)
    except PolicyError as exc:
        for problem in exc.errors:
            err.print(problem.format(), markup=False)
        fail(f"the policy has {len(exc.errors)} error(s); fix them and retry", EXIT_USAGE)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    except RuntimeError as exc:  # jsii surfaces CDK failures (validation, nag) this way
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        fail(f"synthesis failed: {message}", EXIT_FAILURE)


@app.command("synth", rich_help_panel="AWS")
def synth_cmd(
    out_dir: Annotated[
        Path,
        typer.Option("--out", "--output", "-o", metavar="DIR", help="Cloud assembly directory"),
    ] = DEFAULT_OUT,
    policy: PolicyOption = None,
    stack_name: StackOpt = "EdgeShield",
    region: RegionOpt = None,
    account: Annotated[
        str | None, typer.Option("--account", help="Account id (default: left to deploy)")
    ] = None,
    origin_domain: OriginOpt = None,
    domain_name: DomainOpt = None,
    certificate_arn: CertOpt = None,
    web_acl_arn: WafOpt = None,
    log_retention_days: RetentionOpt = 90,
    key_user_role_arn: KeyUserOpt = None,
    alarm_topic_arn: AlarmOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    mechanism: MechanismOpt = "lambda-edge",
) -> None:
    """Write the CloudFormation templates (offline) and list every resource with its purpose.

    CloudFormation validation and cdk-nag (AwsSolutions) run during synthesis: a circular
    dependency, an invalid property or an unacknowledged finding fails it."""
    require_aws("synth", SYNTH_MODULES)
    options = _options(**locals())
    result = _synth(options, out_dir)
    if as_json:
        print_json(
            {
                "out": str(result.outdir),
                "templates": {k: str(v) for k, v in result.templates.items()},
                "resources": result.resources,
            }
        )
        return
    current = None
    for row in result.resources:
        if row["stack"] != current:
            current = row["stack"]
            out.print(f"[bold]{current}[/]  ({result.templates[current]})")
        out.print(f"  {row['type']:36} {row['logical_id'][:44]:44} {row['purpose']}", markup=False)
    out.print(f"{len(result.resources)} resources")


def _deploy_failed(exc: Exception) -> NoReturn:
    """One line and the exit code: 2 for what the user must set up, 1 for what failed."""
    from edgeshield.aws.deploy import DeploySetupError

    fail(str(exc), EXIT_USAGE if isinstance(exc, DeploySetupError) else EXIT_FAILURE)


@app.command(rich_help_panel="AWS")
def deploy(
    policy: PolicyOption = None,
    stack_name: StackOpt = "EdgeShield",
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    origin_domain: OriginOpt = None,
    domain_name: DomainOpt = None,
    certificate_arn: CertOpt = None,
    web_acl_arn: WafOpt = None,
    log_retention_days: RetentionOpt = 90,
    key_user_role_arn: KeyUserOpt = None,
    alarm_topic_arn: AlarmOpt = None,
    rotate_secret: Annotated[
        bool,
        typer.Option(
            "--rotate-secret",
            help="Generate a new collector secret, encrypt it with the stack's key and deploy "
            "it (on a first deploy: deploy, then rotate)",
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask to approve IAM/security changes")
    ] = False,
    out_dir: Annotated[
        Path,
        typer.Option("--out", "--output", "-o", metavar="DIR", help="Cloud assembly directory"),
    ] = DEFAULT_OUT,
    endpoint_url: EndpointOpt = None,
    mechanism: MechanismOpt = "lambda-edge",
) -> None:
    """Deploy the stack with the AWS CDK CLI (through npx).

    Checks first, with one clear message each: AWS credentials, Node.js, the CDK CLI, and
    the CDK bootstrap of the target region(s)."""
    values = dict(locals())
    require_aws("deploy")
    from edgeshield.aws.deploy import (
        AwsTarget,
        CdkDeploy,
        DeployError,
        caller_account,
        check_bootstrap,
        deploy_stack,
        find_cdk_cli,
    )

    target = AwsTarget(profile, region or "us-east-1", endpoint_url)
    try:
        account = caller_account(target)
        cdk = find_cdk_cli()
        check_bootstrap(target, account)
        _synth(_options(**values, account=account), out_dir)
        run = CdkDeploy(cdk, out_dir, stack_name, profile, yes, endpoint_url, say=err.print)
        outcome = deploy_stack(target, run, rotate_secret, warn=err.print)
    except DeployError as exc:
        _deploy_failed(exc)
    if outcome.secret_unset:
        err.print(
            "the collector refuses reports until its secret is set: "
            "edgeshield deploy --rotate-secret"
        )
    if outcome.rotated:
        out.print("collector secret rotated; the previous one is no longer accepted")


@env_app.command("encrypt")
def env_encrypt(
    value: Annotated[str, typer.Argument(help="The plaintext; '-' reads it from stdin")],
    key: Annotated[str, typer.Option("--key", help="KMS key id, ARN or alias/NAME")],
    function: Annotated[
        str, typer.Option("--function", help="The Lambda function that will decrypt it")
    ],
    region: Annotated[str | None, typer.Option("--region", help="Key region")] = None,
    profile: ProfileOpt = None,
    endpoint_url: EndpointOpt = None,
) -> None:
    """Encrypt a value for a Lambda environment variable, "in transit" style.

    Prints base64 ciphertext made under the encryption context
    LambdaFunctionName=FUNCTION, which only that function can decrypt."""
    require_aws("env encrypt", ("boto3",))
    plaintext = sys.stdin.read().rstrip("\n") if value == "-" else value
    if not plaintext:
        fail("nothing to encrypt: the value is empty", EXIT_USAGE)
    if not function.strip():
        fail("--function must name the function that will decrypt the value", EXIT_USAGE)
    from edgeshield.aws.deploy import AwsTarget, DeployError, encrypt_secret

    try:
        ciphertext = encrypt_secret(
            AwsTarget(profile, region, endpoint_url), key, function.strip(), plaintext
        )
    except DeployError as exc:
        _deploy_failed(exc)
    typer.echo(ciphertext)
