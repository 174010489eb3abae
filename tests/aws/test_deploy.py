"""``edgeshield.aws.deploy`` as a library, against the moto server: account, bootstrap, stack
outputs, the collector secret's encryption and rotation, and the CDK CLI run (a recording
script standing in for it). Every failure is a ``DeployError`` with one line for a user."""

from __future__ import annotations

import io
import json
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

from edgeshield.aws import deploy, kms_env
from edgeshield.aws.cdk.names import KEY_OUTPUT
from edgeshield.aws.deploy import AwsTarget, CdkDeploy, DeployError, DeploySetupError
from edgeshield.errors import EdgeshieldError

from .conftest import boto

ACCOUNT = "123456789012"  # moto's default account


@pytest.fixture
def target(moto_url: str) -> AwsTarget:
    return AwsTarget(region="us-east-1", endpoint_url=moto_url)


def _stack(moto_url: str, outputs: dict[str, str], region: str = "us-east-1") -> str:
    name = f"S{uuid.uuid4().hex[:12]}"
    boto("cloudformation", moto_url, region).create_stack(
        StackName=name,
        TemplateBody=json.dumps(
            {
                "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {k: {"Value": v} for k, v in outputs.items()},
            }
        ),
    )
    return name


def _collector(moto_url: str, name: str, ciphertext: str | None) -> None:
    iam = boto("iam", moto_url)
    role = iam.create_role(RoleName=f"r-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument="{}")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("index.py", "def handler(e, c): pass\n")
    variables = {kms_env.SECRET_ENV: ciphertext} if ciphertext else {}
    boto("lambda", moto_url).create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role["Role"]["Arn"],
        Handler="index.handler",
        Code={"ZipFile": package.getvalue()},
        Environment={"Variables": variables},
    )


def test_errors_share_the_package_base() -> None:
    assert issubclass(DeploySetupError, DeployError)
    assert issubclass(DeployError, EdgeshieldError)


def test_caller_account(target: AwsTarget) -> None:
    assert deploy.caller_account(target) == ACCOUNT


def test_missing_credentials_is_a_setup_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    # Never contacted: the credentials check comes first.
    with pytest.raises(DeploySetupError, match="no AWS credentials found"):
        deploy.caller_account(AwsTarget(endpoint_url="http://127.0.0.1:9"))


def test_unknown_profile_is_a_setup_error() -> None:
    with pytest.raises(DeploySetupError, match="profile 'nope' not found"):
        deploy.caller_account(AwsTarget(profile="nope"))


def test_bootstrap_names_the_command_per_region(target: AwsTarget, moto_url: str) -> None:
    eu = AwsTarget(region="eu-west-3", endpoint_url=moto_url)
    assert eu.regions == ["eu-west-3", "us-east-1"]
    assert target.regions == ["us-east-1"]
    boto("ssm", moto_url).put_parameter(
        Name=deploy.BOOTSTRAP_PARAMETER, Value="30", Type="String", Overwrite=True
    )
    deploy.check_bootstrap(target, ACCOUNT)  # us-east-1 is bootstrapped: no error
    with pytest.raises(DeploySetupError) as caught:
        deploy.check_bootstrap(eu, ACCOUNT)
    assert str(caught.value) == (
        "eu-west-3 is not bootstrapped for CDK; run once: "
        f"npx aws-cdk bootstrap aws://{ACCOUNT}/eu-west-3"
    )


def test_stack_output(target: AwsTarget, moto_url: str) -> None:
    name = _stack(moto_url, {KEY_OUTPUT: "arn:aws:kms:us-east-1:1:key/x", "Other": "y"})
    assert deploy.stack_output(target, name, KEY_OUTPUT) == "arn:aws:kms:us-east-1:1:key/x"
    assert deploy.stack_output(target, name, "Missing") is None
    assert deploy.stack_output(target, "NoSuchStack", KEY_OUTPUT) is None


def test_encrypt_secret_round_trip_and_errors(target: AwsTarget, moto_url: str) -> None:
    kms = boto("kms", moto_url)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    ciphertext = deploy.encrypt_secret(target, key, "Fn-csp-collector", "s3cret")
    assert kms_env.decrypt(kms, ciphertext, "Fn-csp-collector") == "s3cret"
    missing = key.rsplit("/", 1)[0] + "/" + str(uuid.uuid4())
    with pytest.raises(DeployError) as caught:
        deploy.encrypt_secret(target, missing, "Fn-csp-collector", "s3cret")
    assert not isinstance(caught.value, DeploySetupError)
    assert str(caught.value) == "KMS Encrypt failed: NotFoundException (no such key in this region)"


def test_current_ciphertext(target: AwsTarget, moto_url: str) -> None:
    warnings: list[str] = []
    assert deploy.current_ciphertext(target, "absent-fn", warnings.append) is None
    assert warnings == [
        "could not read the current secret (ResourceNotFoundException); rotating without overlap"
    ]
    _collector(moto_url, "with-secret", "Q0lQSEVS")
    _collector(moto_url, "without-secret", None)
    assert deploy.current_ciphertext(target, "with-secret") == "Q0lQSEVS"
    assert deploy.current_ciphertext(target, "without-secret") is None


def test_rotation_overlaps_then_retires() -> None:
    fresh = deploy.Rotation("new", "CT-new", None)
    assert fresh.deployments() == [
        {
            "CollectorSecret": "new",
            "CollectorSecretCiphertext": "CT-new",
            "CollectorPreviousSecretCiphertext": "",
        }
    ]
    again = deploy.Rotation("new", "CT-new", "CT-old")
    assert again.deployments() == [
        {
            "CollectorSecret": "new",
            "CollectorSecretCiphertext": "CT-new",
            "CollectorPreviousSecretCiphertext": "CT-old",
        },
        {"CollectorPreviousSecretCiphertext": ""},
    ]


def _recording_cdk(tmp_path: Path, exit_code: int = 0) -> tuple[list[str], Path]:
    record = tmp_path / "calls.jsonl"
    script = tmp_path / "cdk"
    script.write_text(
        "#!/bin/sh\n"
        f"{sys.executable} -c 'import json,sys; print(json.dumps(sys.argv[1:]))' \"$@\""
        f" >> {record}\nexit {exit_code}\n"
    )
    script.chmod(0o755)
    return [str(script)], record


def _calls(record: Path) -> list[list[str]]:
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


def test_cdk_deploy_command_hides_values(tmp_path: Path) -> None:
    said: list[str] = []
    cdk, record = _recording_cdk(tmp_path)
    run = CdkDeploy(cdk, Path("cdk.out"), "Shop", profile="p", approve_all=True, say=said.append)
    run.run({"CollectorSecret": "hush"})
    [call] = _calls(record)
    assert call == [
        "deploy", "--app", "cdk.out", "--all", "--profile", "p", "--require-approval", "never",
        "--parameters", "Shop:CollectorSecret=hush",
    ]  # fmt: skip
    assert said == [f"running: {cdk[0]} deploy --app cdk.out --all --profile p "
                    "--require-approval never --parameters Shop:CollectorSecret=…"]  # fmt: skip


def test_cdk_failures_are_deploy_errors(tmp_path: Path) -> None:
    cdk, _record = _recording_cdk(tmp_path, exit_code=3)
    with pytest.raises(DeployError, match="cdk exited with 3; see its output above"):
        CdkDeploy(cdk, tmp_path, "S").run()
    with pytest.raises(DeploySetupError, match="cannot run the CDK CLI"):
        CdkDeploy([str(tmp_path / "absent")], tmp_path, "S").run()


def test_deploy_stack_first_deploy_then_rotation(
    tmp_path: Path, target: AwsTarget, moto_url: str
) -> None:
    cdk, record = _recording_cdk(tmp_path)
    name = f"S{uuid.uuid4().hex[:12]}"
    run = CdkDeploy(cdk, tmp_path / "cdk.out", name, endpoint_url=moto_url)

    # No stack yet: one plain deployment, and the secret is still to be set.
    outcome = deploy.deploy_stack(target, run)
    assert outcome == deploy.DeployOutcome(rotated=False, secret_unset=True)
    assert ["--parameters" in call for call in _calls(record)] == [False]

    # The stack (with its key) exists and the collector holds a secret: rotate with overlap.
    kms = boto("kms", moto_url)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    name = _stack(moto_url, {KEY_OUTPUT: key})
    _collector(moto_url, deploy.collector_function(name), "T0xE")
    record.unlink()
    run = CdkDeploy(cdk, tmp_path / "cdk.out", name, endpoint_url=moto_url)
    assert deploy.deploy_stack(target, run, rotate_secret=True).rotated
    overlap, retire = _calls(record)
    params = dict(
        overlap[i + 1].split(":", 1)[1].split("=", 1)
        for i, a in enumerate(overlap)
        if a == "--parameters"
    )
    assert params["CollectorPreviousSecretCiphertext"] == "T0xE"
    secret = kms_env.decrypt(kms, params["CollectorSecretCiphertext"], f"{name}-csp-collector")
    assert secret == params["CollectorSecret"] and len(secret) >= 32
    assert retire[-2:] == ["--parameters", f"{name}:CollectorPreviousSecretCiphertext="]


def test_rotation_without_the_key_output_fails(
    tmp_path: Path, target: AwsTarget, moto_url: str
) -> None:
    cdk, record = _recording_cdk(tmp_path)
    name = _stack(moto_url, {"Unrelated": "x"})
    run = CdkDeploy(cdk, tmp_path, name)
    with pytest.raises(DeployError, match="the stack has no CollectorKeyArn output; cannot rotate"):
        deploy.deploy_stack(target, run, rotate_secret=True)
    assert len(_calls(record)) == 1  # deployed, then found no key to rotate with


def test_find_cdk_cli_prefers_the_local_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "node_modules" / ".bin" / "cdk"
    local.parent.mkdir(parents=True)
    local.write_text("#!/bin/sh\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(DeploySetupError, match=r"needs Node\.js"):
        deploy.find_cdk_cli(tmp_path)
    node = tmp_path / "bin" / "node"
    node.parent.mkdir()
    node.write_text("#!/bin/sh\n")
    node.chmod(0o755)
    monkeypatch.setenv("PATH", str(node.parent))
    assert deploy.find_cdk_cli(tmp_path) == [str(local)]
    local.unlink()
    with pytest.raises(DeploySetupError, match="npm install -g aws-cdk"):
        deploy.find_cdk_cli(tmp_path)
