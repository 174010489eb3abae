"""One HTML page -> everything its CSP must allow: inline code to hash, attributes that need
'unsafe-hashes', and the URLs it loads, each with its line.

Parser: the standard library's ``html.parser``. It hands over the raw text of ``<script>`` and
``<style>`` untouched (exactly what browsers hash), reports line numbers, is fast enough for
thousands of pages and adds no dependency. Where it differs from a browser it is corrected here:
the input stream is preprocessed first (CR LF -> LF), the encoding is found as browsers find it
(BOM, then ``<meta charset>``), and attribute values that are hashed are decoded again from the
raw tag with the HTML rule for character references in attributes.
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass, field
from html.entities import html5 as _ENTITIES
from html.parser import HTMLParser
from urllib.parse import urljoin

from edgeshield.csp.cssscan import scan_css
from edgeshield.csp.hashing import hash_source, javascript_url_text, normalize_newlines

# https://html.spec.whatwg.org/#javascript-mime-type (essence match, ASCII case-insensitive)
JAVASCRIPT_TYPES = frozenset(
    {
        "application/ecmascript",
        "application/javascript",
        "application/x-ecmascript",
        "application/x-javascript",
        "text/ecmascript",
        "text/javascript",
        "text/javascript1.0",
        "text/javascript1.1",
        "text/javascript1.2",
        "text/javascript1.3",
        "text/javascript1.4",
        "text/javascript1.5",
        "text/jscript",
        "text/livescript",
        "text/x-ecmascript",
        "text/x-javascript",
    }
)
# Event handler content attributes (HTML's GlobalEventHandlers, WindowEventHandlers and
# DocumentAndElementEventHandlers, plus the widely shipped non-standard ones). An unknown on*
# attribute is never compiled as script, so it needs nothing.
EVENT_HANDLERS = frozenset(
    "on" + name
    for name in [
        "abort",
        "afterprint",
        "animationcancel",
        "animationend",
        "animationiteration",
        "animationstart",
        "auxclick",
        "beforeinput",
        "beforematch",
        "beforeprint",
        "beforetoggle",
        "beforeunload",
        "blur",
        "cancel",
        "canplay",
        "canplaythrough",
        "change",
        "click",
        "close",
        "contextlost",
        "contextmenu",
        "contextrestored",
        "copy",
        "cuechange",
        "cut",
        "dblclick",
        "drag",
        "dragend",
        "dragenter",
        "dragleave",
        "dragover",
        "dragstart",
        "drop",
        "durationchange",
        "emptied",
        "ended",
        "error",
        "focus",
        "focusin",
        "focusout",
        "formdata",
        "gotpointercapture",
        "hashchange",
        "input",
        "invalid",
        "keydown",
        "keypress",
        "keyup",
        "languagechange",
        "load",
        "loadeddata",
        "loadedmetadata",
        "loadstart",
        "lostpointercapture",
        "message",
        "messageerror",
        "mousedown",
        "mouseenter",
        "mouseleave",
        "mousemove",
        "mouseout",
        "mouseover",
        "mouseup",
        "mousewheel",
        "offline",
        "online",
        "pagehide",
        "pagereveal",
        "pageshow",
        "pageswap",
        "paste",
        "pause",
        "play",
        "playing",
        "pointercancel",
        "pointerdown",
        "pointerenter",
        "pointerleave",
        "pointermove",
        "pointerout",
        "pointerover",
        "pointerrawupdate",
        "pointerup",
        "popstate",
        "progress",
        "ratechange",
        "rejectionhandled",
        "reset",
        "resize",
        "scroll",
        "scrollend",
        "securitypolicyviolation",
        "seeked",
        "seeking",
        "select",
        "selectionchange",
        "selectstart",
        "slotchange",
        "stalled",
        "storage",
        "submit",
        "suspend",
        "timeupdate",
        "toggle",
        "touchcancel",
        "touchend",
        "touchmove",
        "touchstart",
        "transitioncancel",
        "transitionend",
        "transitionrun",
        "transitionstart",
        "unhandledrejection",
        "unload",
        "volumechange",
        "waiting",
        "webkitanimationend",
        "webkitanimationiteration",
        "webkitanimationstart",
        "webkittransitionend",
        "wheel",
        "search",
    ]
)
# Elements whose content browsers do not parse as markup when scripting is on; what looks like
# a <script> inside them never runs.
_INERT = frozenset({"noscript", "noembed", "noframes", "xmp", "textarea", "title", "iframe"})
# Attributes that navigate or submit: a javascript: URL there runs as script.
_NAVIGATION_ATTRS = {
    "a": ("href",),
    "area": ("href",),
    "iframe": ("src",),
    "frame": ("src",),
    "form": ("action",),
    "button": ("formaction",),
    "input": ("formaction",),
}
# rel= values of <link> -> directive (https://www.w3.org/TR/CSP3/#directive-fallback-list).
_LINK_RELS = {
    "stylesheet": "style-src",
    "icon": "img-src",
    "apple-touch-icon": "img-src",
    "apple-touch-icon-precomposed": "img-src",
    "apple-touch-startup-image": "img-src",
    "mask-icon": "img-src",
    "manifest": "manifest-src",
    "modulepreload": "script-src",
}
# <link rel=preload as=…> -> directive (https://fetch.spec.whatwg.org/#concept-request-destination).
_PRELOAD_AS = {
    "script": "script-src",
    "style": "style-src",
    "font": "font-src",
    "image": "img-src",
    "fetch": "connect-src",
    "audio": "media-src",
    "video": "media-src",
    "track": "media-src",
    "worker": "worker-src",
    "sharedworker": "worker-src",
    "serviceworker": "worker-src",
    "document": "frame-src",
    "manifest": "manifest-src",
}
# Foreign content (inline <svg> and <math>): there <script> and <style> are not raw text but
# parsed as markup, so character references are decoded, comments dropped and CDATA sections
# kept (https://html.spec.whatwg.org/#parsing-main-inforeign). Elements whose children are HTML
# again, and HTML start tags that end foreign content
# (https://html.spec.whatwg.org/#integration-point, "any other start tag" breakout list).
_FOREIGN_ROOTS = frozenset({"svg", "math"})
_HTML_INSIDE = {
    "svg": frozenset({"foreignobject", "desc", "title"}),
    "math": frozenset({"mi", "mo", "mn", "ms", "mtext"}),
}
_BREAKOUT = frozenset(
    [
        "b",
        "big",
        "blockquote",
        "body",
        "br",
        "center",
        "code",
        "dd",
        "div",
        "dl",
        "dt",
        "em",
        "embed",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "hr",
        "i",
        "img",
        "li",
        "listing",
        "menu",
        "meta",
        "nobr",
        "ol",
        "p",
        "pre",
        "ruby",
        "s",
        "small",
        "span",
        "strong",
        "strike",
        "sub",
        "sup",
        "table",
        "tt",
        "u",
        "ul",
        "var",
    ]
)
_ABSOLUTE_RE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")
_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_CONTENT_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)
# WHATWG Encoding: labels whose meaning differs from Python's codec of the same name.
_LABEL_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "windows-1252": "cp1252",
    "x-user-defined": "cp1252",
    "utf-16": "utf-8",  # a <meta> cannot declare UTF-16; the spec reads it as UTF-8
    "utf-16le": "utf-8",
    "utf-16be": "utf-8",
}
_ATTR_RE = re.compile(
    r"""((?<=[\s"'/])[^\s/>][^\s/=>]*)(\s*=+\s*('[^']*'|"[^"]*"|(?!['"])[^>\s]*))?""", re.DOTALL
)


@dataclass(frozen=True)
class Inline:
    """A piece of inline code the CSP must allow by hash."""

    directive: str  # script-src or style-src
    source: str  # 'sha256-…'
    kind: str  # inline script, module script, importmap, speculation rules, inline style,
    # event handler onclick, javascript: URL, style attribute
    line: int
    text: str

    @property
    def attribute(self) -> bool:
        """Needs 'unsafe-hashes' (an attribute or a URL, not an element)."""
        return not self.kind.startswith(("inline", "module", "importmap", "speculation"))


@dataclass(frozen=True)
class Ref:
    directive: str
    url: str
    line: int
    why: str


@dataclass
class PageScan:
    encoding: str
    inline: list[Inline] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)


def detect_encoding(data: bytes, served_charset: str | None = None) -> tuple[str, bool]:
    """(Python codec, declared?) as a browser picks it: BOM, the charset the server sends,
    ``<meta charset>`` in the first 1024 bytes, else UTF-8 (what static-site generators write)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", True
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", True
    for label in (served_charset, _meta_charset(data[:1024])):
        if label:
            codec = _codec(label)
            if codec:
                return codec, True
    return "utf-8", False


def _meta_charset(head: bytes) -> str | None:
    match = _CHARSET_RE.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


def _codec(label: str) -> str | None:
    label = label.strip().lower()
    label = _LABEL_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_attribute(raw: str) -> str:
    """Decode character references in an attribute value as the HTML tokenizer does: a legacy
    named reference without ';' stays literal when '=' or an alphanumeric follows it
    (https://html.spec.whatwg.org/#named-character-reference-state)."""
    if "&" not in raw:
        return raw
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        amp = raw.find("&", i)
        if amp < 0:
            out.append(raw[i:])
            break
        out.append(raw[i:amp])
        j = amp + 1
        if j < n and raw[j] == "#":
            match = re.match(r"#(?:[xX][0-9a-fA-F]+|[0-9]+);?", raw[j:])
            if match:
                out.append(html.unescape("&" + match.group(0)))
                i = j + match.end()
                continue
            out.append("&")
            i = j
            continue
        match = re.match(r"[A-Za-z][A-Za-z0-9]*", raw[j:])
        if not match:
            out.append("&")
            i = j
            continue
        name = match.group(0)
        if j + len(name) < n and raw[j + len(name)] == ";" and name + ";" in _ENTITIES:
            out.append(_ENTITIES[name + ";"])
            i = j + len(name) + 1
            continue
        for cut in range(len(name), 1, -1):  # longest legacy name (no ';') that is a prefix
            prefix = name[:cut]
            if prefix in _ENTITIES:
                after = raw[j + cut] if j + cut < n else ""
                if after == "=" or after.isalnum():
                    out.append("&" + prefix)
                else:
                    out.append(_ENTITIES[prefix])
                i = j + cut
                break
        else:
            out.append("&")
            i = j
    return "".join(out)


def raw_attributes(tag_text: str) -> dict[str, tuple[str, int]]:
    """name -> (decoded value, newline count before it) from a raw start tag; first one wins."""
    body = tag_text[1:].lstrip()
    head = len(tag_text) - len(body)
    name_end = re.match(r"[^\s/>]*", body)
    start = head + (name_end.end() if name_end else 0)
    found: dict[str, tuple[str, int]] = {}
    for match in _ATTR_RE.finditer(tag_text, start):
        name = match.group(1).lower()
        if name in found:
            continue
        value = match.group(3) or ""
        if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) >= 2:
            value = value[1:-1]
        found[name] = (decode_attribute(value), tag_text.count("\n", 0, match.start()))
    return found


def srcset_urls(value: str) -> list[str]:
    """The URLs of a srcset attribute (https://html.spec.whatwg.org/#parse-a-srcset-attribute)."""
    urls: list[str] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and (value[i] in " \t\n\r\f,"):
            i += 1
        start = i
        while i < n and value[i] not in " \t\n\r\f":
            i += 1
        url = value[start:i]
        if url.endswith(","):
            url = url.rstrip(",")
        elif url:
            depth = 0  # skip descriptors up to the next comma outside parentheses
            while i < n and not (value[i] == "," and depth == 0):
                depth += value[i] == "("
                depth -= value[i] == ")"
                i += 1
        if url:
            urls.append(url)
    return urls


def _script_kind(attrs: dict[str, str | None]) -> str | None:
    """What a <script> is (https://html.spec.whatwg.org/#prepare-the-script-element):
    'classic', 'module', 'importmap', 'speculationrules', or None for a data block."""
    type_ = attrs.get("type")
    if type_ is None or type_ == "":
        language = attrs.get("language")
        if type_ is None and language:
            type_ = "text/" + language
        else:
            return "classic"
    type_ = type_.strip(" \t\n\r\f").lower()
    if type_ in JAVASCRIPT_TYPES:
        return "classic"
    if type_ in ("module", "importmap", "speculationrules"):
        return type_
    return None


class _Scanner(HTMLParser):
    def __init__(self, scan: PageScan) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = scan
        self.inert = 0  # depth inside elements whose content never runs
        self.inert_root = ""  # the outermost of them
        self.in_code: tuple[str, str, int] | None = None  # (directive, kind, line)
        self.code: list[str] = []
        self.in_media: list[str] = []  # enclosing <picture>/<video>/<audio>
        self.base = ""  # the first <base href>, when it names another origin
        self.base_seen = False
        # Open <svg>/<math> and the integration points inside them: (tag, namespace of children).
        self.foreign: list[tuple[str, str]] = []
        self.code_tag = ""  # the <script>/<style> being read
        self.code_parsed = False  # in foreign content: its text is markup, not raw text
        self.code_nested = 0  # elements open inside a foreign <script>/<style>

    def namespace(self) -> str:
        return self.foreign[-1][1] if self.foreign else "html"

    def set_cdata_mode(self, elem: str, *args: object, **kwargs: object) -> None:
        # Called by HTMLParser right after handle_starttag for <script>/<style>; in foreign
        # content their text is parsed as markup, so raw-text mode stays off.
        if self.code_parsed and elem == self.code_tag:
            return
        super().set_cdata_mode(elem, *args, **kwargs)  # type: ignore[arg-type]

    def ref(self, directive: str, url: str | None, line: int, why: str) -> None:
        if url is None or not url.strip() or url.strip().startswith("#"):
            return
        url = url.strip()
        if self.base and not _ABSOLUTE_RE.match(url):
            url = urljoin(self.base, url)  # relative URLs after a <base href> resolve against it
        self.scan.refs.append(Ref(directive, url, line, why))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        if self.inert:
            if tag in _INERT:
                self.inert += 1
            elif tag == "style" and self.inert == 1 and self.inert_root == "noscript":
                # A page parsed with scripting off (DOMParser, as a site search reads its
                # pages) makes this a <style> element under the page's CSP.
                self.in_code = ("style-src", "<style> in <noscript>", line)
                self.code = []
            return
        first = dict(attrs)
        if len(first) != len(attrs):  # a repeated attribute: browsers keep the first
            first = {}
            for name, value in attrs:
                first.setdefault(name, value)
        if self.code_parsed:  # an element inside a foreign <script>/<style>: not its text
            self.code_nested += 1
            return
        namespace = self._enter(tag, first)
        if tag in _NAVIGATION_ATTRS or "style" in first or not EVENT_HANDLERS.isdisjoint(first):
            self._attributes(tag, first, line)
        if namespace != "html" and tag in ("script", "style"):
            self._foreign_code(tag, first, line, namespace)
            return
        if tag in _INERT:
            if tag == "iframe" and first.get("src") is not None:
                self.ref("frame-src", first.get("src"), line, "<iframe src>")
            if tag == "iframe" and "srcdoc" in first:
                self.scan.warnings.append(
                    (line, "<iframe srcdoc> content inherits this page's CSP and is not analysed")
                )
            self.inert, self.inert_root = 1, tag
            return
        if tag == "script":
            kind = _script_kind(first)
            if first.get("src") is not None:
                if kind is not None and kind != "importmap":
                    self.ref("script-src", first.get("src"), line, "<script src>")
                self.in_code = ("", "", line)  # content of a src script is ignored
            elif kind is None:
                self.in_code = ("", "", line)
            else:
                label = {
                    "classic": "inline script",
                    "module": "module script",
                    "importmap": "importmap",
                    "speculationrules": "speculation rules",
                }[kind]
                self.in_code = ("script-src", label, line)
            self.code = []
        elif tag == "style":
            self.in_code = ("style-src", "inline style", line)
            self.code = []
        else:
            self._resources(tag, first, line)

    def _enter(self, tag: str, attrs: dict[str, str | None]) -> str:
        """Track foreign content for a start tag; the namespace the element is in."""
        namespace = self.namespace()
        if namespace != "html" and (
            tag in _BREAKOUT or (tag == "font" and not {"color", "face", "size"}.isdisjoint(attrs))
        ):
            while self.foreign and self.foreign[-1][1] != "html":
                self.foreign.pop()
            namespace = self.namespace()
        if tag in _FOREIGN_ROOTS and (namespace == "html" or tag == "svg"):
            self.foreign.append((tag, tag))
            return tag
        if namespace != "html" and tag in _HTML_INSIDE[namespace] and tag not in _INERT:
            self.foreign.append((tag, "html"))
        return namespace

    def _foreign_code(self, tag: str, attrs: dict[str, str | None], line: int, ns: str) -> None:
        """An SVG <script>/<style> runs and is checked like HTML's (its text parsed as markup);
        a MathML one is an unknown element and needs nothing."""
        self.code_tag, self.code_parsed, self.code_nested = tag, True, 0
        self.code = []
        if ns != "svg":
            self.in_code = ("", "", line)
        elif tag == "style":
            self.in_code = ("style-src", "inline style", line)
        else:
            kind = _script_kind(attrs)
            if attrs.get("href") is not None or attrs.get("xlink:href") is not None:
                if kind is not None:
                    self.ref(
                        "script-src",
                        attrs.get("href") or attrs.get("xlink:href"),
                        line,
                        "<svg script href>",
                    )
                self.in_code = ("", "", line)
            elif kind == "classic":
                self.in_code = ("script-src", "inline script", line)
            else:
                self.in_code = ("", "", line)

    def unknown_decl(self, data: str) -> None:
        # <![CDATA[…]]> is text only in foreign content (in HTML it is a bogus comment).
        if self.code_parsed and not self.code_nested and data.startswith("CDATA["):
            self.code.append(data[len("CDATA[") :])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # In foreign content "/>" closes any element.
        if self.namespace() != "html" and not self.inert and not self.code_parsed:
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)
            return
        # A "/>" means nothing in HTML on these: the element stays open.
        if tag in ("script", "style") or tag in _INERT:
            self.handle_starttag(tag, attrs)
            return
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.inert:
            if tag in _INERT:
                self.inert -= 1
            elif tag == "style" and self.in_code is not None:
                self._end_code()
            return
        if self.code_parsed:
            if tag != self.code_tag or self.code_nested:
                self.code_nested = max(self.code_nested - 1, 0)
                return
            self.code_parsed = False
        if tag in ("script", "style") and self.in_code is not None:
            self._end_code()
        elif tag in ("picture", "video", "audio") and self.in_media:
            self.in_media.pop()
        for depth in range(len(self.foreign) - 1, -1, -1):
            if self.foreign[depth][0] == tag:
                del self.foreign[depth:]
                break

    def _end_code(self) -> None:
        """The inline ``<script>``/``<style>`` read so far is complete: hash it."""
        assert self.in_code is not None
        directive, kind, line = self.in_code
        if directive:
            text = "".join(self.code).replace("\0", "\ufffd")
            # An empty <script> is never prepared, so never checked
            # (https://html.spec.whatwg.org/#prepare-the-script-element); an empty
            # <style> still is (Chromium reports it).
            if text or directive != "script-src":
                self.scan.inline.append(Inline(directive, hash_source(text), kind, line, text))
            if kind == "inline style":
                for ref in scan_css(text, line):
                    self.ref(ref.directive, ref.url, ref.line, f"{ref.why} in <style>")
        self.in_code = None
        self.code = []

    def handle_data(self, data: str) -> None:
        if self.in_code is not None and not self.code_nested:
            self.code.append(data)

    def _attributes(self, tag: str, attrs: dict[str, str | None], line: int) -> None:
        """Event handlers, style= and javascript: URLs, hashed from the raw tag."""
        hashed = [n for n in attrs if n in EVENT_HANDLERS or n == "style"]
        navigation = [
            n
            for n in _NAVIGATION_ATTRS.get(tag, ())
            if (attrs.get(n) or "").lstrip(" \t\n\r\f\0").lower().startswith("javascript:")
        ]
        if not hashed and not navigation:
            return
        raw = raw_attributes(self.get_starttag_text() or "")
        for name in hashed + navigation:
            value, newlines = raw.get(name, (attrs.get(name) or "", 0))
            at = line + newlines
            if name == "style":
                self.scan.inline.append(
                    Inline("style-src", hash_source(value), "style attribute", at, value)
                )
                for ref in scan_css(value, at):
                    self.ref(ref.directive, ref.url, ref.line, f"{ref.why} in style=")
            elif name in EVENT_HANDLERS:
                self.scan.inline.append(
                    Inline("script-src", hash_source(value), f"event handler {name}", at, value)
                )
            else:
                text = javascript_url_text(value)
                self.scan.inline.append(
                    Inline("script-src", hash_source(text), "javascript: URL", at, text)
                )

    def _resources(self, tag: str, a: dict[str, str | None], line: int) -> None:
        if tag == "link":
            rels = (a.get("rel") or "").lower().split()
            for rel in rels:
                if rel == "preload" or rel == "prefetch":
                    as_ = (a.get("as") or "").strip().lower()
                    # Without a known `as` the hint is ignored (preload) or only a hint
                    # (prefetch): never worth loosening default-src for.
                    directive = _PRELOAD_AS.get(as_)
                    if directive is not None:
                        self.ref(directive, a.get("href"), line, f"<link rel={rel} as={as_}>")
                        if as_ == "image" and a.get("imagesrcset"):
                            for url in srcset_urls(a.get("imagesrcset") or ""):
                                self.ref("img-src", url, line, "<link imagesrcset>")
                elif rel in _LINK_RELS:
                    self.ref(_LINK_RELS[rel], a.get("href"), line, f"<link rel={rel}>")
                    break
        elif tag in ("img", "source"):
            parent = self.in_media[-1] if self.in_media else ""
            directive = (
                "media-src" if tag == "source" and parent in ("video", "audio") else "img-src"
            )
            self.ref(directive, a.get("src"), line, f"<{tag} src>")
            for attr in ("srcset", "imagesrcset"):
                for url in srcset_urls(a.get(attr) or ""):
                    self.ref("img-src", url, line, f"<{tag} {attr}>")
        elif tag in ("picture", "video", "audio"):
            self.in_media.append(tag)
            if tag != "picture":
                self.ref("media-src", a.get("src"), line, f"<{tag} src>")
            if tag == "video":
                self.ref("img-src", a.get("poster"), line, "<video poster>")
        elif tag == "track":
            self.ref("media-src", a.get("src"), line, "<track src>")
        elif tag == "input" and (a.get("type") or "").lower() == "image":
            self.ref("img-src", a.get("src"), line, "<input type=image src>")
        elif tag in ("frame", "portal"):
            self.ref("frame-src", a.get("src"), line, f"<{tag} src>")
        elif tag in ("object", "embed", "applet"):
            self.scan.warnings.append(
                (line, f"<{tag}> is blocked by object-src 'none' (the Observatory requires it)")
            )
        elif tag in ("image", "feimage", "use"):  # SVG; an external <use> loads as an image
            self.ref("img-src", a.get("href") or a.get("xlink:href"), line, f"<{tag} href>")
        elif tag == "base":
            # Only the first <base href> sets (and is checked as) the document's base URL
            # (https://html.spec.whatwg.org/#frozen-base-url); one on the same origin changes
            # no source, one on another host moves every relative URL there.
            href = (a.get("href") or "").strip()
            if href and not self.base_seen:
                self.ref("base-uri", href, line, "<base href>")
                self.base_seen = True
                if re.match(r"(?i)(https?:)?//", href):
                    self.base = href if href[:2] != "//" else "https:" + href
        elif tag == "form":
            # No action (or an empty one) submits to the page itself.
            action = a.get("action") or ""
            if not action.lstrip().lower().startswith("javascript:"):
                self.ref("form-action", action or "./", line, "<form action>")
        elif tag in ("button", "input") and a.get("formaction"):
            self.ref("form-action", a.get("formaction"), line, f"<{tag} formaction>")
        elif tag == "meta":
            equiv = (a.get("http-equiv") or "").strip().lower()
            if equiv in ("content-security-policy", "content-security-policy-report-only"):
                self.scan.warnings.append(
                    (
                        line,
                        "the page sets its own CSP in <meta>: browsers enforce both, so it must allow the page too",
                    )
                )
        if tag == "a" and a.get("ping"):
            for url in (a.get("ping") or "").split():
                self.ref("connect-src", url, line, "<a ping>")


def scan_html(data: bytes, served_charset: str | None = None) -> PageScan:
    """Scan one page given as the bytes the origin serves."""
    encoding, declared = detect_encoding(data, served_charset)
    text = normalize_newlines(data.decode(encoding, "replace"))
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    scan = PageScan(encoding)
    parser = _Scanner(scan)
    parser.feed(text)
    parser.close()
    # A <script> still open at the end of the file never runs (the parser marks it "already
    # started" at EOF, https://html.spec.whatwg.org/#parsing-main-incdata), so it needs nothing.
    if not declared and any(not i.text.isascii() for i in scan.inline):
        scan.warnings.append(
            (
                1,
                'non-ASCII inline code and no declared charset: hashed as UTF-8; add <meta charset="utf-8"> so browsers decode it the same way',
            )
        )
    return scan
