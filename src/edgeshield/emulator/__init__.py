"""The local CloudFront edge behind ``edgeshield serve``, in rooms:

* ``config`` — what a local edge is asked to be (``ServeConfig`` and its checks);
* ``runner`` — assembles origin, functions, cache and server from a config, and runs them;
* ``collector_route`` — the local CSP-report collector the runner can mount on the edge;
* ``pipeline/`` — one request through CloudFront's stages, with no I/O of its own beyond its
  origin and invoker (unit-tested in-process);
* ``functions/`` — running the edge functions (Lambda@Edge workers, CloudFront Functions);
* ``http/`` — the HTTP server viewers talk to, its guards, TLS;
* ``console``, ``stats``, ``logstore``, ``pops`` — what the edge tells its user, and the local
  CloudWatch Logs it writes.
"""
