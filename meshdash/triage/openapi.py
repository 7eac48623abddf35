"""The triage part of the API's OpenAPI description (assembled in meshdash/openapi.py):
GET /api/v1/findings, its filters from the code's own choices (CHECKS, SEVERITIES)."""

from django.urls import reverse

from meshdash.dashboard import filters
from meshdash.dashboard.openapi import (
    UNIX_TIME,
    _enum,
    _namespaces_parameter,
    _page_parameters,
    common_responses,
    window_parameter,
)
from meshdash.lib.openapi import anchored, json_response, ref
from meshdash.mesh.checks import CHECKS, SEVERITIES
from meshdash.mesh.model import WINDOWS
from meshdash.triage.query import DEFAULT_PER_PAGE


def findings_parameters() -> list[dict]:
    parameters = [
        _namespaces_parameter(),
        {
            "name": "team",
            "in": "query",
            "description": "Only findings naming a workload whose team label has this value.",
            "schema": {
                "type": "string",
                "maxLength": filters.MAX_VALUE_LENGTH,
                "pattern": anchored(filters.TEAM_RE.pattern),
            },
        },
        _enum("severity", SEVERITIES, None, "Only findings of this severity."),
        _enum("check", list(CHECKS), None, "Only the findings of this check."),
        *_page_parameters(),
        window_parameter(),
    ]
    # Findings are paged 25 at a time unless asked otherwise (triage.query.DEFAULT_PER_PAGE).
    for parameter in parameters:
        if parameter["name"] == "per_page":
            parameter["schema"] = {**parameter["schema"], "default": DEFAULT_PER_PAGE}
    return parameters


def _object(properties: dict, description: str = "") -> dict:
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def finding_schema() -> dict:
    text = {"type": "string"}
    return _object(
        {
            # Not an enum: a worker of another release may know other checks.
            "check": {"type": "string", "description": "The check's id (see `check`)."},
            "title": text,
            "severity": {"type": "string", "enum": list(SEVERITIES)},
            "subject": {
                "type": "array",
                "description": "The resources it is about: a workload (its kind), a pod, a "
                "namespace (namespace empty, name the namespace), a webhook configuration or "
                "a control-plane component.",
                "items": _object({"namespace": text, "kind": text, "name": text}),
            },
            "summary": text,
            "evidence": {
                "type": "array",
                "items": _object(
                    {
                        "label": text,
                        "value": {"type": ["string", "number", "null"]},
                        "source": text,
                    }
                ),
            },
            "since": {
                **UNIX_TIME,
                "type": ["number", "null"],
                "description": "When a collection first found it (unix s).",
            },
            "fix": {"type": "array", "items": text, "description": "Commands, to copy."},
            "runbook": text,
            "more": {
                "type": "integer",
                "minimum": 0,
                "description": "On the last finding of a check the collector cut at its bound: "
                "how many more it found.",
            },
        },
        "One finding of an on-call check.",
    )


def mute_schema() -> dict:
    text = {"type": "string"}
    return _object(
        {
            "id": {"type": ["integer", "null"]},
            "check": {"type": "string", "description": "The check muted; empty: every check."},
            "namespace": {"type": "string", "description": "Empty: every namespace."},
            "kind": {"type": "string", "description": "With name: only this workload."},
            "name": text,
            "who": text,
            "why": text,
            "created_at": {**UNIX_TIME, "type": "number"},
            "expires_at": {**UNIX_TIME, "type": ["number", "null"]},
        },
        "A mute: who silenced the check there, why, and until when.",
    )


def findings_page_schema() -> dict:
    return _object(
        {
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
            "window": {"type": "string", "enum": list(WINDOWS)},
            "checks_ran": {
                "type": "boolean",
                "description": "False when the snapshot's collection did not run the checks: "
                "no findings are known (items and muted are then empty).",
            },
            "items": {
                "type": "array",
                "items": ref("Finding"),
                "description": "This page of the active findings, grouped by check, worst first.",
            },
            "muted": {
                "type": "array",
                "description": "Every muted finding the filters select, with its mute.",
                "items": _object({"finding": ref("Finding"), "mute": ref("Mute")}),
            },
            "snapshot": ref("Snapshot"),
        }
    )


def schemas() -> dict:
    return {
        "Finding": finding_schema(),
        "Mute": mute_schema(),
        "FindingPage": findings_page_schema(),
    }


def paths() -> dict:
    return {
        reverse("api_findings"): {
            "get": {
                "operationId": "listFindings",
                "summary": "The on-call checks' findings in the window's current snapshot, as "
                "the triage page shows them: active ones paged, muted ones apart.",
                "tags": ["findings"],
                "parameters": findings_parameters(),
                "responses": {
                    "200": json_response("One page of findings.", ref("FindingPage")),
                    **common_responses(),
                },
            }
        }
    }
