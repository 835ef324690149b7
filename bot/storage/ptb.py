"""The tables behind :class:`bot.persistence.SQLitePersistence`: conversation states and
PTB's user, chat and bot data, as JSON; and the last update that moved each person's dialog.

Every write here is one transaction in one trip to the database thread (``Database._write``):
they run after every update.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from bot.storage.base import Database, Params, Statement
from bot.storage.listings import SAVE_DRAFT

ConversationKey = tuple[int | str, ...]

SAVE_CONVERSATION = """INSERT INTO ptb_conversations (name, key, state) VALUES (?, ?, ?)
    ON CONFLICT (name, key) DO UPDATE SET state = excluded.state"""
END_CONVERSATION = "DELETE FROM ptb_conversations WHERE name = ? AND key = ?"
# PTB's user_data and chat_data: a table each, ptb_user_data by user_id, ptb_chat_data by chat_id.
DataOf = Literal["user", "chat"]
SAVE_DATA: dict[DataOf, str] = {
    of: f"""INSERT INTO ptb_{of}_data ({of}_id, data) VALUES (?, ?)
    ON CONFLICT ({of}_id) DO UPDATE SET data = excluded.data"""
    for of in get_args(DataOf)
}
SAVE_BOT_DATA = """INSERT INTO ptb_bot_data (id, data) VALUES (1, ?)
    ON CONFLICT (id) DO UPDATE SET data = excluded.data"""
HANDLED_UPDATE = """INSERT INTO handled_updates (user_id, update_id, at) VALUES (?, ?, ?)
    ON CONFLICT (user_id) DO UPDATE SET
        update_id = max(update_id, excluded.update_id), at = excluded.at"""
# A person's data written with another write (a question confirmed sent, see
# bot.persistence.SQLitePersistence.confirm): only while they are a member, so that a record
# still waiting when they erased their data never brings it back.
SAVE_MEMBER_DATA = """INSERT INTO ptb_user_data (user_id, data)
    SELECT :user_id, :data WHERE EXISTS (SELECT 1 FROM users WHERE id = :user_id)
    ON CONFLICT (user_id) DO UPDATE SET data = excluded.data"""
# Only recent records count: Telegram restarts update ids at a random number after a week
# without updates, and a re-delivery after a crash comes within minutes.
HANDLED_FOR_SECONDS = 3600


@dataclass(frozen=True)
class DialogStep:
    """A dialog's step as written: its conversation (``name``, ``key``) and next ``state``
    (None: ended), the person's data, the update that moved it and, for posting, the draft."""

    name: str
    key: ConversationKey
    state: object | None
    user_id: int
    user_data: dict[str, Any]
    update_id: int | None = None
    now: int = 0
    draft: dict[str, Any] | None = None


def handled_already(last: tuple[int, int] | None, update_id: int, now: int) -> bool:
    """True if ``update_id`` is not newer than ``last`` (update id, when), a recent record."""
    return last is not None and update_id <= last[0] and now - last[1] < HANDLED_FOR_SECONDS


def _carried(carried: Mapping[int, str] | None) -> list[Statement]:
    """The statements writing ``carried``: people's data, already encoded as JSON."""
    return [
        (SAVE_MEMBER_DATA, {"user_id": key, "data": data}) for key, data in (carried or {}).items()
    ]


def _conversation(name: str, key: ConversationKey, state: object | None) -> tuple[str, Params]:
    """The statement recording a conversation's state; ``None`` means it ended."""
    if state is None:
        return END_CONVERSATION, (name, json.dumps(list(key)))
    return SAVE_CONVERSATION, (name, json.dumps(list(key)), json.dumps(state))


class PersistenceQueries(Database):
    # Values are JSON; conversation keys are tuples stored as JSON arrays.

    async def load_conversations(self, name: str) -> dict[ConversationKey, object]:
        rows = await self._fetchall(
            "SELECT key, state FROM ptb_conversations WHERE name = ?", (name,)
        )
        return {tuple(json.loads(key)): json.loads(state) for key, state in rows}

    async def save_conversation(
        self, name: str, key: ConversationKey, state: object | None
    ) -> None:
        """Record a conversation's state; ``None`` means the conversation ended."""
        await self._write(_conversation(name, key, state))

    async def load_data(self, of: DataOf) -> dict[int, dict[str, Any]]:
        """Every user's (or chat's) data, by id."""
        rows = await self._fetchall(f"SELECT {of}_id, data FROM ptb_{of}_data")
        return {key: json.loads(data) for key, data in rows}

    async def save_data(self, of: DataOf, key: int, data: dict[str, Any]) -> None:
        """Store a user's (or chat's) data."""
        await self._write((SAVE_DATA[of], (key, json.dumps(data))))

    async def write_carried(self) -> None:
        """A transaction for nothing but what waits to be carried (Database.carry_with), if
        anything does."""
        await self._write()

    async def drop_data(self, of: DataOf, key: int) -> None:
        await self._write((f"DELETE FROM ptb_{of}_data WHERE {of}_id = ?", (key,)))

    async def load_bot_data(self) -> dict[str, Any]:
        row = await self._fetchone("SELECT data FROM ptb_bot_data WHERE id = 1")
        return json.loads(row[0]) if row else {}

    async def save_bot_data(self, data: dict[str, Any]) -> None:
        await self._write((SAVE_BOT_DATA, (json.dumps(data),)))

    async def save_dialog_step(self, step: DialogStep) -> None:
        """Store a dialog's next state together with the user's answers, atomically, and the
        update that moved it on (see :func:`handled_already`); with a draft, the person's
        listing draft too (the posting dialog's answers, see ListingQueries.save_draft).

        Dialogs call this *before* replying, so a step the user has seen answered is never
        lost to a crash between the reply and the periodic persistence flush. One transaction
        for all of it (and what waits to be carried, Database.carry_with): a dialog step costs
        one commit.
        """
        await self._write(*self.dialog_step(step))

    @staticmethod
    def dialog_step(step: DialogStep) -> list[Statement]:
        """The statements of :meth:`save_dialog_step`, for a step that rides in another
        write's transaction (see Database.riding)."""
        statements = [
            (SAVE_DATA["user"], (step.user_id, json.dumps(step.user_data))),
            _conversation(step.name, step.key, step.state),
        ]
        if step.update_id is not None:
            statements.append((HANDLED_UPDATE, (step.user_id, step.update_id, step.now)))
        if step.draft is not None:
            statements.append((SAVE_DRAFT, (step.user_id, json.dumps(step.draft), step.now)))
        return statements

    @staticmethod
    def carried(carried: Mapping[int, str] | None) -> list[Statement]:
        """The statements writing people's data (JSON) that waited for a write to carry it,
        only while they are members (see SAVE_MEMBER_DATA)."""
        return _carried(carried)

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
