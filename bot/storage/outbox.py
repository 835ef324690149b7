"""The outbox: notifications waiting to be sent, and what became of them.

A row moves pending → sending → sent (or blocked, failed, cancelled). ``claim`` commits the
move to 'sending' before the message leaves, so a crash can never send a row twice: a row still
'sending' at start-up is marked 'unknown' by :meth:`OutboxQueries.settle_in_doubt`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from bot.storage.base import Database, first_column, row_mapper

# Personal notifications before digests before broadcasts.
PERSONAL, DIGEST, BROADCAST = 0, 1, 2
# Pausing a broadcast adds this to the not_before of its rows, resuming takes it off (see
# BroadcastQueries._set_paused): the rows keep their order and times, and the due query skips
# them meanwhile. Every statement here that gives a row a new time keeps that shift
# (KEEP_PAUSE), or a person's /settings or a retry would send a paused broadcast.
PAUSE_SHIFT = 100_000_000_000
KEEP_PAUSE = f"CASE WHEN not_before >= {PAUSE_SHIFT} THEN {PAUSE_SHIFT} ELSE 0 END"

# The delivery loop's statements (each notification: claimed, then finished), kept here so
# that tests/test_query_plans.py checks the same text.
OUTBOX_DUE = """SELECT id, user_id, kind, payload, attempts, batch, held, urgent FROM outbox
    WHERE state = 'pending' AND not_before <= ?
    ORDER BY priority, not_before, id LIMIT ?"""
# Only a row still due is claimed: one paused (or held) after the due query read it stays.
OUTBOX_CLAIM = """UPDATE outbox SET state = 'sending', attempts = attempts + 1
    WHERE id = ? AND state = 'pending' AND not_before <= ?"""
OUTBOX_FINISH = "UPDATE outbox SET state = ?, sent_at = ?, message_id = ?, error = ? WHERE id = ?"


@dataclass(frozen=True)
class Notification:
    """One outbox row to send."""

    id: int
    user_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    batch: str | None
    held: bool = False  # waited for quiet hours or the per-chat limit: goes out in a bundle
    urgent: bool = False  # never held by quiet hours (an urgent broadcast)


_notification = row_mapper(Notification, payload=json.loads)


@dataclass(frozen=True)
class Enqueued:
    """A notification to put in the outbox (see :meth:`OutboxQueries.enqueue`)."""

    user_id: int
    kind: str
    dedup_key: str
    payload: dict[str, Any]
    not_before: int
    priority: int = PERSONAL
    batch: str | None = None
    urgent: bool = False


def each(
    users: Iterable[int], kind: str, key: str, payload: dict[str, Any], now: int
) -> list[Enqueued]:
    """A notification of ``kind`` for each of ``users``, once each (``key`` and the user's
    id), due ``now``."""
    return [Enqueued(user, kind, f"{key}:{user}", payload, now) for user in users]


async def queue_each(
    db: aiosqlite.Connection,
    users: Iterable[int],
    kind: str,
    key: str,
    payload: dict[str, Any],
    *,
    now: int,
) -> None:
    """:func:`each`, queued inside the caller's transaction (with the change it tells of)."""
    await insert_notifications(db, each(users, kind, key, payload, now), now=now)


# A plain notice: a message id and its values, rendered in each reader's language when sent
# (bot/delivery/outbox.py).
NOTICE = "notice"


@dataclass(frozen=True)
class Notice:
    """A plain notice to queue in the transaction of the change it tells of (a kill leaves
    both or neither): ``msgid`` (marked with N_) translated for each reader when sent, its
    ``params`` escaped, a moderator's ``reason`` under it as typed; ``side``: the notice
    speaks to its readers as members or officials of a municipality, or for a listing, and is
    sent only to who is still on that side then (see
    :meth:`~bot.storage.verification.VerificationQueries.still_on_side`). One row per
    recipient, once each (``key``)."""

    key: str
    msgid: str
    params: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    side: dict[str, int] | None = None

    def to(self, users: Iterable[int], now: int) -> list[Enqueued]:
        payload: dict[str, Any] = {"msgid": self.msgid, "params": self.params}
        if self.reason:
            payload["reason"] = self.reason
        if self.side is not None:
            payload["side"] = self.side
        return each(users, NOTICE, self.key, payload, now)


async def tell(
    db: aiosqlite.Connection, notice: Notice | None, users: Iterable[int], *, now: int
) -> None:
    """Queue ``notice`` (if any) for ``users`` inside the caller's transaction."""
    if notice is not None:
        await insert_notifications(db, notice.to(users, now), now=now)


async def insert_notifications(
    db: aiosqlite.Connection, notifications: list[Enqueued], *, now: int
) -> int:
    """Add notifications inside the caller's transaction (so that they are queued with what
    they tell, or not at all); those whose dedup_key is already there are left out, and so are
    recipients who blocked the bot. Returns how many were new."""
    if not notifications:
        return 0
    before = db.total_changes
    await db.executemany(
        """INSERT INTO outbox (user_id, kind, dedup_key, payload, priority, not_before,
                               created_at, batch, urgent)
           SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
           WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = ? AND blocked_at IS NOT NULL)
           ON CONFLICT (dedup_key) DO NOTHING""",
        [
            (
                n.user_id,
                n.kind,
                n.dedup_key,
                json.dumps(n.payload),
                n.priority,
                n.not_before,
                now,
                n.batch,
                n.urgent,
                n.user_id,
            )
            for n in notifications
        ],
    )
    return db.total_changes - before


class OutboxQueries(Database):
    async def enqueue(self, notifications: list[Enqueued], *, now: int) -> int:
        """Add notifications; those whose dedup_key is already there are left out.

        Returns how many were new. Recipients who blocked the bot are left out too.
        """
        if not notifications:
            return 0
        async with self.transaction() as db:
            return await insert_notifications(db, notifications, now=now)

    async def due_notifications(self, now: int, limit: int = 100) -> list[Notification]:
        """Pending rows whose time has come, most urgent first."""
        return await self._records(_notification, OUTBOX_DUE, (now, limit))

    async def hold(self, notification_ids: list[int], until: int) -> None:
        """Keep pending rows back until ``until`` (quiet hours, or the per-chat limit), marked
        held so that they go out together as one bundle."""
        if not notification_ids:
            return
        marks = ", ".join("?" * len(notification_ids))
        async with self.transaction() as db:
            await db.execute(
                f"UPDATE outbox SET not_before = max(not_before, ?), held = 1 "
                f"WHERE id IN ({marks}) AND state = 'pending'",
                (until, *notification_ids),
            )

    async def release_held(self, user_id: int, now: int) -> int:
        """Make a person's held rows due now (their settings changed: the outbox decides again
        with the new ones); those of a paused broadcast, once it is resumed. Returns how
        many."""
        async with self.transaction() as db:
            cursor = await db.execute(
                f"UPDATE outbox SET not_before = ? + {KEEP_PAUSE} "
                "WHERE user_id = ? AND state = 'pending' AND held = 1 AND not_before > ?",
                (now, user_id, now),
            )
            return cursor.rowcount

    async def held_until(self, user_id: int) -> list[tuple[int, int]]:
        """A person's held rows: (id, when they are due), soonest first."""
        rows = await self._fetchall(
            "SELECT id, not_before FROM outbox WHERE user_id = ? AND state = 'pending' "
            "AND held = 1 ORDER BY not_before, id",
            (user_id,),
        )
        return [(row[0], row[1]) for row in rows]

    async def claim_all(self, notification_ids: list[int], now: int) -> list[int]:
        """Claim several rows in one statement (a bundle); returns those that were pending
        and due."""
        if not notification_ids:
            return []
        marks = ", ".join("?" * len(notification_ids))
        async with self.transaction() as db:
            claimed = set(
                await first_column(
                    db,
                    "UPDATE outbox SET state = 'sending', attempts = attempts + 1 "
                    f"WHERE id IN ({marks}) AND state = 'pending' AND not_before <= ? "
                    "RETURNING id",
                    (*notification_ids, now),
                )
            )
        return [id_ for id_ in notification_ids if id_ in claimed]

    async def claim(self, notification_id: int, now: int) -> bool:
        """Mark a row as being sent, durably, before sending it. False if it was not pending
        and due."""
        return await self._write((OUTBOX_CLAIM, (notification_id, now))) == 1

    async def release_claims(self, notification_ids: list[int]) -> None:
        """Put claimed rows back, unsent (a bundle that could not have all it chose)."""
        async with self.transaction() as db:
            await db.executemany(
                "UPDATE outbox SET state = 'pending', attempts = attempts - 1 "
                "WHERE id = ? AND state = 'sending'",
                [(notification_id,) for notification_id in notification_ids],
            )

    async def mark_sent(self, notification_id: int, message_id: int | None, now: int) -> None:
        await self._finish(notification_id, "sent", now=now, message_id=message_id)

    async def mark_cancelled(self, notification_id: int, reason: str) -> None:
        await self._finish(notification_id, "cancelled", error=reason)

    async def mark_failed(self, notification_id: int, error: str) -> None:
        await self._finish(notification_id, "failed", error=error)

    async def _finish(
        self,
        notification_id: int,
        state: str,
        *,
        now: int | None = None,
        message_id: int | None = None,
        error: str | None = None,
    ) -> None:
        await self._write((OUTBOX_FINISH, (state, now, message_id, error, notification_id)))

    async def retry_later(self, notification_id: int, at: int, error: str) -> None:
        """Put a row back to pending (a 429, a 5xx, a timeout): it is sent again from ``at``
        (or once its broadcast is resumed, if it was paused while the row was on its way)."""
        async with self.transaction() as db:
            await db.execute(
                f"UPDATE outbox SET state = 'pending', not_before = ? + {KEEP_PAUSE}, error = ? "
                "WHERE id = ? AND state = 'sending'",
                (at, error, notification_id),
            )

    async def recipient_gone(self, user_id: int, reason: str) -> int:
        """The recipient blocked the bot, left Telegram, or has no chat: mark them, and settle
        everything still waiting for them as 'blocked' (never retried). Returns that count."""
        async with self.transaction() as db:
            await db.execute(
                "UPDATE users SET blocked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                "WHERE id = ? AND blocked_at IS NULL",
                (user_id,),
            )
            cursor = await db.execute(
                "UPDATE outbox SET state = 'blocked', error = ? "
                "WHERE user_id = ? AND state IN ('pending', 'sending')",
                (reason, user_id),
            )
            return cursor.rowcount

    async def settle_in_doubt(self) -> int:
        """At start-up: rows left 'sending' by a crash may have been delivered; never resend."""
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE outbox SET state = 'unknown', "
                "error = 'in flight when the process stopped' WHERE state = 'sending'"
            )
            return cursor.rowcount

    async def outbox_counts(self, batch: str | None = None) -> dict[str, int]:
        """How many rows are in each state (of one batch, or all)."""
        if batch is None:
            rows = await self._fetchall("SELECT state, count(*) FROM outbox GROUP BY state")
        else:
            rows = await self._fetchall(
                "SELECT state, count(*) FROM outbox WHERE batch = ? GROUP BY state", (batch,)
            )
        return {state: count for state, count in rows}
