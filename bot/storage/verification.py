"""Verification of municipality officials: requests, the decision, revocation, leaving.

The badge belongs to a person, for a municipality: someone is a verified official while an
approved request of theirs stands for the municipality they belong to now. Joining a
municipality that already has verified officials gives nothing until the newcomer is approved
- by an admin, or by one of those officials (the admins are told). Moving to another
municipality or leaving ends the approval ('left'); an admin may revoke it ('revoked'). A
listing keeps the badge its author had when it was published (``listings.author_verified``).
``municipalities.verified_at`` says only that a municipality has a verified official now.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.storage.actions import log_action
from bot.storage.base import Database, Refused, first_column, read_one, row_mapper
from bot.storage.outbox import Enqueued, insert_notifications, queue_each

# Told to both people of a relay when the official who accepted its contact for a
# municipality no longer speaks for it (rendered by bot/handlers/relay.py).
RELAY_SPEAKER_GONE = "contact_relay_speaker_gone"


class VerificationRefused(Refused):
    """reason: not_municipality, verified, pending (asking); gone (erased with its member),
    decided, outdated (the member moved since), not_allowed (a member approving who is not a
    verified official of that municipality, or their own request); not_verified (revoking
    what is not, or no longer, an approval)."""


@dataclass(frozen=True)
class VerificationRequest:
    id: int
    user_id: int
    municipality_id: int
    email: str | None
    note: str | None
    status: str
    created_at: int
    decided_at: int | None
    # Who asks, for the admins' queue.
    first_name: str
    username: str | None
    municipality_name: str
    country: str
    region: str
    population: int | None


@dataclass(frozen=True)
class VerifiedMunicipality:
    """A municipality with verified officials, for the admins' list."""

    id: int
    name: str
    country: str
    region: str
    officials: int


@dataclass(frozen=True)
class VerifiedOfficial:
    """One verified official of a municipality: their approved request and since when."""

    request_id: int
    user_id: int
    first_name: str
    username: str | None
    since: int


_official = row_mapper(VerifiedOfficial)


def verified(person: str) -> str:
    """SQL that is true when the users row ``person`` (a table alias) is a verified official
    of the municipality it belongs to now: its request for that one was approved and stands."""
    return f"""EXISTS (SELECT 1 FROM verification_requests a WHERE a.user_id = {person}.id
                       AND a.municipality_id = {person}.municipality_id
                       AND a.status = 'approved')"""


_VERIFIED = verified("u")


def verified_municipality(person: str) -> str:
    """SQL for the municipality that ``person`` (an SQL expression naming a user id) speaks
    for as a verified official now, or NULL: what lets someone act on the listings and
    contacts of their municipality other than their own. Belonging to a municipality is only
    a claim; an admin's approval for it makes it a power. Compared with ``=``, NULL matches
    nothing, and an indexed ``municipality_id = (...)`` stays an index lookup."""
    return f"""(SELECT vm.municipality_id FROM users vm
                WHERE vm.id = {person} AND {verified("vm")})"""


def owner_answers(listing: str) -> str:
    """SQL true when the listing ``listing`` (a table alias) is still its owner's to act on:
    posted for no municipality, or its owner still represents the municipality it was posted
    for: they belong to it now, and since it was published their representation did not end
    (``users.municipality_left_at``, set when they leave, move or have a verification
    revoked: they belonged to it when they posted, so any membership that ended since was
    that one) - unless they are verified again. A listing of someone who left, moved or was
    revoked stays with the municipality, as the leave confirmation promises, even if they
    claim it again: only its verified officials act on it, answer its contacts and are told
    about it."""
    ls = listing
    return f"""({ls}.municipality_id IS NULL OR EXISTS (
        SELECT 1 FROM users ow WHERE ow.id = {ls}.owner_id
        AND ow.municipality_id = {ls}.municipality_id
        AND ({verified("ow")} OR (
            ow.municipality_left_at IS NULL OR ow.municipality_left_at < {ls}.published_at))))"""


def attended(listing: str) -> str:
    """SQL true when someone answers for the listing ``listing`` (a table alias): its owner
    while it is theirs (:func:`owner_answers`), or a verified official of its municipality.
    An open listing that is not attended is kept out of browsing, search and matching: a
    visitor is not offered a door nobody answers."""
    ls = listing
    return f"""({owner_answers(ls)} OR EXISTS (SELECT 1 FROM users o
        WHERE o.municipality_id = {ls}.municipality_id AND {verified("o")}))"""


# The open listings whose owner no longer answers for them (left, moved, revoked since it was
# published: not owner_answers), and their municipality. Only people whose representation
# ended own such listings (users.municipality_left_at, on a partial index: few), so this
# reads no other listing (the CROSS JOIN keeps SQLite from starting at every municipality's
# listings instead).
RELEASED_LISTINGS = f"""
SELECT l.id, l.municipality_id
FROM users ow INDEXED BY users_who_left CROSS JOIN listings l ON l.owner_id = ow.id
WHERE ow.municipality_left_at IS NOT NULL AND l.status = 'open'
  AND l.municipality_id IS NOT NULL AND NOT {owner_answers("l")}"""
# Who is told about the listing :id: its owner while it is theirs (owner_answers), else its
# municipality's verified officials (none left: nobody).
LISTING_SPEAKERS = f"""
SELECT l.owner_id FROM listings l WHERE l.id = :id AND {owner_answers("l")}
UNION
SELECT u.id FROM listings l JOIN users u ON u.municipality_id = l.municipality_id
WHERE l.id = :id AND NOT {owner_answers("l")} AND {_VERIFIED}
ORDER BY 1"""
# The verified officials of the municipalities in the JSON array ?1, by municipality.
_OFFICIALS_OF = f"""
SELECT u.municipality_id, u.id FROM users u
WHERE u.municipality_id IN (SELECT value FROM json_each(?1)) AND {_VERIFIED}
ORDER BY 1, 2"""


def not_unattended(listing: str) -> str:
    """SQL true unless the listing ``listing`` (a table alias) is unattended (see
    :func:`attended`), for a query over many listings: one probe by rowid of the set kept by
    :func:`refresh_unattended` per listing read (a test of the id keeps a covering index
    covering; working the rule out here cost milliseconds a page: benchmarks/unattended.py)."""
    return f"{listing}.id NOT IN (SELECT listing_id FROM unattended_listings)"


def on_listing_side(listing: str, person: str) -> str:
    """SQL true when ``person`` (an SQL expression naming a user id) is on the side of the
    listing ``listing`` (a table alias): its owner while it is theirs (:func:`owner_answers`),
    or a verified official of its municipality. The one rule for who may change a listing,
    answer its contacts, hear of its matches and follow-ups."""
    ls = listing
    return f"""(({ls}.owner_id = {person} AND {owner_answers(ls)})
        OR {ls}.municipality_id = {verified_municipality(person)})"""


def on_contact_side(contact: str, person: str) -> str:
    """SQL true when ``person`` is on the listing's side of the contact ``contact`` (a table
    alias): :func:`on_listing_side` of its listing, or, for a listing erased since, its owner
    or a verified official of the municipality it was for."""
    c = contact
    return f"""(EXISTS (SELECT 1 FROM listings cl WHERE cl.id = {c}.listing_id
                        AND {on_listing_side("cl", person)})
        OR ({c}.listing_id IS NULL AND ({c}.owner_id = {person}
            OR {c}.municipality_id = {verified_municipality(person)})))"""


def no_longer_speaks(contact: str) -> str:
    """SQL true when the contact ``contact`` (a table alias) was accepted for a municipality
    by someone who no longer speaks for it: not the listing's owner (who answers for their
    own listing while it is theirs, :func:`owner_answers`), and no longer on the listing's
    side (they left it, moved, were revoked or erased) or banned. The relay with them ends;
    the asker may write to the municipality again."""
    c = contact
    return f"""({c}.status = 'accepted' AND {c}.municipality_id IS NOT NULL
        AND (NOT {on_contact_side(c, c + ".decided_by")}
             OR ({c}.decided_by IS NOT {c}.owner_id
                 AND EXISTS (SELECT 1 FROM bans WHERE bans.user_id = {c}.decided_by))))"""


async def end_relays_spoken_for(db: aiosqlite.Connection, official: int, now: int) -> None:
    """End the relays of the contacts ``official`` accepted for a municipality they no longer
    speak for, and tell both people; inside the caller's transaction, so that a relayed
    message still waiting in the outbox is never sent to or from them (its renderer finds
    the relay ended)."""
    rows = await db.execute_fetchall(
        f"""SELECT c.id, c.asker_id FROM contacts c
            WHERE c.decided_by = ? AND c.relay_ended_at IS NULL AND {no_longer_speaks("c")}""",
        (official,),
    )
    for contact_id, asker in rows:
        await db.execute("UPDATE contacts SET relay_ended_at = ? WHERE id = ?", (now, contact_id))
        people = [person for person in (asker, official) if person is not None]
        await queue_each(
            db, people, RELAY_SPEAKER_GONE, f"ct:sg:{contact_id}", {"contact": contact_id}, now=now
        )


_REQUEST_SELECT = """
SELECT v.id, v.user_id, v.municipality_id, v.email, v.note, v.status, v.created_at,
       v.decided_at, u.first_name, u.username, m.name, m.country, m.region, m.population
FROM verification_requests v
JOIN users u ON u.id = v.user_id
JOIN municipalities m ON m.id = v.municipality_id
"""


def _request(row: aiosqlite.Row | tuple[Any, ...]) -> VerificationRequest:
    return VerificationRequest(*row)


class VerificationQueries(Database):
    async def request_verification(
        self,
        user_id: int,
        *,
        email: str | None,
        note: str | None,
        now: int,
        told: Callable[[int], Sequence[Enqueued]] | None = None,
    ) -> VerificationRequest:
        """File a request for the member's current municipality; ``told``: the notices of it
        (to the admins and the municipality's officials), by the request's id, queued with
        it."""
        async with self.transaction() as db:
            person = await read_one(
                db, f"SELECT municipality_id, {_VERIFIED} FROM users u WHERE id = ?", (user_id,)
            )
            if person is None or person[0] is None:
                raise VerificationRefused("not_municipality")
            if person[1]:
                raise VerificationRefused("verified")
            row = await read_one(
                db,
                "INSERT INTO verification_requests (user_id, municipality_id, email, note, "
                "created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                (user_id, person[0], email, note, now),
            )
            if row is None:
                raise VerificationRefused("pending")
            if told is not None:
                await insert_notifications(db, list(told(row[0])), now=now)
        request = await self.get_verification(row[0])
        assert request is not None
        return request

    async def get_verification(self, request_id: int) -> VerificationRequest | None:
        return await self._record(_request, _REQUEST_SELECT + "WHERE v.id = ?", (request_id,))

    async def pending_verification_of(self, user_id: int) -> VerificationRequest | None:
        return await self._record(
            _request, _REQUEST_SELECT + "WHERE v.user_id = ? AND v.status = 'pending'", (user_id,)
        )

    async def verification_queue(self, limit: int = 10) -> list[VerificationRequest]:
        return await self._records(
            _request,
            _REQUEST_SELECT + "WHERE v.status = 'pending' ORDER BY v.created_at, v.id LIMIT ?",
            (limit,),
        )

    async def verification_requests_for(
        self, official: int, limit: int = 10
    ) -> list[VerificationRequest]:
        """The pending requests of the municipality ``official`` speaks for as a verified
        official (none for anyone else), but their own."""
        return await self._records(
            _request,
            _REQUEST_SELECT
            + f"""WHERE v.status = 'pending' AND v.user_id != :official
                  AND v.municipality_id = {verified_municipality(":official")}
                  ORDER BY v.created_at, v.id LIMIT :limit""",
            {"official": official, "limit": limit},
        )

    async def verified_officials_of(self, municipality_id: int) -> list[int]:
        """The ids of the municipality's verified officials."""
        return await self._first_column(
            f"SELECT u.id FROM users u WHERE u.municipality_id = ? AND {_VERIFIED} ORDER BY u.id",
            (municipality_id,),
        )

    async def decide_verification(
        self,
        request_id: int,
        decider: int,
        *,
        approve: bool,
        now: int,
        by_admin: bool = True,
        reason: str | None = None,
        told: Sequence[Enqueued] = (),
    ) -> VerificationRequest:
        """Approve or reject a pending request: an admin may do either; anyone else may only
        approve, and only as a verified official of the same municipality, not for
        themselves. A request for a municipality the person has left since is withdrawn
        instead (VerificationRefused('outdated')). ``told``: the notices of the decision
        (the person, and the admins of an official's approval), queued with it."""
        async with self.transaction() as db:
            row = await read_one(
                db,
                """SELECT v.user_id, v.municipality_id, v.status, u.municipality_id
                   FROM verification_requests v JOIN users u ON u.id = v.user_id
                   WHERE v.id = ?""",
                (request_id,),
            )
            if row is None:
                raise VerificationRefused("gone")  # erased with its member
            user_id, municipality_id, status, current = row
            if not by_admin and not await _may_approve(db, decider, user_id, municipality_id):
                raise VerificationRefused("not_allowed")
            if not by_admin and not approve:
                raise VerificationRefused("not_allowed")
            if status != "pending":
                raise VerificationRefused("decided")
            if current != municipality_id:
                await db.execute(
                    "UPDATE verification_requests SET status = 'withdrawn', decided_at = ? "
                    "WHERE id = ?",
                    (now, request_id),
                )
                outdated = True
            else:
                outdated = False
                await _decide(db, request_id, municipality_id, decider, approve, now)
                await insert_notifications(db, list(told), now=now)
                action = ("approve" if by_admin else "member_approve") if approve else "reject"
                await log_action(
                    db, decider, action, now,
                    user=user_id, request=request_id, municipality=municipality_id, reason=reason,
                )  # fmt: skip
        if outdated:
            raise VerificationRefused("outdated")
        request = await self.get_verification(request_id)
        assert request is not None
        return request

    async def revoke_verification(
        self,
        request_id: int,
        admin: int,
        *,
        reason: str | None,
        now: int,
        told: Sequence[Enqueued] = (),
    ) -> None:
        """An admin ends an approval: the person's new listings show no badge and their powers
        over the municipality's listings and contacts end; their published listings keep the
        badge they were posted with. ``told``: the person's notice, queued with it."""
        async with self.transaction() as db:
            row = await read_one(
                db,
                "SELECT user_id, municipality_id, status FROM verification_requests WHERE id = ?",
                (request_id,),
            )
            if row is None:
                raise VerificationRefused("gone")
            user_id, municipality_id, status = row
            if status != "approved":
                raise VerificationRefused("not_verified")
            await _revoke(db, user_id, admin, now, request_id=request_id)
            await insert_notifications(db, list(told), now=now)
            await log_action(
                db, admin, "revoke", now,
                user=user_id, request=request_id, municipality=municipality_id, reason=reason,
            )  # fmt: skip

    async def verified_municipalities(
        self, *, offset: int = 0, limit: int = 10
    ) -> tuple[list[VerifiedMunicipality], int]:
        """Municipalities with verified officials now, by name; and how many there are."""
        standing = f"""FROM municipalities m JOIN users u ON u.municipality_id = m.id
                       WHERE {_VERIFIED}"""
        rows = await self._fetchall(
            f"""SELECT m.id, m.name, m.country, m.region, count(*) {standing}
                GROUP BY m.id ORDER BY m.name COLLATE NOCASE, m.id LIMIT ? OFFSET ?""",
            (limit, offset),
        )
        total = await self._fetchone(f"SELECT count(DISTINCT m.id) {standing}")
        assert total is not None
        return [VerifiedMunicipality(*row) for row in rows], int(total[0])

    async def verified_officials(self, municipality_id: int) -> list[VerifiedOfficial]:
        """The municipality's verified officials, longest-standing first."""
        return await self._records(
            _official,
            """SELECT v.id, u.id, u.first_name, u.username, v.decided_at
               FROM verification_requests v
               JOIN users u ON u.id = v.user_id AND u.municipality_id = v.municipality_id
               WHERE v.municipality_id = ? AND v.status = 'approved'
               ORDER BY v.decided_at, v.id""",
            (municipality_id,),
        )

    async def released_listings(self) -> dict[int, list[int]]:
        """The open listings whose owner no longer answers for them, each with the verified
        officials of its municipality who speak for it instead (none: it is unattended)."""
        released = await self._fetchall(RELEASED_LISTINGS)
        municipalities = sorted({row[1] for row in released})
        officials: dict[int, list[int]] = {}
        if municipalities:
            for municipality, official in await self._fetchall(
                _OFFICIALS_OF, (json.dumps(municipalities),)
            ):
                officials.setdefault(municipality, []).append(official)
        return {listing: officials.get(municipality, []) for listing, municipality in released}

    async def unattended(self, listing_id: int) -> bool:
        """Whether nobody answers for the open listing (see :func:`attended`), as the kept
        set says (:func:`not_unattended`), like browsing and search."""
        row = await self._fetchone(
            f"SELECT 1 FROM listings l WHERE l.id = ? AND NOT {not_unattended('l')}",
            (listing_id,),
        )
        return row is not None

    async def still_on_side(self, user_id: int, side: Mapping[str, object]) -> bool:
        """Whether a notice that speaks for one side may still be read by ``user_id``: with
        ``{"member": m}``, they still belong to municipality m; ``{"official": m}``, they are
        still its verified official; ``{"listing": l}``, still on the listing's side
        (:func:`on_listing_side`). Anything else (a forged or unknown side): no."""
        checks = {
            "member": "SELECT 1 FROM users WHERE id = :user AND municipality_id = :id",
            "official": f"SELECT 1 WHERE :id = {verified_municipality(':user')}",
            "listing": f"""SELECT 1 FROM listings l
                           WHERE l.id = :id AND {on_listing_side("l", ":user")}""",
        }
        if len(side) != 1:
            return False
        ((which, value),) = side.items()
        if which not in checks or not isinstance(value, int):
            return False
        return await self._fetchone(checks[which], {"user": user_id, "id": value}) is not None

    async def municipality_name(self, municipality_id: int) -> str | None:
        row = await self._fetchone(
            "SELECT name FROM municipalities WHERE id = ?", (municipality_id,)
        )
        return str(row[0]) if row else None

    async def leave_municipality(
        self, user_id: int, now: int, *, municipality_id: int | None = None
    ) -> str | None:
        """The member no longer speaks for their municipality: their verification ends, a
        pending request is withdrawn, and they stay on as a volunteer. Returns the
        municipality's name; None if they belong to none, or (``municipality_id`` given: the
        one they were asked about) to another one."""
        async with self.transaction() as db:
            row = await read_one(
                db,
                "SELECT u.municipality_id, m.name FROM users u "
                "JOIN municipalities m ON m.id = u.municipality_id "
                "WHERE u.id = ? AND u.municipality_id = coalesce(?, u.municipality_id)",
                (user_id, municipality_id),
            )
            if row is None:
                return None
            await db.execute(
                "UPDATE users SET municipality_id = NULL, role = 'volunteer' WHERE id = ?",
                (user_id,),
            )
            await end_verifications(db, user_id, keep=None, now=now, left=row[0])
        return str(row[1])


async def _may_approve(
    db: aiosqlite.Connection, official: int, requester: int, municipality_id: int
) -> bool:
    """A member may approve another's request for the municipality they are a verified
    official of."""
    if official == requester:
        return False
    row = await read_one(
        db,
        f"SELECT 1 FROM users u WHERE u.id = ? AND u.municipality_id = ? AND {_VERIFIED}",
        (official, municipality_id),
    )
    return row is not None


async def _decide(
    db: aiosqlite.Connection,
    request_id: int,
    municipality_id: int,
    decider: int,
    approve: bool,
    now: int,
) -> None:
    """Approve or reject the request (for ``municipality_id``) inside the caller's
    transaction."""
    await db.execute(
        "UPDATE verification_requests SET status = ?, decided_at = ?, decided_by = ? WHERE id = ?",
        ("approved" if approve else "rejected", now, decider, request_id),
    )
    if approve:
        # The listings its authors left behind had nobody to answer for them while the
        # municipality had no verified official: they are matched again, now that one speaks
        # for them (the outbox's keys tell nobody twice of a pair), and are in sight again.
        await db.execute(
            """UPDATE listings SET matched_at = NULL
               WHERE id IN (SELECT listing_id FROM unattended_listings WHERE municipality_id = ?)
                 AND status = 'open' AND matched_at IS NOT NULL""",
            (municipality_id,),
        )
        await refresh_unattended(db, municipality_id)
        await db.execute(
            """UPDATE municipalities SET verified_at = COALESCE(verified_at,
                   strftime('%Y-%m-%dT%H:%M:%SZ', ?, 'unixepoch'))
               WHERE id = ?""",
            (now, municipality_id),
        )


async def end_verifications(
    db: aiosqlite.Connection, user_id: int, *, keep: int | None, now: int, left: int | None
) -> None:
    """The person no longer speaks for any municipality but ``keep`` (their profile moved, or
    they left): approvals elsewhere end ('left'), requests elsewhere are withdrawn, and a
    municipality left without a verified official loses its mark. Inside the caller's
    transaction."""
    if left is not None and left != keep:  # their representation of it ended: owner_answers
        await db.execute("UPDATE users SET municipality_left_at = ? WHERE id = ?", (now, user_id))
    rows = await db.execute_fetchall(
        """SELECT DISTINCT municipality_id FROM verification_requests
           WHERE user_id = ? AND status IN ('approved', 'pending') AND municipality_id IS NOT ?""",
        (user_id, keep),
    )
    await db.execute(
        """UPDATE verification_requests SET status = 'withdrawn', decided_at = ?
           WHERE user_id = ? AND status = 'pending' AND municipality_id IS NOT ?""",
        (now, user_id, keep),
    )
    await db.execute(
        """UPDATE verification_requests SET status = 'left'
           WHERE user_id = ? AND status = 'approved' AND municipality_id IS NOT ?""",
        (user_id, keep),
    )
    await end_relays_spoken_for(db, user_id, now)
    # ``left``: the municipality they belonged to (what they posted for it may have nobody
    # to answer for it now), with those they had asked for or were verified for.
    ended = {municipality_id for (municipality_id,) in rows}
    if left is not None and left != keep:
        ended.add(left)
    for municipality_id in sorted(ended):
        await unverify_if_unattended(db, municipality_id)


async def end_verifications_of_banned(
    db: aiosqlite.Connection, user_id: int, admin: int, now: int
) -> None:
    """A banned person no longer speaks for a municipality, inside the ban's transaction: an
    approval ends as a revocation by the banning admin would (lifting the ban does not give it
    back: an admin approves again), a pending request is withdrawn. Else the listings their
    municipality's members left behind would still count as answered, and contacts about them
    be queued to nobody but the banned official."""
    await db.execute(
        """UPDATE verification_requests SET status = 'withdrawn', decided_at = ?
           WHERE user_id = ? AND status = 'pending'""",
        (now, user_id),
    )
    await _revoke(db, user_id, admin, now)


async def _revoke(
    db: aiosqlite.Connection, user_id: int, admin: int, now: int, *, request_id: int | None = None
) -> None:
    """End the person's approval (the request ``request_id``, else every one) as revoked by
    ``admin``, inside the caller's transaction: their representation ended (see owner_answers
    and RELEASED_LISTINGS), the relays they spoke for end, and a municipality left without a
    verified official loses its mark."""
    ended = await first_column(
        db,
        """UPDATE verification_requests SET status = 'revoked', revoked_at = ?, revoked_by = ?
           WHERE user_id = ? AND status = 'approved' AND id = coalesce(?, id)
           RETURNING municipality_id""",
        (now, admin, user_id, request_id),
    )
    if not ended:
        return
    await db.execute("UPDATE users SET municipality_left_at = ? WHERE id = ?", (now, user_id))
    await end_relays_spoken_for(db, user_id, now)
    for municipality_id in sorted(set(ended)):
        await unverify_if_unattended(db, municipality_id)


async def unverify_if_unattended(db: aiosqlite.Connection, municipality_id: int) -> None:
    """A municipality keeps its mark only while a verified official speaks for it; and the
    listings nobody answers for any more are known (:func:`refresh_unattended`)."""
    await db.execute(
        f"""UPDATE municipalities SET verified_at = NULL
            WHERE id = ? AND NOT EXISTS (SELECT 1 FROM users u
                                         WHERE u.municipality_id = ? AND {_VERIFIED})""",
        (municipality_id, municipality_id),
    )
    await refresh_unattended(db, municipality_id)


async def refresh_unattended(db: aiosqlite.Connection, municipality_id: int) -> None:
    """Work out again which of the municipality's listings nobody answers for (see
    :func:`attended`; hidden ones too, in case a moderator restores one), inside the caller's
    transaction: whenever someone leaves it, or it loses or gains a verified official."""
    await db.execute(
        "DELETE FROM unattended_listings WHERE municipality_id = ?", (municipality_id,)
    )
    await db.execute(
        f"""INSERT INTO unattended_listings (listing_id, municipality_id)
            SELECT l.id, l.municipality_id FROM listings l
            WHERE l.municipality_id = ? AND l.status IN ('open', 'hidden')
              AND NOT {attended("l")}""",
        (municipality_id,),
    )
