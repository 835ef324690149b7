"""The record of Bot API calls kept by the server (for assertions and benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CLIENT_GONE = 499  # nginx's "client closed request": not an error of the bot


@dataclass
class CallRecord:
    """One Bot API call as the server saw it."""

    time: float
    token: str
    bot_username: str | None
    method: str
    params: dict[str, Any]
    status: int = 0
    description: str | None = None
    duration: float = 0.0
    fault: str | None = None
    source: str = "http"  # "http" or "webhook-reply"
    result: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """True when the call was answered with ``ok: true``."""
        return self.status == 200

    def to_json(self) -> dict[str, Any]:
        """JSON for the HTTP control API (the token is left out)."""
        return {
            "time": self.time,
            "bot": self.bot_username,
            "method": self.method,
            "params": self.params,
            "status": self.status,
            "description": self.description,
            "duration": round(self.duration, 6),
            "fault": self.fault,
            "source": self.source,
        }
