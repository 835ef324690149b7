"""Contacts: a member asks a listing's author to get in touch, with a short message relayed by
the bot; the author's side accepts or declines; follow-ups 30 and 90 days after an Accept.

Who may act on a contact is decided here on every call: the asker, or the owner side (the
listing's owner while it is theirs and the verified officials of its municipality, as they
are now: belonging to a municipality is a claim, not a power, until an admin approves it;
see :func:`bot.storage.verification.on_listing_side`). The anti-abuse limits
are checked in the same transaction as the insert, so two quick taps cannot pass them both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.storage.base import (
    Database,
    Refused,
    changed_one,
    first_column,
    fold,
    read_one,
    row_mapper,
)
from bot.storage.outbox import Enqueued, insert_notifications, queue_each
from bot.storage.verification import (
    attended,
    no_longer_speaks,
    on_contact_side,
    verified_municipality,
)

DAY = 86_400
MESSAGE_MAX = 1000
CONTACTS_PER_DAY = 10  # contact requests one person may send in 24 hours
LISTING_CONTACTS_PER_DAY = 20  # contact requests one listing may receive in 24 hours
MESSAGES_PER_SIDE = 3  # follow-up messages each side may relay before an Accept
DUPLICATE_WINDOW = 7 * DAY  # the same text from the same person is refused this long
FOLLOWUP_DAYS = (30, 90)
FOLLOWUP_ANSWERS = ("yes", "progress", "no")
UNDO_WINDOW = 5 * 60  # a decline can be undone this long; the other side is told after it
# The notifications a contact's changes queue, each in the transaction of the change it tells
# of, so that a kill leaves both or neither (rendered by bot/handlers/contacts.py).
REQUEST, MESSAGE = "contact_request", "contact_message"
ACCEPTED, ACCEPTED_TEAM = "contact_accepted", "contact_accepted_team"
DECLINED, DECLINED_TEAM = "contact_declined", "contact_declined_team"


_OWNER_SIDE = f"""SELECT u.id FROM users u JOIN contacts c ON c.id = :contact
    WHERE (u.id = c.owner_id OR u.municipality_id = c.municipality_id)
      AND {on_contact_side("c", "u.id")}
      AND u.id IS NOT c.asker_id
      AND u.id NOT IN (SELECT user_id FROM bans)
    ORDER BY u.id"""


async def _owner_side(db: aiosqlite.Connection, contact_id: int) -> list[int]:
    """:meth:`ContactQueries.owner_side`, inside the caller's transaction."""
    return await first_column(db, _OWNER_SIDE, {"contact": contact_id})


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
    declines: int = 0  # how many times it was declined (an Undo puts it back to pending)
    relay_ended_at: int | None = None  # messages through the bot ended (see storage/relay.py)
    relay_ended_by: int | None = None

    def other_side(self, user_id: int) -> int | None:
        """Of an accepted contact's two people (the asker and who accepted), the other one."""
        return self.decided_by if user_id == self.asker_id else self.asker_id


@dataclass(frozen=True)
class ContactMessage:
    id: int
    contact_id: int
    sender_id: int | None
    from_asker: bool
    text: str
    sent_at: int
    # Written through the bot after an Accept (storage/relay.py): between the contact's two
    # people only, not the other officials of the municipality.
    relayed: bool = False


class ContactRefused(Refused):
    """Why a contact or a message is not allowed; ``next_at`` says when it will be, if known.

    Reasons: gone (no open listing), closed or fulfilled (``at``: since when), own, profile,
    review, already, daily, listing_busy, duplicate, too_many, not_party, decided; a follow-up
    answered before it is due: not_due; undoing a
    decline: not_declined, too_late; the relay (storage/relay.py): not_accepted, relay_ended,
    unreachable, relay_busy.
    """

    def __init__(self, reason: str, next_at: int | None = None, at: int | None = None) -> None:
        super().__init__(reason, at)
        self.next_at = next_at


_CONTACT_COLUMNS = """id, listing_id, listing_title, listing_kind, asker_id, owner_id,
    municipality_id, status, created_at, decided_at, decided_by, followup_stage, declines,
    relay_ended_at, relay_ended_by"""


def _contact(row: aiosqlite.Row | tuple[Any, ...]) -> Contact:
    return Contact(*row)


async def read_contact(db: aiosqlite.Connection, contact_id: int) -> Contact | None:
    """A contact, read inside the caller's transaction."""
    async with db.execute(
        f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE id = ?", (contact_id,)
    ) as cursor:
        row = await cursor.fetchone()
    return _contact(row) if row else None


_message = row_mapper(ContactMessage)
_MESSAGE_SELECT = (
    "SELECT id, contact_id, sender_id, from_asker, text, sent_at, "
    "telegram_message_id IS NOT NULL FROM contact_messages "
)


def _decline_batch(contact_id: int, declines: int) -> str:
    """The outbox batch of one decline's notices (what an Undo cancels)."""
    return f"decline:{contact_id}:{declines}"


async def _within_daily_limit(
    db: aiosqlite.Connection, reason: str, column: str, value: int, limit: int, now: int
) -> None:
    """Raise ContactRefused(``reason``) if the contacts of ``column`` = ``value`` (an asker's,
    a listing's) reached ``limit`` in the last 24 hours, with when one more is allowed: once
    the limit-th newest leaves the window."""
    (count,) = await read_one(
        db,
        f"SELECT count(*) FROM contacts WHERE {column} = ? AND created_at > ?",
        (value, now - DAY),
    )
    if count >= limit:
        (leaving,) = await read_one(
            db,
            f"SELECT created_at FROM contacts WHERE {column} = ? AND created_at > ? "
            "ORDER BY created_at DESC LIMIT 1 OFFSET ?",
            (value, now - DAY, limit - 1),
        )
        raise ContactRefused(reason, next_at=leaving + DAY)


# Who may answer a pending contact, in the statement that answers it (``:user``): someone
# on its listing's side, not banned.
_MAY_DECIDE = f"""{on_contact_side("contacts", ":user")}
    AND :user NOT IN (SELECT user_id FROM bans)"""


# Someone may answer the listing l's contacts: its owner while it is theirs, or a verified
# official of its municipality.
_ANSWERED = attended("l")


class ContactQueries(Database):
    # --- asking ----------------------------------------------------------------------------

    async def _check_new_contact(
        self, db: aiosqlite.Connection, asker: int, listing_id: int, now: int
    ) -> aiosqlite.Row:
        """The listing row if ``asker`` may contact its author now; else ContactRefused."""
        listing = await read_one(
            db,
            "SELECT id, owner_id, municipality_id, status, expires_at, title, kind, "
            f"status_changed_at, {_ANSWERED} FROM listings l WHERE id = ?",
            (listing_id,),
        )
        if listing is not None and listing[3] in ("closed", "fulfilled"):
            raise ContactRefused(listing[3], at=listing[7])
        if listing is None or listing[3] != "open" or listing[4] <= now or not listing[8]:
            # Not listing[8]: nobody may answer it (its owner left the municipality, which
            # has no verified official now).
            raise ContactRefused("gone")
        person = await read_one(
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
        # One contact per listing and asker, but for one accepted by an official who no
        # longer speaks for the municipality: the asker may reach it again.
        if await read_one(
            db,
            f"""SELECT 1 FROM contacts c WHERE c.listing_id = ? AND c.asker_id = ?
                AND NOT {no_longer_speaks("c")}""",
            (listing_id, asker),
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
        if await read_one(
            db,
            "SELECT 1 FROM contact_messages WHERE sender_id = ? AND text_key = ? AND sent_at > ?",
            (sender, key, now - DUPLICATE_WINDOW),
        ):
            raise ContactRefused("duplicate")

    async def open_contact(
        self, asker: int, listing_id: int, text: str, now: int
    ) -> tuple[Contact, list[int]]:
        """Record a contact request with its first message, counted on the listing, and queue
        the request for the owner side in the same transaction (a kill leaves both or neither).

        Returns the contact and who on the owner side is told.
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
            recipients = await _owner_side(db, contact_id)
            ids = {"contact": contact_id}
            await queue_each(db, recipients, REQUEST, f"ct:req:{contact_id}", ids, now=now)
        contact = await self.get_contact(contact_id)
        assert contact is not None
        return contact, recipients

    # --- reading ---------------------------------------------------------------------------

    async def get_contact(self, contact_id: int) -> Contact | None:
        return await self._record(
            _contact, f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE id = ?", (contact_id,)
        )

    async def get_contact_message(self, message_id: int) -> ContactMessage | None:
        return await self._record(
            _message,
            _MESSAGE_SELECT + "WHERE id = ?",
            (message_id,),
        )

    async def contact_messages(self, contact_id: int) -> list[ContactMessage]:
        return await self._records(
            _message,
            _MESSAGE_SELECT + "WHERE contact_id = ? ORDER BY id",
            (contact_id,),
        )

    async def owner_side(self, contact: Contact) -> list[int]:
        """The listing's owner while it is theirs and its municipality's verified officials,
        not the asker, not banned: the people a request is relayed to and who may answer it."""
        return await self._first_column(_OWNER_SIDE, {"contact": contact.id})

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
                WHERE asker_id = :user
                   OR (owner_id = :user AND {on_contact_side("contacts", ":user")})
                   OR municipality_id = {verified_municipality(":user")}
                ORDER BY created_at DESC, id DESC LIMIT :limit""",
            {"user": user_id, "limit": limit},
        )
        return [
            (contact, "asker" if contact.asker_id == user_id else "owner")
            for contact in map(_contact, rows)
        ]

    # --- talking and deciding --------------------------------------------------------------

    async def add_contact_message(self, contact_id: int, sender: int, text: str, now: int) -> int:
        """Relay a follow-up message of a pending contact (queued for the other side in the
        same transaction); returns its id."""
        contact = await self.get_contact(contact_id)
        if contact is None:
            raise ContactRefused("not_party")
        side = await self.contact_side(contact, sender)
        if side is None:
            raise ContactRefused("not_party")
        from_asker = side == "asker"
        key = fold(text)
        async with self.transaction() as db:
            (status,) = await read_one(
                db, "SELECT status FROM contacts WHERE id = ?", (contact_id,)
            )
            if status != "pending":
                raise ContactRefused("decided")
            (written,) = await read_one(
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
            if from_asker:
                recipients = await _owner_side(db, contact_id)
            else:
                recipients = [contact.asker_id] if contact.asker_id is not None else []
            ids = {"message": message_id}
            await queue_each(db, recipients, MESSAGE, f"ct:m:{message_id}", ids, now=now)
        return int(message_id)

    async def accept_contact(self, contact_id: int, user_id: int, *, now: int) -> Contact:
        """Accept a pending contact, by someone of the owner side, and queue its notices (to
        the asker, and to the decider's colleagues) in the same transaction (a decline is
        :meth:`decline_contact`: it waits for its Undo window)."""
        contact = await self.get_contact(contact_id)
        if contact is None or await self.contact_side(contact, user_id) != "owner":
            raise ContactRefused("not_party")
        async with self.transaction() as db:
            # The owner side again, in the statement that decides: a colleague's verification
            # may have ended since the check above.
            if not await changed_one(
                db,
                f"""UPDATE contacts SET status = 'accepted', decided_at = :now, decided_by = :user
                    WHERE id = :id AND status = 'pending' AND {_MAY_DECIDE}""",
                {"now": now, "user": user_id, "id": contact_id},
            ):
                raise ContactRefused("decided")
            # Both sides get each other's contact; the decider's colleagues are told.
            ids = {"contact": contact_id}
            asker = [contact.asker_id] if contact.asker_id is not None else []
            await queue_each(db, asker, ACCEPTED, f"ct:acc:{contact_id}", ids, now=now)
            colleagues = [u for u in await _owner_side(db, contact_id) if u != user_id]
            await queue_each(db, colleagues, ACCEPTED_TEAM, f"ct:team:{contact_id}", ids, now=now)
        decided = await self.get_contact(contact_id)
        assert decided is not None
        return decided

    async def decline_contact(self, contact_id: int, user_id: int, *, now: int) -> Contact:
        """Decline a pending contact, by someone of the owner side, and queue the notices (to
        the asker, and to the decider's colleagues) in the same transaction, due when the
        Undo window ends: a restart keeps them, an Undo cancels them."""
        contact = await self.get_contact(contact_id)
        if contact is None or await self.contact_side(contact, user_id) != "owner":
            raise ContactRefused("not_party")
        async with self.transaction() as db:
            # The owner side again, in the statement that decides (as for an Accept).
            row = await read_one(
                db,
                f"""UPDATE contacts SET status = 'declined', decided_at = :now, decided_by = :user,
                        declines = declines + 1
                    WHERE id = :id AND status = 'pending' AND {_MAY_DECIDE}
                    RETURNING declines""",
                {"now": now, "user": user_id, "id": contact_id},
            )
            if row is None:
                raise ContactRefused("decided")
            (declines,) = row
            colleagues = [u for u in await _owner_side(db, contact_id) if u != user_id]
            told_at, batch = now + UNDO_WINDOW, _decline_batch(contact_id, declines)
            payload = {"contact": contact_id, "declines": declines}
            notices = [
                Enqueued(person, kind, f"ct:{key}:{contact_id}:{declines}:{person}", payload,
                         told_at, batch=batch)
                for person, kind, key in [
                    *([(contact.asker_id, DECLINED, "dec")] if contact.asker_id else []),
                    *((person, DECLINED_TEAM, "dect") for person in colleagues),
                ]
            ]  # fmt: skip
            await insert_notifications(db, notices, now=now)
        declined = await self.get_contact(contact_id)
        assert declined is not None
        return declined

    async def undo_decline(self, contact_id: int, user_id: int, *, now: int) -> Contact:
        """Put a declined contact back to pending, by whoever declined it, while nobody has
        been told: within the window, and only if none of its notices has left the outbox
        (checked and cancelled in one transaction, so an Undo and the sending of the notice
        never both happen)."""
        contact = await self.get_contact(contact_id)
        if contact is None or await self.contact_side(contact, user_id) != "owner":
            raise ContactRefused("not_party")  # says nothing about the contact to others
        async with self.transaction() as db:
            row = await read_one(
                db,
                "SELECT status, decided_at, decided_by, declines FROM contacts WHERE id = ?",
                (contact_id,),
            )
            if row is None:
                raise ContactRefused("not_party")
            status, decided_at, decided_by, declines = row
            if status != "declined":
                raise ContactRefused("not_declined")
            if decided_by != user_id:
                raise ContactRefused("not_party")
            batch = _decline_batch(contact_id, declines)
            (told,) = await read_one(
                db,
                "SELECT count(*) FROM outbox WHERE batch = ? "
                "AND state NOT IN ('pending', 'cancelled', 'blocked')",
                (batch,),
            )
            if told or decided_at + UNDO_WINDOW <= now:
                raise ContactRefused("too_late")
            await db.execute(
                "UPDATE outbox SET state = 'cancelled', error = 'decline undone' "
                "WHERE batch = ? AND state = 'pending'",
                (batch,),
            )
            await db.execute(
                "UPDATE contacts SET status = 'pending', decided_at = NULL, decided_by = NULL "
                "WHERE id = ?",
                (contact_id,),
            )
        undone = await self.get_contact(contact_id)
        assert undone is not None
        return undone

    # --- follow-ups ------------------------------------------------------------------------

    async def due_followups(self, now: int, limit: int = 500) -> list[tuple[Contact, int, bool]]:
        """Accepted contacts whose next follow-up (30 or 90 days after the Accept) is due and
        not yet queued, each with that stage and whether to ask it. Past 90 days only the
        90-day one is asked, and not once someone answered that it happened or that it did
        not (read here with the contacts, not one query per contact)."""
        rows = await self._fetchall(
            f"""SELECT {_CONTACT_COLUMNS}, EXISTS (
                    SELECT 1 FROM contact_followups f
                    WHERE f.contact_id = contacts.id AND f.answer IN ('yes', 'no'))
                FROM contacts
                WHERE status = 'accepted' AND followup_stage < 90 AND decided_at <= ?
                ORDER BY decided_at LIMIT ?""",
            (now - FOLLOWUP_DAYS[0] * DAY, limit),
        )
        due = []
        for *columns, settled in rows:
            contact = _contact(tuple(columns))
            assert contact.decided_at is not None
            stage = max(days for days in FOLLOWUP_DAYS if contact.decided_at + days * DAY <= now)
            if stage > contact.followup_stage:
                due.append((contact, stage, not (stage == 90 and settled)))
        return due

    async def mark_followup_stage(self, contact_id: int, stage: int) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE contacts SET followup_stage = max(followup_stage, ?) WHERE id = ?",
                (stage, contact_id),
            )
