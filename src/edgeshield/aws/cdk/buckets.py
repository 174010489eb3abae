"""The one kind of S3 bucket the stack makes: private, encrypted, TLS-only, versioned, kept.

The access-log bucket, the site bucket and the collector's reports bucket differ only in object
ownership, lifecycle and where their own access logs go; everything that makes a bucket safe
to leave alone is said once, here.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct


def private_bucket(scope: Construct, construct_id: str, **settings: Any) -> s3.Bucket:
    """A bucket no one reaches in plain HTTP or without IAM; ``settings`` add to the rest
    (``object_ownership``, ``lifecycle_rules``, ``server_access_logs_*``)."""
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        versioned=True,
        # Buckets hold the site, its logs and its reports: deleting the stack must not.
        removal_policy=RemovalPolicy.RETAIN,
        **settings,
    )
