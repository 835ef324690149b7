"""The Bot API specification and the validation of every call against it.

Data: ``botapi_spec.json`` beside this module is a trimmed copy of ``api.json`` from
PaulSonOfLars/telegram-bot-api-spec (Bot API 10.1, commit 160fd99507e1c7c77e92dc90f5993d724735b51c,
MIT; attribution and licence text in ``BOTAPI_SPEC_LICENSE``). How it was trimmed: every
description, ``href`` and the changelog were dropped; each method keeps ``returns`` and its fields
as ``[name, types, required]``; each type keeps its fields in the same form and its
``subtypes`` list. For members of a union (types with ``subtype_of``) the ``type`` / ``source`` /
``status`` field gets a fourth element: the constant value its description demands
("must be *default*", "always “emoji”"), which is what tells union members apart. Methods and types
are written one per line, sorted by name, so that a later refresh gives a readable diff.

How Telegram reads the parameters of a call is in :mod:`.params`: leniently. With
``strict_params`` the server also runs :meth:`BotApiSpec.lint_params`, which holds a call to the
documentation rather than to Telegram's leniency: a parameter or object field the documentation
does not have, a value of the wrong type (``"maybe"`` for a Boolean, ``"12abc"`` for an Integer)
is answered with ``400 Bad Request`` and a text saying so, where Telegram would ignore it or
read it as 0 or false. Strings from form and
multipart bodies are coerced first (``"123"`` is an Integer, ``"true"`` a Boolean, arrays and
objects are JSON-decoded), as Telegram reads them.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import bad_request

SPEC_PATH = Path(__file__).with_name("botapi_spec.json")

_INT_RE = re.compile(r"^[+-]?\d+$")
_ARRAY_PREFIX = "Array of "
_SCALARS = frozenset({"Integer", "Float", "Boolean", "String", "InputFile", "True"})

# The send options python-telegram-bot adds to every method built on its ``_send_message``
# (editMessageReplyMarkup gets the default ``parse_mode``, for one): the lint lets them pass
# where a method does not have them, since the bot did not choose to send them.
CLIENT_SEND_OPTIONS = frozenset(
    {
        "allow_paid_broadcast",
        "allow_sending_without_reply",
        "business_connection_id",
        "caption",
        "caption_entities",
        "direct_messages_topic_id",
        "disable_notification",
        "link_preview_options",
        "message_effect_id",
        "message_thread_id",
        "parse_mode",
        "protect_content",
        "reply_markup",
        "reply_parameters",
        "suggested_post_parameters",
    }
)


@dataclass(frozen=True)
class Upload:
    """A file received in a multipart body."""

    filename: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:
        return f"<Upload {self.filename!r} {len(self.data)} bytes>"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a method or type."""

    name: str
    types: tuple[str, ...]
    required: bool
    const: str | None = None


@dataclass(frozen=True)
class MethodSpec:
    """One Bot API method: its canonical name, fields and return types."""

    name: str
    returns: tuple[str, ...]
    fields: dict[str, FieldSpec]


@dataclass(frozen=True)
class TypeSpec:
    """One Bot API type: either an object with fields or a union of subtypes."""

    name: str
    fields: dict[str, FieldSpec]
    subtypes: tuple[str, ...]


class _Mismatch(Exception):
    """A value does not fit a type; ``str(self)`` says why (without the parameter name)."""


def _field(row: list[Any]) -> FieldSpec:
    const = row[3] if len(row) > 3 else None
    return FieldSpec(name=row[0], types=tuple(row[1]), required=bool(row[2]), const=const)


class BotApiSpec:
    """Methods and types of the Bot API, with value checking and coercion."""

    def __init__(self, data: dict[str, Any]):
        self.version: str = data["version"]
        self.methods: dict[str, MethodSpec] = {}
        for name, entry in data["methods"].items():
            fields = {row[0]: _field(row) for row in entry["fields"]}
            self.methods[name] = MethodSpec(name, tuple(entry["returns"]), fields)
        self._by_lower = {name.lower(): spec for name, spec in self.methods.items()}
        self.types: dict[str, TypeSpec] = {}
        for name, entry in data["types"].items():
            fields = {row[0]: _field(row) for row in entry.get("fields", [])}
            self.types[name] = TypeSpec(name, fields, tuple(entry.get("subtypes", ())))

    def method(self, name: str) -> MethodSpec | None:
        """Look a method up case-insensitively (Telegram accepts ``sendmessage``)."""
        return self._by_lower.get(name.lower())

    # ------------------------------------------------------------------ parameters

    def lint_params(
        self,
        method: MethodSpec,
        raw: dict[str, Any],
        uploads: dict[str, Upload] | None = None,
    ) -> None:
        """Hold one call to the documentation (see the module doc); raises ApiError (400).

        ``raw`` holds the body/query values; ``uploads`` the multipart file parts. A file part
        named like a field of the method is that field's value; other file parts are
        attachments referenced as ``attach://<name>``. Empty values count as absent, as for
        Telegram; missing ones are Telegram's to answer (:mod:`.params`). The generic send
        options of :data:`CLIENT_SEND_OPTIONS` pass on methods lacking them. The lint answers in
        its own words, also where Telegram would refuse the value too in other words.
        """
        values: dict[str, Any] = dict(raw)
        for name, upload in (uploads or {}).items():
            if name in method.fields:
                values[name] = upload
        for name, value in values.items():
            field = method.fields.get(name)
            if field is None:
                if name not in CLIENT_SEND_OPTIONS:
                    raise bad_request(f"unknown parameter {name}")
                continue
            if value is None or value == "":
                continue
            self._param_value(field, value)

    def _param_value(self, field: FieldSpec, value: Any) -> Any:
        try:
            return self.coerce(value, field.types, field.name)
        except _Mismatch as exc:
            if all(t in _SCALARS for t in field.types):
                wanted = " or ".join(field.types)
                raise bad_request(f'parameter "{field.name}" must be of type {wanted}') from None
            raise bad_request(f"can't parse {field.name} JSON object: {exc}") from None

    # ------------------------------------------------------------------ values

    def coerce(self, value: Any, types: tuple[str, ...] | list[str], where: str) -> Any:
        """Return ``value`` converted to the first of ``types`` it fits.

        Raises ``_Mismatch`` (internal) when it fits none; :meth:`lint_params` turns that
        into a 400 answer. ``where`` names the value in messages
        (``reply_markup.inline_keyboard[0]``).
        """
        problems: list[str] = []
        for type_name in types:
            try:
                return self._coerce_one(value, type_name, where)
            except _Mismatch as exc:
                problems.append(str(exc))
        if len(problems) == 1:
            raise _Mismatch(problems[0])
        # A union: report the most specific failure (the deepest path), else a summary.
        deepest = max(problems, key=lambda p: p.count(".") + p.count("["))
        if deepest.count(".") + deepest.count("[") > where.count(".") + where.count("["):
            raise _Mismatch(deepest)
        raise _Mismatch(f"{where} must be {' or '.join(types)}")

    def _coerce_one(self, value: Any, type_name: str, where: str) -> Any:
        if type_name.startswith(_ARRAY_PREFIX):
            return self._coerce_array(value, type_name[len(_ARRAY_PREFIX) :], where)
        scalar = _SCALAR_COERCERS.get(type_name)
        if scalar is not None:
            return scalar(value, where)
        spec = self.types.get(type_name)
        if spec is None:
            raise _Mismatch(f"{where} has unknown type {type_name}")
        if type_name == "KeyboardButton" and isinstance(value, str):
            return value  # Telegram accepts a bare string as a text button
        obj = _decode_json(value, dict, where, type_name)
        if spec.subtypes:
            return self.coerce(obj, spec.subtypes, where)
        return self._coerce_object(obj, spec, where)

    def _coerce_array(self, value: Any, item_type: str, where: str) -> list[Any]:
        items = _decode_json(value, list, where, f"Array of {item_type}")
        return [self._coerce_one(item, item_type, f"{where}[{i}]") for i, item in enumerate(items)]

    def _coerce_object(self, obj: dict[str, Any], spec: TypeSpec, where: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in obj.items():
            field = spec.fields.get(key)
            if field is None:
                raise _Mismatch(f'{where} ({spec.name}) has unknown field "{key}"')
            if item is None:
                continue
            if field.const is not None and item != field.const:
                raise _Mismatch(f'{where}.{key} must be "{field.const}" for {spec.name}')
            out[key] = self.coerce(item, field.types, f"{where}.{key}")
        for field in spec.fields.values():
            if field.required and field.name not in out:
                raise _Mismatch(f'{where} ({spec.name}) lacks required field "{field.name}"')
        return out

    # ------------------------------------------------------------------ results

    def result_problems(
        self, value: Any, types: tuple[str, ...] | list[str], where: str = "result"
    ) -> list[str]:
        """Describe how a result object deviates from the spec (empty list: it conforms).

        Used by tests to prove that the answers of the sandbox are shaped like Telegram's.
        Unlike :meth:`coerce` it does not convert anything: strings must already be typed.
        """
        best: list[str] | None = None
        for type_name in types:
            problems = self._result_problems_one(value, type_name, where)
            if not problems:
                return []
            if best is None or len(problems) < len(best):
                best = problems
        return best or [f"{where}: no type given"]

    def _result_problems_one(self, value: Any, type_name: str, where: str) -> list[str]:
        if type_name.startswith(_ARRAY_PREFIX):
            if not isinstance(value, list):
                return [f"{where} must be an array"]
            item = type_name[len(_ARRAY_PREFIX) :]
            return [
                p
                for i, v in enumerate(value)
                for p in self._result_problems_one(v, item, f"{where}[{i}]")
            ]
        checks = {
            "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "Boolean": lambda v: isinstance(v, bool),
            "True": lambda v: v is True,
            "String": lambda v: isinstance(v, str),
        }
        if type_name in checks:
            return [] if checks[type_name](value) else [f"{where} must be {type_name}"]
        spec = self.types.get(type_name)
        if spec is None:
            return [f"{where}: unknown type {type_name}"]
        if spec.subtypes:
            return self.result_problems(value, spec.subtypes, where)
        if not isinstance(value, dict):
            return [f"{where} must be a {type_name} object"]
        problems: list[str] = []
        for key, item in value.items():
            field = spec.fields.get(key)
            if field is None:
                problems.append(f"{where} ({type_name}) has unknown field {key!r}")
            elif field.const is not None and item != field.const:
                problems.append(f"{where}.{key} must be {field.const!r}")
            else:
                problems += self.result_problems(item, field.types, f"{where}.{key}")
        problems += [
            f"{where} ({type_name}) lacks {f.name!r}"
            for f in spec.fields.values()
            if f.required and f.name not in value
        ]
        return problems


# ---------------------------------------------------------------------- scalar coercion


def _decode_json(value: Any, kind: type, where: str, type_name: str) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _Mismatch(f"{where} is not valid JSON ({type_name} expected)") from None
    if not isinstance(value, kind):
        raise _Mismatch(f"{where} must be {type_name}")
    return value


def _to_int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise _Mismatch(f"{where} must be Integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT_RE.match(value.strip()):
        return int(value.strip())
    raise _Mismatch(f"{where} must be Integer")


def _to_float(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise _Mismatch(f"{where} must be Float")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise _Mismatch(f"{where} must be Float")


def _to_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise _Mismatch(f"{where} must be Boolean")


def _to_true(value: Any, where: str) -> bool:
    if _to_bool(value, where) is not True:
        raise _Mismatch(f"{where} must be True")
    return True


def _to_str(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _Mismatch(f"{where} must be String")


def _to_input_file(value: Any, where: str) -> Upload:
    if isinstance(value, Upload):
        return value
    raise _Mismatch(f"{where} must be InputFile")


_SCALAR_COERCERS = {
    "Integer": _to_int,
    "Float": _to_float,
    "Boolean": _to_bool,
    "True": _to_true,
    "String": _to_str,
    "InputFile": _to_input_file,
}


@functools.cache
def load_spec() -> BotApiSpec:
    """Load ``botapi_spec.json`` (once per process)."""
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return BotApiSpec(json.load(handle))
