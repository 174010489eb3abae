"""Read a policy file: TOML -> validated ``Policy`` plus every problem, each with its line."""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from edgeshield.policy import headers as hdr
from edgeshield.policy.csp_pages import CspPages, load_manifest
from edgeshield.policy.locate import LineIndex
from edgeshield.policy.model import ALL, Match, Policy, Rule
from edgeshield.policy.problems import Problem, shown

TOP_KEYS = {"function", "headers", "remove", "rules"}
CSP = "content-security-policy"
CSP_REPORT_ONLY = "content-security-policy-report-only"
FUNCTION_KEYS = {"trigger", "log-sample-rate", "metrics", "metrics-namespace"}
REMOVE_KEYS = {"headers", "owasp"}
RULE_KEYS = {"name", "match", "set", "remove", "drop"}
MATCH_KEYS = {"path", "content-type", "status"}
POLICY_TRIGGERS = ("origin-response", "viewer-response")

_STATUS_RE = re.compile(r"^\s*(\d{3})\s*(?:-\s*(\d{3}))?\s*$")
_STATUS_CLASS_RE = re.compile(r"^\s*([1-5])xx\s*$", re.IGNORECASE)
_MEDIA_RE = re.compile(r"^[a-z0-9!#$&^_.+-]+/(\*|[a-z0-9!#$&^_.+-]+)$")
_TOML_LINE_RE = re.compile(r"at line (\d+)")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LONG_DIGITS_RE = re.compile(r"[0-9_]{4000,}")


def _wire_names(name: str) -> set[str]:
    """The header names one policy entry can appear under: CSP's depend on its mode."""
    return {CSP, CSP_REPORT_ONLY} if name in (CSP, CSP_REPORT_ONLY) else {name}


@cache
def owasp_remove_list() -> tuple[str, ...]:
    """The OWASP Secure Headers Project's list of headers to strip, lower-cased."""
    data = json.loads(
        resources.files("edgeshield.policy").joinpath("data/owasp_headers_remove.json").read_text()
    )
    return tuple(str(name).lower() for name in data["headers"])


class _Collector:
    def __init__(self, file: str, index: LineIndex) -> None:
        self.file = file
        self.index = index
        self.problems: list[Problem] = []
        self.rule_names: dict[str, str] = {}  # "rules.3" -> that rule's name, for messages

    def add(self, where: str, what: str, fix: str, severity: str = "error") -> None:
        parts = where.split(".")
        rule = self.rule_names.get(".".join(parts[:2])) if parts[0] == "rules" else None
        self.problems.append(
            Problem(
                where=where,
                what=what,
                fix=fix,
                severity="warning" if severity == "warning" else "error",
                file=self.file,
                line=self.index.line_of(where),
                rule=rule,
            )
        )

    def unknown_keys(self, where: str, table: dict[str, Any], allowed: set[str]) -> None:
        for key in table:
            if key in allowed:
                continue
            close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
            fix = (
                f"did you mean {close[0]!r}?"
                if close
                else "allowed keys: " + ", ".join(sorted(allowed))
            )
            self.add(f"{where}.{key}" if where else key, f"unknown key {key!r}", fix)

    def findings(self, where: str, found: list[tuple[str, str, str, str]]) -> None:
        for suffix, what, fix, severity in found:
            self.add(f"{where}.{suffix}" if suffix else where, what, fix, severity)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def parse_policy(
    text: str, file: str = "<policy>", base_dir: Path | None = None
) -> tuple[Policy | None, list[Problem]]:
    """Parse and validate. Returns the policy (None when there are errors) and all problems.
    Files the policy names (a per-page CSP manifest) are found relative to ``base_dir``
    (default: the current directory)."""
    try:
        data = tomllib.loads(text)
    except RecursionError:
        return None, [
            Problem(
                "toml",
                "nesting is too deep to parse",
                "a policy needs at most a few levels of tables and arrays",
                file=file,
                line=1,
            )
        ]
    except tomllib.TOMLDecodeError as exc:
        return None, [_syntax_problem(exc, file)]
    except ValueError:
        # tomllib converts integers with int(), which refuses more than 4,300 digits.
        return None, [_huge_number_problem(text, file)]
    c = _Collector(file, LineIndex(text))
    c.unknown_keys("", data, TOP_KEYS)

    trigger, sample_rate, metrics, namespace = _function(c, data.get("function", {}))
    settings = _headers(c, data.get("headers", {}), trigger)
    csp_pages = _csp_pages(c, data.get("headers", {}), settings, base_dir or Path())
    remove = _remove(c, data.get("remove", {}), trigger)
    rules = _rules(c, data.get("rules", []), trigger, {s.name for s in settings})
    _check_sends_something(c, data, settings, rules)
    problems = sorted(c.problems, key=lambda p: p.line)  # stable: same-line order kept
    if not c.ok:
        return None, problems
    policy = Policy(
        trigger=trigger,
        headers=tuple(settings),
        remove=remove,
        rules=tuple(rules),
        log_sample_rate=sample_rate,
        metrics=metrics,
        metrics_namespace=namespace,
        csp_pages=csp_pages,
        source=file,
    )
    return policy, problems


def _syntax_problem(exc: tomllib.TOMLDecodeError, file: str) -> Problem:
    match = _TOML_LINE_RE.search(str(exc))
    message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
    return Problem(
        "toml",
        f"TOML syntax error: {message}",
        "fix the syntax (see https://toml.io)",
        file=file,
        line=int(match.group(1)) if match else 1,
    )


def _huge_number_problem(text: str, file: str) -> Problem:
    match = _LONG_DIGITS_RE.search(text)
    line = text.count("\n", 0, match.start()) + 1 if match else 1
    return Problem(
        "",
        "a number is too long to read" + (f" ({len(match.group(0))} digits)" if match else ""),
        "numbers in a policy are small: seconds (max-age = 63072000), rates (0.1), statuses (404)",
        file=file,
        line=line,
    )


def _check_sends_something(
    c: _Collector, data: dict[str, Any], settings: list[hdr.HeaderSetting], rules: list[Rule]
) -> None:
    """A policy that adds no header is almost always a mistake (an empty file, a file of
    comments, everything under a misspelt table): say so rather than pass it."""
    if not c.ok or settings or any(r.set for r in rules):
        return  # errors already said what is wrong
    if not data.get("remove") and not data.get("rules"):
        c.add(
            "",
            "the policy is empty: it adds no header and removes none",
            "start from a preset: edgeshield init --preset strict",
        )
        return
    if any(r.drop for r in rules):  # nothing is added, so the drops have nothing to drop
        c.add(
            "headers",
            "the policy adds no header; responses keep only the origin's",
            "add a [headers] table, e.g. from: edgeshield init --preset strict",
            "warning",
        )


# Each * of a path pattern becomes a numbered group of its regular expression
# (compile.glob_to_regex), and Python reads \100 and beyond as octal escapes, not groups.
MAX_PATH_STARS = 99
# A policy is a few kilobytes (a site's per-page CSPs live in their manifest): reading stops
# past this, so a wrong path (/dev/zero, a log file) is one problem instead of all the memory.
MAX_POLICY_BYTES = 4 * 1024 * 1024


def load_policy(path: Path) -> tuple[Policy | None, list[Problem]]:
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_POLICY_BYTES + 1)
    except FileNotFoundError:
        return None, [_file_problem(path, "not found", "create it with: edgeshield init")]
    except IsADirectoryError:
        return None, [_file_problem(path, "is a folder", "give the policy file itself")]
    except OSError as exc:
        return None, [
            _file_problem(path, f"cannot read it ({exc.strerror or exc})", "check the path")
        ]
    if len(raw) > MAX_POLICY_BYTES:
        return None, [
            _file_problem(
                path, "is larger than 4 MiB", "give the policy file (a policy is a few kilobytes)"
            )
        ]
    text, problem = decode_policy(raw, str(path))
    if problem is not None:
        return None, [problem]
    return parse_policy(text, str(path), path.parent)


def _file_problem(path: Path, what: str, fix: str) -> Problem:
    return Problem("file", what, fix, file=str(path), line=0)


_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def decode_policy(raw: bytes, file: str) -> tuple[str, Problem | None]:
    """The text of a policy file (UTF-8, as TOML requires; a UTF-8 byte-order mark is
    skipped), or the problem that names the encoding or the line of the first bad byte."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return "", Problem(
                "",
                f"the file is {encoding} (it starts with a {encoding} byte-order mark)",
                "TOML files are UTF-8: save it as UTF-8 (Notepad: Save as, Encoding UTF-8)",
                file=file,
                line=1,
            )
    if (nul := raw.find(b"\x00")) >= 0:
        return "", Problem(
            "",
            "the file holds NUL bytes: is it UTF-16 without a byte-order mark?",
            "TOML files are UTF-8: save it as UTF-8",
            file=file,
            line=raw.count(b"\n", 0, nul) + 1,
        )
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
        line = raw.count(b"\n", 0, offset) + 1
        return "", Problem(
            "",
            f"byte 0x{raw[offset]:02x} is not UTF-8",
            "TOML files are UTF-8: save it as UTF-8",
            file=file,
            line=line,
        )


def _function(c: _Collector, table: Any) -> tuple[str, float, bool, str]:
    if not isinstance(table, dict):
        c.add("function", "must be a table", "write [function]")
        return "origin-response", 0.0, False, "edgeshield"
    c.unknown_keys("function", table, FUNCTION_KEYS)
    trigger = table.get("trigger", "origin-response")
    if trigger not in POLICY_TRIGGERS:
        c.add(
            "function.trigger",
            f"edgeshield's function cannot run on {shown(trigger)}",
            "use origin-response (recommended: runs for every status, result is cached) or viewer-response",
        )
        trigger = "origin-response"
    rate = table.get("log-sample-rate", 0.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        c.add(
            "function.log-sample-rate",
            f"invalid sample rate {shown(rate)}",
            "a number from 0 (off) to 1 (every invocation)",
        )
        rate = 0.0
    metrics = table.get("metrics", False)
    if not isinstance(metrics, bool):
        c.add(
            "function.metrics",
            f"metrics must be true or false, not {shown(metrics)}",
            "write true or false",
        )
        metrics = False
    namespace = table.get("metrics-namespace", "edgeshield")
    if not isinstance(namespace, str) or not re.fullmatch(r"[A-Za-z0-9._/#:-]{1,255}", namespace):
        c.add(
            "function.metrics-namespace",
            f"invalid namespace {shown(namespace)}",
            "letters, digits and . _ / # : - (CloudWatch namespace rules)",
        )
        namespace = "edgeshield"
    return trigger, float(rate), metrics, namespace


def _header_settings(
    c: _Collector, where: str, table: Any, trigger: str
) -> list[hdr.HeaderSetting]:
    if not isinstance(table, dict):
        c.add(where, "must be a table of header names", 'e.g. x-frame-options = "DENY"')
        return []
    settings: list[hdr.HeaderSetting] = []
    seen: set[str] = set()
    for name, spec in table.items():
        lower = name.lower()
        path = f"{where}.{name}"
        if lower in seen:
            c.add(
                path,
                f"header {lower!r} is given twice (names are case-insensitive)",
                "keep one entry",
            )
            continue
        seen.add(lower)
        setting, found = hdr.build(lower, spec, trigger)
        c.findings(path, found)
        if setting is not None:
            if setting.name != lower and setting.name in seen:
                c.add(path, f"{setting.key} is given twice", "keep one entry")
                continue
            seen.add(setting.name)
            settings.append(setting)
    return settings


def _headers(c: _Collector, table: Any, trigger: str) -> list[hdr.HeaderSetting]:
    settings = _header_settings(c, "headers", table, trigger)
    by_name = {s.name: s for s in settings}
    csp = by_name.get("content-security-policy") or by_name.get(
        "content-security-policy-report-only"
    )
    if csp is not None:
        _check_report_to(c, csp.value, by_name.get("reporting-endpoints"))
    return settings


def _per_page_ref(spec: Any) -> str | None:
    fitted = spec.get("fitted") if isinstance(spec, dict) else None
    ref = fitted.get("per-page") if isinstance(fitted, dict) else None
    return ref if isinstance(ref, str) and ref.strip() else None


def _csp_pages(
    c: _Collector, table: Any, settings: list[hdr.HeaderSetting], base_dir: Path
) -> CspPages | None:
    """Load the per-page manifest the CSP's fitted table names, if any."""
    if not isinstance(table, dict):
        return None
    for key, spec in table.items():
        ref = _per_page_ref(spec) if key.lower() in (CSP, CSP_REPORT_ONLY) else None
        if ref is None:
            continue
        setting = next((s for s in settings if s.name in _wire_names(CSP)), None)
        if setting is None:  # the CSP itself has errors, already reported
            return None
        pages, problems = load_manifest(base_dir / ref, ref, setting.name)
        c.problems.extend(problems)
        return pages
    return None


def _check_report_to(c: _Collector, csp_value: str, endpoints: hdr.HeaderSetting | None) -> None:
    # The endpoint name is a token: it ends at whitespace or at the ';' of the next directive.
    match = re.search(r"(?:^|;)\s*report-to\s+([^\s;]+)", csp_value)
    if not match:
        return
    name = match.group(1)
    if endpoints is None or not re.search(rf"(?:^|,)\s*{re.escape(name)}\s*=", endpoints.value):
        c.add(
            "headers.content-security-policy.directives.report-to",
            f"report-to names endpoint {name!r} but no Reporting-Endpoints header defines it",
            f'add [headers.reporting-endpoints.endpoints] {name} = "/_edgeshield/csp-report"',
            "warning",
        )


def _names(c: _Collector, where: str, value: Any, trigger: str, action: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        c.add(where, "must be a list of header names", 'e.g. ["server", "x-powered-by"]')
        return ()
    names: list[str] = []
    for name in value:
        if name == ALL:
            if action == "drop":
                names.append(ALL)
            else:
                c.add(
                    where,
                    f"{ALL!r} is not a header name here",
                    'list the headers to remove; drop = ["*"] stops all policy headers',
                )
            continue
        if action == "drop" and name.lower() == CSP:
            names.extend(_wire_names(CSP))  # one policy entry, two possible wire names
            continue
        found = hdr.check_name(name, trigger, action)
        c.findings(where, [(s, f"{what}", fix, sev) for s, what, fix, sev in found])
        if not found:
            names.append(name.lower())
    return tuple(dict.fromkeys(names))


def _remove(c: _Collector, table: Any, trigger: str) -> tuple[str, ...]:
    if not isinstance(table, dict):
        c.add("remove", "must be a table", 'e.g. [remove] headers = ["server"]')
        return ()
    c.unknown_keys("remove", table, REMOVE_KEYS)
    names = _names(c, "remove.headers", table.get("headers", []), trigger, "remove")
    owasp = table.get("owasp", False)
    if not isinstance(owasp, bool):
        c.add(
            "remove.owasp",
            f"owasp must be true or false, not {shown(owasp)}",
            "write true or false",
        )
        owasp = False
    if owasp:
        names = tuple(dict.fromkeys([*names, *owasp_remove_list()]))
    return names


def _rules(c: _Collector, items: Any, trigger: str, policy_names: set[str]) -> list[Rule]:
    if not isinstance(items, list):
        c.add("rules", "must be an array of tables", "write each rule as [[rules]]")
        return []
    rules: list[Rule] = []
    known = set(policy_names)  # the names the policy and the rules so far add
    for i, item in enumerate(items):
        where = f"rules.{i}"
        if not isinstance(item, dict):
            c.add(where, "a rule must be a table", "write [[rules]] with match and set/remove/drop")
            continue
        name = item.get("name", f"rule {i + 1}")
        if isinstance(name, str) and "name" in item:
            c.rule_names[where] = name  # every problem inside the rule names it
        c.unknown_keys(where, item, RULE_KEYS)
        rule_set = item.get("set")
        if isinstance(rule_set, dict) and any(
            k.lower() in (CSP, CSP_REPORT_ONLY) and _per_page_ref(v) for k, v in rule_set.items()
        ):
            c.add(
                f"{where}.set",
                "per-page is not allowed in a rule",
                "it belongs in [headers.content-security-policy.fitted] (written by `edgeshield csp fit`)",
            )
        if not isinstance(name, str):
            c.add(f"{where}.name", "name must be a string", 'e.g. name = "api is not cached"')
            name = f"rule {i + 1}"
        match = _match(c, f"{where}.match", item.get("match", {}))
        settings = _header_settings(c, f"{where}.set", item.get("set", {}), trigger)
        remove = _names(c, f"{where}.remove", item.get("remove", []), trigger, "remove")
        drop = _names(c, f"{where}.drop", item.get("drop", []), trigger, "drop")
        for dropped in drop:
            # The report-only name only arrives with the CSP entry it belongs to (see _names).
            if dropped in (ALL, CSP_REPORT_ONLY):
                continue
            if not _wire_names(dropped) & known:
                c.add(
                    f"{where}.drop",
                    f"drop names {dropped!r}, which no earlier part of the policy adds",
                    "drop only stops policy headers; use remove for headers from the origin",
                    "warning",
                )
        if not any(item.get(k) for k in ("set", "remove", "drop")):
            c.add(where, "the rule changes nothing", "give it set, remove or drop", "warning")
        rules.append(Rule(name, match, tuple(settings), remove, drop))
        known.update(s.name for s in settings)
    return rules


def _str_list(c: _Collector, where: str, value: Any) -> list[str] | None:
    if isinstance(value, str | int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value:
        c.add(where, "must be a non-empty list", 'e.g. ["/api/*"]')
        return None
    return value


def _match(c: _Collector, where: str, table: Any) -> Match:
    if not isinstance(table, dict):
        c.add(where, "must be a table", 'e.g. match = { path = ["/api/*"] }')
        return Match()
    c.unknown_keys(where, table, MATCH_KEYS)
    paths: list[str] = []
    types: list[str] = []
    statuses: list[tuple[int, int]] = []
    if "path" in table and (items := _str_list(c, f"{where}.path", table["path"])) is not None:
        for p in items:
            if (
                not isinstance(p, str)
                or not (p.startswith("/") or p.startswith("*"))
                or len(p) > 255
                or _CONTROL_RE.search(p)
                or p.count("*") > MAX_PATH_STARS
            ):
                c.add(
                    f"{where}.path",
                    f"invalid path pattern {shown(p)}",
                    "start with / or *, at most 255 characters and 99 *; * matches any run of "
                    "characters, ? one",
                )
            else:
                paths.append(p)
    if (
        "content-type" in table
        and (items := _str_list(c, f"{where}.content-type", table["content-type"])) is not None
    ):
        for t in items:
            media = t.split(";")[0].strip().lower() if isinstance(t, str) else ""
            if not _MEDIA_RE.match(media):
                c.add(
                    f"{where}.content-type",
                    f"invalid media type {shown(t)}",
                    'use type/subtype or type/*, e.g. "text/html", "image/*"',
                )
            else:
                types.append(media)
    if (
        "status" in table
        and (items := _str_list(c, f"{where}.status", table["status"])) is not None
    ):
        for s in items:
            parsed = _status_range(s)
            if parsed is None:
                c.add(
                    f"{where}.status",
                    f"invalid status {shown(s)}",
                    'use a code (404), a range ("400-499") or a class ("4xx"), within 100-599',
                )
            else:
                statuses.append(parsed)
    return Match(tuple(paths), tuple(types), tuple(statuses))


def _status_range(value: Any) -> tuple[int, int] | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value) if 100 <= value <= 599 else None
    if not isinstance(value, str):
        return None
    cls = _STATUS_CLASS_RE.match(value)
    if cls:
        base = int(cls.group(1)) * 100
        return base, base + 99
    m = _STATUS_RE.match(value)
    if not m:
        return None
    lo = int(m.group(1))
    hi = int(m.group(2) or lo)
    return (lo, hi) if 100 <= lo <= hi <= 599 else None
