"""edgeshield: security headers for every response a CloudFront distribution serves."""

__version__ = "0.1.0"
