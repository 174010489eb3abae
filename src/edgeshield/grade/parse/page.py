"""What the grader reads from an HTML body: meta policies and script elements (stdlib parser)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from edgeshield.errors import EdgeshieldError


@dataclass(slots=True)
class Script:
    src: str | None  # the src attribute as written (None if absent)
    integrity: str | None
    crossorigin: str | None


@dataclass(slots=True)
class Page:
    csp_meta: list[str] = field(default_factory=list)
    referrer_meta: list[str] = field(default_factory=list)
    scripts: list[Script] = field(default_factory=list)


def _first(attrs: list[tuple[str, str | None]]) -> dict[str, str | None]:
    # The HTML parser keeps the first of repeated attributes.
    out: dict[str, str | None] = {}
    for name, value in attrs:
        if name not in out:
            out[name] = value
    return out


def _crossorigin(value: str | None, present: bool) -> str | None:
    if not present:
        return None
    return "use-credentials" if (value or "").lower() == "use-credentials" else "anonymous"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._template_depth = 0  # template contents are not part of the document
        self._foreign_depth = 0  # inside <svg>/<math>: a <script> there has no src property

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "template":
            self._template_depth += 1
            return
        if self._template_depth:
            return
        if tag in ("svg", "math"):
            self._foreign_depth += 1
            return
        if self._foreign_depth:
            if tag == "script":
                self.page.scripts.append(Script(None, None, None))
            return
        if tag == "meta":
            a = _first(attrs)
            content = a.get("content")
            if "http-equiv" in a and "content" in a:
                if (a["http-equiv"] or "").strip().lower() == "content-security-policy":
                    self.page.csp_meta.append(content or "")
            elif (a.get("name") or "").strip().lower() == "referrer" and "content" in a:
                # Only the last referrer meta tag counts.
                self.page.referrer_meta = [content or ""]
        elif tag == "script":
            a = _first(attrs)
            self.page.scripts.append(
                Script(
                    src=a.get("src") if "src" in a else None,
                    integrity=a.get("integrity"),
                    crossorigin=_crossorigin(a.get("crossorigin"), "crossorigin" in a),
                )
            )

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("template", "svg", "math"):
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "template" and self._template_depth:
            self._template_depth -= 1
        elif tag in ("svg", "math") and self._foreign_depth and not self._template_depth:
            self._foreign_depth -= 1


class PageParseError(EdgeshieldError, ValueError):
    pass


def parse_page(html: str) -> Page:
    """Collect meta policies and scripts; raise PageParseError if the parser gives up."""
    collector = _Collector()
    try:
        collector.feed(html)
        collector.close()
    except Exception as exc:  # the stdlib parser can raise on pathological markup
        raise PageParseError(str(exc)) from exc
    return collector.page
