"""The per-page manifest: validation with file and line, compilation, and the lookup at the
edge through the real handler, run from the bundle in a fresh interpreter."""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeshield.bundle import build_zip, stage
from edgeshield.cloudfront import build_event, validate_result
from edgeshield.csp import FitOptions, fit_policy
from edgeshield.policy import PolicyError, compile_policy, load, load_policy, load_preset
from edgeshield.policy.csp import parse_raw
from edgeshield.policy.csp_pages import manifest_text
from edgeshield.policy.presets import preset_text
from tests.csp.sites import write_site
from tests.edge.test_handler import invoke

HASH = "'sha256-" + "A" * 43 + "='"
HASH2 = "'sha256-" + "B" * 43 + "='"


def per_page_policy(
    tmp_path: Path, pages: dict[str, dict[str, list[str]]], extra: str = ""
) -> Path:
    fitted = fit_policy(
        write_site(tmp_path / "site", 2), preset_text("strict"), FitOptions(mode="union")
    )
    text = fitted.policy_text.replace(
        "[headers.content-security-policy.fitted]\n",
        '[headers.content-security-policy.fitted]\nper-page = "pages.json"\n',
    )
    (tmp_path / "p.toml").write_text(text + extra)
    (tmp_path / "pages.json").write_text(manifest_text(pages))
    return tmp_path / "p.toml"


def csp_of(result: dict[str, Any]) -> str:
    value: str = result["headers"]["content-security-policy"][0]["value"]
    return value


def html(uri: str, status: int = 200) -> dict[str, Any]:
    return build_event(
        "origin-response",
        uri=uri,
        status=status,
        response_headers=[("Content-Type", "text/html; charset=utf-8"), ("Server", "AmazonS3")],
    )


def test_manifest_errors_name_the_file_and_line(tmp_path: Path) -> None:
    policy = per_page_policy(
        tmp_path,
        {
            "/a.html": {"script-src": [HASH]},
            "/b.html": {"script-src": ["'sha256-short'"]},
            "/c.html": {"object-src": ["'unsafe-inline'"], "frame-ancestors": ["'self'"]},
            "relative.html": {"img-src": ["data:"]},
        },
    )
    with pytest.raises(PolicyError) as caught:
        load(policy)
    lines = [p.format() for p in caught.value.errors]
    manifest = str(tmp_path / "pages.json")
    assert any(
        line.startswith(f"{manifest}:3: pages./b.html.script-src: malformed hash") for line in lines
    ), lines
    assert any(line.startswith(f"{manifest}:4: pages./c.html.object-src:") for line in lines), lines
    assert any(
        line.startswith(
            f"{manifest}:4: pages./c.html.frame-ancestors: 'frame-ancestors' cannot be set per page"
        )
        for line in lines
    ), lines
    assert any(
        line.startswith(f"{manifest}:5: pages.relative.html: not a request path") for line in lines
    ), lines


def test_missing_or_broken_manifest(tmp_path: Path) -> None:
    policy = per_page_policy(tmp_path, {})
    (tmp_path / "pages.json").unlink()
    with pytest.raises(PolicyError, match=r"pages.json:\d+: per-page: no such file"):
        load(policy)
    (tmp_path / "pages.json").write_text('{"format": 1, "pages": {\n"/a": [}')
    with pytest.raises(PolicyError, match=r"pages.json:2: per-page: not valid JSON"):
        load(policy)


def test_per_page_only_at_the_top(tmp_path: Path) -> None:
    rule = """
[[rules]]
name = "docs"
match = { path = ["/docs/*"] }
[rules.set.content-security-policy]
directives = { default-src = ["'none'"] }
fitted = { per-page = "pages.json" }
"""
    policy = per_page_policy(tmp_path, {}, rule)
    _policy, problems = load_policy(policy)
    assert any("per-page is not allowed in a rule" in p.format() for p in problems)


def test_bad_fitted_table_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        preset_text("strict")
        + '\n[headers.content-security-policy.fitted]\nscript-src = ["\'sha256-nope\'"]\nsandbox = ["x"]\n'
    )
    with pytest.raises(PolicyError) as caught:
        load(path)
    text = str(caught.value)
    bad_line = path.read_text().splitlines().index("script-src = [\"'sha256-nope'\"]") + 1
    assert (
        f"p.toml:{bad_line}: headers.content-security-policy.fitted.script-src: malformed hash"
        in text
    )
    assert "fitted.sandbox: 'sandbox' cannot be fitted" in text


def test_handler_looks_each_page_up_from_the_bundle(tmp_path: Path) -> None:
    policy = per_page_policy(
        tmp_path,
        {
            "/index.html": {"script-src": [HASH]},
            "/docs/index.html": {"script-src": [HASH2], "media-src": ["'self'"]},
            "/docs/a%20b.html": {"img-src": ["https://img.example"]},
        },
    )
    compiled = compile_policy(load(policy)[0])
    info = build_zip(compiled, tmp_path / "edge.zip")
    root = tmp_path / "unzipped"
    with zipfile.ZipFile(info.path) as archive:
        assert "edgeshield/edge/pages.py" in archive.namelist()
        shipped = json.loads(archive.read("edgeshield/edge/policy.json"))
        archive.extractall(root)
    paths = shipped["csp_pages"]["paths"]
    assert sorted(paths) == [
        "/",
        "/docs",
        "/docs/",
        "/docs/a%20b.html",
        "/docs/index.html",
        "/index.html",
    ]
    assert paths["/"] == paths["/index.html"]
    assert paths["/docs"] == paths["/docs/"] == paths["/docs/index.html"]
    assert len(set(paths.values())) == len(shipped["csp_pages"]["variants"]) == 3
    base = compiled["csp_pages"]["base"]
    seen = {}
    for uri in (
        "/",
        "/index.html",
        "/docs/",
        "/docs",
        "/docs/index.html",
        "/docs/a%20b.html",
        "/other.html",
        "/docs/index.htm",
    ):
        event = html(uri)
        result, logs = invoke(root, event)
        assert logs == []
        assert validate_result("origin-response", event, result) == []
        seen[uri] = csp_of(result)
    base_dirs = parse_raw(base)[0]
    assert seen["/"] == seen["/index.html"]
    assert parse_raw(seen["/"])[0] == {**base_dirs, "script-src": [*base_dirs["script-src"], HASH]}
    assert seen["/docs"] == seen["/docs/"] == seen["/docs/index.html"]
    assert parse_raw(seen["/docs/"])[0] == {
        **base_dirs,
        "script-src": [*base_dirs["script-src"], HASH2],
        "media-src": ["'self'"],  # absent from the base: starts from default-src 'none'
    }
    assert seen["/docs/"].endswith("; media-src 'self'")
    assert parse_raw(seen["/docs/a%20b.html"])[0]["img-src"] == [
        *base_dirs["img-src"],
        "https://img.example",
    ]
    assert seen["/other.html"] == seen["/docs/index.htm"] == base


def test_a_rule_that_replaces_the_csp_wins_over_the_manifest(tmp_path: Path) -> None:
    rule = """
[[rules]]
name = "docs have their own"
match = { path = ["/docs/*"] }
set = { content-security-policy = "default-src 'self'" }

[[rules]]
name = "no csp on errors"
match = { status = ["4xx"] }
drop = ["content-security-policy"]
"""
    policy = per_page_policy(
        tmp_path,
        {"/docs/index.html": {"script-src": [HASH]}, "/x.html": {"script-src": [HASH]}},
        rule,
    )
    root = stage(compile_policy(load(policy)[0]), tmp_path / "bundle")
    result, _ = invoke(root, html("/docs/index.html"))
    assert csp_of(result) == "default-src 'self'"
    result, _ = invoke(root, html("/x.html", status=404))
    assert "content-security-policy" not in result["headers"]
    result, _ = invoke(root, html("/x.html"))
    assert HASH in csp_of(result)


def test_report_only_csp_gets_its_pages_too(tmp_path: Path) -> None:
    policy = per_page_policy(tmp_path, {"/a.html": {"script-src": [HASH]}})
    policy.write_text(policy.read_text().replace('mode = "enforce"', 'mode = "report-only"', 1))
    root = stage(compile_policy(load(policy)[0]), tmp_path / "bundle")
    result, _ = invoke(root, html("/a.html"))
    assert HASH in result["headers"]["content-security-policy-report-only"][0]["value"]
    assert "content-security-policy" not in result["headers"]


_SOURCES = st.sampled_from(
    ["'self'", "data:", "https://cdn.example", HASH, HASH2, "'unsafe-hashes'", "blob:"]
)
_DIRECTIVES = st.sampled_from(
    ["script-src", "style-src", "img-src", "media-src", "worker-src", "frame-src", "base-uri"]
)
_PAGES = st.dictionaries(
    st.sampled_from(["/a.html", "/b/index.html", "/b/c.html", "/index.html", "/x%20y.html"]),
    st.dictionaries(
        _DIRECTIVES, st.lists(_SOURCES, min_size=1, max_size=3, unique=True), max_size=3
    ),
    max_size=5,
)


@settings(max_examples=60)
@given(pages=_PAGES)
def test_the_edge_sends_what_the_policy_merge_says(pages: dict[str, dict[str, list[str]]]) -> None:
    """For any manifest, the header the engine sends for a page is the base CSP with that page's
    sources merged in (the policy-level rule), under every path that serves the page."""
    from edgeshield.edge.engine import Engine
    from edgeshield.policy.csp import render
    from edgeshield.policy.csp_pages import CspPages, merge_sources, request_aliases

    policy = load_preset("strict")
    value = next(s.value for s in policy.headers if s.name == "content-security-policy")
    table = {p: {d: tuple(s) for d, s in t.items()} for p, t in pages.items()}
    policy = dataclasses.replace(
        policy, csp_pages=CspPages("content-security-policy", "m.json", "index.html", table)
    )
    engine = Engine(compile_policy(policy))
    base = parse_raw(value)[0]
    for page, sources in pages.items():
        want = render(merge_sources(base, sources))
        for uri in request_aliases(page, "index.html"):
            if uri != page and uri in pages:
                continue
            result, _plan, _matched = engine.apply(html(uri)["Records"][0]["cf"]["response"], uri)
            assert csp_of(result) == want
    result, _plan, _matched = engine.apply(
        html("/none.html")["Records"][0]["cf"]["response"], "/none.html"
    )
    assert csp_of(result) == value


def test_served_through_the_local_edge_each_page_gets_its_own_csp(tmp_path: Path) -> None:
    """The folder as an S3-like origin behind `serve`'s edge, the fitted per-page policy on the
    real function: every page's own hash arrives over HTTP, under each path that serves it."""
    from edgeshield import LocalEdge
    from tests.csp.test_fit import page_script

    site = write_site(tmp_path / "site", pages=10)
    fitted = fit_policy(site, preset_text("strict"), FitOptions(mode="per-page"), "pages.json")
    (tmp_path / "policy.toml").write_text(fitted.policy_text)
    assert fitted.manifest_text is not None
    (tmp_path / "pages.json").write_text(fitted.manifest_text)
    with LocalEdge(
        origin=str(site), policy=tmp_path / "policy.toml", state_dir=tmp_path / "state"
    ) as edge:
        for path, number in (("/docs/page-4.html", 4), ("/docs/section-3/index.html", 3), ("/", 0)):
            page = edge.get(path)
            assert page.status == 200, path
            csp = page.header("content-security-policy") or ""
            assert page_script(number) in csp, path
            assert page_script(1) not in csp, path  # another page's hash is not there
        image = edge.get("/favicon.svg").header("content-security-policy") or ""
        assert "'sha256-" in image and page_script(4) not in image  # the shared base only
