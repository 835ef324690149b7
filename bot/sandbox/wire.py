"""HTTP plumbing shared by the routes: reading call parameters and writing JSON answers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .errors import ApiError, bad_request
from .spec import Upload

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def dumps(payload: Any) -> str:
    """Compact JSON with non-ASCII text kept as is (like Telegram's answers)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def json_answer(payload: Any, status: int = 200) -> web.Response:
    """A JSON response."""
    return web.json_response(payload, status=status, dumps=dumps)


def error_answer(error: ApiError) -> web.Response:
    """A Telegram-shaped error response."""
    return json_answer(error.to_payload(), error.status)


async def read_params(
    request: web.Request, *, strict: bool = False
) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Parameters of a Bot API call from the query string and a JSON, form or multipart body.

    Values from forms stay strings (:mod:`.params` reads them); file parts of a multipart body
    are returned separately as :class:`Upload` objects. Any body that is not a form is read as
    JSON, as Telegram does; one that is not a JSON object is ignored like Telegram ignores it,
    or refused with ``strict`` (the ``strict_params`` lint).
    """
    params: dict[str, Any] = dict(request.query.items())
    uploads: dict[str, Upload] = {}
    if not request.body_exists:
        return params, uploads
    content_type = request.content_type
    if content_type in FORM_TYPES:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                uploads[key] = Upload(
                    value.filename or "", value.content_type or "", value.file.read()
                )
            else:
                params[key] = value
        return params, uploads
    raw = await request.read()
    if not raw.strip():
        return params, uploads
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict):
        params.update(body)
    elif strict:
        raise bad_request("the body is not a JSON object (Telegram would ignore it)")
    return params, uploads


def describe_params(params: dict[str, Any], uploads: dict[str, Upload]) -> dict[str, Any]:
    """A copy of the parameters for the call record (file contents replaced by a summary)."""
    out = {key: value for key, value in params.items()}
    for name, upload in uploads.items():
        out[name] = repr(upload)
    return out
