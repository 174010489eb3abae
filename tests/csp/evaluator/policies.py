"""A seeded generator of CSP header values aimed at where the CSP Evaluator's answers turn:
'strict-dynamic' with nonces and hashes, hosts from its bypass lists with and without their
paths, schemes, IP addresses in the forms the URL parser folds, invalid keywords, repeated and
unknown directives, case, and JavaScript-versus-Python white space.

Shared by the differential test and ``benchmarks/csp_evaluator.py``."""

from __future__ import annotations

import json
import random
from importlib import resources
from typing import Any

_DATA = resources.files("edgeshield.csp.evaluator").joinpath("data")


def _list(name: str, key: str = "urls") -> list[str]:
    data: dict[str, list[str]] = json.loads(_DATA.joinpath(name).read_text("utf-8"))
    return data[key]


BYPASS_URLS = _list("jsonp.json") + _list("angular.json") + _list("flash.json")
NEEDS_EVAL = _list("jsonp.json", "needs_eval")

DIRECTIVES = [
    "default-src", "script-src", "script-src-elem", "script-src-attr", "object-src",
    "base-uri", "style-src", "style-src-elem", "style-src-attr", "img-src", "connect-src",
    "frame-src", "child-src", "worker-src", "manifest-src", "font-src", "media-src",
    "prefetch-src", "form-action", "frame-ancestors", "navigate-to", "plugin-types",
    "sandbox", "report-uri", "report-to", "upgrade-insecure-requests",
    "block-all-mixed-content", "reflected-xss", "referrer", "disown-opener",
    "require-sri-for", "trusted-types", "require-trusted-types-for", "webrtc",
]  # fmt: skip
# The directives whose sources the checks look at hardest, drawn more often.
HOT = ["script-src", "default-src", "object-src", "script-src-elem", "script-src-attr",
       "base-uri"]  # fmt: skip
ODD_NAMES = ["Script-Src", "SCRIPT-SRC", "DEFAULT-src", "foobar-src", "script-src:",
             "constructor", "__proto__", "toString", "0", "12", "007", "4294967295",
             "script_src", "ſcript-src", "object-src;", "İmg-src"]  # fmt: skip

KEYWORDS = ["'self'", "'none'", "'unsafe-inline'", "'unsafe-eval'", "'strict-dynamic'",
            "'unsafe-hashes'", "'wasm-unsafe-eval'", "'wasm-eval'", "'report-sample'",
            "'unsafe-hashed-attributes'", "'inline-speculation-rules'", "'block'", "'allow'",
            "'SELF'", "'Unsafe-Inline'", "'STRICT-DYNAMIC'", "'Unsafe-Eval'"]  # fmt: skip
INVALID = ["self", "none", "unsafe-inline", "strict-dynamic", "unsafe-eval", "'notakeyword'",
           "'allow-duplicates'", "'script'", "'self", "self'", "''", "'", "'nonce-'",
           "'sha256-'", "'sha1-abc='", "sha256-abc", "nonce-abcdefgh", "'none'x",
           "script-src", "object-src", "default-src", "report-uri", "'unsafe-inline'x"]  # fmt: skip
TT = ["'script'", "'allow-duplicates'", "'none'", "policy1", "default", "*", "'SCRIPT'"]
SCHEMES = ["http:", "https:", "data:", "blob:", "ws:", "wss:", "filesystem:", "HTTPS:",
           "Data:", "chrome-extension:", "a+b.c-d:", "1http:", "http", "https:/", "mediastream:"]  # fmt: skip
WILDCARDS = ["*", "http://*", "https://*", "//*", "*:*", "*.*", "https://*.google.com",
             "*.googleapis.com", "*.com", "*.", "http://*:*", "ftp://*", "**",
             "*.wildcard_placeholder.com", "xildcard_placeholder.com"]  # fmt: skip
IPS = ["127.0.0.1", "http://127.0.0.1", "127.0.0.1:8080", "https://127.0.0.1:*/x",
       "10.0.0.1", "192.168.1.1/path/", "2130706433", "0x7f.1", "0177.0.0.1", "127.1",
       "999.1.1.1", "1.2.3.4.5", "[::1]", "[::1]:8080", "http://[2001:db8::1]/",
       "[2001:DB8::1]", "[fe80::1%25eth0]", "1.2.3", "01.02.03.04", "256.0.0.1",
       "１２７.０.０.１", "0.0.0.0", "255.255.255.255", "127.0.0.1.", "[1:2:3:4:5:6:7:8]"]  # fmt: skip
HOSTS = ["example.com", "https://example.com", "http://example.com", "https://cdn.example.com/js/",
         "https://example.com/a.js", "example.com:443", "example.com:*", "example.com:99999",
         "a:b.com", "https://exa mple", "ＥＸＡＭＰＬＥ.com", "bücher.de", "xn--bcher-kva.de",
         "https://a.com/%7Ejs/", "https://a.com/%zz/", "https://a%zz.com", "a_b.com",
         "https://user@example.com", "https://example.com?x=1", "https://example.com#frag",
         "https://example.com/a/../b.js", "https://example.com\\a\\b", "/relative/path",
         "/", ".", "..", "localhost", "http://localhost:3000", "HTTP://EXAMPLE.COM",
         "https://example.com/", "wss://socket.example.com", "'self'.com", "*.a.b.c"]  # fmt: skip
REPORTS = ["/csp-report", "https://report.example.com/r", "http://report.example.com/r",
           "csp-endpoint", "default"]  # fmt: skip
PLUGIN_TYPES = ["application/x-shockwave-flash", "application/pdf"]
SEPARATORS = [";", "; ", " ; ", ";;", ";\t", "; \u00a0", ";\ufeff", "\n;"]
SPACES = [" ", " ", " ", "  ", "\t", "\u00a0", "\ufeff", "\u2003", "\u3000"]
# White space to Python but not to JavaScript: these stay inside a token.
NOT_JS_SPACE = ["\x1c", "\x1f", "\x85"]


def _nonce(r: random.Random) -> str:
    body = r.choice(["abc", "abcdefgh", "r4nd0mN0nc3", "YWJjZGVmZ2hpams=", "a-b_c+d/e==",
                     "abc=def", "abcdefg", "nonce!value", "ñoñcevalue", "😀😀😀😀", "😀😀😀",
                     "abcdefgh===", "", "ABCDEFGHIJKLMNOP"])  # fmt: skip
    quoted = r.random() < 0.85
    prefix = r.choice(["nonce-", "nonce-", "NONCE-", "Nonce-"])
    return f"'{prefix}{body}'" if quoted else f"{prefix}{body}"


def _hash(r: random.Random) -> str:
    alg = r.choice(["sha256", "sha384", "sha512", "sha1", "SHA256", "sha256"])
    body = r.choice(["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "abc", "a_b-c",
                     "abc===", "ab!c", "", "xyz="])  # fmt: skip
    return f"'{alg}-{body}'" if r.random() < 0.85 else f"{alg}-{body}"


def _bypass(r: random.Random) -> str:
    url = r.choice(BYPASS_URLS)
    host, _, path = url[2:].partition("/")
    path = "/" + path
    form = r.randrange(9)
    if form == 0:
        out = host
    elif form == 1:
        out = "https://" + host
    elif form == 2:
        out = host + path
    elif form == 3:
        cut = path.rfind("/")
        out = host + path[: cut + 1]
    elif form == 4:
        out = "*." + host.split(".", 1)[-1]
    elif form == 5:
        out = host + path + "x"
    elif form == 6:
        out = "http://" + host.upper() + "/"
    elif form == 7:
        out = r.choice(NEEDS_EVAL)
    else:
        out = "//" + host + ":*" + path
    return out


def _value(r: random.Random, directive: str) -> str:
    pick = r.random()
    if directive == "require-trusted-types-for" or (directive == "trusted-types" and pick < 0.7):
        return r.choice(TT)
    if directive == "plugin-types" and pick < 0.7:
        return r.choice(PLUGIN_TYPES)
    if directive in ("report-uri", "report-to") and pick < 0.7:
        return r.choice(REPORTS)
    if pick < 0.22:
        return r.choice(KEYWORDS)
    if pick < 0.32:
        return _nonce(r)
    if pick < 0.40:
        return _hash(r)
    if pick < 0.55:
        return _bypass(r)
    if pick < 0.63:
        return r.choice(SCHEMES)
    if pick < 0.70:
        return r.choice(WILDCARDS)
    if pick < 0.75:
        return r.choice(IPS)
    if pick < 0.87:
        return r.choice(HOSTS)
    if pick < 0.95:
        return r.choice(INVALID)
    return r.choice(HOSTS) + r.choice(NOT_JS_SPACE) + r.choice(KEYWORDS)


def _directive_name(r: random.Random) -> str:
    pick = r.random()
    if pick < 0.45:
        return r.choice(HOT)
    if pick < 0.9:
        return r.choice(DIRECTIVES)
    return r.choice(ODD_NAMES)


def policy(r: random.Random) -> str:
    parts: list[str] = []
    for _ in range(r.choice([0, 1, 1, 2, 2, 3, 3, 4, 5, 7])):
        name = _directive_name(r)
        values = [_value(r, name.lower()) for _ in range(r.choice([0, 1, 1, 2, 3, 4, 6]))]
        if r.random() < 0.15 and parts:
            parts.append(parts[r.randrange(len(parts))])  # a repeated directive
        parts.append(name + "".join(r.choice(SPACES) + v for v in values))
    text = r.choice(SEPARATORS).join(parts)
    if r.random() < 0.1:
        text = r.choice(SPACES) + text + r.choice([";", " ", ""])
    return text


def strict_policy(r: random.Random) -> str:
    """A nonce- or hash-based policy with the usual fallbacks, each piece sometimes missing or
    broken: what a careful author writes, and the mistakes the strict checks are for."""
    sources = []
    if r.random() < 0.7:
        sources += [_nonce(r) for _ in range(r.choice([1, 1, 2]))]
    if r.random() < 0.5:
        sources += [_hash(r) for _ in range(r.choice([1, 2]))]
    for extra, p in (("'strict-dynamic'", 0.7), ("'unsafe-inline'", 0.5), ("https:", 0.4),
                     ("http:", 0.3), ("'self'", 0.2), ("'unsafe-eval'", 0.15)):  # fmt: skip
        if r.random() < p:
            sources.append(extra)
    if r.random() < 0.3:
        sources.append(_bypass(r))
    r.shuffle(sources)
    directive = r.choice(["script-src", "script-src", "default-src", "script-src-elem"])
    parts = [directive + " " + " ".join(sources)]
    for extra, p in (("object-src 'none'", 0.6), ("base-uri 'none'", 0.5),
                     ("base-uri 'self'", 0.1), ("require-trusted-types-for 'script'", 0.3),
                     ("report-uri /r", 0.4), ("report-to g", 0.3), ("default-src 'self'", 0.2),
                     ("script-src-attr 'none'", 0.1), ("trusted-types default", 0.1)):  # fmt: skip
        if r.random() < p:
            parts.append(extra)
    r.shuffle(parts)
    return "; ".join(parts)


def cases(seed: int, count: int) -> list[dict[str, Any]]:
    """``count`` cases of {"csp", "version"}; a third are strict-CSP style, most judged as CSP3."""
    r = random.Random(seed)
    out = []
    for _ in range(count):
        text = strict_policy(r) if r.random() < 0.33 else policy(r)
        out.append({"csp": text, "version": r.choice([3, 3, 3, 2, 1])})
    return out
