"""How Telegram reads the fields of a JSON object parameter (reply_markup, entities, scope...).

The Bot API server takes each field it knows with tdlib's ``JsonObject`` getters and ignores the
others; the types are checked field by field, with these texts (tdlib's tdutils JsonBuilder.cpp):

* a missing required field: ``Can't find field "text"``;
* a String field accepts a JSON string or number, else ``Field "text" must be of type String``;
* an Integer field accepts a number or a string holding a whole number, else
  ``Field "offset" must be a Number`` / ``Field "offset" must be a valid Number``;
* a Float field accepts only a number: ``Field "x" must be of type Number``;
* a Boolean field accepts only true or false: ``Field "pay" must be of type Boolean``;
* an object or array field: ``Field "web_app" must be of type Object`` (or ``Array``).

A present ``null`` is a value of the wrong type, as in tdlib. Each getter raises
:class:`FieldError`, whose text the caller prefixes the way Telegram does
(``Can't parse inline keyboard button: ...``).
"""

from __future__ import annotations

import json
import re
from typing import Any

_WHOLE_NUMBER = re.compile(r"^-?\d+$")
_INT64 = 2**63


class FieldError(ValueError):
    """A field Telegram cannot read; ``str(exc)`` is tdlib's text."""


def _present(obj: dict[str, Any], name: str, required: bool) -> bool:
    if name in obj:
        return True
    if required:
        raise FieldError(f'Can\'t find field "{name}"')
    return False


def number_text(value: float) -> str:
    """A JSON number as text (what tdlib keeps of it)."""
    return json.dumps(value)


def string_field(obj: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    """A String field (None when absent and optional)."""
    if not _present(obj, name, required):
        return None
    value = obj[name]
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number_text(value)
    raise FieldError(f'Field "{name}" must be of type String')


def int_field(obj: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    """An Integer field: a number or a string holding a whole 64-bit number."""
    if not _present(obj, name, required):
        return None
    value = obj[name]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError(f'Field "{name}" must be a Number')
    text = value if isinstance(value, str) else number_text(value)
    if not _WHOLE_NUMBER.match(text) or not -_INT64 <= int(text) < _INT64:
        raise FieldError(f'Field "{name}" must be a valid Number')
    return int(text)


def float_field(obj: dict[str, Any], name: str, *, required: bool = False) -> float | None:
    """A Float field: a JSON number only."""
    if not _present(obj, name, required):
        return None
    value = obj[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(f'Field "{name}" must be of type Number')
    return float(value)


def bool_field(obj: dict[str, Any], name: str) -> bool:
    """A Boolean field (False when absent)."""
    if name not in obj:
        return False
    value = obj[name]
    if not isinstance(value, bool):
        raise FieldError(f'Field "{name}" must be of type Boolean')
    return value


def _of_type(obj: dict[str, Any], name: str, kind: type, type_name: str, required: bool) -> Any:
    if not _present(obj, name, required):
        return None
    value = obj[name]
    if not isinstance(value, kind):
        raise FieldError(f'Field "{name}" must be of type {type_name}')
    return value


def object_field(
    obj: dict[str, Any], name: str, *, required: bool = False
) -> dict[str, Any] | None:
    """An object field (None when absent and optional)."""
    value: dict[str, Any] | None = _of_type(obj, name, dict, "Object", required)
    return value


def array_field(obj: dict[str, Any], name: str) -> list[Any] | None:
    """An optional array field."""
    value: list[Any] | None = _of_type(obj, name, list, "Array", False)
    return value
