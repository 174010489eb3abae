"""The collector behind the local edge with its shared secret on: KMS ciphertext in the
collector's environment (moto), decrypted at its cold start, compared with the header the edge
adds like CloudFront's origin custom header."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from tests.aws.conftest import boto
from tests.aws.test_kms_secret import encrypt_cli
from tests.servers import Edge

REPORT = b'{"csp-report": {"document-uri": "https://a.example/", "effective-directive": "img-src", "blocked-uri": "data"}}'
COLLECTOR = "edgeshield-csp-collector"  # the name the local edge gives the collector Lambda


def _post(edge: Edge) -> int:
    request = urllib.request.Request(
        edge.url + "/_edgeshield/csp-report",
        data=REPORT,
        headers={"Content-Type": "application/csp-report"},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def _serve(
    tmp_path: Path, env: dict[str, str], moto_url: str, ciphertext: str, secret: str
) -> Edge:
    lambda_env = {
        "EDGESHIELD_SECRET_CIPHERTEXT": ciphertext,
        "EDGESHIELD_REQUIRE_SECRET": "1",
        "AWS_ENDPOINT_URL": moto_url,  # the execution role's credentials, here moto's fakes
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    extra: list[str] = ["--collector-secret", secret]
    for name, value in lambda_env.items():
        extra += ["--collector-env", f"{name}={value}"]
    return Edge(tmp_path, None, None, tuple(extra))


def test_secret_round_trip_through_the_local_edge(
    aws_env: dict[str, str], moto_url: str, tmp_path: Path
) -> None:
    key = str(boto("kms", moto_url).create_key()["KeyMetadata"]["KeyId"])
    ciphertext = encrypt_cli(aws_env, key, COLLECTOR, "s3cret-value")
    right = _serve(tmp_path / "right", aws_env, moto_url, ciphertext, "s3cret-value")
    try:
        assert _post(right) == 204
    finally:
        right.close()
    wrong = _serve(tmp_path / "wrong", aws_env, moto_url, ciphertext, "guess")
    try:
        assert _post(wrong) == 403
    finally:
        wrong.close()


def test_ciphertext_for_another_function_fails_closed(
    aws_env: dict[str, str], moto_url: str, tmp_path: Path
) -> None:
    key = str(boto("kms", moto_url).create_key()["KeyMetadata"]["KeyId"])
    ciphertext = encrypt_cli(aws_env, key, "some-other-function", "s3cret-value")
    edge = _serve(tmp_path, aws_env, moto_url, ciphertext, "s3cret-value")
    try:
        assert _post(edge) == 503  # the encryption context names another function
    finally:
        edge.close()
