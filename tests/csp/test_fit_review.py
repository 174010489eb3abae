"""What fit does for sites the first review had not seen: WebAssembly compiled by the site's
scripts (Pagefind's search), hosts in per-page mode (client-side routing keeps one document),
error pages under a base path, stylesheets on other hosts."""

from __future__ import annotations

from pathlib import Path

from edgeshield.csp import FitOptions, fit_policy, fit_site, plan
from edgeshield.csp.fitpolicy import strict_csp
from edgeshield.policy.presets import preset_text


def _page(body: str, head: str = "") -> str:
    return f"<!doctype html><html><head><title>t</title>{head}</head><body>{body}</body></html>"


def _write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_scripts_that_compile_webassembly_get_wasm_unsafe_eval(tmp_path: Path) -> None:
    site = _write(
        tmp_path / "site",
        {
            "index.html": _page('<script src="/pagefind/pagefind.js"></script>'),
            "pagefind/pagefind.js": "let a = 1;\n"
            "const m = await WebAssembly.instantiate(bytes, imports);\n",
        },
    )
    result = fit_site(site)
    reasons = result.site["script-src"]["'wasm-unsafe-eval'"]
    assert reasons[0].location == "pagefind/pagefind.js:2"
    assert "WebAssembly.instantiate" in reasons[0].why
    chosen = plan(result, strict_csp())
    assert "'wasm-unsafe-eval'" in chosen.fitted["script-src"]
    assert "'unsafe-eval'" not in chosen.fitted["script-src"]


def test_a_mere_mention_of_webassembly_adds_nothing(tmp_path: Path) -> None:
    site = _write(
        tmp_path / "site",
        {
            "index.html": _page('<script src="/app.js"></script>'),
            "app.js": 'const supported = typeof WebAssembly === "object"; // WebAssembly docs\n',
        },
    )
    assert "script-src" not in fit_site(site).site


def _routed_site(root: Path, marker: str = '<div id="__docusaurus">') -> Path:
    files = {
        "index.html": _page(marker + '<img src="https://a.example/x.png"><script>a()</script>'),
        "blog/index.html": _page(
            marker + '<img src="https://b.example/y.png"><script>b()</script>'
        ),
    }
    # Enough pages with scripts of their own that one CSP for all is above auto's 4,096 bytes.
    for n in range(70):
        files[f"p/{n}.html"] = _page(f"<script>page({n})</script>")
    return _write(root, files)


def test_per_page_mode_shares_hosts_on_a_client_routed_site(tmp_path: Path) -> None:
    plain = plan(fit_site(_routed_site(tmp_path / "plain", marker="")), strict_csp())
    assert "https://b.example" not in plain.fitted.get("img-src", [])  # each page its own
    site = _routed_site(tmp_path / "site")
    chosen = plan(fit_site(site), strict_csp(), FitOptions(mode="per-page"))
    assert chosen.mode == "per-page"
    # Landing on / and following a link to /blog/ (rendered in place) loads b.example's image
    # under /'s CSP: every page allows both hosts.
    assert {"https://a.example", "https://b.example"} <= set(chosen.fitted["img-src"])
    for own in chosen.pages.values():
        assert all(s.startswith("'sha") for sources in own.values() for s in sources), own


def test_auto_mode_keeps_one_csp_for_a_client_routed_site(tmp_path: Path) -> None:
    plain = plan(fit_site(_routed_site(tmp_path / "plain", marker="")), strict_csp())
    assert plain.mode == "per-page"  # the same site without a client router is split
    result = fit_site(_routed_site(tmp_path / "routed"))
    assert result.client_routing == "Docusaurus (index.html)"
    chosen = plan(result, strict_csp())
    assert chosen.mode == "union"
    assert 4096 < chosen.union_bytes <= 8192


def test_forcing_per_page_on_a_client_routed_site_warns(tmp_path: Path) -> None:
    site = _routed_site(tmp_path / "site", marker='<div id="___gatsby">')
    fitted = fit_policy(site, preset_text("strict"), FitOptions(mode="per-page"))
    assert any("routes on the client (Gatsby" in w for w in fitted.result.warnings)
    union = fit_policy(site, preset_text("strict"), FitOptions(mode="union"))
    assert not any("routes on the client" in w for w in union.result.warnings)


def test_a_404_page_under_a_base_path_is_shared_by_every_page(tmp_path: Path) -> None:
    site = _write(
        tmp_path / "site",
        {
            "blog/index.html": _page("<script>home()</script>"),
            "blog/404.html": _page("<style>.missing{color:red}</style>"),
            "blog/a.html": _page("<script>a()</script>"),
        },
    )
    result = fit_site(site)
    chosen = plan(result, strict_csp(), FitOptions(mode="per-page"))
    style = next(iter(result.sources_for_page_only("/blog/404.html")["style-src"]))
    assert style in chosen.fitted["style-src"]  # served for every missing path under /blog/


def test_stylesheets_on_other_hosts_are_named(tmp_path: Path) -> None:
    css = "https://cdn.jsdelivr.net/npm/fork-awesome@1.2.0/css/fork-awesome.min.css"
    site = _write(
        tmp_path / "site",
        {
            "index.html": _page(
                "",
                f'<link rel="stylesheet" href="{css}">'
                '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Lato">',
            )
        },
    )
    warnings = fit_site(site).warnings
    named = [w for w in warnings if "stylesheets from" in w]
    assert len(named) == 1 and "https://cdn.jsdelivr.net" in named[0]
    assert "font-src" in named[0] and named[0].startswith("index.html:")


def test_a_refit_without_crawl_says_what_it_dropped(tmp_path: Path) -> None:
    from edgeshield.csp.fit_run import FitJob, run_fit, write_fit

    site = _write(tmp_path / "site", {"index.html": _page("<script>home()</script>")})
    policy = tmp_path / "edgeshield.toml"
    write_fit(run_fit(FitJob(site, None, policy)))
    heading = "[headers.content-security-policy.fitted]\n"
    crawled = "'sha256-ig33Q4sAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='"  # as a crawl adds it
    fitted_text = policy.read_text()
    assert heading in fitted_text
    policy.write_text(fitted_text.replace(heading, f'{heading}style-src-elem = ["{crawled}"]\n'))
    again = run_fit(FitJob(site, policy, policy))
    notes = [w for w in again.fitted.result.warnings if "earlier fit allowed are gone" in w]
    assert len(notes) == 1 and crawled in notes[0] and "--crawl" in notes[0]
    # The same source in the user's own directives is not gone: no note.
    own = "[headers.content-security-policy.directives]\n"
    assert own in fitted_text
    policy.write_text(
        fitted_text.replace(heading, f'{heading}style-src-elem = ["{crawled}"]\n').replace(
            own, f'{own}style-src-elem = ["{crawled}"]\n'
        )
    )
    quiet = run_fit(FitJob(site, policy, policy))
    assert not [w for w in quiet.fitted.result.warnings if "earlier fit allowed" in w]


def test_hosts_that_redirect_elsewhere_bring_their_target(tmp_path: Path) -> None:
    site = _write(
        tmp_path / "site",
        {
            "index.html": _page(
                '<img src="https://github.com/slorber.png">'
                '<img src="https://github.com/o/r/raw/main/logo.svg">'
                '<form action="//google.com/search"><input name="q"></form>'
                '<img src="https://github.com/o/r">'
            )
        },
    )
    chosen = plan(fit_site(site), strict_csp())
    assert set(chosen.fitted["img-src"]) == {
        "https://github.com",
        "https://avatars.githubusercontent.com",
        "https://raw.githubusercontent.com",
    }
    assert set(chosen.fitted["form-action"]) == {"https://google.com", "https://www.google.com"}
