"""The JSON API's records as JSON: ``dataclasses.asdict`` without its deep copies, and
Django's JsonResponse encoded by orjson.

``asdict`` deep-copies every value it meets (``copy.deepcopy`` on each string and number):
for a page of 50 workloads that was four fifths of the API's CPU. The records the API answers
with hold scalars, dicts and lists of them, and other records; each becomes a new dict or list
here, and scalars are shared, which JSON cannot tell apart. The result equals ``asdict``'s
(``tests/test_records.py``).
"""

import copy
import dataclasses
from functools import cache

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse

_SCALARS = (str, int, float, bool, type(None))


@cache
def _field_names(cls) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))


def as_dict(record) -> dict:
    """``dataclasses.asdict(record)``, for a dataclass instance."""
    return {name: _value(getattr(record, name)) for name in _field_names(type(record))}


def _value(value):
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, dict):
        return {_value(k): _value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_value(item) for item in value]
    if isinstance(value, tuple):
        return (
            type(value)(*map(_value, value))
            if hasattr(value, "_fields")
            else tuple(map(_value, value))
        )
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return as_dict(value)
    return copy.deepcopy(value)  # anything else, as asdict copies it


def json_response(data, status: int = 200) -> HttpResponse:
    """Django's ``JsonResponse(data, status=status)``, encoded by orjson: the same JSON values
    (keys that are not strings written as strings, dates, decimals and lazy text through
    Django's own encoder), without the spaces, and NaN or infinity as null rather than the
    invalid ``NaN``. json.dumps was a quarter of a JSON page's CPU once its records were dicts."""
    try:
        content = orjson.dumps(data, default=_django_default, option=_OPTIONS)
    except TypeError:  # what orjson refuses (an integer past 64 bits): Django's encoder
        return JsonResponse(data, status=status)
    return HttpResponse(content, status=status, content_type="application/json")


_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_django_default = DjangoJSONEncoder().default
