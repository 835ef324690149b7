"""Errors answered by the sandbox Bot API, shaped like Telegram's error responses."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API call failure: turned into ``{"ok": false, "error_code", "description"}``.

    ``parameters`` becomes the optional ``ResponseParameters`` object (``retry_after``,
    ``migrate_to_chat_id``) that PTB turns into ``RetryAfter`` / ``ChatMigrated``.
    """

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def to_payload(self) -> dict[str, Any]:
        """Return the JSON body Telegram would send for this error."""
        payload: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            payload["parameters"] = dict(self.parameters)
        return payload


def telegram_wording(message: str) -> str:
    """A message as the Bot API shows it after "Bad Request: ": its first letter in lower case,
    unless the message is an upper-case code such as ``BUTTON_DATA_INVALID`` (the Bot API
    server's ``fail_query_with_error`` does the same with what tdlib and Telegram answer)."""
    if len(message) >= 2 and (message[1] == "_" or message[1].isupper()):
        return message
    return message[:1].lower() + message[1:]


def bad_request(detail: str) -> ApiError:
    """``400 Bad Request: <detail>`` (``detail`` in Telegram's wording, see above)."""
    return ApiError(400, f"Bad Request: {telegram_wording(detail)}")


def forbidden(detail: str) -> ApiError:
    """``403 Forbidden: <detail>``."""
    return ApiError(403, f"Forbidden: {detail}")


def conflict(detail: str) -> ApiError:
    """``409 Conflict: <detail>``."""
    return ApiError(409, f"Conflict: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    """``429 Too Many Requests`` with ``parameters.retry_after`` (whole seconds, at least 1)."""
    seconds = max(1, int(retry_after))
    return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})


class SandboxUserError(Exception):
    """Raised by the user side (:mod:`bot.sandbox.users`) for an impossible user action,
    e.g. pressing a button that the chat does not show."""
