"""The local edge runs the other two mechanisms for real: response headers policies per cache
behaviour, and CloudFront Functions in Node at viewer-request/viewer-response, with
CloudFront's answers when they fail and CloudFront's log group in us-east-1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from edgeshield.emulator.logstore import read_events
from edgeshield.emulator.runner import FunctionOption, ServeConfig, ServeError, prepare, start
from edgeshield.policy import compile_policy, load_preset, preset_text
from edgeshield.targets import rhp
from tests.emulator.helpers import fetch, run_cli, start_serve

Reply = tuple[int, dict[str, str], list[tuple[str, str]], bytes]


async def origin_app() -> tuple[web.AppRunner, str]:
    """An origin that discloses itself and sets its own X-Frame-Options on /framed."""

    async def handle(request: web.Request) -> web.StreamResponse:
        headers = {"Server": "nginx", "X-Powered-By": "Express", "Cache-Control": "max-age=60"}
        if request.path == "/framed":
            headers["X-Frame-Options"] = "SAMEORIGIN"
        if request.path.startswith("/missing"):
            return web.Response(status=404, text="nope", headers=headers)
        if request.path.startswith("/api/"):
            return web.json_response({"ok": True}, headers=headers)
        return web.Response(text="<p>hi</p>", content_type="text/html", headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def edge(tmp: Path, scenario: Callable[[str], Awaitable[Any]], **settings: Any) -> Any:
    runner, origin = await origin_app()
    settings.setdefault("policy_function", False)  # only the mechanism under test
    config = ServeConfig(port=0, cwd=tmp, access_log=None, origin=origin, reload=False, **settings)
    running = await start(prepare(config))
    try:
        return await scenario(running.url.rstrip("/"))
    finally:
        await running.close()
        await runner.cleanup()


async def get(url: str, headers: dict[str, str] | None = None) -> Reply:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as r:
        body = await r.read()
        lower = {k.lower(): v for k, v in r.headers.items()}
        return r.status, lower, list(r.headers.items()), body


def write_policy(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(json.dumps(config))
    return path


# -- response headers policies --------------------------------------------------------------


def test_policy_applies_to_hits_misses_and_errors_with_override_semantics(tmp_path: Path) -> None:
    policy = write_policy(
        tmp_path / "rhp.json",
        {
            "Name": "t",
            "SecurityHeadersConfig": {
                "FrameOptions": {"FrameOption": "DENY", "Override": False},
                "ContentTypeOptions": {"Override": True},
                "StrictTransportSecurity": {
                    "AccessControlMaxAgeSec": 63072000,
                    "IncludeSubdomains": True,
                    "Preload": True,
                    "Override": True,
                },
            },
            "CustomHeadersConfig": {
                "Items": [{"Header": "Cache-Control", "Value": "no-store", "Override": True}]
            },
            "RemoveHeadersConfig": {"Items": [{"Header": "X-Powered-By"}, {"Header": "Server"}]},
        },
    )

    async def scenario(base: str) -> list[Reply]:
        return [await get(f"{base}{p}") for p in ("/page", "/page", "/framed", "/missing")]

    first, second, framed, missing = asyncio.run(
        edge(tmp_path, scenario, response_headers_policies=[("*", policy)])
    )
    assert first[1]["x-cache"] == "Miss from cloudfront"
    assert second[1]["x-cache"] == "Hit from cloudfront"
    for _status, headers, _raw, _body in (first, second, missing):
        assert headers["x-frame-options"] == "DENY"  # the origin sent none: added
        assert headers["x-content-type-options"] == "nosniff"
        assert (
            headers["strict-transport-security"] == "max-age=63072000; includeSubDomains; preload"
        )
        assert headers["cache-control"] == "no-store"  # override: the origin's is replaced
        assert "x-powered-by" not in headers
        assert headers["server"] == "CloudFront"  # removed, then CloudFront's own
    assert missing[0] == 404  # error responses get the policy too
    assert framed[1]["x-frame-options"] == "SAMEORIGIN"  # Override false: the origin's wins
    assert [k for k, _v in framed[2] if k.lower() == "x-frame-options"] == ["X-Frame-Options"]


def test_per_cache_behaviour_first_match_default_last(tmp_path: Path) -> None:
    api = write_policy(
        tmp_path / "api.json",
        {
            "CustomHeadersConfig": {
                "Items": [{"Header": "X-Which", "Value": "api", "Override": True}]
            }
        },
    )
    site = write_policy(
        tmp_path / "site.json",
        {
            "CustomHeadersConfig": {
                "Items": [{"Header": "X-Which", "Value": "site", "Override": True}]
            }
        },
    )

    async def scenario(base: str) -> list[str]:
        return [
            (await get(f"{base}{p}"))[1].get("x-which", "") for p in ("/api/x", "/page", "/apix")
        ]

    # The default behaviour is given first on purpose: it still goes last.
    got = asyncio.run(
        edge(tmp_path, scenario, response_headers_policies=[("*", site), ("/api/*", api)])
    )
    assert got == ["api", "site", "site"]


def test_policy_compiled_from_edgeshield_toml_matches_the_function(tmp_path: Path) -> None:
    compiled = compile_policy(load_preset("helmet"))
    config = rhp.config(compiled, "helmet")

    async def scenario(base: str) -> Reply:
        return await get(f"{base}/page")

    with_policy = asyncio.run(edge(tmp_path / "a", scenario, generated_policies=[("*", config)]))
    helmet = tmp_path / "helmet.toml"
    helmet.write_text(preset_text("helmet"))
    with_lambda = asyncio.run(edge(tmp_path / "b", scenario, policy=helmet, policy_function=True))
    volatile = {"date", "x-amz-cf-id", "via", "age", "content-length"}
    a = {k: v for k, v in with_policy[1].items() if k not in volatile}
    b = {k: v for k, v in with_lambda[1].items() if k not in volatile}
    assert a == b


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"CorsConfig": {}}, "CorsConfig is not emulated"),
        (
            {"SecurityHeadersConfig": {"FrameOptions": {"FrameOption": "DENY", "Override": "yes"}}},
            "Override must be true or false",
        ),
        (
            {
                "CustomHeadersConfig": {
                    "Items": [{"Header": "X-A", "Value": "a\nb", "Override": True}]
                }
            },
            "without control characters",
        ),
    ],
)
def test_bad_policy_file_is_a_clear_serve_error(tmp_path: Path, config: Any, message: str) -> None:
    path = write_policy(tmp_path / "bad.json", config)
    with pytest.raises(ServeError, match=message):
        prepare(ServeConfig(port=0, cwd=tmp_path, response_headers_policies=[("*", path)]))


# -- CloudFront Functions ---------------------------------------------------------------------

HEADERS_JS = """
function handler(event) {
  var response = event.response;
  console.log('status ' + response.statusCode + ' uri ' + event.request.uri);
  response.headers['x-from-function'] = { value: 'yes' };
  delete response.headers['x-powered-by'];
  return response;
}
"""

REQUEST_JS = """
function handler(event) {
  var request = event.request;
  if (request.uri === '/blocked') {
    return { statusCode: 403, statusDescription: 'Forbidden',
             headers: { 'content-type': { value: 'text/plain' } }, body: 'no' };
  }
  if (request.uri === '/throw') { throw new Error('boom'); }
  if (request.uri === '/eval') { return eval('request'); }
  if (request.uri === '/loop') { while (true) {} }
  if (request.uri === '/fs') { return require('fs').readFileSync('/etc/passwd'); }
  if (request.uri === '/bad-header') { request.headers['x-cache'] = { value: 'x' }; return request; }
  request.uri = request.uri === '/rewrite' ? '/page' : request.uri;
  request.headers['x-seen'] = { value: '1' };
  return request;
}
"""


def functions(tmp: Path) -> list[tuple[str, Path]]:
    (tmp / "headers.js").write_text(HEADERS_JS)
    (tmp / "gate.js").write_text(REQUEST_JS)
    return [("viewer-response", tmp / "headers.js"), ("viewer-request", tmp / "gate.js")]


def test_functions_run_in_node_with_cloudfront_answers(tmp_path: Path) -> None:
    paths = ("/page", "/page", "/missing", "/blocked", "/throw", "/eval", "/loop", "/fs",
             "/bad-header", "/rewrite")  # fmt: skip

    async def scenario(base: str) -> dict[str, Reply]:
        return {p + str(i): await get(base + p) for i, p in enumerate(paths)}

    got = asyncio.run(
        edge(tmp_path, scenario, cloudfront_functions=functions(tmp_path), cff_timeout_ms=200)
    )
    page, hit, missing = got["/page0"], got["/page1"], got["/missing2"]
    assert page[0] == 200 and page[1]["x-from-function"] == "yes" and "x-powered-by" not in page[1]
    assert hit[1]["x-cache"] == "Hit from cloudfront" and hit[1]["x-from-function"] == "yes"
    # Origin status >= 400: CloudFront does not call the viewer-response function.
    assert missing[0] == 404 and "x-from-function" not in missing[1]
    assert missing[1]["x-powered-by"] == "Express"
    blocked = got["/blocked3"]
    assert blocked[0] == 403 and blocked[3] == b"no"
    assert blocked[1]["x-cache"] == "FunctionGeneratedResponse from cloudfront"
    for key in ("/throw4", "/eval5", "/loop6", "/fs7"):
        assert got[key][0] == 503, key
        assert got[key][1]["x-cache"] == "FunctionExecutionError from cloudfront", key
    assert got["/bad-header8"][0] == 502
    assert got["/bad-header8"][1]["x-cache"] == "FunctionValidationError from cloudfront"
    assert got["/rewrite9"][0] == 200 and got["/rewrite9"][3] == b"<p>hi</p>"

    events = list(read_events(tmp_path / ".edgeshield" / "logs"))
    mine = [e for e in events if e.group == "/aws/cloudfront/function/headers"]
    assert mine and {e.region for e in mine} == {"us-east-1"}
    text = [e.message for e in mine]
    assert any(m.endswith("START DistributionID: EDFDVBD6EXAMPLE") for m in text)
    assert any(m.endswith(" status 200 uri /page") for m in text)
    assert any(m.endswith(" END") for m in text)
    gate = [e.message for e in events if e.group == "/aws/cloudfront/function/gate"]
    assert any("FunctionExecutionError" in m and "boom" in m for m in gate)
    assert any("compute utilization over 100" in m for m in gate)


def test_function_limits_refused_at_start(tmp_path: Path) -> None:
    big = tmp_path / "big.js"
    big.write_text("function handler(e) { return e.response; }\n//" + "x" * 10 * 1024)
    with pytest.raises(ServeError, match="at most 10,240 bytes"):
        prepare(ServeConfig(port=0, cwd=tmp_path, cloudfront_functions=[("viewer-response", big)]))
    broken = tmp_path / "broken.js"
    broken.write_text("function handler(e) { return e.response; ")

    async def scenario(base: str) -> None:
        return None

    with pytest.raises(ServeError, match="broken"):
        asyncio.run(edge(tmp_path, scenario, cloudfront_functions=[("viewer-response", broken)]))
    gate = tmp_path / "gate.js"
    gate.write_text(REQUEST_JS)
    with pytest.raises(ServeError, match="cannot share a viewer event"):
        prepare(
            ServeConfig(
                port=0,
                cwd=tmp_path,
                functions=[FunctionOption("viewer-request", "x.handler")],
                cloudfront_functions=[("viewer-request", gate)],
            )
        )


def test_serve_cli_mechanism_cloudfront_function(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<p>hi</p>")
    proc = start_serve(
        tmp_path,
        "--origin",
        str(site),
        "--mechanism",
        "cloudfront-function",
        "--quiet",
        "--no-collector",
    )
    try:
        ok = fetch(proc.port, "/index.html")
        missing = fetch(proc.port, "/nothing-here.html")
    finally:
        proc.stop()
    assert ok.status == 200
    assert ok.header("content-security-policy") is not None
    assert ok.header("x-frame-options") == "DENY"
    assert missing.status >= 400 and missing.header("x-frame-options") is None
    groups = {(e.region, e.group) for e in read_events(tmp_path / ".edgeshield" / "logs")}
    assert ("us-east-1", "/aws/cloudfront/function/edgeshield-security-headers") in groups
    # no Lambda@Edge function ran: the policy went through the CloudFront Function only
    assert not any(g.startswith("/aws/lambda/") for _r, g in groups)


def test_serve_cli_bad_options_exit_2(tmp_path: Path) -> None:
    for args in (
        ("--mechanism", "fastly"),
        ("--cloudfront-function", "origin-response=x.js"),
        ("--response-headers-policy", "api/*=x.json"),
        ("--response-headers-policy", "missing.json"),
    ):
        done = run_cli(tmp_path, "serve", "--port", "0", *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr


def test_async_handler_and_missing_headers_key(tmp_path: Path) -> None:
    """runtime 2.0 handlers may be async; a result without ``headers`` keeps the request's."""
    (tmp_path / "a.js").write_text(
        "async function handler(event) {\n"
        "  if (event.request.uri === '/async-throw') { throw new Error('later'); }\n"
        "  return { method: event.request.method, uri: event.request.uri };\n"
        "}\n"
    )

    async def scenario(base: str) -> list[Reply]:
        return [await get(base + "/page"), await get(base + "/async-throw")]

    ok, failed = asyncio.run(
        edge(tmp_path, scenario, cloudfront_functions=[("viewer-request", tmp_path / "a.js")])
    )
    assert ok[0] == 200 and ok[3] == b"<p>hi</p>"  # Host kept: the origin was reached
    assert failed[0] == 503
    assert failed[1]["x-cache"] == "FunctionExecutionError from cloudfront"


def test_behaviour_is_chosen_by_the_viewers_path_not_the_rewritten_one(tmp_path: Path) -> None:
    """CloudFront picks the cache behaviour from the viewer's path, before any function runs."""
    api = write_policy(
        tmp_path / "api.json",
        {
            "CustomHeadersConfig": {
                "Items": [{"Header": "X-Which", "Value": "api", "Override": True}]
            }
        },
    )
    (tmp_path / "rewrite.js").write_text(
        "function handler(event) { event.request.uri = '/page'; return event.request; }\n"
    )

    async def scenario(base: str) -> Reply:
        return await get(base + "/api/anything")

    got = asyncio.run(
        edge(
            tmp_path,
            scenario,
            cloudfront_functions=[("viewer-request", tmp_path / "rewrite.js")],
            response_headers_policies=[("/api/*", api)],
        )
    )
    assert got[3] == b"<p>hi</p>"  # the origin saw the rewritten path
    assert got[1]["x-which"] == "api"  # the policy of the viewer's behaviour
