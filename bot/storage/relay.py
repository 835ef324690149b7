"""Messages through the bot between the two people of an accepted contact (the asker and who
accepted), for when one of them has no public username to be reached by.

The consent rules of contacts hold: only once accepted, only between those two, until either
of them ends it, or the other one is banned, erased or has blocked the bot (the relay then
ends for good), or the official who accepted for a municipality no longer represents it
(:func:`bot.storage.verification.end_relays_spoken_for`), and at most
:data:`RELAY_PER_HOUR` messages an hour from one person. Each message is stored with its
outbox row in one transaction, keyed by the person's own Telegram message (relayed messages
are the contact messages that have one): an update handed out again
after a crash relays nothing twice, and a crash loses nothing.
"""

from __future__ import annotations

import aiosqlite

from bot.storage.base import fold, read_one
from bot.storage.contacts import (
    Contact,
    ContactMessage,
    ContactQueries,
    ContactRefused,
    read_contact,
)
from bot.storage.outbox import Enqueued, insert_notifications, queue_each

HOUR = 3600
RELAY_PER_HOUR = 20  # messages one person may relay in an hour, over all their contacts
# The notifications of the relay (rendered by bot/handlers/relay.py).
RELAYED, RELAY_ENDED = "contact_relay", "contact_relay_ended"


def check_relay(contact: Contact | None, user_id: int) -> Contact:
    """The contact, if ``user_id`` is one of its two people and its relay is open; else
    ContactRefused: not_party, not_accepted, relay_ended (unreachable: the other erased)."""
    if contact is None:
        raise ContactRefused("not_party")
    if contact.status != "accepted":
        # Before an Accept (or after a Decline), the asker and the listing's owner are told
        # why; anyone else that it is not theirs.
        answered_by = (contact.asker_id, contact.owner_id, contact.decided_by)
        raise ContactRefused("not_accepted" if user_id in answered_by else "not_party")
    if user_id not in (contact.asker_id, contact.decided_by):
        raise ContactRefused("not_party")
    if contact.relay_ended_at is not None:
        # Ended with the other person's erasure (their id is gone): say they cannot be reached.
        gone = contact.other_side(user_id) is None
        raise ContactRefused("unreachable" if gone else "relay_ended")
    return contact


async def _open_relay(
    db: aiosqlite.Connection, contact_id: int, user_id: int, now: int
) -> tuple[Contact, int | None]:
    """The contact and the other person, if the relay is open for ``user_id``; the other
    person None when they can no longer be reached (the relay is then ended, for good)."""
    contact = check_relay(await read_contact(db, contact_id), user_id)
    other = contact.other_side(user_id)
    if other is not None and await _reachable(db, other):
        return contact, other
    await db.execute("UPDATE contacts SET relay_ended_at = ? WHERE id = ?", (now, contact_id))
    return contact, None


async def _reachable(db: aiosqlite.Connection, user_id: int | None) -> bool:
    """Someone the bot can still relay to: not erased, not banned, not blocking the bot."""
    if user_id is None:
        return False
    row = await read_one(
        db,
        "SELECT blocked_at IS NULL AND NOT EXISTS (SELECT 1 FROM bans WHERE user_id = users.id) "
        "FROM users WHERE id = ?",
        (user_id,),
    )
    return bool(row and row[0])


class RelayQueries(ContactQueries):
    async def relay_contact(self, contact_id: int, user_id: int, *, now: int) -> Contact:
        """The contact, if ``user_id`` may write through the bot about it now (asked when the
        button is pressed; :meth:`relay_message` checks again). ContactRefused: see
        :func:`check_relay`, and unreachable (the relay then ends)."""
        async with self.transaction() as db:
            contact, other = await _open_relay(db, contact_id, user_id, now)
        if other is None:  # raised once committed: the relay stays ended
            raise ContactRefused("unreachable")
        return contact

    async def relay_message(
        self, contact_id: int, sender: int, text: str, *, telegram_message_id: int, now: int
    ) -> ContactMessage:
        """Store a message for the other side and queue it, in one transaction; the same
        Telegram message again returns what was stored then. ContactRefused: see
        :meth:`relay_contact`, and relay_busy (``next_at``: when the next one may go)."""
        async with self.transaction() as db:
            stored = await read_one(
                db,
                "SELECT id FROM contact_messages WHERE sender_id = ? AND telegram_message_id = ?",
                (sender, telegram_message_id),
            )
            if stored is None:
                contact, other = await _open_relay(db, contact_id, sender, now)
                if other is not None:
                    stored = await _store(db, contact, sender, other, text, now,
                                          telegram_message_id)  # fmt: skip
        if stored is None:  # raised once committed: the relay stays ended
            raise ContactRefused("unreachable")
        message = await self.get_contact_message(stored[0])
        assert message is not None
        return message

    async def end_relay(self, contact_id: int, user_id: int, *, now: int) -> Contact:
        """End the relay for good, by either of its two people; the other one is told (queued
        in the same transaction). ContactRefused: see :func:`check_relay`."""
        async with self.transaction() as db:
            contact = check_relay(await read_contact(db, contact_id), user_id)
            await db.execute(
                "UPDATE contacts SET relay_ended_at = ?, relay_ended_by = ? WHERE id = ?",
                (now, user_id, contact_id),
            )
            other = contact.other_side(user_id)
            if other is not None:
                await queue_each(
                    db,
                    [other],
                    RELAY_ENDED,
                    f"ct:re:{contact_id}",
                    {"contact": contact_id},
                    now=now,
                )
        ended = await self.get_contact(contact_id)
        assert ended is not None
        return ended

    async def relay_used(self, contact_id: int) -> bool:
        """Whether anything was written through the bot about this contact."""
        row = await self._fetchone(
            "SELECT 1 FROM contact_messages WHERE contact_id = ? "
            "AND telegram_message_id IS NOT NULL LIMIT 1",
            (contact_id,),
        )
        return row is not None


async def _store(
    db: aiosqlite.Connection,
    contact: Contact,
    sender: int,
    other: int,
    text: str,
    now: int,
    telegram_message_id: int,
) -> tuple[int]:
    """Insert a relayed message and its outbox row, within the hourly limit."""
    recent = list(
        await db.execute_fetchall(
            "SELECT sent_at FROM contact_messages WHERE sender_id = ? AND sent_at > ? "
            "AND telegram_message_id IS NOT NULL ORDER BY sent_at DESC LIMIT ?",
            (sender, now - HOUR, RELAY_PER_HOUR),
        )
    )
    if len(recent) >= RELAY_PER_HOUR:
        # The next one may go once the oldest of the hour's messages is an hour old.
        raise ContactRefused("relay_busy", next_at=recent[-1][0] + HOUR)
    (message_id,) = await read_one(
        db,
        "INSERT INTO contact_messages (contact_id, sender_id, from_asker, text, text_key, "
        "sent_at, telegram_message_id) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (contact.id, sender, int(sender == contact.asker_id), text, fold(text), now,
         telegram_message_id),
    )  # fmt: skip
    queued = Enqueued(other, RELAYED, f"ct:r:{message_id}:{other}", {"message": message_id}, now)
    await insert_notifications(db, [queued], now=now)
    return (message_id,)
