"""AWS commands: ``synth`` (offline), ``deploy`` (CDK CLI through npx), ``env encrypt``."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

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
SYNTH_MODULES = ("aws_cdk", "constructs")  # synthesis is offline: no boto3 needed
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


def _cdk_command() -> list[str]:
    """The CDK CLI without installing anything: a local/global ``cdk``, else ``npx
    --no-install aws-cdk``. Fails with install instructions when neither works."""
    if shutil.which("node") is None:
        fail(
            "deploy needs Node.js (>= 18) and the AWS CDK CLI; install Node.js, then: "
            "npm install -g aws-cdk",
            EXIT_USAGE,
        )
    for candidate in (Path("node_modules/.bin/cdk"), shutil.which("cdk")):
        if candidate and Path(candidate).is_file():
            return [str(candidate)]
    npx = shutil.which("npx")
    if npx:
        probe = subprocess.run(
            [npx, "--no-install", "aws-cdk", "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if probe.returncode == 0:
            return [npx, "--no-install", "aws-cdk"]
    fail(
        "the AWS CDK CLI is not installed; run: npm install -g aws-cdk "
        "(or npm install aws-cdk in this directory)",
        EXIT_USAGE,
    )


def _caller_account(profile: str | None, region: str, endpoint_url: str | None) -> str:
    from edgeshield.aws.session import SessionError, client

    try:
        sts = client("sts", profile=profile, region=region, endpoint_url=endpoint_url)
        return str(sts.get_caller_identity()["Account"])
    except SessionError as exc:
        fail(str(exc), EXIT_USAGE)
    except Exception as exc:
        fail(f"cannot use your AWS credentials ({_aws_error(exc)}); check them", EXIT_USAGE)


def _aws_error(exc: BaseException) -> str:
    from edgeshield.aws.logs import error_code

    return error_code(exc) or type(exc).__name__


def _check_bootstrap(
    account: str, regions: list[str], profile: str | None, endpoint_url: str | None
) -> None:
    from edgeshield.aws.session import client

    for region in regions:
        ssm = client("ssm", profile=profile, region=region, endpoint_url=endpoint_url)
        try:
            ssm.get_parameter(Name="/cdk-bootstrap/hnb659fds/version")
        except Exception as exc:
            if _aws_error(exc) == "ParameterNotFound":
                fail(
                    f"{region} is not bootstrapped for CDK; run once: "
                    f"npx aws-cdk bootstrap aws://{account}/{region}",
                    EXIT_USAGE,
                )
            fail(f"cannot check CDK bootstrap in {region} ({_aws_error(exc)})", EXIT_FAILURE)


def _stack_output(
    stack_name: str, key: str, profile: str | None, region: str, endpoint_url: str | None
) -> str | None:
    from edgeshield.aws.session import client

    cfn = client("cloudformation", profile=profile, region=region, endpoint_url=endpoint_url)
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except Exception as exc:
        if _aws_error(exc) == "ValidationError":  # the stack does not exist yet
            return None
        raise
    for output in stacks[0].get("Outputs", []):
        if output.get("OutputKey") == key:
            return str(output.get("OutputValue"))
    return None


def _run_cdk(cdk: list[str], args: list[str], env: dict[str, str]) -> None:
    command = [*cdk, *args]
    err.print(
        "running: " + " ".join(a if "=" not in a else a.split("=")[0] + "=…" for a in command)
    )
    try:
        result = subprocess.run(command, env=env, check=False)
    except KeyboardInterrupt:
        fail("interrupted; CloudFormation may still be working: check the stack", EXIT_FAILURE)
    if result.returncode != 0:
        fail(f"cdk exited with {result.returncode}; see its output above", EXIT_FAILURE)


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
    require_aws("deploy")
    target_region = region or "us-east-1"
    account = _caller_account(profile, target_region, endpoint_url)
    cdk = _cdk_command()
    regions = list(dict.fromkeys([target_region, "us-east-1"]))
    _check_bootstrap(account, regions, profile, endpoint_url)
    values = dict(locals())
    values["account"] = account
    values["policy"] = policy
    options = _options(**values)
    _synth(options, out_dir)

    env = dict(os.environ)
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    if endpoint_url:  # the CDK CLI's AWS SDK reads the same variable
        env["AWS_ENDPOINT_URL"] = endpoint_url
    base = ["deploy", "--app", str(out_dir), "--all"]
    if profile:
        base += ["--profile", profile]
    if yes:
        base += ["--require-approval", "never"]
    key_arn = _stack_output(stack_name, "CollectorKeyArn", profile, target_region, endpoint_url)
    if key_arn is None or not rotate_secret:
        _run_cdk(cdk, base, env)
        if not rotate_secret:
            if key_arn is None:
                err.print(
                    "the collector refuses reports until its secret is set: "
                    "edgeshield deploy --rotate-secret"
                )
            return
        key_arn = _stack_output(stack_name, "CollectorKeyArn", profile, target_region, endpoint_url)
        if key_arn is None:
            fail("the stack has no CollectorKeyArn output; cannot rotate", EXIT_FAILURE)
    collector = f"{stack_name}-csp-collector"
    secret = secrets.token_urlsafe(32)
    ciphertext = _encrypt(key_arn, collector, secret, profile, target_region, endpoint_url)
    previous = _current_ciphertext(collector, profile, target_region, endpoint_url)
    from edgeshield.aws.cdk.stack import (
        CIPHERTEXT_PARAMETER,
        PREVIOUS_PARAMETER,
        SECRET_PARAMETER,
    )

    def param(name: str, value: str) -> list[str]:
        return ["--parameters", f"{stack_name}:{name}={value}"]

    # 1. The new secret everywhere, the old one still accepted by the collector: edge
    #    locations switch over one by one while the distribution deploys.
    _run_cdk(
        cdk,
        base
        + param(SECRET_PARAMETER, secret)
        + param(CIPHERTEXT_PARAMETER, ciphertext)
        + param(PREVIOUS_PARAMETER, previous or ""),
        env,
    )
    # 2. CloudFormation returns once the distribution is deployed everywhere: retire the old.
    if previous:
        _run_cdk(cdk, base + param(PREVIOUS_PARAMETER, ""), env)
    out.print("collector secret rotated; the previous one is no longer accepted")


def _current_ciphertext(
    function: str, profile: str | None, region: str, endpoint_url: str | None
) -> str | None:
    """The collector's current secret ciphertext, read back from its configuration (Lambda
    decrypts the environment for callers allowed to use the key through Lambda)."""
    from edgeshield.aws.kms_env import SECRET_ENV
    from edgeshield.aws.session import client

    try:
        lam = client("lambda", profile=profile, region=region, endpoint_url=endpoint_url)
        environment = lam.get_function_configuration(FunctionName=function).get("Environment", {})
    except Exception as exc:
        err.print(
            f"could not read the current secret ({_aws_error(exc)}); rotating without overlap"
        )
        return None
    value = str(environment.get("Variables", {}).get(SECRET_ENV, "")).strip()
    return value or None


def _encrypt(
    key: str,
    function: str,
    value: str,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> str:
    from edgeshield.aws.kms_env import encrypt
    from edgeshield.aws.session import SessionError, client

    try:
        kms = client("kms", profile=profile, region=region, endpoint_url=endpoint_url)
        return encrypt(kms, key, function, value)
    except SessionError as exc:
        fail(str(exc), EXIT_USAGE)
    except Exception as exc:
        code = _aws_error(exc)
        hint = {
            "NotFoundException": "no such key in this region",
            "AccessDeniedException": "the key policy or your IAM policy refuses kms:Encrypt "
            "under this function's encryption context",
            "DisabledException": "the key is disabled",
            "NoRegionError": "set --region or AWS_REGION",
        }.get(code, "")
        fail(f"KMS Encrypt failed: {code}" + (f" ({hint})" if hint else ""), EXIT_FAILURE)


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
    typer.echo(_encrypt(key, function.strip(), plaintext, profile, region, endpoint_url))
