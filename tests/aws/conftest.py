"""Fixtures for the AWS tests: fake credentials everywhere, a moto server on 127.0.0.1.

Nothing here can reach real AWS: every client gets the moto server's endpoint, credentials are
fake, and the config/credentials files point at nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import pytest

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
EDGESHIELD = str(Path(sys.executable).with_name("edgeshield"))

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(autouse=True)
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment a subprocess needs to talk to the moto server only."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(FAKE_AWS_ENV)
    env["AWS_ENDPOINT_URL"] = moto_url
    return env


# Typed clients for the services whose stubs the dev extra installs; the rest are Any.
@overload
def boto(service: Literal["kms"], moto_url: str, region: str = ...) -> KMSClient: ...
@overload
def boto(service: Literal["logs"], moto_url: str, region: str = ...) -> CloudWatchLogsClient: ...
@overload
def boto(service: Literal["s3"], moto_url: str, region: str = ...) -> S3Client: ...
@overload
def boto(service: Literal["lambda"], moto_url: str, region: str = ...) -> LambdaClient: ...
@overload
def boto(service: str, moto_url: str, region: str = ...) -> Any: ...
def boto(service: str, moto_url: str, region: str = "us-east-1") -> Any:
    import boto3

    # boto3-stubs types client() only for a literal service name, one overload per service.
    return boto3.client(service, region_name=region, endpoint_url=moto_url)  # type: ignore[call-overload]
