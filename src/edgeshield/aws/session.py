"""boto3 sessions and clients for the CLI: one place for --profile, --endpoint-url and the
clear messages when credentials or profiles are missing.

boto3 itself honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``) when no
explicit endpoint is given, so tests and LocalStack-style setups need nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgeshield.errors import EdgeshieldError


class SessionError(EdgeshieldError, RuntimeError):
    """A setup problem the user must fix; the message says how."""


def session(profile: str | None = None, region: str | None = None) -> Any:
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise SessionError(
            f"AWS profile {profile!r} not found in ~/.aws/config or ~/.aws/credentials"
        ) from None


def _config() -> Any:
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=30,
    )


def require_credentials(sess: Any) -> None:
    if sess.get_credentials() is None:
        raise SessionError(
            "no AWS credentials found: set AWS_PROFILE or pass --profile, or export "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (aws configure / aws sso login)"
        )


def client(
    service: str,
    *,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> Any:
    sess = session(profile, region)
    require_credentials(sess)
    kwargs: dict[str, Any] = {"config": _config()}
    if region:
        kwargs["region_name"] = region
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    return sess.client(service, **kwargs)


def logs_client_factory(profile: str | None, endpoint_url: str | None) -> Callable[[str], Any]:
    """region -> CloudWatch Logs client, sharing one session (credentials resolved once)."""
    sess = session(profile)
    require_credentials(sess)
    config = _config()

    def make(region: str) -> Any:
        kwargs: dict[str, Any] = {"region_name": region, "config": config}
        if endpoint_url:
            kwargs["endpoint_url"] = endpoint_url
        return sess.client("logs", **kwargs)

    return make
