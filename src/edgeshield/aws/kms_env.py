"""Lambda environment secrets "encrypted in transit" with a customer-managed KMS key.

Lambda always encrypts environment variables at rest; the in-transit helper goes further: the
value stored in the environment is itself KMS ciphertext, made under the encryption context
``{"LambdaFunctionName": <function name>}``, so it stays opaque to anyone who can read the
function's configuration and only decrypts inside that one function (Lambda guide, "Securing
Lambda environment variables", "Security in transit":
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html; the context
is the one the console's decrypt snippet uses). The function decrypts it once per cold start and
keeps the plaintext in memory.

Ships inside the collector's asset: stdlib only at import time; boto3 (present in Lambda's
Python runtime) is imported only when a secret really has to be decrypted.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Literal

CONTEXT_KEY = "LambdaFunctionName"
SECRET_ENV = "EDGESHIELD_SECRET_CIPHERTEXT"  # base64 KMS ciphertext of the shared secret
# During a rotation the secret being replaced is accepted too, so edge locations that still
# send it (the distribution takes minutes to update everywhere) are not refused.
PREVIOUS_ENV = "EDGESHIELD_PREVIOUS_SECRET_CIPHERTEXT"
REQUIRE_ENV = "EDGESHIELD_REQUIRE_SECRET"  # "1" on AWS: no usable secret means refuse all
FUNCTION_ENV = "AWS_LAMBDA_FUNCTION_NAME"  # set by Lambda in every execution environment


def encryption_context(function_name: str) -> dict[str, str]:
    return {CONTEXT_KEY: function_name}


def encrypt(kms: Any, key_id: str, function_name: str, plaintext: str) -> str:
    """Base64 ciphertext of ``plaintext`` bound to ``function_name``; ``kms`` is a boto3 KMS
    client. Raises botocore's ClientError on refusal."""
    response = kms.encrypt(
        KeyId=key_id,
        Plaintext=plaintext.encode("utf-8"),
        EncryptionContext=encryption_context(function_name),
    )
    return base64.b64encode(response["CiphertextBlob"]).decode("ascii")


def decrypt(kms: Any, ciphertext_b64: str, function_name: str) -> str:
    """The plaintext for a value made by :func:`encrypt` for the same function name."""
    blob = base64.b64decode(ciphertext_b64.strip(), validate=True)
    response = kms.decrypt(CiphertextBlob=blob, EncryptionContext=encryption_context(function_name))
    return bytes(response["Plaintext"]).decode("utf-8")


@dataclass(frozen=True)
class Secret:
    """The shared secret as the function sees it after its cold start.

    ``off``: none configured and none required (local runs). ``ready``: ``value`` holds it
    (and ``previous`` the one it replaces, during a rotation). ``failed``: one was required or
    configured but is unusable; the function must refuse every request. ``reason`` says why,
    never containing the ciphertext or the plaintext."""

    state: Literal["off", "ready", "failed"]
    value: str = ""
    reason: str = ""
    previous: str = ""

    def accepts(self) -> tuple[str, ...]:
        return tuple(v for v in (self.value, self.previous) if v)


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


def load_secret(environ: Any = None, kms: Any = None) -> Secret:
    """Read and decrypt the secret from the environment. Never raises."""
    env = os.environ if environ is None else environ
    ciphertext = str(env.get(SECRET_ENV, "")).strip()
    required = str(env.get(REQUIRE_ENV, "")).strip().lower() in ("1", "true", "yes")
    if not ciphertext:
        if required:
            return Secret("failed", reason=f"{SECRET_ENV} is empty but a secret is required")
        return Secret("off")
    function_name = str(env.get(FUNCTION_ENV, "")).strip()
    if not function_name:
        return Secret("failed", reason=f"{FUNCTION_ENV} is not set; cannot build the context")
    try:
        base64.b64decode(ciphertext, validate=True)
    except (binascii.Error, ValueError):
        return Secret("failed", reason=f"{SECRET_ENV} is not valid base64")
    try:
        if kms is None:
            import boto3  # provided by Lambda's Python runtime

            kms = boto3.client("kms")
        value = decrypt(kms, ciphertext, function_name)
    except Exception as exc:  # any failure closes the function; the reason names no secret
        return Secret(
            "failed",
            reason=f"KMS Decrypt failed ({_error_code(exc)}) under context "
            f"{CONTEXT_KEY}={function_name}",
        )
    if not value:
        return Secret("failed", reason="the decrypted secret is empty")
    previous_ciphertext = str(env.get(PREVIOUS_ENV, "")).strip()
    if not previous_ciphertext:
        return Secret("ready", value=value)
    try:
        previous = decrypt(kms, previous_ciphertext, function_name)
    except Exception as exc:  # the current secret still works: accept only that one
        return Secret(
            "ready",
            value=value,
            reason=f"previous secret not accepted: KMS Decrypt failed ({_error_code(exc)})",
        )
    return Secret("ready", value=value, previous=previous)


def log_secret_state(secret: Secret) -> None:
    """One JSON line at cold start so an operator can see why requests are refused."""
    if secret.state == "off":
        return
    level = "ERROR" if secret.state == "failed" else "WARN" if secret.reason else "INFO"
    record: dict[str, Any] = {"level": level}
    record["event"] = "shared-secret"
    record["state"] = secret.state
    if secret.previous:
        record["previous_accepted"] = True
    if secret.reason:
        record["reason"] = secret.reason
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()
