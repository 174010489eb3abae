"""``edgeshield deploy``: each missing prerequisite gets one clear message, and with all of
them present it hands the CDK CLI the assembly and the rotated secret.

The CDK CLI is replaced by a recording script in ``node_modules/.bin/cdk`` (the first place
deploy looks): the test checks what deploy asks of it, against a moto server for STS, SSM,
CloudFormation and KMS. Nothing reaches AWS."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from edgeshield.aws import kms_env

from .conftest import EDGESHIELD, boto

ACCOUNT = "123456789012"  # moto's default account


def run_deploy(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EDGESHIELD, "deploy", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_missing_credentials(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",  # never used: the check comes first
    )
    run = run_deploy([], env, tmp_path)
    assert run.returncode == 2
    assert "no AWS credentials found" in run.stderr
    assert "Traceback" not in run.stderr


def test_unknown_profile(tmp_path: Path, aws_env: dict[str, str]) -> None:
    run = run_deploy(["--profile", "no-such-profile"], aws_env, tmp_path)
    assert run.returncode == 2
    assert "profile 'no-such-profile' not found" in run.stderr


def test_missing_node(tmp_path: Path, aws_env: dict[str, str]) -> None:
    run = run_deploy([], dict(aws_env, PATH=str(tmp_path)), tmp_path)
    assert run.returncode == 2
    assert "Node.js" in run.stderr and "npm install -g aws-cdk" in run.stderr


def test_synth_without_node_says_so(tmp_path: Path) -> None:
    run = subprocess.run(
        [EDGESHIELD, "synth", "--out", str(tmp_path / "o")],
        env=dict(os.environ, PATH=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "needs Node.js" in run.stderr


@pytest.fixture
def fake_cdk(tmp_path: Path) -> Path:
    """A stand-in CDK CLI that records its arguments and succeeds."""
    if shutil.which("node") is None:
        pytest.skip("deploy needs Node.js on PATH")
    record = tmp_path / "cdk-calls.jsonl"
    script = tmp_path / "node_modules" / ".bin" / "cdk"
    script.parent.mkdir(parents=True)
    script.write_text(
        "#!/bin/sh\n"
        f"{sys.executable} -c 'import json,sys; print(json.dumps(sys.argv[1:]))' \"$@\""
        f" >> {record}\n"
    )
    script.chmod(0o755)
    return record


@pytest.mark.cdk
def test_unbootstrapped_region(tmp_path: Path, aws_env: dict[str, str], fake_cdk: Path) -> None:
    run = run_deploy(["--region", "eu-central-1"], aws_env, tmp_path)
    assert run.returncode == 2
    assert f"npx aws-cdk bootstrap aws://{ACCOUNT}/eu-central-1" in run.stderr
    assert not fake_cdk.exists()


@pytest.mark.cdk
def test_deploy_and_rotate_secret(
    tmp_path: Path, aws_env: dict[str, str], moto_url: str, fake_cdk: Path
) -> None:
    boto("ssm", moto_url).put_parameter(
        Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String", Overwrite=True
    )
    # First deploy: no stack yet, so no secret; the user is told how to set it.
    first = run_deploy(["--yes"], aws_env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "--rotate-secret" in first.stderr
    [call] = [json.loads(line) for line in fake_cdk.read_text().splitlines()]
    assert call[:4] == ["deploy", "--app", "cdk.out", "--all"]
    assert "--require-approval" in call and "--parameters" not in call
    assert (tmp_path / "cdk.out" / "EdgeShield.template.json").is_file()

    # The stack exists now (stand-in: a stack with the real output name and a moto key).
    key_arn = boto("kms", moto_url).create_key()["KeyMetadata"]["Arn"]
    boto("cloudformation", moto_url).create_stack(
        StackName="EdgeShield",
        TemplateBody=json.dumps(
            {
                "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {"CollectorKeyArn": {"Value": key_arn}},
            }
        ),
    )
    fake_cdk.unlink()
    second = run_deploy(["--yes", "--rotate-secret"], aws_env, tmp_path)
    assert second.returncode == 0, second.stderr
    [call] = [json.loads(line) for line in fake_cdk.read_text().splitlines()]
    params = dict(
        call[i + 1].split(":", 1)[1].split("=", 1)
        for i, a in enumerate(call)
        if a == "--parameters"
    )
    secret, ciphertext = params["CollectorSecret"], params["CollectorSecretCiphertext"]
    assert len(secret) >= 32 and base64.b64decode(ciphertext)
    decrypted = kms_env.decrypt(boto("kms", moto_url), ciphertext, "EdgeShield-csp-collector")
    assert decrypted == secret
    assert secret not in second.stderr + second.stdout  # the echoed command hides values
    assert params["CollectorPreviousSecretCiphertext"] == ""  # nothing to overlap with yet
    assert "rotating without overlap" in second.stderr  # no collector to read back here

    # Rotating again with the collector in place: the old secret stays accepted while the
    # distribution deploys, then a second deployment retires it.
    iam = boto("iam", moto_url)
    role = iam.create_role(RoleName="collector", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("index.py", "def handler(e, c): pass\n")
    boto("lambda", moto_url).create_function(
        FunctionName="EdgeShield-csp-collector",
        Runtime="python3.13",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": package.getvalue()},
        Environment={"Variables": {"EDGESHIELD_SECRET_CIPHERTEXT": ciphertext}},
    )
    fake_cdk.unlink()
    third = run_deploy(["--yes", "--rotate-secret"], aws_env, tmp_path)
    assert third.returncode == 0, third.stderr
    overlap, retire = [json.loads(line) for line in fake_cdk.read_text().splitlines()]
    first_params = dict(
        overlap[i + 1].split(":", 1)[1].split("=", 1)
        for i, a in enumerate(overlap)
        if a == "--parameters"
    )
    assert first_params["CollectorPreviousSecretCiphertext"] == ciphertext
    assert first_params["CollectorSecret"] != secret
    retire_params = [retire[i + 1] for i, a in enumerate(retire) if a == "--parameters"]
    assert retire_params == ["EdgeShield:CollectorPreviousSecretCiphertext="]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stack-name", "bad name"], "--stack-name 'bad name'"),
        (["--stack-name", "x" * 42], "at most 41 characters"),
        (["--log-retention-days", "31"], "CloudWatch Logs accepts 1, 3, 5"),
    ],
)
def test_synth_option_errors(tmp_path: Path, args: list[str], message: str) -> None:
    run = subprocess.run(
        [EDGESHIELD, "synth", "--out", str(tmp_path / "o"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "o").exists()
