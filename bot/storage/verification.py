"""Verification of municipality officials: requests, the admins' decision, leaving.

An official is verified while they have an approved request for the municipality they belong
to now (so editing the profile to another municipality does not carry the badge along). The
municipality is verified (``municipalities.verified_at``, the badge on its listings) from the
first approval, for as long as at least one verified official remains in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.storage.base import Database
from bot.storage.moderation import log_action


class VerificationRefused(Exception):
    """reason: not_municipality, verified, pending, decided, outdated, gone."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


def verified(person: str) -> str:
    """SQL that is true when the users row ``person`` (a table alias) is a verified official
    of the municipality it belongs to now: an admin approved its request for that one."""
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
        self, user_id: int, *, email: str | None, note: str | None, now: int
    ) -> VerificationRequest:
        """File a request for the member's current municipality."""
        async with self.transaction() as db:
            async with db.execute(
                f"SELECT municipality_id, {_VERIFIED} FROM users u WHERE id = ?", (user_id,)
            ) as cursor:
                person = await cursor.fetchone()
            if person is None or person[0] is None:
                raise VerificationRefused("not_municipality")
            if person[1]:
                raise VerificationRefused("verified")
            async with db.execute(
                "INSERT INTO verification_requests (user_id, municipality_id, email, note, "
                "created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                (user_id, person[0], email, note, now),
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                raise VerificationRefused("pending")
        request = await self.get_verification(row[0])
        assert request is not None
        return request

    async def get_verification(self, request_id: int) -> VerificationRequest | None:
        row = await self._fetchone(_REQUEST_SELECT + "WHERE v.id = ?", (request_id,))
        return _request(row) if row else None

    async def pending_verification_of(self, user_id: int) -> VerificationRequest | None:
        row = await self._fetchone(
            _REQUEST_SELECT + "WHERE v.user_id = ? AND v.status = 'pending'", (user_id,)
        )
        return _request(row) if row else None

    async def verification_queue(self, limit: int = 10) -> list[VerificationRequest]:
        rows = await self._fetchall(
            _REQUEST_SELECT + "WHERE v.status = 'pending' ORDER BY v.created_at, v.id LIMIT ?",
            (limit,),
        )
        return [_request(row) for row in rows]

    async def decide_verification(
        self, request_id: int, admin: int, *, approve: bool, now: int
    ) -> VerificationRequest:
        """Approve or reject a pending request. A request for a municipality the person has
        since left is withdrawn instead (VerificationRefused('outdated'))."""
        async with self.transaction() as db:
            async with db.execute(
                """SELECT v.user_id, v.municipality_id, v.status, u.municipality_id
                   FROM verification_requests v JOIN users u ON u.id = v.user_id
                   WHERE v.id = ?""",
                (request_id,),
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                raise VerificationRefused("gone")  # erased with its member
            if row[2] != "pending":
                raise VerificationRefused("decided")
            user_id, municipality_id, _status, current = row
            if current != municipality_id:
                await db.execute(
                    "UPDATE verification_requests SET status = 'withdrawn', decided_at = ? "
                    "WHERE id = ?",
                    (now, request_id),
                )
                outdated = True
            else:
                outdated = False
                await db.execute(
                    "UPDATE verification_requests SET status = ?, decided_at = ?, decided_by = ? "
                    "WHERE id = ?",
                    ("approved" if approve else "rejected", now, admin, request_id),
                )
                if approve:
                    await db.execute(
                        "UPDATE municipalities SET verified_at = COALESCE(verified_at, "
                        "strftime('%Y-%m-%dT%H:%M:%SZ', ?, 'unixepoch')) WHERE id = ?",
                        (now, municipality_id),
                    )
                await log_action(
                    db,
                    admin,
                    "approve" if approve else "reject",
                    now,
                    user=user_id,
                    request=request_id,
                )
        if outdated:
            raise VerificationRefused("outdated")
        request = await self.get_verification(request_id)
        assert request is not None
        return request

    async def leave_municipality(self, user_id: int, now: int) -> str | None:
        """The member no longer speaks for their municipality: their verification ends (and
        the municipality's badge, if they were its last verified official), a pending request
        is withdrawn, and they stay on as a volunteer. Returns the municipality's name."""
        async with self.transaction() as db:
            async with db.execute(
                "SELECT u.municipality_id, m.name FROM users u "
                "JOIN municipalities m ON m.id = u.municipality_id WHERE u.id = ?",
                (user_id,),
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            municipality_id, name = row
            await db.execute(
                "UPDATE users SET municipality_id = NULL, role = 'volunteer' WHERE id = ?",
                (user_id,),
            )
            await db.execute(
                "UPDATE verification_requests SET status = 'withdrawn', decided_at = ? "
                "WHERE user_id = ? AND status = 'pending'",
                (now, user_id),
            )
            await db.execute(
                "UPDATE verification_requests SET status = 'left' "
                "WHERE user_id = ? AND status = 'approved'",
                (user_id,),
            )
            await unverify_if_unattended(db, municipality_id)
        return str(name)


async def unverify_if_unattended(db: aiosqlite.Connection, municipality_id: int) -> None:
    """A municipality keeps its badge only while a verified official speaks for it."""
    await db.execute(
        f"""UPDATE municipalities SET verified_at = NULL
            WHERE id = ? AND NOT EXISTS (SELECT 1 FROM users u
                                         WHERE u.municipality_id = ? AND {_VERIFIED})""",
        (municipality_id, municipality_id),
    )
