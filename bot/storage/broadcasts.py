"""Broadcasts: drafts, audiences, putting recipients in the outbox, pause, resume, cancel.

See bot/migrations/0006_broadcasts.sql for the life of a broadcast. Every change of state is
a conditional UPDATE (``WHERE state = ...``): two admins pressing, or one pressing twice, change
it once. Outbox rows are inserted here with one INSERT ... SELECT per chunk rather than through
:meth:`OutboxQueries.enqueue`, because a chunk, the cursor that says how far enqueuing got,
and the paused-or-not time of the rows must be written together in one transaction; the
semantics are the outbox's (unique dedup key, people who blocked the bot left out). So is the
admin's final report: queued in the transaction that finishes or cancels the broadcast, so a
crash never loses it, and sent once.

Every broadcast has a kind (:data:`ANNOUNCEMENT_KINDS`), and a person may turn a kind off
(0017_announcement_kinds.sql). A broadcast that is not urgent leaves them out wherever its
audience is read: the composer's count, each chunk put in the outbox, and the row itself when
it is sent (:meth:`BroadcastQueries.receives_announcements`); turning a kind off cancels, in
the same transaction, that kind's rows still waiting for the person.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.storage.actions import log_action
from bot.storage.base import Database, changed_one, first_column, row_mapper
from bot.storage.outbox import BROADCAST, PAUSE_SHIFT

KIND = "broadcast"
REPORT_KIND = "broadcast_report"  # the final report, to the admin who confirmed it
CHUNK = 1000
# What a broadcast is about, chosen by the admin; a person may turn off each one.
ANNOUNCEMENT_KINDS = ("news", "help", "events")
# The error of a broadcast's row cancelled because its recipient turned its kind off: the
# progress and the report count these apart from a cancelled broadcast's rows.
OPTED_OUT = "turned this kind of announcement off"


@dataclass(frozen=True)
class Segment:
    """Who gets a broadcast: an empty tuple means anyone on that dimension."""

    roles: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {"roles": self.roles, "countries": self.countries, "languages": self.languages}
        )

    @classmethod
    def from_json(cls, raw: str) -> Segment:
        data = json.loads(raw or "{}")
        return cls(
            tuple(data.get("roles", ())),
            tuple(data.get("countries", ())),
            tuple(data.get("languages", ())),
        )

    def where(self, kind: str | None = None) -> tuple[str, list[Any]]:
        """SQL conditions on ``users u`` (recipients: not blocked, not banned, in the segment,
        and, unless ``kind`` is None (an urgent broadcast), not opted out of ``kind``)."""
        conditions = [
            "u.blocked_at IS NULL",
            "NOT EXISTS (SELECT 1 FROM bans b WHERE b.user_id = u.id)",
        ]
        params: list[Any] = []
        if kind is not None:
            conditions.append(
                "NOT EXISTS (SELECT 1 FROM announcement_opt_outs o "
                "WHERE o.user_id = u.id AND o.kind = ?)"
            )
            params.append(kind)
        for column, values in (
            ("u.role", self.roles),
            ("u.country", self.countries),
            ("u.language", self.languages),
        ):
            if values:
                conditions.append(f"{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        return " AND ".join(conditions), params


@dataclass(frozen=True)
class Broadcast:
    id: int
    admin_id: int
    state: str
    texts: dict[str, str]
    fallback: str | None
    photo_file_id: str | None
    segment: Segment
    timezone: str
    send_at: int | None
    created_at: int
    started_at: int | None
    finished_at: int | None
    enqueued_all: bool
    recipients: int
    progress_chat: int | None
    progress_message: int | None
    progress_text: str | None
    urgent: bool = False  # reaches people in their quiet hours, and those opted out of kind
    kind: str = "news"  # one of ANNOUNCEMENT_KINDS

    @property
    def batch(self) -> str:
        return f"bc:{self.id}"

    @property
    def opt_out_kind(self) -> str | None:
        """The kind whose opt-outs this broadcast respects: None for an urgent one."""
        return None if self.urgent else self.kind

    def text_for(self, language: str) -> str | None:
        """The text a reader of ``language`` gets: their own, else the fallback's."""
        if language in self.texts:
            return self.texts[language]
        return self.texts.get(self.fallback or "")


_COLUMNS = """id, admin_id, state, texts, fallback, photo_file_id, segment, timezone, send_at,
    created_at, started_at, finished_at, enqueued_all, recipients, progress_chat,
    progress_message, progress_text, urgent, kind"""


_broadcast = row_mapper(Broadcast, texts=json.loads, segment=Segment.from_json)


class BroadcastQueries(Database):
    # --- composing ----------------------------------------------------------------------------

    async def create_broadcast(self, admin_id: int, timezone: str, now: int) -> int:
        async with self.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO broadcasts (admin_id, timezone, created_at) VALUES (?, ?, ?)",
                (admin_id, timezone, now),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    async def get_broadcast(self, broadcast_id: int) -> Broadcast | None:
        return await self._record(
            _broadcast, f"SELECT {_COLUMNS} FROM broadcasts WHERE id = ?", (broadcast_id,)
        )

    async def update_draft(self, broadcast_id: int, **changes: Any) -> None:
        """Change a draft's texts, fallback, photo_file_id, segment, timezone, send_at, urgent
        or kind."""
        allowed = {
            "texts",
            "fallback",
            "photo_file_id",
            "segment",
            "timezone",
            "send_at",
            "urgent",
            "kind",
        }
        assert changes and set(changes) <= allowed, changes
        values = {
            key: (
                json.dumps(value)
                if key == "texts"
                else value.to_json()
                if isinstance(value, Segment)
                else value
            )
            for key, value in changes.items()
        }
        assignments = ", ".join(f"{key} = :{key}" for key in values)
        async with self.transaction() as db:
            await db.execute(
                f"UPDATE broadcasts SET {assignments} WHERE id = :id AND state = 'draft'",
                {**values, "id": broadcast_id},
            )

    async def delete_draft_broadcast(self, broadcast_id: int) -> None:
        async with self.transaction() as db:
            await db.execute(
                "DELETE FROM broadcasts WHERE id = ? AND state = 'draft'", (broadcast_id,)
            )

    async def count_recipients(
        self, segment: Segment, opted_out_of: str | None = None
    ) -> dict[str, int]:
        """How many people a segment reaches now, by language (blocked people left out, and
        those who turned off the kind ``opted_out_of`` names)."""
        where, params = segment.where(opted_out_of)
        rows = await self._fetchall(
            f"SELECT u.language, count(*) FROM users u WHERE {where} GROUP BY u.language",
            params,
        )
        return {language: count for language, count in rows}

    async def confirm_broadcast(self, broadcast_id: int, now: int) -> Broadcast | None:
        """draft → sending (send_at unset or past) or scheduled, in the admin log as its
        composer's; None if it was no draft."""
        async with self.transaction() as db:
            async with db.execute(
                """UPDATE broadcasts SET
                       state = CASE WHEN send_at > :now THEN 'scheduled' ELSE 'sending' END,
                       started_at = CASE WHEN send_at > :now THEN NULL ELSE :now END
                   WHERE id = :id AND state = 'draft' RETURNING admin_id, state""",
                {"id": broadcast_id, "now": now},
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            action = "broadcast_schedule" if row[1] == "scheduled" else "broadcast_send"
            await log_action(db, row[0], action, now, broadcast=broadcast_id)
        return await self.get_broadcast(broadcast_id)

    # --- sending ------------------------------------------------------------------------------

    async def start_due_broadcasts(self, now: int) -> list[int]:
        """Scheduled broadcasts whose time has come become 'sending'; returns their ids."""
        # Asked every second, and nearly always nothing is due: a read, not a write
        # transaction (three trips to the database thread, and the write lock) each time.
        due = await self._fetchone(
            "SELECT 1 FROM broadcasts WHERE state = 'scheduled' AND send_at <= ? LIMIT 1", (now,)
        )
        if due is None:
            return []
        async with self.transaction() as db:
            return await first_column(
                db,
                "UPDATE broadcasts SET state = 'sending', started_at = ? "
                "WHERE state = 'scheduled' AND send_at <= ? RETURNING id",
                (now, now),
            )

    async def active_broadcasts(self) -> list[Broadcast]:
        """Broadcasts sending or paused, oldest first."""
        return await self._records(
            _broadcast,
            f"SELECT {_COLUMNS} FROM broadcasts WHERE state IN ('sending', 'paused') ORDER BY id",
        )

    async def broadcasts_of_state(self, *states: str, limit: int = 20) -> list[Broadcast]:
        return await self._records(
            _broadcast,
            f"SELECT {_COLUMNS} FROM broadcasts WHERE state IN ({', '.join('?' * len(states))}) "
            "ORDER BY id DESC LIMIT ?",
            (*states, limit),
        )

    async def enqueue_broadcast_chunk(
        self, broadcast_id: int, now: int, chunk: int = CHUNK
    ) -> bool:
        """Put the next ``chunk`` recipients (by user id) in the outbox, in one transaction
        with the cursor. True when every recipient is in (or the broadcast stopped)."""
        async with self.transaction() as db:
            async with db.execute(
                f"SELECT {_COLUMNS}, enqueued_to FROM broadcasts WHERE id = ?", (broadcast_id,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return True
            broadcast = _broadcast(row)
            if broadcast.state not in ("sending", "paused") or broadcast.enqueued_all:
                return True
            after = row[-1]  # enqueued_to: the last user id put in the outbox
            where, params = broadcast.segment.where(broadcast.opt_out_kind)
            ids = await first_column(
                db,
                f"SELECT u.id FROM users u WHERE {where} AND u.id > ? ORDER BY u.id LIMIT ?",
                (*params, after, chunk),
            )
            if not ids:
                await db.execute(
                    "UPDATE broadcasts SET enqueued_all = 1 WHERE id = ?", (broadcast_id,)
                )
                return True
            not_before = now + (PAUSE_SHIFT if broadcast.state == "paused" else 0)
            before = db.total_changes
            await db.execute(
                f"""INSERT INTO outbox (user_id, kind, dedup_key, payload, priority, not_before,
                                        created_at, batch, urgent)
                    SELECT u.id, ?, 'broadcast:' || ? || ':' || u.id, ?, ?, ?, ?, ?, ?
                    FROM users u WHERE {where} AND u.id > ? AND u.id <= ?
                    ON CONFLICT (dedup_key) DO NOTHING""",
                (
                    KIND,
                    broadcast_id,
                    json.dumps({"broadcast": broadcast_id}),
                    BROADCAST,
                    not_before,
                    now,
                    broadcast.batch,
                    broadcast.urgent,
                    *params,
                    after,
                    ids[-1],
                ),
            )
            added = db.total_changes - before
            await db.execute(
                "UPDATE broadcasts SET enqueued_to = ?, recipients = recipients + ? WHERE id = ?",
                (ids[-1], added, broadcast_id),
            )
            return False

    async def pause_broadcast(self, broadcast_id: int, *, admin: int, now: int) -> bool:
        return await self._set_paused(broadcast_id, True, admin=admin, now=now)

    async def resume_broadcast(self, broadcast_id: int, *, admin: int, now: int) -> bool:
        return await self._set_paused(broadcast_id, False, admin=admin, now=now)

    async def _set_paused(self, broadcast_id: int, paused: bool, *, admin: int, now: int) -> bool:
        """sending → paused (or back), and the broadcast's rows shifted out of (or back into)
        the outbox's due range, in one transaction; False if it was not in the state."""
        before, after = ("sending", "paused") if paused else ("paused", "sending")
        # Pausing shifts only the rows not shifted yet, resuming only the shifted ones: a row is
        # never shifted twice, whatever the order of presses. A row on its way ('sending') is
        # shifted too: should it come back for a retry, it waits for the resume (the outbox
        # keeps the shift); sent meanwhile, the resume gives it its own time back.
        if paused:
            shift, which = PAUSE_SHIFT, "state IN ('pending', 'sending') AND not_before < ?"
        else:
            shift, which = -PAUSE_SHIFT, "not_before >= ?"
        async with self.transaction() as db:
            if not await changed_one(
                db,
                "UPDATE broadcasts SET state = ? WHERE id = ? AND state = ?",
                (after, broadcast_id, before),
            ):
                return False
            action = "broadcast_pause" if paused else "broadcast_resume"
            await log_action(db, admin, action, now, broadcast=broadcast_id)
            await db.execute(
                f"UPDATE outbox SET not_before = not_before + ? WHERE batch = ? AND {which}",
                (shift, f"bc:{broadcast_id}", PAUSE_SHIFT),
            )
            return True

    async def cancel_broadcast(self, broadcast_id: int, now: int, *, admin: int) -> bool:
        """Stop a scheduled, sending or paused broadcast: what is not sent yet never will be."""
        async with self.transaction() as db:
            if not await changed_one(
                db,
                "UPDATE broadcasts SET state = 'cancelled', finished_at = ? "
                "WHERE id = ? AND state IN ('scheduled', 'sending', 'paused')",
                (now, broadcast_id),
            ):
                return False
            await log_action(db, admin, "broadcast_cancel", now, broadcast=broadcast_id)
            await db.execute(
                "UPDATE outbox SET state = 'cancelled', error = 'broadcast cancelled' "
                "WHERE batch = ? AND state = 'pending'",
                (f"bc:{broadcast_id}",),
            )
            # No resume follows a cancel: the pause's shift comes off every row it moved, so a
            # row on its way that comes back for a retry is due, and dropped when rendered.
            await db.execute(
                "UPDATE outbox SET not_before = not_before - ? WHERE batch = ? AND not_before >= ?",
                (PAUSE_SHIFT, f"bc:{broadcast_id}", PAUSE_SHIFT),
            )
            await _queue_report(db, broadcast_id, now)
            return True

    async def finish_broadcast(self, broadcast_id: int, now: int) -> bool:
        """sending → done once every recipient is queued and nothing is left to send."""
        async with self.transaction() as db:
            if not await changed_one(
                db,
                """UPDATE broadcasts SET state = 'done', finished_at = ?
                   WHERE id = ? AND state = 'sending' AND enqueued_all = 1
                     AND NOT EXISTS (SELECT 1 FROM outbox WHERE batch = ?
                                     AND state IN ('pending', 'sending'))""",
                (now, broadcast_id, f"bc:{broadcast_id}"),
            ):
                return False
            await _queue_report(db, broadcast_id, now)
            return True

    async def set_progress_message(
        self, broadcast_id: int, chat_id: int, message_id: int, text: str
    ) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE broadcasts SET progress_chat = ?, progress_message = ?, progress_text = ? "
                "WHERE id = ?",
                (chat_id, message_id, text, broadcast_id),
            )

    async def set_progress_text(self, broadcast_id: int, text: str) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE broadcasts SET progress_text = ? WHERE id = ?", (text, broadcast_id)
            )

    async def broadcast_counts(self, broadcast: Broadcast) -> dict[str, int]:
        """The outbox's counts of a broadcast's rows by state, with the rows of people who
        turned its kind off on the way as 'opted_out' rather than 'cancelled'."""
        rows = await self._fetchall(
            """SELECT CASE WHEN state = 'cancelled' AND error = ? THEN 'opted_out' ELSE state END,
                      count(*)
               FROM outbox WHERE batch = ? GROUP BY 1""",
            (OPTED_OUT, broadcast.batch),
        )
        return {state: count for state, count in rows}

    # --- opting out of a kind -------------------------------------------------------------

    async def announcement_opt_outs(self, user_id: int) -> frozenset[str]:
        """The kinds of announcements a person turned off."""
        return frozenset(
            await self._first_column(
                "SELECT kind FROM announcement_opt_outs WHERE user_id = ?", (user_id,)
            )
        )

    async def receives_announcements(self, user_id: int, kind: str) -> bool:
        return not await self._fetchone(
            "SELECT 1 FROM announcement_opt_outs WHERE user_id = ? AND kind = ?", (user_id, kind)
        )

    async def opt_out_of_announcements(self, user_id: int, kind: str, now: int) -> bool:
        """Turn a kind off for a person, and cancel what of that kind (not urgent) still waits
        for them, in one transaction: nothing more of it reaches them, even from a broadcast
        under way. False if it was off already."""
        async with self.transaction() as db:
            if not await changed_one(
                db,
                "INSERT INTO announcement_opt_outs (user_id, kind, opted_out_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (user_id, kind, now),
            ):
                return False
            await db.execute(
                """UPDATE outbox SET state = 'cancelled', error = ?
                   WHERE user_id = ? AND kind = ? AND state = 'pending' AND urgent = 0
                     AND batch IN (SELECT 'bc:' || id FROM broadcasts
                                   WHERE kind = ?)""",
                (OPTED_OUT, user_id, KIND, kind),
            )
            return True

    async def opt_in_to_announcements(self, user_id: int, kind: str) -> bool:
        """Turn a kind on again (from the next broadcast of it); False if it was on."""
        return (
            await self._write(
                (
                    "DELETE FROM announcement_opt_outs WHERE user_id = ? AND kind = ?",
                    (user_id, kind),
                )
            )
            == 1
        )

    async def broadcast_in_message(
        self, user_id: int, broadcast_id: int, message_id: int
    ) -> Broadcast | None:
        """The broadcast, if it reached this person in this very message (alone or in a
        bundle): the one proof that a press under an announcement is theirs."""
        found = await self._fetchone(
            "SELECT 1 FROM outbox WHERE batch = ? AND user_id = ? AND message_id = ? "
            "AND state = 'sent'",
            (f"bc:{broadcast_id}", user_id, message_id),
        )
        return await self.get_broadcast(broadcast_id) if found else None


async def _queue_report(db: aiosqlite.Connection, broadcast_id: int, now: int) -> None:
    """The final report, to the chat of the progress message (the admin's), once."""
    await db.execute(
        """INSERT INTO outbox (user_id, kind, dedup_key, payload, priority, not_before,
                               created_at)
           SELECT progress_chat, ?, ?, json_object('broadcast', id), 0, ?, ?
           FROM broadcasts WHERE id = ? AND progress_chat IS NOT NULL
           ON CONFLICT (dedup_key) DO NOTHING""",
        (REPORT_KIND, f"bc-report:{broadcast_id}", now, now, broadcast_id),
    )
