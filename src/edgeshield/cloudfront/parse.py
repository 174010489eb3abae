"""Read Lambda@Edge events from JSON: real CloudFront events and the SAM CLI samples.

The SAM samples (``sam local generate-event cloudfront ...``) lack ``eventType``, ``requestId``
and ``distributionDomainName``, mostly lack ``querystring``, and one has no ``request`` at all.
``normalize_event`` fills all of that in so a function sees what CloudFront would pass it.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any, cast

from edgeshield import jsontext
from edgeshield.cloudfront.events import (
    DEFAULT_CLIENT_IP,
    DEFAULT_DISTRIBUTION_DOMAIN,
    DEFAULT_DISTRIBUTION_ID,
    Event,
    EventError,
    custom_origin,
    new_request_id,
)
from edgeshield.cloudfront.rules import (
    REQUEST_TRIGGERS,
    RESPONSE_TRIGGERS,
    TRIGGERS,
    VIEWER_TRIGGERS,
    Trigger,
    canonical_key,
)


def load_event(source: str | os.PathLike[str], trigger: str | None = None) -> Event:
    """Parse an event from JSON text, or from a file when ``source`` is a path (a string that
    does not start with ``{``), and normalize it (see ``normalize_event``)."""
    if isinstance(source, str) and source.lstrip().startswith("{"):
        where, text = "event", source
    else:
        path = Path(source)
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8-sig")  # tolerate a BOM from editors
        except UnicodeDecodeError:
            raise EventError(f"{where}: not UTF-8 text") from None
        except OSError as exc:
            raise EventError(f"cannot read event file {where}: {exc.strerror or exc}") from None
    try:
        obj = jsontext.loads(text)
    except json.JSONDecodeError as exc:
        raise EventError(
            f"{where}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    try:
        return normalize_event(obj, trigger)
    except EventError as exc:
        raise EventError(f"{where}: {exc}") from None


def cf_record(event: Event) -> dict[str, Any]:
    """``event["Records"][0]["cf"]``: the part holding config, request and response."""
    return cast(dict[str, Any], event["Records"][0]["cf"])


def event_trigger(event: Event) -> Trigger:
    """The event's trigger, from ``config.eventType``."""
    try:
        value = event["Records"][0]["cf"]["config"]["eventType"]
    except (KeyError, IndexError, TypeError):
        raise EventError("Records[0].cf.config.eventType: missing") from None
    if value not in TRIGGERS:
        raise EventError(
            f"Records[0].cf.config.eventType: {value!r} is not one of {', '.join(TRIGGERS)}"
        )
    return cast(Trigger, value)


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EventError(f"{path}: expected an object, got {_json_type(value)}")
    return value


def _string(obj: dict[str, Any], field: str, path: str, default: str) -> None:
    value = obj.setdefault(field, default)
    if not isinstance(value, str):
        raise EventError(f"{path}.{field}: expected a string, got {_json_type(value)}")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _headers(container: dict[str, Any], field: str, path: str) -> None:
    """Check a headers object; lower-case its keys and fill missing ``key`` fields."""
    path = f"{path}.{field}"
    headers = _object(container.setdefault(field, {}), path)
    fixed: dict[str, list[dict[str, Any]]] = {}
    for name, entries in headers.items():
        where = f"{path}[{json.dumps(name)}]"
        if not isinstance(entries, list):
            raise EventError(f"{where}: expected an array of {{key, value}}")
        for i, entry in enumerate(entries):
            entry = _object(entry, f"{where}[{i}]")
            if not isinstance(entry.get("value"), str):
                raise EventError(f"{where}[{i}].value: expected a string")
            key = entry.setdefault("key", canonical_key(name))
            if not isinstance(key, str):
                raise EventError(f"{where}[{i}].key: expected a string")
        fixed.setdefault(name.lower(), []).extend(entries)
    container[field] = fixed


def _guess_trigger(cf: dict[str, Any]) -> Trigger:
    # A response means a response trigger; origin-response is the likelier one for a function
    # that edits headers. An origin object means an origin trigger.
    request = cf.get("request")
    has_origin = isinstance(request, dict) and "origin" in request
    if "response" in cf:
        return "origin-response"
    return "origin-request" if has_origin else "viewer-request"


def normalize_event(obj: Any, trigger: str | None = None) -> Event:
    """A copy of ``obj`` completed into a full CloudFront event, or ``EventError`` naming the
    JSON path at fault. ``eventType`` comes from the event, else ``trigger``, else inspection."""
    if trigger is not None and trigger not in TRIGGERS:
        raise EventError(f"unknown trigger {trigger!r}; expected one of {', '.join(TRIGGERS)}")
    event = copy.deepcopy(_object(obj, "$"))
    records = event.get("Records")
    if not isinstance(records, list) or len(records) != 1:
        raise EventError(
            'Records: expected an array with exactly one record, like {"Records": [{"cf": {...}}]}'
        )
    cf = _object(_object(records[0], "Records[0]").get("cf"), "Records[0].cf")
    config = _object(cf.setdefault("config", {}), "Records[0].cf.config")

    declared = config.get("eventType")
    if declared is not None and declared not in TRIGGERS:
        raise EventError(
            f"Records[0].cf.config.eventType: {declared!r} is not one of {', '.join(TRIGGERS)}"
        )
    if declared is not None and trigger is not None and declared != trigger:
        raise EventError(
            f"Records[0].cf.config.eventType: the event says {declared}, but {trigger} was asked for"
        )
    kind = cast(Trigger, declared or trigger or _guess_trigger(cf))
    config["eventType"] = kind
    _string(config, "distributionDomainName", "Records[0].cf.config", DEFAULT_DISTRIBUTION_DOMAIN)
    _string(config, "distributionId", "Records[0].cf.config", DEFAULT_DISTRIBUTION_ID)
    _string(config, "requestId", "Records[0].cf.config", new_request_id())

    if kind in REQUEST_TRIGGERS:
        if "response" in cf:
            raise EventError(f"Records[0].cf.response: {kind} events have no response")
        if "request" not in cf:
            raise EventError(f"Records[0].cf.request: missing ({kind} events need one)")
    request = _object(cf.setdefault("request", {}), "Records[0].cf.request")
    for field, default in (
        ("clientIp", DEFAULT_CLIENT_IP),
        ("method", "GET"),
        ("querystring", ""),
        ("uri", "/"),
    ):
        _string(request, field, "Records[0].cf.request", default)
    _headers(request, "headers", "Records[0].cf.request")
    if kind not in VIEWER_TRIGGERS:
        _object(request.setdefault("origin", custom_origin()), "Records[0].cf.request.origin")

    if kind in RESPONSE_TRIGGERS:
        if "response" not in cf:
            raise EventError(f"Records[0].cf.response: missing ({kind} events need one)")
        response = _object(cf["response"], "Records[0].cf.response")
        status = response.setdefault("status", "200")
        if isinstance(status, int) and not isinstance(status, bool):
            response["status"] = status = str(status)
        if not (isinstance(status, str) and status.isdigit() and len(status) == 3):
            raise EventError(
                f'Records[0].cf.response.status: expected a 3-digit status like "200", got {status!r}'
            )
        _headers(response, "headers", "Records[0].cf.response")
    return event
