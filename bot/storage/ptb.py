"""The tables behind :class:`bot.persistence.SQLitePersistence`: conversation states and
PTB's user, chat and bot data, as JSON."""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from bot.storage.base import Database


class PersistenceQueries(Database):
    # Values are JSON; conversation keys are tuples stored as JSON arrays.

    async def load_conversations(self, name: str) -> dict[tuple[int | str, ...], object]:
        rows = await self._fetchall(
            "SELECT key, state FROM ptb_conversations WHERE name = ?", (name,)
        )
        return {tuple(json.loads(key)): json.loads(state) for key, state in rows}

    async def save_conversation(
        self, name: str, key: tuple[int | str, ...], state: object | None
    ) -> None:
        """Record a conversation's state; ``None`` means the conversation ended."""
        async with self.transaction() as db:
            await self._write_conversation(db, name, key, state)

    @staticmethod
    async def _write_conversation(
        db: aiosqlite.Connection, name: str, key: tuple[int | str, ...], state: object | None
    ) -> None:
        if state is None:
            await db.execute(
                "DELETE FROM ptb_conversations WHERE name = ? AND key = ?",
                (name, json.dumps(list(key))),
            )
        else:
            await db.execute(
                """INSERT INTO ptb_conversations (name, key, state) VALUES (?, ?, ?)
                   ON CONFLICT (name, key) DO UPDATE SET state = excluded.state""",
                (name, json.dumps(list(key)), json.dumps(state)),
            )

    async def load_user_data(self) -> dict[int, dict[str, Any]]:
        rows = await self._fetchall("SELECT user_id, data FROM ptb_user_data")
        return {user_id: json.loads(data) for user_id, data in rows}

    async def save_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        async with self.transaction() as db:
            await self._write_user_data(db, user_id, data)

    @staticmethod
    async def _write_user_data(
        db: aiosqlite.Connection, user_id: int, data: dict[str, Any]
    ) -> None:
        await db.execute(
            """INSERT INTO ptb_user_data (user_id, data) VALUES (?, ?)
               ON CONFLICT (user_id) DO UPDATE SET data = excluded.data""",
            (user_id, json.dumps(data)),
        )

    async def drop_user_data(self, user_id: int) -> None:
        async with self.transaction() as db:
            await db.execute("DELETE FROM ptb_user_data WHERE user_id = ?", (user_id,))

    async def load_chat_data(self) -> dict[int, dict[str, Any]]:
        rows = await self._fetchall("SELECT chat_id, data FROM ptb_chat_data")
        return {chat_id: json.loads(data) for chat_id, data in rows}

    async def save_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        async with self.transaction() as db:
            await db.execute(
                """INSERT INTO ptb_chat_data (chat_id, data) VALUES (?, ?)
                   ON CONFLICT (chat_id) DO UPDATE SET data = excluded.data""",
                (chat_id, json.dumps(data)),
            )

    async def drop_chat_data(self, chat_id: int) -> None:
        async with self.transaction() as db:
            await db.execute("DELETE FROM ptb_chat_data WHERE chat_id = ?", (chat_id,))

    async def load_bot_data(self) -> dict[str, Any]:
        row = await self._fetchone("SELECT data FROM ptb_bot_data WHERE id = 1")
        return json.loads(row[0]) if row else {}

    async def save_bot_data(self, data: dict[str, Any]) -> None:
        async with self.transaction() as db:
            await db.execute(
                """INSERT INTO ptb_bot_data (id, data) VALUES (1, ?)
                   ON CONFLICT (id) DO UPDATE SET data = excluded.data""",
                (json.dumps(data),),
            )

    async def save_dialog_step(
        self,
        name: str,
        key: tuple[int | str, ...],
        state: object | None,
        user_id: int,
        user_data: dict[str, Any],
        update_id: int | None = None,
        now: int = 0,
    ) -> None:
        """Store a dialog's next state together with the user's answers, atomically, and the
        update that moved it on (see :meth:`already_handled`).

        Dialogs call this *before* replying, so a step the user has seen answered is never
        lost to a crash between the reply and the periodic persistence flush.
        """
        async with self.transaction() as db:
            await self._write_user_data(db, user_id, user_data)
            await self._write_conversation(db, name, key, state)
            if update_id is not None:
                await db.execute(
                    """INSERT INTO handled_updates (user_id, update_id, at) VALUES (?, ?, ?)
                       ON CONFLICT (user_id) DO UPDATE SET
                           update_id = max(update_id, excluded.update_id), at = excluded.at""",
                    (user_id, update_id, now),
                )

    async def dialog_states(
        self, key: tuple[int | str, ...], names: list[str]
    ) -> dict[str, object]:
        """The states of the named conversations that ``key`` (chat, user) is in."""
        marks = ", ".join("?" for _ in names)
        rows = await self._fetchall(
            f"SELECT name, state FROM ptb_conversations WHERE name IN ({marks}) AND key = ?",
            (*names, json.dumps(list(key))),
        )
        return {name: json.loads(state) for name, state in rows}

    async def already_handled(self, user_id: int, update_id: int, now: int) -> bool:
        """True if this update already moved one of the person's dialogs on.

        Only recent records count: Telegram restarts update ids at a random number after a
        week without updates, and a re-delivery after a crash comes within minutes.
        """
        row = await self._fetchone(
            "SELECT update_id, at FROM handled_updates WHERE user_id = ?", (user_id,)
        )
        return row is not None and update_id <= row[0] and now - row[1] < 3600
