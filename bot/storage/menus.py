"""The digest of the command menu and descriptions each bot last published (see bot/app.py)."""

from __future__ import annotations

from bot.storage.base import Database


class MenuQueries(Database):
    async def published_menu(self, bot_id: int) -> str | None:
        """The digest recorded by :meth:`record_published_menu` for this bot, if any."""
        row = await self._fetchone("SELECT digest FROM published_menus WHERE bot_id = ?", (bot_id,))
        return None if row is None else str(row[0])

    async def record_published_menu(self, bot_id: int, digest: str, now: int) -> None:
        async with self.transaction() as db:
            await db.execute(
                """INSERT INTO published_menus (bot_id, digest, published_at) VALUES (?, ?, ?)
                   ON CONFLICT (bot_id) DO UPDATE
                   SET digest = excluded.digest, published_at = excluded.published_at""",
                (bot_id, digest, now),
            )
