"""``csp fit`` end to end as library calls: check the job, read the policy, fit (with the
browser pass when asked), and write the fitted policy and its per-page manifest.

``FitJob`` says what to fit; ``run_fit`` returns a ``FitRun`` (nothing written yet) and
``write_fit`` writes it. A mistake in the job is a ``FitOptionError`` naming the field
(``origin``, ``site_urls``, ...); a site or policy that cannot be read or fitted is a
``FitError``. Both are one line for a user.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from edgeshield.csp.fit import FitOptions, has_pages
from edgeshield.csp.fit_report import fit_report
from edgeshield.csp.fitpolicy import FittedPolicy, base_directives, fit_policy
from edgeshield.csp.sources import resolve
from edgeshield.csp.write import PolicyEditError, find_csp
from edgeshield.errors import EdgeshieldError, FieldError
from edgeshield.policy.csp_pages import FORMAT, effective_sources
from edgeshield.policy.presets import preset_text

if TYPE_CHECKING:
    from edgeshield.csp.crawl import CrawlLimits, CrawlResult

MIN_UNION: Final = 256  # bytes: below this, auto mode would split nearly every site per page
MANIFEST_SUFFIX: Final = ".csp-pages.json"


class FitError(EdgeshieldError):
    """The site or the policy cannot be read, fitted or written."""


class FitOptionError(FieldError, FitError):
    """A ``FitJob`` field holds a value ``csp fit`` cannot use (``field`` names it)."""


@dataclass(frozen=True)
class FitJob:
    """What to fit: the site folder, the policy read (None: the strict preset) and the file the
    fitted policy goes to (its per-page manifest goes next to it)."""

    origin: Path
    policy: Path | None
    target: Path
    options: FitOptions = dataclasses.field(default_factory=FitOptions)
    site_urls: Sequence[str] = ()  # the site's own origins: absolute links to them are 'self'
    crawl: CrawlLimits | None = None  # the browser pass, with its bounds; None: static only

    @property
    def manifest(self) -> Path:
        return self.target.with_name(self.target.stem + MANIFEST_SUFFIX)

    @property
    def policy_label(self) -> str:
        return str(self.policy) if self.policy is not None else "<preset strict>"

    def check(self) -> list[str]:
        """The site's own origins as CSP sources; ``FitOptionError`` for a field it cannot use."""
        if not self.origin.is_dir():
            raise FitOptionError("origin", "{origin} {path}: not a directory", path=self.origin)
        if not has_pages(self.origin):  # a wrong folder must not pass a CI step
            raise FitOptionError(
                "origin", "{origin} {path}: no HTML pages (*.html, *.htm) to fit", path=self.origin
            )
        if self.options.max_union < MIN_UNION:
            raise FitOptionError(
                "max_union",
                "{max_union} {value}: use at least {least} bytes",
                value=self.options.max_union,
                least=MIN_UNION,
            )
        origins = []
        for url in self.site_urls:
            resolved = resolve(url)
            if resolved.source is None or "://" not in resolved.source:
                raise FitOptionError(
                    "site_urls",
                    "{site_urls} {url!r}: give an origin like https://example.com",
                    url=url,
                )
            origins.append(resolved.source)
        return origins

    def policy_text(self) -> str:
        if self.policy is None:
            return preset_text("strict")
        try:
            return self.policy.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FitError(f"cannot read {self.policy}: {exc}") from None


@dataclass(frozen=True)
class FitRun:
    """A finished fit, not yet written. ``strict``: the same fit without the 'unsafe-inline'
    or 'unsafe-eval' the user asked for (to show what hashes alone would give)."""

    job: FitJob
    fitted: FittedPolicy
    crawled: CrawlResult | None = None
    strict: FittedPolicy | None = None

    def report(self) -> dict[str, Any]:
        """The report ``csp fit --json`` prints (without grades: those come from the grader)."""
        report = fit_report(self.fitted)
        report["policy"] = str(self.job.target)
        per_page = self.fitted.manifest_text is not None
        report["manifest"] = str(self.job.manifest) if per_page else None
        if self.crawled is not None:
            report["crawl"] = self.crawled.to_dict()
        return report


def run_fit(job: FitJob) -> FitRun:
    """Fit the job's policy to its site; nothing is written."""
    origins = job.check()
    text = job.policy_text()
    manifest = job.manifest.name
    try:
        result, crawled = _crawl(job, text, origins) if job.crawl is not None else (None, None)
        fitted = fit_policy(job.origin, text, job.options, manifest, origins, result)
        strict = None
        if job.options.unsafe_inline or job.options.unsafe_eval:
            plain = dataclasses.replace(job.options, unsafe_inline=frozenset(), unsafe_eval=False)
            strict = fit_policy(job.origin, text, plain, manifest, origins, fitted.result)
    except PolicyEditError as exc:
        raise FitError(f"{job.policy_label}: {exc}") from None
    except OSError as exc:
        raise FitError(f"cannot read the site: {exc}") from None
    if job.crawl is None:
        note = _dropped_note(text, fitted)
        if note is not None:
            fitted.result.warnings.append(note)
    return FitRun(job, fitted, crawled, strict)


def _dropped_note(text: str, fitted: FittedPolicy) -> str | None:
    """A warning when the policy's earlier fitted table held sources this static fit no
    longer finds: most often what an earlier ``--crawl`` added (code made at run time), which
    a fit without ``--crawl`` cannot see, so re-fitting silently broke those pages."""
    try:
        found = find_csp(tomllib.loads(text))
    except tomllib.TOMLDecodeError:
        return None
    old = found[1].get("fitted") if found is not None and isinstance(found[1], dict) else None
    if not isinstance(old, dict):
        return None
    plan, base = fitted.plan, base_directives(text)
    kept = {(d, s) for d, sources in plan.fitted.items() for s in sources}
    kept |= {(d, s) for d in old for s in effective_sources(base, d) or []}
    kept |= {(d, s) for page in plan.pages.values() for d, ss in page.items() for s in ss}
    dropped = [
        f"{d} {s}"
        for d, sources in old.items()
        if isinstance(sources, list)
        for s in sources
        if isinstance(s, str) and (d, s) not in kept
    ]
    if not dropped:
        return None
    shown = ", ".join(dropped[:3]) + (f" and {len(dropped) - 3} more" if len(dropped) > 3 else "")
    return (
        f"{len(dropped)} source(s) the earlier fit allowed are gone ({shown}): if a --crawl "
        "found them (code made at run time), re-run with --crawl to keep them"
    )


def _crawl(job: FitJob, text: str, origins: list[str]) -> tuple[Any, CrawlResult]:
    from edgeshield.csp.browser import BrowserMissing, EdgeStartError
    from edgeshield.csp.crawl import crawl_fit

    try:
        return crawl_fit(job.origin, text, job.options, origins, job.crawl)
    except (BrowserMissing, EdgeStartError) as exc:
        raise FitOptionError("crawl", "{crawl}: {reason}", reason=str(exc)) from None


def write_fit(run: FitRun) -> None:
    """Write the fitted policy, and its manifest in per-page mode; remove the manifest an
    earlier per-page run left when this run fits one CSP for every page."""
    target, manifest, fitted = run.job.target, run.job.manifest, run.fitted
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # The manifest first: a running `serve` reloads when the policy file changes.
        if fitted.manifest_text is not None:
            manifest.write_text(fitted.manifest_text, encoding="utf-8")
        target.write_text(fitted.policy_text, encoding="utf-8")
        if fitted.manifest_text is None and _is_manifest(manifest):
            manifest.unlink()  # an earlier per-page run's manifest, no longer referenced
    except OSError as exc:
        raise FitError(f"cannot write {target}: {exc.strerror}") from None


def _is_manifest(path: Path) -> bool:
    """A file ``csp fit`` wrote (never a file of the user's that happens to have the name)."""
    if not path.is_file():
        return False
    head = path.read_text(encoding="utf-8")
    return head.startswith(f'{{"format": {FORMAT}, "index-document"')


__all__ = ["FitError", "FitJob", "FitOptionError", "FitRun", "run_fit", "write_fit"]
