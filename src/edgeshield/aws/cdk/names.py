"""Names the CDK app and its stack both need, so that neither imports the other."""

from __future__ import annotations

import re

DEFAULT_STACK_NAME = "EdgeShield"
DEFAULT_REGION = "us-east-1"
# CloudFormation's stack-name rule, kept short enough for "<name>-csp-collector" to be a
# valid Lambda function name (64 characters).
STACK_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,40}$")

# The stack's parameters for the collector's shared secret and the output naming its key:
# ``aws.deploy`` sets and reads them without loading aws-cdk-lib.
SECRET_PARAMETER = "CollectorSecret"
CIPHERTEXT_PARAMETER = "CollectorSecretCiphertext"
PREVIOUS_PARAMETER = "CollectorPreviousSecretCiphertext"
KEY_OUTPUT = "CollectorKeyArn"
