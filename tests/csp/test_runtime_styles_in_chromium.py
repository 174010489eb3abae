"""Styles that scripts insert at run time the way libraries do, in Debian's Chromium: one
appended empty and filled afterwards (an image-zoom plugin's pattern), two different ones from
one helper line, and one inserted and removed at once (a colour-mode switch turning transitions
off). Chromium reports each refusal after the script has run on, when the element holds other
text or is gone; the crawl must still find the text it refused, and verify must then pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeshield.csp.browser import source_hash
from edgeshield.csp.verify import verify_site
from tests.csp.test_browser_fixtures import chromium, cli  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("chromium")]

ZOOM = ".zoom{cursor:zoom-in}"
TRANSITIONS = (
    "*,*::before,*::after{-webkit-transition:none!important;-moz-transition:none!important;"
    "transition:none!important}"
)
INJECT = f"""// 1. appended empty, filled afterwards
const zoom = document.createElement('style');
document.head.appendChild(zoom);
zoom.textContent = '{ZOOM}';
// 2. two different styles from one helper (the same place in the file)
function add(css) {{ const s = document.createElement('style'); s.textContent = css; document.head.appendChild(s); }}
add('.one{{color:red}}'); add('.two{{color:blue}}');
// 3. inserted and removed at once
const off = document.createElement('style');
off.appendChild(document.createTextNode('{TRANSITIONS}'));
document.head.appendChild(off);
window.getComputedStyle(document.body).opacity;
document.head.removeChild(off);
document.documentElement.dataset.done = '1';
"""
FRAMED = ".framed{color:teal}"  # in an <iframe srcdoc>: a document of its own, about:srcdoc
NEEDED = {
    source_hash(t) for t in ("", ZOOM, ".one{color:red}", ".two{color:blue}", TRANSITIONS, FRAMED)
}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text(
        "<!doctype html><html><head><title>Inject</title></head>"
        '<body><p class="zoom one two">x</p><script src="inject.js"></script>'
        f'<iframe srcdoc="<style>{FRAMED}</style><p>framed</p>"></iframe></body></html>\n'
    )
    (root / "inject.js").write_text(INJECT)
    return root


def test_the_crawl_finds_every_refused_text_and_verify_then_passes(
    site: Path, tmp_path: Path
) -> None:
    policy = tmp_path / "edgeshield.toml"
    static = cli("csp", "fit", "--origin", str(site), "--output", str(policy))
    assert static.returncode == 0, static.stderr
    # Verify (no sample quoted: the policy has no 'report-sample') suggests every text that
    # was refused but the empty one, which only a sample can tell (the crawl has one).
    before = verify_site(site, policy)
    assert {v.directive for v in before.violations} == {"style-src-elem"}
    assert {h for v in before.violations for h in v.hashes()} == NEEDED - {source_hash("")}
    # Each refusal is located, and the srcdoc frame's is listed under the page that embeds it.
    assert {v.page for v in before.violations} == {"/index.html"}
    assert {v.source.split(":")[0] for v in before.violations} == {"/inject.js", "about"}

    crawled = cli("csp", "fit", "--origin", str(site), "--output", str(policy), "--crawl", "--json")
    assert crawled.returncode == 0, crawled.stderr
    crawl = json.loads(crawled.stdout)["crawl"]
    assert {a["source"] for a in crawl["additions"]} == NEEDED
    assert crawl["not_added"] == []

    after = cli("csp", "verify", "--origin", str(site), "--policy", str(policy), "--format", "json")
    assert after.returncode == 0, after.stdout + after.stderr
    assert json.loads(after.stdout)["violations"] == []


SEARCHED = ".hit{color:green}"
DIALOG_SEARCH = """document.querySelector('#open').addEventListener('click', () => {
  document.querySelector('dialog').showModal();
});
document.querySelector('#q').addEventListener('input', (event) => {
  if (event.target.value.length < 2) return;
  const s = document.createElement('style');
  s.textContent = '.hit{color:green}';
  document.head.appendChild(s);
});
"""


def test_the_crawl_types_into_a_search_box_once_a_click_opens_its_dialog(tmp_path: Path) -> None:
    """A search box inside a closed dialog (Starlight's Pagefind search) cannot be typed into
    until a button opens the dialog: the crawl must not count it as searched before that, and
    must search it once a click shows it, so that what the search does is fitted."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        "<!doctype html><html><head><title>Dialog</title></head><body>"
        '<button id="open">Search</button>'
        '<dialog><input id="q" type="search" placeholder="Search the docs"></dialog>'
        '<p class="hit">x</p><script src="search.js"></script></body></html>\n'
    )
    (site / "search.js").write_text(DIALOG_SEARCH)
    policy = tmp_path / "edgeshield.toml"
    crawled = cli("csp", "fit", "--origin", str(site), "--output", str(policy), "--crawl", "--json")
    assert crawled.returncode == 0, crawled.stderr
    crawl = json.loads(crawled.stdout)["crawl"]
    assert source_hash(SEARCHED) in {a["source"] for a in crawl["additions"]}
    typed = [i for i in crawl["interactions"] if "typed" in i]
    assert len(typed) == 1 and "clicked" in " ".join(crawl["interactions"])
