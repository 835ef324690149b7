"""A person's data: everything stored about them (/mydata), and erasing it (/deleteme).

Both also look at tables this module does not know by name (alerts, saved searches... of other
features): any table with a ``user_id`` column is exported and erased for the person, and rows
of any table with a ``listing_id`` column go with the person's listings. What other people
still need is kept, anonymised: a contact keeps its listing's title and the other side's
messages, the admin log keeps its lines without the person's id.
"""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from bot.storage.base import Database
from bot.storage.moderation import end_relays_with
from bot.storage.verification import unverify_if_unattended

# Tables exported and erased explicitly below (or kept on purpose: bans outlive the person,
# contacts are anonymised for the other side).
_KNOWN = {
    "users",
    "listings",
    "drafts",
    "contacts",
    "contact_messages",
    "contact_followups",
    "verification_requests",
    "reports",
    "warnings",
    "bans",
    "admin_actions",
    "outbox",
    "ptb_user_data",
    "ptb_chat_data",
    "ptb_conversations",
}
# Rows naming a listing that stay when it is erased (their listing_id becomes NULL). Exchanges
# name nobody (places and countries only): the figures keep them.
_KEPT_WITH_LISTING = {
    "contacts",
    "warnings",
    "reports",
    "listing_tags",
    "listing_views",
    "exchanges",
}


async def _dicts(db: aiosqlite.Connection, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    async with db.execute(sql, params) as cursor:
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]


async def _tables_with(db: aiosqlite.Connection, column: str) -> list[str]:
    """Ordinary tables (not FTS shadow tables) that have a column of this name."""
    rows = await db.execute_fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name"
    )
    found = []
    for (table,) in rows:
        info = await db.execute_fetchall(f'PRAGMA table_info("{table}")')
        if any(row[1] == column for row in info):
            found.append(table)
    return found


class PrivacyQueries(Database):
    async def export_member(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the person, as JSON-ready values."""
        db = self._db
        profile = await _dicts(
            db,
            """SELECT u.*, m.name AS municipality_name, o.name AS organisation_name
               FROM users u
               LEFT JOIN municipalities m ON m.id = u.municipality_id
               LEFT JOIN organisations o ON o.id = u.organisation_id
               WHERE u.id = ?""",
            (user_id,),
        )
        listings = await _dicts(
            db, "SELECT * FROM listings WHERE owner_id = ? ORDER BY id", (user_id,)
        )
        for listing in listings:
            tags = await db.execute_fetchall(
                "SELECT tag FROM listing_tags WHERE listing_id = ? ORDER BY tag", (listing["id"],)
            )
            listing["tags"] = [tag for (tag,) in tags]
            listing["history"] = await _dicts(
                db,
                "SELECT status, at, detail FROM listing_history WHERE listing_id = ? ORDER BY id",
                (listing["id"],),
            )
        contacts = await _dicts(
            db,
            """SELECT c.id, c.listing_id, c.listing_title, c.listing_kind, c.status,
                      c.created_at, c.decided_at,
                      CASE WHEN c.asker_id = :user THEN 'asker' ELSE 'owner' END AS side
               FROM contacts c
               WHERE c.asker_id = :user OR c.owner_id = :user OR c.decided_by = :user
                  OR c.id IN (SELECT contact_id FROM contact_messages WHERE sender_id = :user)
               ORDER BY c.id""",
            {"user": user_id},
        )
        for contact in contacts:
            contact["messages"] = await _dicts(
                db,
                """SELECT CASE WHEN sender_id = ? THEN 'you' ELSE 'them' END AS sender,
                          text, sent_at
                   FROM contact_messages WHERE contact_id = ? ORDER BY id""",
                (user_id, contact["id"]),
            )
        data: dict[str, Any] = {
            "profile": profile[0] if profile else None,
            "listings": listings,
            "draft": await self._json_column(db, "drafts", "data", user_id),
            "contacts": contacts,
            "contact_followups": await _dicts(
                db, "SELECT * FROM contact_followups WHERE user_id = ?", (user_id,)
            ),
            "verification_requests": await _dicts(
                db,
                "SELECT id, municipality_id, email, note, status, created_at, decided_at, "
                "revoked_at FROM verification_requests WHERE user_id = ? ORDER BY id",
                (user_id,),
            ),
            "reports_made": await _dicts(
                db,
                "SELECT listing_id, reason, status, created_at FROM reports "
                "WHERE reporter_id = ? ORDER BY id",
                (user_id,),
            ),
            "reports_about_you": await _dicts(
                db,
                "SELECT listing_id, reason, status, created_at FROM reports "
                "WHERE reported_user = ? ORDER BY id",
                (user_id,),
            ),
            "warnings": await _dicts(
                db, "SELECT listing_id, at FROM warnings WHERE user_id = ? ORDER BY id", (user_id,)
            ),
            "ban": (await _dicts(db, "SELECT banned_at FROM bans WHERE user_id = ?", (user_id,)))
            or None,
            "notifications": await _dicts(
                db,
                "SELECT kind, payload, state, created_at, sent_at FROM outbox "
                "WHERE user_id = ? ORDER BY id",
                (user_id,),
            ),
            "dialogs_in_progress": await self._json_column(db, "ptb_user_data", "data", user_id),
        }
        for notification in data["notifications"]:
            notification["payload"] = json.loads(notification["payload"])
        # Alerts, saved searches and whatever else other features keep per person.
        for table in await _tables_with(db, "user_id"):
            if table not in _KNOWN:
                data[table] = await _dicts(
                    db, f'SELECT * FROM "{table}" WHERE user_id = ?', (user_id,)
                )
        return data

    @staticmethod
    async def _json_column(db: aiosqlite.Connection, table: str, column: str, user_id: int) -> Any:
        rows = list(
            await db.execute_fetchall(f"SELECT {column} FROM {table} WHERE user_id = ?", (user_id,))
        )
        return json.loads(rows[0][0]) if rows else None

    async def erase_member(self, user_id: int, now: int) -> None:
        """Erase the person and their listings in one transaction; anonymise what others keep.

        Kept: contacts with the other side (the person's ids set to NULL, their messages
        deleted, the listing's title kept), reports they made (without them), the admin log
        (without them), and an active ban (their id alone, so that coming back does not lift
        it). The municipality stays (a public body); an organisation nobody else speaks for
        goes.
        """
        async with self.transaction() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT municipality_id, organisation_id FROM users WHERE id = ?", (user_id,)
                )
            )
            municipality_id, organisation_id = rows[0] if rows else (None, None)
            owned = [
                row[0]
                for row in await db.execute_fetchall(
                    "SELECT id FROM listings WHERE owner_id = ?", (user_id,)
                )
            ]
            await end_relays_with(db, user_id, now)
            # Pending contacts the person asked, or about their listings, can no longer be
            # answered: withdrawn (their relays are not sent, their buttons refuse).
            marks = ",".join("?" * len(owned))
            await db.execute(
                f"""UPDATE contacts SET status = 'withdrawn', decided_at = ?
                    WHERE status = 'pending' AND (asker_id = ? OR listing_id IN ({marks}))""",
                (now, user_id, *owned),
            )
            for table in await _tables_with(db, "listing_id"):
                if table not in _KEPT_WITH_LISTING and owned:
                    await db.execute(f'DELETE FROM "{table}" WHERE listing_id IN ({marks})', owned)
            await db.execute(f"DELETE FROM listings_text WHERE rowid IN ({marks})", owned)
            await db.execute("DELETE FROM listing_views WHERE viewer_id = ?", (user_id,))
            for table, column in (
                ("listing_history", "by_user"),
                ("admin_actions", "admin_id"),
                ("admin_actions", "target_user"),
                ("reports", "resolved_by"),
                ("warnings", "by_admin"),
                ("bans", "banned_by"),
                ("verification_requests", "decided_by"),
                ("verification_requests", "revoked_by"),
            ):
                await db.execute(
                    f"UPDATE {table} SET {column} = NULL WHERE {column} = ?", (user_id,)
                )
            await db.execute("DELETE FROM ptb_chat_data WHERE chat_id = ?", (user_id,))
            await db.execute(
                "DELETE FROM ptb_conversations WHERE EXISTS "
                "(SELECT 1 FROM json_each(ptb_conversations.key) WHERE value = ?)",
                (user_id,),
            )
            for table in await _tables_with(db, "user_id"):
                if table != "bans":
                    await db.execute(f'DELETE FROM "{table}" WHERE user_id = ?', (user_id,))
            # The rest follows the users row through foreign keys (see 0005_trust.sql).
            await db.execute("DELETE FROM users WHERE id = ?", (user_id,))
            if organisation_id is not None:
                await db.execute(
                    """DELETE FROM organisations WHERE id = :id
                       AND NOT EXISTS (SELECT 1 FROM users WHERE organisation_id = :id)
                       AND NOT EXISTS (SELECT 1 FROM listings WHERE organisation_id = :id)""",
                    {"id": organisation_id},
                )
            if municipality_id is not None:
                await unverify_if_unattended(db, municipality_id)
