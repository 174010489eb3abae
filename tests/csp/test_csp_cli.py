"""`edgeshield csp fit` as users run it: the installed console script on real folders."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

from tests.csp.sites import write_site

EDGESHIELD = str(Path(sys.executable).with_name("edgeshield"))
# The hash Chromium printed for the demo's inline script (docs/tutorial.md, step 3).
DEMO_HASH = "'sha256-sOnF4cvteLSHWUYYPTI1y//BzIRMFlzC4s7rhbU+mis='"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EDGESHIELD, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_fit_the_demo_site_then_grade_and_bundle(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(str(resources.files("edgeshield.emulator").joinpath("demo")), demo)
    fitted = run("csp", "fit", "--origin", "demo", "--json", cwd=tmp_path)
    assert fitted.returncode == 0, fitted.stderr
    report = json.loads(fitted.stdout)
    assert report["mode"] == "union" and report["policy"] == "edgeshield.toml"
    assert report["fitted"]["script-src"] == [DEMO_HASH]
    assert report["grade"] == "A+"
    graded = run("check", "--grade", "--json", cwd=tmp_path)
    assert graded.returncode == 0, graded.stdout
    assert json.loads(graded.stdout)["grade"]["grade"] == "A+"
    bundled = run("bundle", "--json", cwd=tmp_path)
    assert bundled.returncode == 0, bundled.stderr
    # A second fit of the fitted policy is a no-op: CI can run it on every build.
    before = (tmp_path / "edgeshield.toml").read_text()
    assert run("csp", "fit", "--origin", "demo", cwd=tmp_path).returncode == 0
    assert (tmp_path / "edgeshield.toml").read_text() == before


def test_per_page_fit_writes_a_manifest_that_bundles(tmp_path: Path) -> None:
    write_site(tmp_path / "site", pages=150)
    fitted = run("csp", "fit", "--origin", "site", "-o", "out/policy.toml", cwd=tmp_path)
    assert fitted.returncode == 0, fitted.stderr
    text = fitted.stdout
    assert "Per-page CSP: the union would be" in text
    assert "Largest CSP header any page gets:" in text
    assert 'event handler onclick "toggle("menu"); return false;" -> \'sha256-' in text
    assert "at docs/page-1.html:9, docs/page-10.html:9, docs/page-100.html:9 (+147 more)" in text
    assert "… and " in text  # 150 distinct page hashes: the list is cut, --json has them all
    assert (
        "https://fonts.gstatic.com in font-src: css/site.css:1 (fonts of the "
        "https://fonts.googleapis.com stylesheet), css/site.css:2 (@font-face src)"
    ) in text
    assert "Grade on an HTML page: A+" in text
    manifest = tmp_path / "out" / "policy.csp-pages.json"
    assert manifest.is_file()
    assert 'per-page = "policy.csp-pages.json"' in (tmp_path / "out" / "policy.toml").read_text()
    graded = run("check", "out/policy.toml", "--grade", "--json", cwd=tmp_path)
    assert json.loads(graded.stdout)["grade"]["grade"] == "A+"
    bundled = run("bundle", "--policy", "out/policy.toml", "-o", "edge.zip", cwd=tmp_path)
    assert bundled.returncode == 0, bundled.stderr
    shipped = json.loads(zipfile.ZipFile(tmp_path / "edge.zip").read("edgeshield/edge/policy.json"))
    assert len(shipped["csp_pages"]["variants"]) == 150
    # Forced back to one CSP: the stale manifest goes, and the policy no longer names it.
    union = run(
        "csp",
        "fit",
        "--origin",
        "site",
        "--policy",
        "out/policy.toml",
        "--mode",
        "union",
        cwd=tmp_path,
    )
    assert union.returncode == 0, union.stderr
    assert not manifest.exists()
    assert "per-page" not in (tmp_path / "out" / "policy.toml").read_text()


def test_unsafe_inline_says_what_it_costs(tmp_path: Path) -> None:
    write_site(tmp_path / "site", pages=3)
    fitted = run(
        "csp", "fit", "--origin", "site", "--unsafe-inline", "script", "--json", cwd=tmp_path
    )
    report = json.loads(fitted.stdout)
    assert report["fitted"]["script-src"] == ["'unsafe-inline'"]
    assert (report["grade"], report["grade_without_unsafe"]) == ("B+", "A+")
    human = run("csp", "fit", "--origin", "site", "--unsafe-inline", "script", cwd=tmp_path)
    assert "with hashes instead of 'unsafe-inline'/'unsafe-eval' it would be A+" in human.stdout


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = run("csp", "fit", "--origin", "nowhere", cwd=tmp_path)
    assert missing.returncode == 2 and "not a directory" in missing.stderr
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<p>hi</p>")
    (tmp_path / "p.toml").write_text(
        '[headers]\ncontent-security-policy = """\ndefault-src \'self\'"""\n'
    )
    multi = run("csp", "fit", "--origin", "site", "--policy", "p.toml", cwd=tmp_path)
    assert multi.returncode == 2 and "Traceback" not in multi.stderr
    assert "write the CSP as a table" in multi.stderr
    (tmp_path / "bad.toml").write_text("[headers\n")
    broken = run("csp", "fit", "--origin", "site", "--policy", "bad.toml", cwd=tmp_path)
    assert broken.returncode == 2 and "not valid TOML" in broken.stderr
    # A one-line string CSP is turned into a table that keeps the user's value.
    (tmp_path / "s.toml").write_text(
        "[headers]\ncontent-security-policy = \"default-src 'self'; object-src 'none'\"\n"
    )
    ok = run("csp", "fit", "--origin", "site", "--policy", "s.toml", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "value = \"default-src 'self'; object-src 'none'\"" in (tmp_path / "s.toml").read_text()
