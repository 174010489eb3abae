"""From browser violations to CSP sources (pure): which directive, which source, what is never
added, and the report-only policy the crawl runs with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgeshield.csp.browser import (
    Violation,
    dedupe,
    source_hash,
    violation_from_event,
    violations_from_report,
)
from edgeshield.csp.crawl import (
    Addition,
    additions_for,
    apply_additions,
    governing,
    locate_in_source,
    report_only_policy,
    sources_for,
    target,
)
from edgeshield.policy import compile_policy, load_preset

BASE = "https://127.0.0.1:4443"


def violation(**kw: Any) -> Violation:
    fields: dict[str, Any] = {
        "page": "/index.html",
        "directive": "style-src-elem",
        "violated": "style-src-elem",
        "blocked": "inline",
        "source": "/app.js:1:5",
        "sample": "",
        "disposition": "report",
        "origin": "event",
    }
    fields.update(kw)
    return Violation(**fields)


def test_source_hash_is_the_browsers_sha256_of_utf8() -> None:
    # Chromium's console names this hash for <script>alert('Hello, world.');</script> (CSP3 spec example)
    assert source_hash("alert('Hello, world.');") == (
        "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='"
    )


def test_inline_style_made_at_run_time_gets_its_hash() -> None:
    v = violation(text=".x{color:green}", element="style")
    pairs, why = sources_for(v)
    assert why is None
    assert pairs == [("style-src-elem", source_hash(".x{color:green}"))]


def test_attributes_need_unsafe_hashes_too() -> None:
    v = violation(directive="style-src-attr", text="margin: 0", element="body")
    pairs, _ = sources_for(v)
    assert pairs == [
        ("style-src-attr", "'unsafe-hashes'"),
        ("style-src-attr", source_hash("margin: 0")),
    ]


def test_event_handler_is_picked_by_the_browsers_sample() -> None:
    v = violation(
        directive="script-src-attr",
        sample="go(1)",
        handlers=(("onclick", "go(1)"), ("onmouseover", "hover()")),
    )
    assert v.hashes() == [source_hash("go(1)")]
    # Without a sample every handler of the element is a candidate.
    both = violation(directive="script-src-attr", handlers=(("onclick", "a()"), ("onblur", "b()")))
    assert len(both.hashes()) == 2


def test_urls_map_to_self_schemes_and_exact_origins() -> None:
    assert sources_for(violation(directive="img-src", blocked="/logo.png"))[0] == [
        ("img-src", "'self'")
    ]
    assert sources_for(violation(directive="img-src", blocked="data"))[0] == [("img-src", "data:")]
    assert sources_for(
        violation(directive="font-src", blocked="https://fonts.gstatic.com/s/x.woff2")
    )[0] == [("font-src", "https://fonts.gstatic.com")]
    assert sources_for(violation(directive="connect-src", blocked="wss://h.example:8443/s"))[0] == [
        ("connect-src", "wss://h.example:8443")
    ]


def test_eval_and_unreadable_inline_code_are_never_added() -> None:
    for v in (
        violation(directive="script-src", blocked="eval"),
        violation(directive="script-src", blocked="wasm-eval"),
        violation(blocked="inline"),  # no text: it left the page before the event
    ):
        pairs, why = sources_for(v)
        assert pairs == [] and why


def test_governing_directive_follows_csp_fallbacks() -> None:
    assert governing("style-src-attr", ["default-src", "style-src"]) == "style-src"
    assert governing("style-src-attr", ["default-src"]) == "default-src"
    assert governing("worker-src", ["default-src", "script-src"]) == "script-src"
    assert governing("img-src", ["default-src", "img-src"]) == "img-src"
    assert governing("form-action", ["default-src"]) == "form-action"  # no fallback
    # default-src itself is never the place for an addition.
    assert target("img-src", ["default-src"]) == "img-src"
    assert target("style-src-attr", ["default-src"]) == "style-src"
    assert target("style-src-attr", ["default-src", "style-src-attr"]) == "style-src-attr"


def test_additions_are_created_without_loosening_default_src() -> None:
    csp = "default-src 'none'; style-src 'self'"
    adds, skipped = additions_for(
        [
            violation(directive="style-src-attr", text="margin: 0", element="body"),
            violation(directive="media-src", blocked="/clip.mp4"),
            violation(directive="script-src-elem", blocked="eval"),
        ],
        ["default-src", "style-src"],
    )
    assert len(skipped) == 1
    assert {(a.directive, a.source) for a in adds} == {
        ("style-src", "'unsafe-hashes'"),
        ("style-src", source_hash("margin: 0")),
        ("media-src", "'self'"),
    }
    out = apply_additions(csp, adds)
    assert out.startswith("default-src 'none'; style-src 'self' ")
    assert "media-src 'self'" in out  # not 'none' 'self'
    assert "default-src 'none';" in out


def test_runtime_reason_is_told_apart_from_static_code() -> None:
    adds, _ = additions_for(
        [
            violation(text="a{}", element="style", source="/app.js:3:1"),
            violation(text="b{}", element="style", source="/index.html:4:8"),
        ],
        ["style-src"],
    )
    reasons = {a.source: a.reason for a in adds}
    assert reasons[source_hash("a{}")] == "inline <style> created at run time"
    assert reasons[source_hash("b{}")] == "inline <style>"


def test_report_only_policy_replaces_the_enforced_csp_and_asks_for_samples() -> None:
    compiled = compile_policy(load_preset("strict"))
    compiled["csp_pages"] = {  # a per-page table: dropped
        "name": "content-security-policy",
        "key": "Content-Security-Policy",
        "base": "default-src 'self'",
        "parts": ["default-src 'self'"],
        "variants": [],
        "paths": {},
    }
    out = report_only_policy(compiled, "default-src 'none'; script-src 'self'")
    names = [h[0] for h in out["headers"]]
    assert "content-security-policy" not in names
    value = next(h[2] for h in out["headers"] if h[0] == "content-security-policy-report-only")
    assert value == "default-src 'none'; script-src 'self' 'report-sample'"
    assert "csp_pages" not in out
    assert out["digest"] != compiled["digest"]
    # The other headers stay as the policy has them.
    assert [h for h in out["headers"] if h[0] == "x-frame-options"] == [
        h for h in compiled["headers"] if h[0] == "x-frame-options"
    ]


def test_untrusted_event_payloads_are_bounded_and_typed() -> None:
    assert violation_from_event("nope", BASE) is None
    v = violation_from_event(
        {
            "documentURI": BASE + "/a%20b.html?q=1",
            "effectiveDirective": "img-src",
            "blockedURI": BASE + "/x.png",
            "sourceFile": BASE + "/a%20b.html",
            "lineNumber": 3,
            "columnNumber": 9,
            "found": {"handlers": [["onclick", 5], "junk"], "urls": [1, "javascript:x()"]},
            "sample": "x" * 10_000,
        },
        BASE,
    )
    assert v is not None
    assert (v.page, v.blocked, v.source) == ("/a b.html?q=1", "/x.png", "/a b.html:3:9")
    assert v.handlers == () and v.urls == ("javascript:x()",)
    assert len(v.sample) <= 256


def test_reports_of_both_formats_parse_and_dedupe_against_events() -> None:
    legacy = json.dumps(
        {
            "csp-report": {
                "document-uri": BASE + "/index.html",
                "effective-directive": "img-src",
                "blocked-uri": "data",
                "source-file": BASE + "/index.html",
                "line-number": 10,
                "column-number": 31,
            }
        }
    ).encode()
    modern = json.dumps(
        [
            {
                "type": "csp-violation",
                "body": {
                    "documentURL": BASE + "/w.html",
                    "effectiveDirective": "worker-src",
                    "blockedURL": BASE + "/w.js",
                },
            },
            {"type": "deprecation", "body": {}},
        ]
    ).encode()
    reports = violations_from_report(legacy, BASE) + violations_from_report(modern, BASE)
    assert [(r.page, r.directive, r.origin) for r in reports] == [
        ("/index.html", "img-src", "report"),
        ("/w.html", "worker-src", "report"),
    ]
    assert violations_from_report(b"not json", BASE) == []
    event = violation(
        directive="img-src", violated="img-src", blocked="data", source="/index.html:10:31"
    )
    merged = dedupe([reports[0], event, reports[1]])
    assert len(merged) == 2
    assert next(m for m in merged if m.directive == "img-src").origin == "event"


def test_addition_order_is_deterministic() -> None:
    a = [
        Addition("style-src", "'sha256-b'", "r", "/", ""),
        Addition("img-src", "data:", "r", "/", ""),
    ]
    assert sorted(a)[0].directive == "img-src"


def test_unreadable_inline_code_is_located_by_the_browsers_sample(tmp_path: Path) -> None:
    """Markup parsed off the page (a search that reads other pages) is refused with no element
    to read: a sample shorter than the 40 characters quoted is the whole text; a longer one is
    matched against the site's own inline code of the same kind."""
    long_css = "\n  body {\n    --color-code-background: #f2f2f2; --x: 1;\n}\n"
    (tmp_path / "index.html").write_text(
        f'<html><head><style>{long_css}</style></head><body><p style="display: none;">x</p>'
        f'<p style="{long_css.strip()[:40]}-other">y</p></body></html>'
    )
    unreadable = [
        violation(directive="style-src-elem", sample=long_css.strip()[:40], source="/s.js:203:41"),
        violation(directive="style-src-attr", sample="display: none;", source="/s.js:203:41"),
        violation(directive="script-src-elem", sample="x" * 40, source="/s.js:1:1"),
    ]
    located = locate_in_source(unreadable, tmp_path)
    assert located[0].hashes() == [source_hash(long_css)]  # not the attribute with that prefix
    assert located[1].hashes() == [source_hash("display: none;")]
    assert located[2].hashes() == []  # nothing in the site starts with it: stays unresolved
    adds, skipped = additions_for(located, ["default-src", "style-src"])
    assert {a.source for a in adds} == {
        source_hash(long_css),
        source_hash("display: none;"),
        "'unsafe-hashes'",
    }
    assert len(skipped) == 1


def _inline(sample: str, **found: object) -> Violation:
    v = violation_from_event(
        {
            "documentURI": BASE + "/index.html",
            "effectiveDirective": "style-src-elem",
            "blockedURI": "inline",
            "sample": sample,
            "found": {"element": "style", **found},
        },
        BASE,
    )
    assert v is not None
    return v


def test_an_inline_elements_refused_text_is_chosen_from_what_it_held() -> None:
    filled, other = ".zoom{cursor:zoom-in}", ".x{color:red}"
    # Refused empty, filled before the event: the sample (with 'report-sample') is the text.
    v = _inline("", text=filled, seen=[filled], sampled=True, policy="style-src 'self'")
    assert v.hashes() == [source_hash("")]
    # Removed before the event: what such elements held, narrowed by the sample.
    v = _inline(".x{color:red}", seen=[filled, other], sampled=True, policy="")
    assert v.hashes() == [source_hash(other)]
    # No sample: a text the policy allows was not the one refused; the others each were.
    allowed = f"default-src 'none'; style-src 'self' {source_hash(filled)}"
    v = _inline("", text=filled, seen=[filled, other], policy=allowed)
    assert v.hashes() == [source_hash(other)]
    # style-src-elem, when present, governs; style-src's hash does not allow it there.
    v = _inline("", text=filled, seen=[filled], policy=allowed + "; style-src-elem 'self'")
    assert v.hashes() == [source_hash(filled)]
    # The element's text, as before, when nothing says otherwise.
    assert _inline("", text=filled, seen=[filled]).hashes() == [source_hash(filled)]
    # Payload fields are typed: junk is dropped, never trusted.
    v = _inline("", text=filled, seen=[1, None, other], sampled="yes", policy=5)
    assert (v.seen, v.sampled, v.policy) == ((other,), False, "")


def test_two_texts_refused_at_one_place_stay_two() -> None:
    a = _inline(".one{color:red}", text=".one{color:red}", sampled=True)
    b = _inline(".two{color:blue}", text=".two{color:blue}", sampled=True)
    assert len(dedupe([a, b])) == 2


def test_a_sample_is_40_utf16_units_of_the_stripped_code() -> None:
    """Blink cuts the sample at 40 UTF-16 code units: an emoji counts two, so a sample of 38
    characters can still be a cut, not the whole code."""
    css = '.a::before{content:"🎉🎉"} .b{color:red} .c{color:blue}'
    cut = css.encode("utf-16-le")[:80].decode("utf-16-le")
    assert len(cut) == 38
    v = _inline(cut, seen=[css, ".x{}"], sampled=True, policy="style-src 'self'")
    assert v.hashes() == [source_hash(css)]
    # A pair cut in half arrives as a lone surrogate (or U+FFFD): compare what came before.
    odd = "." + "x" * 38 + "🎉{color:red}"
    halved = odd.encode("utf-16-le")[:80].decode("utf-16-le", "surrogatepass")
    assert "\ud800" <= halved[-1] <= "\udbff"  # the emoji's first half
    v = _inline(halved, seen=[odd, "." + "y" * 38 + "{}"], sampled=True)
    assert v.hashes() == [source_hash(odd)]
    # Blink strips ASCII whitespace only: a leading no-break space is part of the code.
    nbsp = "\u00a0body{color:red}"
    assert _inline(nbsp, seen=[nbsp], sampled=True).hashes() == [source_hash(nbsp)]


def test_the_listener_is_valid_javascript(tmp_path: Path) -> None:
    """LISTENER lives in a Python string, where one backslash too few breaks a regular
    expression and with it every violation a crawl or verify could see."""
    import shutil
    import subprocess

    from edgeshield.csp.browser import LISTENER

    node = shutil.which("node")
    assert node is not None, "Node.js runs the Observatory oracle and checks the listener"
    script = tmp_path / "listener.js"
    script.write_text(LISTENER)
    checked = subprocess.run([node, "--check", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
