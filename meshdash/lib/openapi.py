"""JSON Schema for OpenAPI 3.1 documents, derived from the code's own definitions (dataclasses,
forms, choice tuples), so that a description cannot say something the code does not do."""

import dataclasses
import types
import typing

from django import forms

_SCALARS = {str: "string", bool: "boolean", int: "integer", float: "number"}
JSON = "application/json"
# Names of the security schemes in components.securitySchemes.
SESSION = "sessionCookie"
BEARER = "bearerToken"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(description: str, schema: dict, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def error_response(description: str, headers: dict | None = None) -> dict:
    """A response with the API's error body, ``{"error": reason}``."""
    return json_response(description, ref("Error"), headers)


def unauthorized_response() -> dict:
    return error_response(
        "No credentials, or a bearer token that is invalid or revoked.",
        {
            "WWW-Authenticate": {
                "description": "How to authenticate: a bearer token.",
                "required": True,
                "schema": {"type": "string"},
            }
        },
    )


def type_schema(hint) -> dict:
    """The JSON Schema of what ``json.dumps(dataclasses.asdict(...))`` makes of a value of
    type ``hint``."""
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        members = [arg for arg in args if arg is not type(None)]
        if len(members) != 1 or len(args) != 2:
            raise TypeError(f"only optional single types are described, not {hint!r}")
        inner = type_schema(members[0])
        return inner | {"type": [inner["type"], "null"]}
    if origin is list:
        return {"type": "array", "items": type_schema(args[0]) if args else {}}
    if origin is dict or hint is dict:
        schema = {"type": "object"}
        if args:
            schema["additionalProperties"] = type_schema(args[1])
        return schema
    if dataclasses.is_dataclass(hint):
        return dataclass_schema(hint)
    raise TypeError(f"no JSON Schema for {hint!r}")


def dataclass_schema(cls, *, enums: dict[str, typing.Iterable[str]] | None = None) -> dict:
    """An object with exactly the dataclass's fields, all present (``asdict`` writes them all).

    ``enums`` narrows string fields to the values the code defines for them.
    """
    hints = typing.get_type_hints(cls)
    properties = {}
    for item in dataclasses.fields(cls):
        schema = type_schema(hints[item.name])
        if enums and item.name in enums:
            schema["enum"] = list(enums[item.name])
        properties[item.name] = schema
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def form_field_schema(field: forms.Field) -> dict:
    """A form field as a JSON value; ``null`` stands for "not given"."""
    if isinstance(field, forms.BooleanField):
        return {"type": ["boolean", "null"]}
    if isinstance(field, forms.ChoiceField):
        values = [str(value) for value, _label in field.choices]
        if not field.required:
            values.insert(0, "")
        return {"type": ["string", "null"], "enum": values + [None]}
    if isinstance(field, forms.CharField):
        schema = {"type": ["string", "null"]}
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
        return schema
    raise TypeError(f"no JSON Schema for the form field {field!r}")


def form_body_schema(form_class, *, all_optional: bool = False) -> dict:
    """A JSON object body with the form's fields and no others; its required fields are
    required (and must not be null) unless ``all_optional``, as for a partial update."""
    fields = form_class.base_fields
    properties = {name: form_field_schema(field) for name, field in fields.items()}
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    required = [] if all_optional else [name for name, f in fields.items() if f.required]
    for name in required:
        properties[name] = properties[name] | {"type": "string", "minLength": 1}
    if required:
        schema["required"] = required
    return schema


def anchored(pattern: str) -> str:
    """A Python ``fullmatch`` pattern as the ECMA-262 one JSON Schema uses (which searches)."""
    return f"^(?:{pattern})$"
