"""The in-transit secret against a moto server: ``edgeshield env encrypt`` makes the
ciphertext, the collector's cold start (a fresh interpreter, configured only through the
environment as Lambda configures it) decrypts it — and fails closed under any other name."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from edgeshield.aws import kms_env
from edgeshield.packaging import stage_collector

from .conftest import EDGESHIELD, PYTHON, boto

FUNCTION = "EdgeShield-csp-collector"
SECRET = "correct horse battery staple"

# Imports the collector as Lambda would (cold start), then handles two requests.
COLD_START = """
import json, sys
from edgeshield.aws import collector
assert collector.__file__.startswith(sys.argv[2]), collector.__file__  # the staged asset
report = json.dumps({"csp-report": {"effective-directive": "img-src", "blocked-uri": "https://x.example/"}})
def event(secret):
    return {"headers": {"content-type": "application/csp-report", "x-edgeshield-secret": secret},
            "requestContext": {"http": {"method": "POST"}}, "body": report, "isBase64Encoded": False}
print("STATUS", json.dumps([collector.handler(event(s), None)["statusCode"]
                            for s in (sys.argv[1], "wrong", *sys.argv[3:])]))
"""


@pytest.fixture
def key_id(moto_url: str) -> str:
    kms = boto("kms", moto_url)
    return str(kms.create_key(Description="edgeshield test")["KeyMetadata"]["KeyId"])


def encrypt_cli(env: dict[str, str], key: str, function: str, value: str) -> str:
    run = subprocess.run(
        [EDGESHIELD, "env", "encrypt", "--key", key, "--function", function, value],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return run.stdout.strip()


def cold_start(
    env: dict[str, str],
    ciphertext: str,
    function: str,
    secret: str,
    previous_ciphertext: str = "",
    also_try: tuple[str, ...] = (),
) -> tuple[list[int], str]:
    """Run the collector from its staged asset, as Lambda would: only the asset and the
    runtime's boto3 on the path, configuration only in the environment."""
    asset = stage_collector(Path(tempfile.mkdtemp(prefix="collector-asset-")))
    lambda_env = dict(
        env,
        AWS_LAMBDA_FUNCTION_NAME=function,
        EDGESHIELD_SECRET_CIPHERTEXT=ciphertext,
        EDGESHIELD_REQUIRE_SECRET="1",
        EDGESHIELD_PREVIOUS_SECRET_CIPHERTEXT=previous_ciphertext,
        PYTHONPATH=str(asset),
    )
    run = subprocess.run(
        [PYTHON, "-c", COLD_START, secret, str(asset), *also_try],
        env=lambda_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    status_line = next(line for line in run.stdout.splitlines() if line.startswith("STATUS"))
    return json.loads(status_line.split(" ", 1)[1]), run.stdout + run.stderr


def test_encrypt_then_cold_start_decrypt(
    aws_env: dict[str, str], key_id: str, moto_url: str
) -> None:
    ciphertext = encrypt_cli(aws_env, key_id, FUNCTION, SECRET)
    assert SECRET not in ciphertext
    # The ciphertext is bound to the function name: KMS itself refuses any other context.
    kms = boto("kms", moto_url)
    assert kms_env.decrypt(kms, ciphertext, FUNCTION) == SECRET
    with pytest.raises(Exception, match="InvalidCiphertext"):
        kms_env.decrypt(kms, ciphertext, "another-function")

    statuses, output = cold_start(aws_env, ciphertext, FUNCTION, SECRET)
    assert statuses == [204, 403]
    assert '"state":"ready"' in output
    assert SECRET not in output and ciphertext not in output


def test_other_function_name_fails_closed(aws_env: dict[str, str], key_id: str) -> None:
    ciphertext = encrypt_cli(aws_env, key_id, FUNCTION, SECRET)
    statuses, output = cold_start(aws_env, ciphertext, "someone-else", SECRET)
    assert statuses == [503, 503]  # even the right header is refused
    failure = next(json.loads(line) for line in output.splitlines() if '"shared-secret"' in line)
    assert failure["state"] == "failed"
    assert "InvalidCiphertextException" in failure["reason"]
    assert "someone-else" in failure["reason"]
    assert SECRET not in output and ciphertext not in output


def test_rotation_accepts_the_previous_secret(aws_env: dict[str, str], key_id: str) -> None:
    new = encrypt_cli(aws_env, key_id, FUNCTION, "the-new-secret")
    old = encrypt_cli(aws_env, key_id, FUNCTION, SECRET)
    statuses, output = cold_start(
        aws_env, new, FUNCTION, "the-new-secret", old, also_try=(SECRET, "neither")
    )
    assert statuses == [204, 403, 204, 403]
    assert '"previous_accepted":true' in output


def test_unusable_previous_secret_keeps_the_current_one(
    aws_env: dict[str, str], key_id: str
) -> None:
    new = encrypt_cli(aws_env, key_id, FUNCTION, "the-new-secret")
    other = encrypt_cli(aws_env, key_id, "someone-else", SECRET)
    statuses, output = cold_start(aws_env, new, FUNCTION, "the-new-secret", other, (SECRET,))
    assert statuses == [204, 403, 403]
    warning = next(json.loads(line) for line in output.splitlines() if '"shared-secret"' in line)
    assert warning["level"] == "WARN" and "previous secret not accepted" in warning["reason"]
    assert SECRET not in output and other not in output


def test_garbage_ciphertext_fails_closed(aws_env: dict[str, str]) -> None:
    statuses, output = cold_start(aws_env, "!!not base64!!", FUNCTION, SECRET)
    assert statuses == [503, 503]
    assert "not valid base64" in output and "!!not base64!!" not in output


def test_required_secret_missing_fails_closed() -> None:
    secret = kms_env.load_secret({"EDGESHIELD_REQUIRE_SECRET": "1"})
    assert secret.state == "failed"


def test_no_secret_configured_needs_no_aws() -> None:
    # The local edge runs the collector this way: no environment, no KMS call.
    assert kms_env.load_secret({}, kms=object()).state == "off"


def test_env_encrypt_errors_are_one_line(aws_env: dict[str, str]) -> None:
    run = subprocess.run(
        [
            EDGESHIELD,
            "env",
            "encrypt",
            "--key",
            "alias/does-not-exist",
            "--function",
            FUNCTION,
            "v",
        ],
        env=aws_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert "KMS Encrypt failed: NotFoundException" in run.stderr
    assert "Traceback" not in run.stderr


def test_env_encrypt_reads_stdin(aws_env: dict[str, str], key_id: str, moto_url: str) -> None:
    run = subprocess.run(
        [EDGESHIELD, "env", "encrypt", "--key", key_id, "--function", FUNCTION, "-"],
        env=aws_env,
        input=SECRET + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert kms_env.decrypt(boto("kms", moto_url), run.stdout.strip(), FUNCTION) == SECRET
