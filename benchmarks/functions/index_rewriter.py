"""An origin-request function of the most common kind: a path that names a directory (ends in
"/" or has no file extension) is sent to the origin as that directory's index.html. A benchmark
input for `benchmarks/emulator.py --function origin-request=index_rewriter.handler`."""

import posixpath
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request: dict[str, Any] = event["Records"][0]["cf"]["request"]
    uri: str = request["uri"]
    if uri.endswith("/"):
        request["uri"] = uri + "index.html"
    elif not posixpath.splitext(uri)[1]:
        request["uri"] = uri + "/index.html"
    return request
