"""Contacts: a member asks a listing's author to get in touch, with a short message relayed by
the bot; the author's side accepts or declines; follow-ups 30 and 90 days after an Accept.

Who may act on a contact is decided here on every call: the asker, or the owner side (the
listing's owner and the verified officials of its municipality, as they are now: belonging
to a municipality is a claim, not a power, until an admin approves it). The anti-abuse limits
are checked in the same transaction as the insert, so two quick taps cannot pass them both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.storage.base import Database, fold
from bot.storage.verification import verified, verified_municipality

DAY = 86_400
MESSAGE_MAX = 1000
CONTACTS_PER_DAY = 10  # contact requests one person may send in 24 hours
LISTING_CONTACTS_PER_DAY = 20  # contact requests one listing may receive in 24 hours
MESSAGES_PER_SIDE = 3  # follow-up messages each side may relay before an Accept
DUPLICATE_WINDOW = 7 * DAY  # the same text from the same person is refused this long
FOLLOWUP_DAYS = (30, 90)
FOLLOWUP_ANSWERS = ("yes", "progress", "no")


@dataclass(frozen=True)
class Contact:
    id: int
    listing_id: int | None
    listing_title: str
    listing_kind: str
    asker_id: int | None
    owner_id: int | None
    municipality_id: int | None
    status: str
    created_at: int
    decided_at: int | None
    decided_by: int | None
    followup_stage: int


@dataclass(frozen=True)
class ContactMessage:
    id: int
    contact_id: int
    sender_id: int | None
    from_asker: bool
    text: str
    sent_at: int


class ContactRefused(Exception):
    """Why a contact or a message is not allowed; ``next_at`` says when it will be, if known.

    Reasons: gone (no open listing), closed or fulfilled (``at``: since when), own, profile,
    review, already, daily, listing_busy, duplicate, too_many, not_party, decided.
    """

    def __init__(self, reason: str, next_at: int | None = None, at: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.next_at = next_at
        self.at = at


_CONTACT_COLUMNS = """id, listing_id, listing_title, listing_kind, asker_id, owner_id,
    municipality_id, status, created_at, decided_at, decided_by, followup_stage"""


def _contact(row: aiosqlite.Row | tuple[Any, ...]) -> Contact:
    return Contact(*row)


def _message(row: aiosqlite.Row | tuple[Any, ...]) -> ContactMessage:
    return ContactMessage(row[0], row[1], row[2], bool(row[3]), row[4], row[5])


async def _one(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> Any:
    async with db.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def _within_daily_limit(
    db: aiosqlite.Connection, reason: str, column: str, value: int, limit: int, now: int
) -> None:
    """Raise ContactRefused(``reason``) if the contacts of ``column`` = ``value`` (an asker's,
    a listing's) reached ``limit`` in the last 24 hours, with when one more is allowed: once
    the limit-th newest leaves the window."""
    (count,) = await _one(
        db,
        f"SELECT count(*) FROM contacts WHERE {column} = ? AND created_at > ?",
        (value, now - DAY),
    )
    if count >= limit:
        (leaving,) = await _one(
            db,
            f"SELECT created_at FROM contacts WHERE {column} = ? AND created_at > ? "
            "ORDER BY created_at DESC LIMIT 1 OFFSET ?",
            (value, now - DAY, limit - 1),
        )
        raise ContactRefused(reason, next_at=leaving + DAY)


class ContactQueries(Database):
    # --- asking ----------------------------------------------------------------------------

    async def _check_new_contact(
        self, db: aiosqlite.Connection, asker: int, listing_id: int, now: int
    ) -> aiosqlite.Row:
        """The listing row if ``asker`` may contact its author now; else ContactRefused."""
        listing = await _one(
            db,
            "SELECT id, owner_id, municipality_id, status, expires_at, title, kind, "
            "status_changed_at FROM listings WHERE id = ?",
            (listing_id,),
        )
        if listing is not None and listing[3] in ("closed", "fulfilled"):
            raise ContactRefused(listing[3], at=listing[7])
        if listing is None or listing[3] != "open" or listing[4] <= now:
            raise ContactRefused("gone")
        person = await _one(
            db,
            "SELECT municipality_id, onboarded_at IS NOT NULL, review_at IS NOT NULL "
            "FROM users WHERE id = ?",
            (asker,),
        )
        if person is None or not person[1]:
            raise ContactRefused("profile")
        if listing[1] == asker or (listing[2] is not None and listing[2] == person[0]):
            raise ContactRefused("own")
        if person[2]:
            raise ContactRefused("review")
        if await _one(
            db, "SELECT 1 FROM contacts WHERE listing_id = ? AND asker_id = ?", (listing_id, asker)
        ):
            raise ContactRefused("already")
        await _within_daily_limit(db, "daily", "asker_id", asker, CONTACTS_PER_DAY, now)
        await _within_daily_limit(
            db, "listing_busy", "listing_id", listing_id, LISTING_CONTACTS_PER_DAY, now
        )
        return listing  # type: ignore[no-any-return]

    async def check_contact(self, asker: int, listing_id: int, now: int) -> None:
        """Raise ContactRefused if ``asker`` may not contact the listing's author now (asked
        before the message is typed; :meth:`open_contact` checks again)."""
        await self._check_new_contact(self._db, asker, listing_id, now)

    @staticmethod
    async def _check_duplicate(db: aiosqlite.Connection, sender: int, key: str, now: int) -> None:
        if await _one(
            db,
            "SELECT 1 FROM contact_messages WHERE sender_id = ? AND text_key = ? AND sent_at > ?",
            (sender, key, now - DUPLICATE_WINDOW),
        ):
            raise ContactRefused("duplicate")

    async def open_contact(
        self, asker: int, listing_id: int, text: str, now: int
    ) -> tuple[Contact, list[int]]:
        """Record a contact request with its first message, counted on the listing.

        Returns the contact and who on the owner side is to be told.
        """
        key = fold(text)
        async with self.transaction() as db:
            listing = await self._check_new_contact(db, asker, listing_id, now)
            await self._check_duplicate(db, asker, key, now)
            async with db.execute(
                """INSERT INTO contacts (listing_id, listing_title, listing_kind, asker_id,
                       owner_id, municipality_id, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                (listing_id, listing[5], listing[6], asker, listing[1], listing[2], now),
            ) as cursor:
                (contact_id,) = await cursor.fetchone()  # type: ignore[misc]
            await db.execute(
                "INSERT INTO contact_messages (contact_id, sender_id, from_asker, text, "
                "text_key, sent_at) VALUES (?, ?, 1, ?, ?, ?)",
                (contact_id, asker, text, key, now),
            )
            await db.execute(
                "UPDATE listings SET contacts = contacts + 1 WHERE id = ?", (listing_id,)
            )
        contact = await self.get_contact(contact_id)
        assert contact is not None
        return contact, await self.owner_side(contact)

    # --- reading ---------------------------------------------------------------------------

    async def get_contact(self, contact_id: int) -> Contact | None:
        row = await self._fetchone(
            f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE id = ?", (contact_id,)
        )
        return _contact(row) if row else None

    async def get_contact_message(self, message_id: int) -> ContactMessage | None:
        row = await self._fetchone(
            "SELECT id, contact_id, sender_id, from_asker, text, sent_at "
            "FROM contact_messages WHERE id = ?",
            (message_id,),
        )
        return _message(row) if row else None

    async def contact_messages(self, contact_id: int) -> list[ContactMessage]:
        rows = await self._fetchall(
            "SELECT id, contact_id, sender_id, from_asker, text, sent_at "
            "FROM contact_messages WHERE contact_id = ? ORDER BY id",
            (contact_id,),
        )
        return [_message(row) for row in rows]

    async def owner_side(self, contact: Contact) -> list[int]:
        """The listing's owner and its municipality's verified officials, not the asker, not
        banned: the people a request is relayed to and who may answer it."""
        rows = await self._fetchall(
            f"""SELECT u.id FROM users u
               WHERE (u.id = :owner OR (u.municipality_id = :municipality AND {verified("u")}))
                 AND u.id IS NOT :asker
                 AND u.id NOT IN (SELECT user_id FROM bans)
               ORDER BY u.id""",
            {
                "owner": contact.owner_id,
                "municipality": contact.municipality_id,
                "asker": contact.asker_id,
            },
        )
        return [row[0] for row in rows]

    async def contact_side(self, contact: Contact, user_id: int) -> str | None:
        """'asker', 'owner' (the owner side) or None for someone with no part in it."""
        if contact.asker_id == user_id:
            return "asker"
        if user_id in await self.owner_side(contact):
            return "owner"
        return None

    async def contacts_of(self, user_id: int, limit: int = 30) -> list[tuple[Contact, str]]:
        """The person's contacts, and their municipality's if they are its verified
        official, newest first, each with their side."""
        rows = await self._fetchall(
            f"""SELECT {_CONTACT_COLUMNS} FROM contacts
                WHERE asker_id = :user OR owner_id = :user
                   OR municipality_id = {verified_municipality(":user")}
                ORDER BY created_at DESC, id DESC LIMIT :limit""",
            {"user": user_id, "limit": limit},
        )
        return [
            (contact, "asker" if contact.asker_id == user_id else "owner")
            for contact in map(_contact, rows)
        ]

    # --- talking and deciding --------------------------------------------------------------

    async def add_contact_message(
        self, contact_id: int, sender: int, text: str, now: int
    ) -> tuple[ContactMessage, list[int]]:
        """Relay a follow-up message of a pending contact; returns it and its recipients."""
        contact = await self.get_contact(contact_id)
        if contact is None:
            raise ContactRefused("not_party")
        side = await self.contact_side(contact, sender)
        if side is None:
            raise ContactRefused("not_party")
        from_asker = side == "asker"
        key = fold(text)
        async with self.transaction() as db:
            (status,) = await _one(db, "SELECT status FROM contacts WHERE id = ?", (contact_id,))
            if status != "pending":
                raise ContactRefused("decided")
            (written,) = await _one(
                db,
                "SELECT count(*) FROM contact_messages WHERE contact_id = ? AND from_asker = ?",
                (contact_id, int(from_asker)),
            )
            # The asker's first message is the request itself, not a follow-up.
            if written - int(from_asker) >= MESSAGES_PER_SIDE:
                raise ContactRefused("too_many")
            await self._check_duplicate(db, sender, key, now)
            async with db.execute(
                "INSERT INTO contact_messages (contact_id, sender_id, from_asker, text, "
                "text_key, sent_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (contact_id, sender, int(from_asker), text, key, now),
            ) as cursor:
                (message_id,) = await cursor.fetchone()  # type: ignore[misc]
        message = await self.get_contact_message(message_id)
        assert message is not None
        if from_asker:
            recipients = await self.owner_side(contact)
        else:
            recipients = [contact.asker_id] if contact.asker_id is not None else []
        return message, recipients

    async def decide_contact(
        self, contact_id: int, user_id: int, *, accept: bool, now: int
    ) -> Contact:
        """Accept or decline a pending contact, by someone of the owner side."""
        contact = await self.get_contact(contact_id)
        if contact is None or await self.contact_side(contact, user_id) != "owner":
            raise ContactRefused("not_party")
        async with self.transaction() as db:
            # The owner side again, in the statement that decides: a colleague's verification
            # may have ended since the check above.
            cursor = await db.execute(
                f"""UPDATE contacts SET status = :status, decided_at = :now, decided_by = :user
                    WHERE id = :id AND status = 'pending'
                      AND (owner_id = :user OR municipality_id = {verified_municipality(":user")})
                      AND :user NOT IN (SELECT user_id FROM bans)""",
                {
                    "status": "accepted" if accept else "declined",
                    "now": now,
                    "user": user_id,
                    "id": contact_id,
                },
            )
            if cursor.rowcount != 1:
                raise ContactRefused("decided")
        decided = await self.get_contact(contact_id)
        assert decided is not None
        return decided

    # --- follow-ups ------------------------------------------------------------------------

    async def due_followups(self, now: int, limit: int = 500) -> list[tuple[Contact, int]]:
        """Accepted contacts whose next follow-up (30 or 90 days after the Accept) is due and
        not yet queued, each with that stage. Past 90 days only the 90-day one is asked."""
        rows = await self._fetchall(
            f"""SELECT {_CONTACT_COLUMNS} FROM contacts
                WHERE status = 'accepted' AND followup_stage < 90 AND decided_at <= ?
                ORDER BY decided_at LIMIT ?""",
            (now - FOLLOWUP_DAYS[0] * DAY, limit),
        )
        due = []
        for contact in map(_contact, rows):
            assert contact.decided_at is not None
            stage = max(days for days in FOLLOWUP_DAYS if contact.decided_at + days * DAY <= now)
            if stage > contact.followup_stage:
                due.append((contact, stage))
        return due

    async def followup_settled(self, contact_id: int) -> bool:
        """True once someone answered that it happened or that it did not: no need to ask
        again at 90 days."""
        row = await self._fetchone(
            "SELECT 1 FROM contact_followups WHERE contact_id = ? AND answer IN ('yes', 'no')",
            (contact_id,),
        )
        return row is not None

    async def mark_followup_stage(self, contact_id: int, stage: int) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE contacts SET followup_stage = max(followup_stage, ?) WHERE id = ?",
                (stage, contact_id),
            )

    async def followup_answer(self, contact_id: int, user_id: int, due: int) -> str | None:
        row = await self._fetchone(
            "SELECT answer FROM contact_followups WHERE contact_id = ? AND user_id = ? AND due = ?",
            (contact_id, user_id, due),
        )
        return row[0] if row else None

    async def answer_followup(
        self, contact_id: int, user_id: int, due: int, answer: str, now: int
    ) -> bool:
        """Record a follow-up answer (once per person and stage); 'yes' marks the listing
        fulfilled through the platform. False if this person already answered this stage."""
        if answer not in FOLLOWUP_ANSWERS or due not in FOLLOWUP_DAYS:
            raise ValueError(f"bad follow-up answer {answer!r} at {due}")
        contact = await self.get_contact(contact_id)
        if (
            contact is None
            or contact.status != "accepted"
            or user_id not in (contact.asker_id, contact.decided_by)
        ):
            raise ContactRefused("not_party")
        async with self.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO contact_followups (contact_id, user_id, due, answer, answered_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (contact_id, user_id, due, answer, now),
            )
            if cursor.rowcount != 1:
                return False
            if answer == "yes" and contact.listing_id is not None:
                cursor = await db.execute(
                    "UPDATE listings SET status = 'fulfilled', outcome = 'platform', "
                    "status_changed_at = ? WHERE id = ? AND status = 'open'",
                    (now, contact.listing_id),
                )
                if cursor.rowcount == 1:
                    await db.execute(
                        "INSERT INTO listing_history (listing_id, status, at, by_user, detail) "
                        "VALUES (?, 'fulfilled', ?, ?, ?)",
                        (contact.listing_id, now, user_id, f"followup:{contact_id}"),
                    )
        return True
