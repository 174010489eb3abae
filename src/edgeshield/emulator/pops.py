"""CloudFront POP codes and the AWS region whose Lambda@Edge replica serves them.

A POP code is an airport code, a number and an optional suffix (``IAD89-C1``, ``LHR50-P2``).
Lambda@Edge runs in the regional edge cache nearest the POP, and logs land in that region
(AWS, "Edge function logs", "Lambda@Edge logs":
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html), so
the emulator writes its log groups under the region the
``--pop`` maps to. The mapping is the nearest AWS region by geography (our approximation: AWS
does not publish which regional edge cache serves which POP).
"""

from __future__ import annotations

import re
from typing import Final

from edgeshield.errors import EdgeshieldError

DEFAULT_POP: Final = "IAD89-C1"

# Airport code -> region of the nearest regional edge cache.
AIRPORT_REGION: Final[dict[str, str]] = {
    # North America
    "IAD": "us-east-1", "JFK": "us-east-1", "EWR": "us-east-1", "BOS": "us-east-1",
    "ATL": "us-east-1", "MIA": "us-east-1", "PHL": "us-east-1", "CLT": "us-east-1",
    "ORD": "us-east-2", "DTW": "us-east-2", "CMH": "us-east-2", "MSP": "us-east-2",
    "DFW": "us-east-2", "IAH": "us-east-2", "DEN": "us-west-2", "SEA": "us-west-2",
    "PDX": "us-west-2", "SFO": "us-west-1", "SJC": "us-west-1", "LAX": "us-west-1",
    "PHX": "us-west-1", "SLC": "us-west-2", "YUL": "ca-central-1", "YTO": "ca-central-1",
    "YVR": "us-west-2", "QRO": "us-east-2", "MEX": "us-east-2",
    # South America
    "GRU": "sa-east-1", "GIG": "sa-east-1", "EZE": "sa-east-1", "SCL": "sa-east-1",
    "BOG": "sa-east-1", "LIM": "sa-east-1",
    # Europe
    "LHR": "eu-west-2", "MAN": "eu-west-2", "DUB": "eu-west-1", "CDG": "eu-west-3",
    "MRS": "eu-west-3", "FRA": "eu-central-1", "MUC": "eu-central-1", "HAM": "eu-central-1",
    "DUS": "eu-central-1", "TXL": "eu-central-1", "BER": "eu-central-1", "VIE": "eu-central-1",
    "ZRH": "eu-central-1", "PRG": "eu-central-1", "WAW": "eu-central-1", "AMS": "eu-west-1",
    "BRU": "eu-west-1", "MAD": "eu-west-3", "BCN": "eu-west-3", "LIS": "eu-west-3",
    "MXP": "eu-south-1", "FCO": "eu-south-1", "PMO": "eu-south-1", "ARN": "eu-north-1",
    "CPH": "eu-north-1", "HEL": "eu-north-1", "OSL": "eu-north-1", "ATH": "eu-central-1",
    "SOF": "eu-central-1", "BUD": "eu-central-1", "OTP": "eu-central-1",
    # Middle East and Africa
    "DXB": "me-south-1", "FJR": "me-south-1", "BAH": "me-south-1", "TLV": "il-central-1",
    "JNB": "af-south-1", "CPT": "af-south-1", "NBO": "af-south-1", "LOS": "af-south-1",
    # Asia Pacific
    "NRT": "ap-northeast-1", "HND": "ap-northeast-1", "KIX": "ap-northeast-3",
    "ICN": "ap-northeast-2", "TPE": "ap-northeast-1", "HKG": "ap-east-1",
    "SIN": "ap-southeast-1", "KUL": "ap-southeast-1", "BKK": "ap-southeast-1",
    "MNL": "ap-southeast-1", "CGK": "ap-southeast-1", "HAN": "ap-southeast-1",
    "SGN": "ap-southeast-1", "BOM": "ap-south-1", "DEL": "ap-south-1", "MAA": "ap-south-1",
    "BLR": "ap-south-1", "HYD": "ap-south-1", "CCU": "ap-south-1", "SYD": "ap-southeast-2",
    "MEL": "ap-southeast-2", "BNE": "ap-southeast-2", "PER": "ap-southeast-2",
    "AKL": "ap-southeast-2",
}  # fmt: skip

_POP_RE: Final = re.compile(r"^([A-Z]{3})(\d{1,3})(-[A-Z0-9]{1,4})?$")


class PopError(EdgeshieldError, ValueError):
    """A --pop value that is not a CloudFront POP code we know."""


def region_for_pop(pop: str) -> str:
    """``"LHR50-C1"`` -> ``"eu-west-2"``. Raises PopError with the accepted form."""
    match = _POP_RE.match(pop.strip().upper())
    if not match:
        raise PopError(
            f"invalid POP code {pop!r}: expected an airport code, a number and an optional "
            "suffix, like IAD89-C1 or LHR50-P2"
        )
    airport = match.group(1)
    region = AIRPORT_REGION.get(airport)
    if region is None:
        known = ", ".join(sorted(AIRPORT_REGION))
        raise PopError(f"unknown POP airport code {airport!r} in {pop!r}; known codes: {known}")
    return region


def normalize_pop(pop: str) -> str:
    return pop.strip().upper()
