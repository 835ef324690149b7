"""The admin log's one writer: every admin action is logged in the transaction that does it
(who, what, why, when), whichever part of the storage does it."""

from __future__ import annotations

import aiosqlite


async def log_action(
    db: aiosqlite.Connection,
    admin_id: int | None,
    action: str,
    now: int,
    *,
    user: int | None = None,
    listing: int | None = None,
    request: int | None = None,
    municipality: int | None = None,
    broadcast: int | None = None,
    detail: str | None = None,
    reason: str | None = None,
) -> None:
    """Write one line of the admin log, inside the caller's transaction: who (``admin_id``),
    what (``action`` and its targets), why (``reason``, the admin's words), when."""
    await db.execute(
        "INSERT INTO admin_actions (admin_id, action, target_user, target_listing, "
        "target_request, target_municipality, target_broadcast, detail, reason, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (admin_id, action, user, listing, request, municipality, broadcast, detail, reason, now),
    )
