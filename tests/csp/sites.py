"""Generated static sites for the csp tests: real trees on disk, with what generators emit."""

from __future__ import annotations

from pathlib import Path

PAGE = """<!DOCTYPE html>\r
<html lang="fr"><head><meta charset="utf-8">\r
<title>{title}</title>\r
<link rel="stylesheet" href="{depth}css/site.css">\r
<link rel="icon" href="{depth}favicon.svg">\r
<script>window.theme = localStorage.getItem("theme") || "auto";</script>\r
<script type="application/ld+json">{{"@type": "Article", "name": "{title}"}}</script>\r
</head><body>\r
<nav><a href="{depth}index.html">Accueil</a> <a href="#" onclick="toggle(&quot;menu&quot;); return false;">Menu</a></nav>\r
<main><h1>{title}</h1><p style="color: #333">Café – page {number}</p>\r
<script>var page = {number}; document.body.dataset.page = "Numéro {number}";</script>\r
</main></body></html>\r
"""


def write_site(root: Path, pages: int = 30) -> Path:
    """A site with pages at several depths: each page has one hash of its own (the page number
    script), all share the theme script and the onclick handler."""
    (root / "css").mkdir(parents=True, exist_ok=True)
    (root / "css" / "site.css").write_text(
        "@import url('https://fonts.googleapis.com/css2?family=Inter');\n"
        "@font-face { font-family: I; src: url(https://fonts.gstatic.com/s/i.woff2) }\n"
        'nav { background: url("data:image/svg+xml,%3Csvg%3E%3C/svg%3E") }\n'
    )
    (root / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    for number in range(pages):
        if number == 0:
            path = root / "index.html"
        elif number % 3 == 0:
            path = root / "docs" / f"section-{number}" / "index.html"
        else:
            path = root / "docs" / f"page-{number}.html"
        depth = "../" * (len(path.relative_to(root).parts) - 1)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            PAGE.format(title=f"Page {number}", depth=depth, number=number).encode("utf-8")
        )
    return root
