"""Running edge functions: Lambda@Edge handlers in worker processes, CloudFront Functions in a
Node harness, and one function run once on one event (``invoke``)."""
