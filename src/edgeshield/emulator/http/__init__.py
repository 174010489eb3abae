"""The local edge's HTTP side: the aiohttp server viewers talk to, its guards against malformed
requests, and the certificates for ``--tls``."""
