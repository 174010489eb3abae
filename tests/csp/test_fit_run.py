"""``csp fit`` as a library call: the job's checks in field names, the fit, and the files it
writes (a per-page manifest next to the policy, removed again when one CSP fits every page)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeshield.csp.fit import FitOptions
from edgeshield.csp.fit_run import FitError, FitJob, FitOptionError, run_fit, write_fit
from edgeshield.errors import EdgeshieldError

INLINE = "<script>console.log({n})</script><p>page {n}</p>"


def _site(root: Path, pages: int = 2) -> Path:
    site = root / "site"
    site.mkdir()
    for n in range(pages):
        (site / f"p{n}.html").write_text(INLINE.format(n=n))
    return site


def test_job_mistakes_name_the_field(tmp_path: Path) -> None:
    site = _site(tmp_path)
    target = tmp_path / "edgeshield.toml"
    empty = tmp_path / "empty"  # a folder with files, none of them a page (a wrong --origin)
    (empty / "assets").mkdir(parents=True)
    (empty / "assets" / "app.css").write_text("body{}")
    cases = [
        (FitJob(tmp_path / "nope", None, target), "origin", f"origin {tmp_path / 'nope'}: not a directory"),
        (FitJob(empty, None, target), "origin", f"origin {empty}: no HTML pages (*.html, *.htm) to fit"),
        (FitJob(site, None, target, FitOptions(max_union=10)), "max_union", "max_union 10: use at least 256 bytes"),
        (FitJob(site, None, target, site_urls=["ftp"]), "site_urls", "site_urls 'ftp': give an origin like https://example.com"),
    ]  # fmt: skip
    for job, field, message in cases:
        with pytest.raises(FitOptionError) as caught:
            run_fit(job)
        assert (caught.value.field, str(caught.value)) == (field, message)
        assert isinstance(caught.value, FitError) and isinstance(caught.value, EdgeshieldError)
    assert FitJob(site, None, target, site_urls=["https://example.com/"]).check() == [
        "https://example.com"
    ]


def test_unreadable_policy_is_a_fit_error(tmp_path: Path) -> None:
    site = _site(tmp_path)
    policy = tmp_path / "p.toml"
    policy.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(FitError, match=r"^cannot read .*p\.toml"):
        run_fit(FitJob(site, policy, policy))
    policy.write_text("[headers\n")
    with pytest.raises(FitError, match=r"p\.toml: not valid TOML"):
        run_fit(FitJob(site, policy, policy))


def test_per_page_then_union_writes_and_removes_the_manifest(tmp_path: Path) -> None:
    site = _site(tmp_path, pages=3)
    target = tmp_path / "out" / "edgeshield.toml"
    per_page = run_fit(FitJob(site, None, target, FitOptions(mode="per-page")))
    assert per_page.fitted.manifest_text is not None
    write_fit(per_page)
    manifest = tmp_path / "out" / "edgeshield.csp-pages.json"
    assert manifest.read_text(encoding="utf-8") == per_page.fitted.manifest_text
    assert "fitted" in target.read_text(encoding="utf-8")
    report = per_page.report()
    assert (report["policy"], report["manifest"]) == (str(target), str(manifest))
    assert report["mode"] == "per-page" and report["pages"] == 3

    union = run_fit(FitJob(site, target, target, FitOptions(mode="union")))
    write_fit(union)
    assert not manifest.exists()  # the earlier run's manifest, no longer referenced
    assert union.report()["manifest"] is None


def test_a_users_file_named_like_the_manifest_stays(tmp_path: Path) -> None:
    site = _site(tmp_path)
    target = tmp_path / "edgeshield.toml"
    mine = tmp_path / "edgeshield.csp-pages.json"
    mine.write_text('{"mine": true}')
    write_fit(run_fit(FitJob(site, None, target, FitOptions(mode="union"))))
    assert mine.read_text() == '{"mine": true}'


def test_unsafe_inline_also_fits_the_strict_way(tmp_path: Path) -> None:
    site = _site(tmp_path)
    target = tmp_path / "edgeshield.toml"
    plain = run_fit(FitJob(site, None, target))
    assert plain.strict is None
    lax = run_fit(FitJob(site, None, target, FitOptions(unsafe_inline=frozenset({"script"}))))
    assert lax.strict is not None
    assert "'unsafe-inline'" in lax.fitted.policy_text
    assert "'unsafe-inline'" not in lax.strict.policy_text
    assert "'sha256-" in lax.strict.policy_text


def test_write_failure_is_one_line(tmp_path: Path) -> None:
    site = _site(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    run = run_fit(FitJob(site, None, blocker / "edgeshield.toml"))
    with pytest.raises(FitError, match=r"^cannot write .*edgeshield\.toml: "):
        write_fit(run)


def test_require_corp_with_other_hosts_is_warned(tmp_path: Path) -> None:
    """The strict preset's COEP require-corp blocks another host's image or frame that the
    fitted CSP allows (csp verify cannot see it): fit says so, naming the hosts, and only then."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        '<!doctype html><img src="https://badges.example.com/b.svg" alt="">'
        '<iframe src="https://video.example.net/embed/1"></iframe>'
        '<script>fetch("https://api.example.org/x")</script>'
    )
    target = tmp_path / "edgeshield.toml"
    warned = [w for w in run_fit(FitJob(site, None, target)).fitted.result.warnings if "COEP" in w]
    assert len(warned) == 1
    assert "require-corp blocks what pages load from 2 other host(s)" in warned[0]
    assert "https://badges.example.com, https://video.example.net" in warned[0]
    # credentialless (or no COEP at all) is not warned about; nor is a site that loads only itself
    policy = tmp_path / "p.toml"
    policy.write_text('[headers]\ncross-origin-embedder-policy = "credentialless"\n')
    assert not [
        w for w in run_fit(FitJob(site, policy, target)).fitted.result.warnings if "COEP" in w
    ]
    (site / "index.html").write_text('<!doctype html><img src="/a.png" alt="">')
    assert not [
        w for w in run_fit(FitJob(site, None, target)).fitted.result.warnings if "COEP" in w
    ]
