"""Outcomes: a listing fulfilled with whom, the follow-ups' answers, and the exchanges they
record (see migration 0009) for the figures.

An exchange is recorded by the owner side closing a listing as fulfilled with one of its
accepted contacts (or with someone else, thanks to the platform), and by either person of an
accepted contact answering its follow-up "yes, with ..., and this came of it". Both sides'
answers land on the same exchange (one per contact): ``owner_said`` and ``asker_said``.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from bot.storage.base import changed_one, read_one, row_mapper
from bot.storage.contacts import (
    DAY,
    FOLLOWUP_ANSWERS,
    FOLLOWUP_DAYS,
    Contact,
    ContactQueries,
    ContactRefused,
)
from bot.storage.listings import _MANAGES, Listing, ListingQueries

RESULTS = ("full", "partial")  # what came of it: all that was needed, or part of it
COUNTERPARTS_SHOWN = 8  # accepted contacts offered as "with whom", the latest first


@dataclass(frozen=True)
class Counterpart:
    """An accepted contact of a listing, as "with whom" offers it: the asker's first name and
    what they speak for (municipality or organisation) or where they are."""

    contact_id: int
    first_name: str
    where: str | None


_counterpart = row_mapper(Counterpart)


@dataclass(frozen=True)
class FollowupAnswer:
    """What a person answers to the follow-up ``due`` days after the contact ``contact_id``:
    ``answer`` (yes, progress, no) and, on yes, with whom (``with_contact``: one of the
    listing's accepted contacts; None: someone else, or not asked) and what came of it
    (``result``: one of RESULTS; None: not asked)."""

    contact_id: int
    due: int
    answer: str
    with_contact: int | None = None
    result: str | None = None


# A person's place for an exchange: the municipality they speak for, else where they live.
_PERSON_PLACE = """SELECT u.country, coalesce(m.name, nullif(u.place, '')) FROM users u
    LEFT JOIN municipalities m ON m.id = u.municipality_id WHERE u.id = ?"""


async def record_exchange(
    db: aiosqlite.Connection,
    listing_id: int,
    contact: Contact | None,
    *,
    side: str,
    result: str | None,
    now: int,
) -> None:
    """Record (or confirm, from the other ``side``) the exchange of a listing with a contact's
    asker, or with someone unknown (``contact`` None), inside the caller's transaction."""
    listing = await read_one(
        db,
        "SELECT kind, category, country, nullif(place, '') FROM listings WHERE id = ?",
        (listing_id,),
    )
    if listing is None:
        return
    kind, category, *author = listing
    other = [None, None]
    if contact is not None and contact.asker_id is not None:
        other = list(await read_one(db, _PERSON_PLACE, (contact.asker_id,)) or other)
    # An offer's author gives; a request's author receives.
    giver, receiver = (author, other) if kind == "offer" else (other, author)
    said = (int(side == "owner"), int(side == "asker"))
    await db.execute(
        """INSERT INTO exchanges (listing_id, contact_id, kind, category, giver_country,
               giver_place, receiver_country, receiver_place, result, owner_said, asker_said,
               recorded_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (contact_id) WHERE contact_id IS NOT NULL DO UPDATE SET
               owner_said = max(owner_said, excluded.owner_said),
               asker_said = max(asker_said, excluded.asker_said),
               result = coalesce(result, excluded.result)""",
        (listing_id, contact.id if contact else None, kind, category, *giver, *receiver,
         result, *said, now),
    )  # fmt: skip


async def _fulfil(
    db: aiosqlite.Connection, listing_id: int, outcome: str, by: int, detail: str, now: int
) -> bool:
    """Mark an open listing fulfilled, with its history line; False if it was not open."""
    if not await changed_one(
        db,
        "UPDATE listings SET status = 'fulfilled', outcome = ?, status_changed_at = ? "
        "WHERE id = ? AND status = 'open'",
        (outcome, now, listing_id),
    ):
        return False
    await ListingQueries._history(db, listing_id, "fulfilled", now, by, detail)
    return True


class OutcomeQueries(ListingQueries, ContactQueries):
    async def counterparts(self, listing_id: int) -> list[Counterpart]:
        """The listing's accepted contacts whose asker is still here, the latest first."""
        return await self._records(
            _counterpart,
            """SELECT c.id, u.first_name, coalesce(m.name, o.name, nullif(u.place, ''))
               FROM contacts c JOIN users u ON u.id = c.asker_id
               LEFT JOIN municipalities m ON m.id = u.municipality_id
               LEFT JOIN organisations o ON o.id = u.organisation_id
               WHERE c.listing_id = ? AND c.status = 'accepted'
               ORDER BY c.decided_at DESC, c.id DESC LIMIT ?""",
            (listing_id, COUNTERPARTS_SHOWN),
        )

    async def _accepted_contact_of(self, listing_id: int | None, contact_id: int) -> Contact:
        """An accepted contact of the listing; ContactRefused('not_party') for any other id."""
        contact = await self.get_contact(contact_id)
        if (
            contact is None
            or listing_id is None
            or contact.listing_id != listing_id
            or contact.status != "accepted"
        ):
            raise ContactRefused("not_party")
        return contact

    async def fulfil_listing(
        self, listing_id: int, user_id: int, *, with_contact: int | None, outcome: str, now: int
    ) -> Listing | None:
        """Close a listing as fulfilled, by the owner side, with one of its accepted contacts
        (the outcome is then 'platform') or with someone else; the exchange is recorded with it
        when it came about through the platform. None if the person may not or it is not open;
        ContactRefused if ``with_contact`` is not an accepted contact of this listing."""
        listing = await self.manageable_listing(listing_id, user_id)
        if listing is None or listing.status != "open":
            return None
        contact = None
        if with_contact is not None:
            contact = await self._accepted_contact_of(listing_id, with_contact)
            outcome = "platform"
        async with self.transaction() as db:
            # Who may, again in the transaction that closes it (a verification may have ended).
            if not await self._may_change(db, listing_id, user_id, now, unexpired=False):
                return None
            detail = f"with:{contact.id}" if contact else outcome
            if not await _fulfil(db, listing_id, outcome, user_id, detail, now):
                return None
            if outcome == "platform":
                await record_exchange(db, listing_id, contact, side="owner", result=None, now=now)
        return await self.get_listing(listing_id)

    async def exchange_said(self, contact: Contact, user_id: int) -> bool:
        """Whether this person's side already said the contact's exchange happened."""
        column = "asker_said" if user_id == contact.asker_id else "owner_said"
        row = await self._fetchone(
            f"SELECT {column} FROM exchanges WHERE contact_id = ?", (contact.id,)
        )
        return bool(row and row[0])

    async def followup_answer(self, contact_id: int, user_id: int, due: int) -> str | None:
        row = await self._fetchone(
            "SELECT answer FROM contact_followups WHERE contact_id = ? AND user_id = ? AND due = ?",
            (contact_id, user_id, due),
        )
        return row[0] if row else None

    async def followup_party(self, contact_id: int, user_id: int, *, due: int, now: int) -> Contact:
        """The accepted contact, if ``user_id`` is one of the two :meth:`followup_people`:
        its asker, not banned since, or who answers for the listing's side; and if its
        follow-up ``due`` days after the Accept is due (ContactRefused('not_due') before)."""
        contact = await self.get_contact(contact_id)
        if (
            contact is None
            or contact.status != "accepted"
            or user_id not in await self.followup_people(contact)
            or await self._fetchone("SELECT 1 FROM bans WHERE user_id = ?", (user_id,))
        ):
            raise ContactRefused("not_party")
        if contact.decided_at is None or contact.decided_at + due * DAY > now:
            raise ContactRefused("not_due")
        return contact

    async def followup_people(self, contact: Contact) -> list[int]:
        """Who a follow-up of an accepted contact is for: its asker, and for the listing's
        side who accepted it while they still speak for the listing, else its owner. An
        official who accepted, then left the municipality or lost the verification, no longer
        says how it ended: the listing's owner does (a banned person is asked, but may not
        answer: :meth:`followup_party`)."""
        people = [contact.asker_id]
        for person in (contact.decided_by, contact.owner_id):
            if person is None or person == contact.asker_id:
                continue
            if contact.listing_id is None or await self._fetchone(
                f"SELECT 1 FROM listings l WHERE l.id = :id AND {_MANAGES}",
                {"id": contact.listing_id, "user": person},
            ):
                people.append(person)
                break
        else:
            # Neither speaks for it any more (the owner left the municipality too): one of
            # its verified officials answers, as they would for its other listings.
            people.extend((await self.owner_side(contact))[:1])
        return [person for person in people if person is not None]

    async def check_with_whom(self, contact: Contact, user_id: int, with_contact: int) -> None:
        """ "With whom" in a follow-up: the asker names this contact's author; the owner side
        one of the listing's accepted contacts. ContactRefused('not_party') otherwise."""
        if user_id == contact.asker_id:
            if with_contact != contact.id:
                raise ContactRefused("not_party")
        else:
            await self._accepted_contact_of(contact.listing_id, with_contact)

    async def answer_followup(self, given: FollowupAnswer, user_id: int, now: int) -> bool:
        """Record a follow-up answer, once per person and stage (False if already answered).
        "yes" with a contact records the exchange for this person's side and marks the listing
        fulfilled through the platform; "yes" with someone else, said by the owner side,
        marks it fulfilled another way."""
        contact_id, due, answer = given.contact_id, given.due, given.answer
        with_contact, result = given.with_contact, given.result
        if answer not in FOLLOWUP_ANSWERS or due not in FOLLOWUP_DAYS:
            raise ValueError(f"bad follow-up answer {answer!r} at {due}")
        if result is not None and result not in RESULTS:
            raise ValueError(f"bad follow-up result {result!r}")
        contact = await self.followup_party(contact_id, user_id, due=due, now=now)
        side = "asker" if user_id == contact.asker_id else "owner"
        exchanged = None
        if answer == "yes" and with_contact is not None:
            await self.check_with_whom(contact, user_id, with_contact)
            exchanged = await self.get_contact(with_contact)
        async with self.transaction() as db:
            # Due: checked by followup_party above (an accepted contact's decided_at never
            # changes, so the check holds here too).
            if not await changed_one(
                db,
                "INSERT INTO contact_followups (contact_id, user_id, due, answer, answered_at, "
                "with_contact, result) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (contact_id, user_id, due, answer, now, with_contact, result),
            ):
                return False
            listing_id = contact.listing_id
            if answer != "yes" or listing_id is None:
                return True
            detail = f"followup:{contact_id}"
            if exchanged is not None:
                await record_exchange(db, listing_id, exchanged, side=side, result=result, now=now)
                await _fulfil(db, listing_id, "platform", user_id, detail, now)
            elif side == "owner":
                await _fulfil(db, listing_id, "elsewhere", user_id, detail, now)
        return True
