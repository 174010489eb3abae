"""What ``edgeshield deploy`` does around the CDK CLI, as library calls.

Before deploying: whose credentials these are (STS), whether every region the app deploys to
is bootstrapped for CDK (SSM), and where the CDK CLI is. After (or instead of) a plain deploy:
rotating the CSP-report collector's shared secret with an overlap, so edge locations that still
send the old secret are accepted until the distribution has deployed everywhere.

Every expected failure is a ``DeployError`` with one line for a user; ``DeploySetupError`` (a
subclass) marks what the user must set up or fix first (credentials, Node.js, the CDK CLI, a
bootstrap), the rest is AWS or the CDK CLI failing. Nothing here prints: progress goes to the
``say`` callback a caller passes.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from edgeshield.aws.cdk.names import (
    CIPHERTEXT_PARAMETER,
    KEY_OUTPUT,
    PREVIOUS_PARAMETER,
    SECRET_PARAMETER,
)
from edgeshield.aws.kms_env import SECRET_ENV, encrypt
from edgeshield.aws.logs import error_code
from edgeshield.aws.session import SessionError, client
from edgeshield.errors import EdgeshieldError

# Lambda@Edge functions live in us-east-1, so the CDK app deploys a stack there whatever the
# stack's own region is.
EDGE_REGION: Final = "us-east-1"
# The version parameter `cdk bootstrap` writes with the default qualifier (CDK's "modern"
# bootstrap template): https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html
BOOTSTRAP_PARAMETER: Final = "/cdk-bootstrap/hnb659fds/version"
# KMS error codes, in words a user can act on.
_KMS_HINTS: Final = {
    "NotFoundException": "no such key in this region",
    "AccessDeniedException": "the key policy or your IAM policy refuses kms:Encrypt "
    "under this function's encryption context",
    "DisabledException": "the key is disabled",
    "NoRegionError": "set --region or AWS_REGION",
}


class DeployError(EdgeshieldError):
    """AWS or the CDK CLI failed during a deployment; the message says what and where."""


class DeploySetupError(DeployError):
    """Something the user must set up or fix before deploying (credentials, tools, bootstrap)."""


def collector_function(stack_name: str) -> str:
    """The CSP-report collector's function name in a stack (the CDK app names it so)."""
    return f"{stack_name}-csp-collector"


@dataclass(frozen=True)
class AwsTarget:
    """Where calls go: the profile, the stack's region and an endpoint (a moto server in tests;
    None: boto3's own resolution, including ``AWS_ENDPOINT_URL``)."""

    profile: str | None = None
    region: str | None = EDGE_REGION  # None: the profile's or AWS_REGION (``env encrypt``)
    endpoint_url: str | None = None

    def client(self, service: str, region: str | None = None) -> Any:
        try:
            return client(
                service,
                profile=self.profile,
                region=region or self.region,
                endpoint_url=self.endpoint_url,
            )
        except SessionError as exc:
            raise DeploySetupError(str(exc)) from None

    @property
    def regions(self) -> list[str]:
        """Every region the app deploys a stack to: the stack's, and us-east-1 for the edge."""
        return list(dict.fromkeys([self.region or EDGE_REGION, EDGE_REGION]))


def _code(exc: BaseException) -> str:
    return error_code(exc) or type(exc).__name__


def caller_account(target: AwsTarget) -> str:
    """The account the credentials belong to (STS GetCallerIdentity needs no permission)."""
    sts = target.client("sts")
    try:
        return str(sts.get_caller_identity()["Account"])
    except Exception as exc:  # botocore's errors have no common base worth naming here
        raise DeploySetupError(
            f"cannot use your AWS credentials ({_code(exc)}); check them"
        ) from None


def check_bootstrap(target: AwsTarget, account: str, regions: Sequence[str] = ()) -> None:
    """Raise ``DeploySetupError`` naming the command to run when a region is not bootstrapped."""
    for region in regions or target.regions:
        ssm = target.client("ssm", region)
        try:
            ssm.get_parameter(Name=BOOTSTRAP_PARAMETER)
        except Exception as exc:
            if _code(exc) == "ParameterNotFound":
                raise DeploySetupError(
                    f"{region} is not bootstrapped for CDK; run once: "
                    f"npx aws-cdk bootstrap aws://{account}/{region}"
                ) from None
            raise DeployError(f"cannot check CDK bootstrap in {region} ({_code(exc)})") from None


def stack_output(target: AwsTarget, stack_name: str, key: str) -> str | None:
    """The value of output ``key`` of the stack; None when the stack or the output is absent."""
    cfn = target.client("cloudformation")
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except Exception as exc:
        if _code(exc) == "ValidationError":  # CloudFormation's answer for "no such stack"
            return None
        raise DeployError(f"cannot read stack {stack_name} ({_code(exc)})") from None
    for output in stacks[0].get("Outputs", []):
        if output.get("OutputKey") == key:
            return str(output.get("OutputValue"))
    return None


def encrypt_secret(target: AwsTarget, key: str, function: str, value: str) -> str:
    """``value`` encrypted with ``key`` under the function's encryption context (base64)."""
    kms = target.client("kms")
    try:
        return encrypt(kms, key, function, value)
    except Exception as exc:
        code = _code(exc)
        hint = _KMS_HINTS.get(code, "")
        raise DeployError(f"KMS Encrypt failed: {code}" + (f" ({hint})" if hint else "")) from None


def current_ciphertext(
    target: AwsTarget, function: str, warn: Callable[[str], None] | None = None
) -> str | None:
    """The collector's current secret ciphertext, read back from its configuration; None (and a
    warning) when it cannot be read, so a rotation goes ahead without an overlap."""
    lam = target.client("lambda")
    try:
        environment = lam.get_function_configuration(FunctionName=function).get("Environment", {})
    except Exception as exc:
        if warn is not None:
            warn(f"could not read the current secret ({_code(exc)}); rotating without overlap")
        return None
    value = str(environment.get("Variables", {}).get(SECRET_ENV, "")).strip()
    return value or None


@dataclass(frozen=True)
class Rotation:
    """The stack parameters of one secret rotation, in the order they are deployed: first the
    new secret with the old one still accepted, then (only with an old one) the old retired."""

    secret: str
    ciphertext: str
    previous: str | None

    def deployments(self) -> list[dict[str, str]]:
        overlap = {
            SECRET_PARAMETER: self.secret,
            CIPHERTEXT_PARAMETER: self.ciphertext,
            PREVIOUS_PARAMETER: self.previous or "",
        }
        runs = [overlap]
        if self.previous:
            runs.append({PREVIOUS_PARAMETER: ""})
        return runs


def new_rotation(
    target: AwsTarget,
    stack_name: str,
    key_arn: str,
    warn: Callable[[str], None] | None = None,
) -> Rotation:
    """A fresh random secret, its ciphertext for the collector, and the current ciphertext."""
    function = collector_function(stack_name)
    secret = secrets.token_urlsafe(32)
    ciphertext = encrypt_secret(target, key_arn, function, secret)
    return Rotation(secret, ciphertext, current_ciphertext(target, function, warn))


def find_cdk_cli(cwd: Path | None = None) -> list[str]:
    """The CDK CLI without installing anything: a local or global ``cdk``, else ``npx
    --no-install aws-cdk``. ``DeploySetupError`` with install instructions when none works."""
    if shutil.which("node") is None:
        raise DeploySetupError(
            "deploy needs Node.js (>= 18) and the AWS CDK CLI; install Node.js, then: "
            "npm install -g aws-cdk"
        )
    local = (cwd or Path.cwd()) / "node_modules" / ".bin" / "cdk"
    for candidate in (local, shutil.which("cdk")):
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
    raise DeploySetupError(
        "the AWS CDK CLI is not installed; run: npm install -g aws-cdk "
        "(or npm install aws-cdk in this directory)"
    )


def shown_command(command: Sequence[str]) -> str:
    """A command line safe to echo: every ``NAME=value`` argument (a secret) shows as ``NAME=…``."""
    return " ".join(a if "=" not in a else a.split("=")[0] + "=…" for a in command)


@dataclass
class CdkDeploy:
    """``cdk deploy`` of a synthesized assembly, with the options every run shares."""

    cdk: Sequence[str]
    assembly: Path
    stack_name: str
    profile: str | None = None
    approve_all: bool = False  # --require-approval never
    endpoint_url: str | None = None
    say: Callable[[str], None] = lambda _text: None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def command(self, parameters: Mapping[str, str] | None = None) -> list[str]:
        args = [*self.cdk, "deploy", "--app", str(self.assembly), "--all"]
        if self.profile:
            args += ["--profile", self.profile]
        if self.approve_all:
            args += ["--require-approval", "never"]
        for name, value in (parameters or {}).items():
            args += ["--parameters", f"{self.stack_name}:{name}={value}"]
        return args

    def env(self) -> dict[str, str]:
        env = dict(self.environ)
        env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        if self.endpoint_url:  # the CDK CLI's AWS SDK reads the same variable
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        return env

    def run(self, parameters: Mapping[str, str] | None = None) -> None:
        command = self.command(parameters)
        self.say("running: " + shown_command(command))
        try:
            result = subprocess.run(command, env=self.env(), check=False)
        except KeyboardInterrupt:
            raise DeployError(
                "interrupted; CloudFormation may still be working: check the stack"
            ) from None
        except OSError as exc:
            raise DeploySetupError(f"cannot run the CDK CLI: {exc.strerror or exc}") from None
        if result.returncode != 0:
            raise DeployError(f"cdk exited with {result.returncode}; see its output above")


@dataclass(frozen=True)
class DeployOutcome:
    """What a deployment did: ``rotated`` the collector secret, or left it ``unset`` (a first
    deploy without rotation: the collector refuses reports until a secret is set)."""

    rotated: bool = False
    secret_unset: bool = False


def deploy_stack(
    target: AwsTarget,
    run: CdkDeploy,
    rotate_secret: bool = False,
    warn: Callable[[str], None] | None = None,
) -> DeployOutcome:
    """Deploy the assembly; with ``rotate_secret``, also set a new collector secret (on a first
    deploy: deploy, then rotate, since the key exists only once the stack does)."""
    key_arn = stack_output(target, run.stack_name, KEY_OUTPUT)
    if key_arn is None or not rotate_secret:
        run.run()
        if not rotate_secret:
            return DeployOutcome(secret_unset=key_arn is None)
        key_arn = stack_output(target, run.stack_name, KEY_OUTPUT)
        if key_arn is None:
            raise DeployError(f"the stack has no {KEY_OUTPUT} output; cannot rotate")
    rotation = new_rotation(target, run.stack_name, key_arn, warn)
    for parameters in rotation.deployments():
        run.run(parameters)
    return DeployOutcome(rotated=True)


__all__ = [
    "AwsTarget",
    "CdkDeploy",
    "DeployError",
    "DeployOutcome",
    "DeploySetupError",
    "Rotation",
    "caller_account",
    "check_bootstrap",
    "collector_function",
    "current_ciphertext",
    "deploy_stack",
    "encrypt_secret",
    "find_cdk_cli",
    "new_rotation",
    "stack_output",
]
