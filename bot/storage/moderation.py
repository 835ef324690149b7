"""Reports and moderation: reporting a listing, the admins' queue, hiding and restoring
listings, warnings, bans, admins made in the bot, and the log of every admin action.

Every change is conditional on the current state (``WHERE status = 'open'``...), so a replayed
button finds nothing to do and says so (False / None) instead of acting twice; the handler
has already checked that the person is an admin.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiosqlite

from bot.storage.actions import log_action
from bot.storage.base import (
    Database,
    Refused,
    changed_one,
    first_column,
    read_one,
    row_mapper,
)
from bot.storage.outbox import Enqueued, Notice, insert_notifications, queue_each, tell
from bot.storage.verification import LISTING_SPEAKERS, end_verifications_of_banned

REPORT_REASONS = ("spam", "scam", "offensive", "misleading", "other")
# Distinct people reporting one member's listings before those are hidden pending review.
REVIEW_AFTER = 3
# Told to the other person of a relay when one of its two people is banned or erases their
# data (rendered by bot/handlers/relay.py).
RELAY_PARTY_GONE = "contact_relay_party_gone"


class ReportRefused(Refused):
    """reason: gone (no such visible listing), closed or fulfilled (``at``: since when), own,
    already."""


@dataclass(frozen=True)
class Filed:
    """A report just filed; ``review_started`` when it put the owner under review."""

    report_id: int
    owner_id: int
    review_started: bool


@dataclass(frozen=True)
class ReportedListing:
    """One entry of the moderation queue."""

    listing_id: int
    title: str
    status: str
    owner_id: int
    owner_name: str
    owner_username: str | None
    owner_under_review: bool
    owner_banned: bool
    owner_warnings: int
    reasons: dict[str, int]
    reporters: int


@dataclass(frozen=True)
class AdminAction:
    """One line of the admin log, with the names of whom and what it is about as they are
    now (None where that was erased since)."""

    id: int
    admin_id: int | None
    action: str
    target_user: int | None
    target_listing: int | None
    target_request: int | None
    detail: str | None
    at: int
    reason: str | None = None
    target_municipality: int | None = None
    target_broadcast: int | None = None
    admin_name: str | None = None
    admin_country: str | None = None
    user_name: str | None = None
    user_country: str | None = None
    listing_title: str | None = None
    municipality_name: str | None = None


_ADMIN_LOG_SELECT = """
SELECT x.id, x.admin_id, x.action, x.target_user, x.target_listing, x.target_request, x.detail,
       x.at, x.reason, x.target_municipality, x.target_broadcast, a.first_name, a.country,
       t.first_name, t.country, l.title, m.name
FROM admin_actions x
LEFT JOIN users a ON a.id = x.admin_id
LEFT JOIN users t ON t.id = x.target_user
LEFT JOIN listings l ON l.id = x.target_listing
LEFT JOIN municipalities m ON m.id = x.target_municipality
"""
_admin_action = row_mapper(AdminAction)


class Outcome(enum.Enum):
    """What an admin's action on a person did."""

    DONE = "done"
    ALREADY = "already"  # done before (by this admin or another): nothing changed
    GONE = "gone"  # erased with the person's data: nothing to act on
    ADMIN = "admin"  # an administrator: never banned (a made one is unmade first)


async def _speakers(db: aiosqlite.Connection, listing_id: int) -> list[int]:
    """Who is told about the listing, inside the caller's transaction."""
    return await first_column(db, LISTING_SPEAKERS, {"id": listing_id})


async def _set_status(
    db: aiosqlite.Connection,
    listing_id: int,
    old: str,
    new: str,
    now: int,
    by: int | None,
    detail: str,
) -> bool:
    """Move a listing from ``old`` to ``new`` with a history line; False if it was not ``old``."""
    if not await changed_one(
        db,
        "UPDATE listings SET status = ?, status_changed_at = ? WHERE id = ? AND status = ?",
        (new, now, listing_id, old),
    ):
        return False
    await db.execute(
        "INSERT INTO listing_history (listing_id, status, at, by_user, detail) "
        "VALUES (?, ?, ?, ?, ?)",
        (listing_id, "hidden" if new == "hidden" else "restored", now, by, detail),
    )
    return True


async def _hide_all(
    db: aiosqlite.Connection, user_id: int, now: int, by: int | None, why: str
) -> None:
    rows = await db.execute_fetchall(
        "SELECT id FROM listings WHERE owner_id = ? AND status = 'open'", (user_id,)
    )
    for (listing_id,) in rows:
        await _set_status(db, listing_id, "open", "hidden", now, by, why)


class ModerationQueries(Database):
    # --- admins ----------------------------------------------------------------------------

    async def stored_admin_ids(self) -> list[int]:
        return await self._first_column("SELECT id FROM users WHERE is_admin = 1 ORDER BY id")

    async def set_admin(self, user_id: int, flag: bool, *, by: int, now: int) -> bool:
        """Make a member admin (or not); False if no such member or nothing changed."""
        async with self.transaction() as db:
            if not await changed_one(
                db,
                "UPDATE users SET is_admin = ? WHERE id = ? AND is_admin != ?",
                (int(flag), user_id, int(flag)),
            ):
                return False
            await log_action(db, by, "make_admin" if flag else "remove_admin", now, user=user_id)
        return True

    # --- reports ---------------------------------------------------------------------------

    async def report_listing(
        self,
        listing_id: int,
        reporter: int,
        reason: str,
        now: int,
        *,
        told: Callable[[Filed], Sequence[Enqueued]] | None = None,
    ) -> Filed:
        """File a report; several people reporting one member puts them under review: their
        open listings are hidden until an admin decides. ``told``: the notices of what was
        filed (the admins; the owner put under review), queued with it."""
        if reason not in REPORT_REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        async with self.transaction() as db:
            listing = await read_one(
                db,
                "SELECT owner_id, status, status_changed_at FROM listings WHERE id = ?",
                (listing_id,),
            )
            if listing is None or listing[1] == "hidden":
                raise ReportRefused("gone")
            if listing[1] in ("closed", "fulfilled"):
                raise ReportRefused(listing[1], listing[2])
            owner = listing[0]
            if owner == reporter:
                raise ReportRefused("own")
            cursor = await db.execute(
                "INSERT INTO reports (listing_id, reported_user, reporter_id, reason, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                (listing_id, owner, reporter, reason, now),
            )
            row = await cursor.fetchone()
            await cursor.close()
            if row is None:
                raise ReportRefused("already")
            (reporters,) = await read_one(
                db,
                "SELECT count(DISTINCT reporter_id) FROM reports "
                "WHERE reported_user = ? AND status = 'open'",
                (owner,),
            )
            started = False
            if reporters >= REVIEW_AFTER:
                started = await changed_one(
                    db,
                    "UPDATE users SET review_at = ? WHERE id = ? AND review_at IS NULL",
                    (now, owner),
                )
                if started:
                    await _hide_all(db, owner, now, None, "review")
                    await log_action(
                        db, None, "auto_review", now, user=owner, detail=str(reporters)
                    )
            filed = Filed(row[0], owner, started)
            if told is not None:
                await insert_notifications(db, list(told(filed)), now=now)
        return filed

    async def moderation_queue(self, limit: int = 10) -> list[ReportedListing]:
        """Listings with open reports, and listings hidden with their owner under review."""
        rows = await self._fetchall(
            """SELECT l.id FROM listings l JOIN users u ON u.id = l.owner_id
               WHERE EXISTS (SELECT 1 FROM reports r
                             WHERE r.listing_id = l.id AND r.status = 'open')
                  OR (u.review_at IS NOT NULL AND l.status = 'hidden')
               ORDER BY (SELECT min(created_at) FROM reports r WHERE r.listing_id = l.id), l.id
               LIMIT ?""",
            (limit,),
        )
        found = [await self.reported_listing(row[0]) for row in rows]
        return [entry for entry in found if entry is not None]

    async def reported_listing(self, listing_id: int) -> ReportedListing | None:
        row = await self._fetchone(
            """SELECT l.id, l.title, l.status, l.owner_id, u.first_name, u.username,
                      u.review_at IS NOT NULL,
                      EXISTS (SELECT 1 FROM bans b WHERE b.user_id = l.owner_id),
                      (SELECT count(*) FROM warnings w WHERE w.user_id = l.owner_id)
               FROM listings l JOIN users u ON u.id = l.owner_id WHERE l.id = ?""",
            (listing_id,),
        )
        if row is None:
            return None
        reports = await self._fetchall(
            "SELECT reason, reporter_id FROM reports WHERE listing_id = ? AND status = 'open'",
            (listing_id,),
        )
        return ReportedListing(
            listing_id=row[0],
            title=row[1],
            status=row[2],
            owner_id=row[3],
            owner_name=row[4],
            owner_username=row[5],
            owner_under_review=bool(row[6]),
            owner_banned=bool(row[7]),
            owner_warnings=row[8],
            reasons=dict(Counter(reason for reason, _reporter in reports)),
            reporters=len({reporter for _reason, reporter in reports}),
        )

    async def moderation_counts(self) -> dict[str, int]:
        (reports,) = await self._fetchone(  # type: ignore[misc]
            "SELECT count(DISTINCT listing_id) FROM reports WHERE status = 'open'"
        )
        (review,) = await self._fetchone(  # type: ignore[misc]
            "SELECT count(*) FROM users WHERE review_at IS NOT NULL"
        )
        (verifications,) = await self._fetchone(  # type: ignore[misc]
            "SELECT count(*) FROM verification_requests WHERE status = 'pending'"
        )
        return {"reports": reports, "review": review, "verifications": verifications}

    # --- acting on a listing ---------------------------------------------------------------

    async def hide_listing(
        self, listing_id: int, admin: int, now: int, *, notice: Notice | None = None
    ) -> bool:
        """Hide an open listing, closing its open reports, and queue ``notice`` for who speaks
        for it; False if it is not open."""
        async with self.transaction() as db:
            if not await _set_status(db, listing_id, "open", "hidden", now, admin, "moderator"):
                return False
            await tell(db, notice, await _speakers(db, listing_id), now=now)
            # Why: the reasons people reported it for (the log shows them translated).
            (reasons,) = await read_one(
                db,
                "SELECT group_concat(reason, ',') FROM (SELECT DISTINCT reason FROM reports "
                "WHERE listing_id = ? AND status = 'open' ORDER BY reason)",
                (listing_id,),
            )
            await self._settle_reports(db, [listing_id], "resolved", admin, now)
            (owner,) = await read_one(
                db, "SELECT owner_id FROM listings WHERE id = ?", (listing_id,)
            )
            await log_action(db, admin, "hide", now, listing=listing_id, user=owner, detail=reasons)
        return True

    async def restore_listing(
        self, listing_id: int, admin: int, now: int, *, notice: Notice | None = None
    ) -> bool:
        """Show a hidden listing again, and queue ``notice`` for who speaks for it; False if it
        is not hidden. When its owner was under review, the review ends: their other listings
        hidden for it come back too."""
        async with self.transaction() as db:
            if not await _set_status(db, listing_id, "hidden", "open", now, admin, "moderator"):
                return False
            await tell(db, notice, await _speakers(db, listing_id), now=now)
            (owner,) = await read_one(
                db, "SELECT owner_id FROM listings WHERE id = ?", (listing_id,)
            )
            restored = [listing_id]
            if await changed_one(
                db,
                "UPDATE users SET review_at = NULL WHERE id = ? AND review_at IS NOT NULL",
                (owner,),
            ):
                rows = await db.execute_fetchall(
                    """SELECT l.id FROM listings l WHERE l.owner_id = ? AND l.status = 'hidden'
                       AND (SELECT detail FROM listing_history h WHERE h.listing_id = l.id
                            ORDER BY h.id DESC LIMIT 1) = 'review'""",
                    (owner,),
                )
                for (other,) in rows:
                    if await _set_status(db, other, "hidden", "open", now, admin, "review"):
                        restored.append(other)
                await log_action(db, admin, "end_review", now, user=owner)
            await self._settle_reports(db, restored, "dismissed", admin, now)
            await log_action(db, admin, "restore", now, listing=listing_id, user=owner)
        return True

    async def dismiss_reports(self, listing_id: int, admin: int, now: int) -> int:
        """Close a listing's open reports as unfounded; returns how many."""
        async with self.transaction() as db:
            settled = await self._settle_reports(db, [listing_id], "dismissed", admin, now)
            if settled:
                await log_action(db, admin, "dismiss", now, listing=listing_id, detail=str(settled))
        return settled

    @staticmethod
    async def _settle_reports(
        db: aiosqlite.Connection, listing_ids: list[int], status: str, admin: int, now: int
    ) -> int:
        if not listing_ids:
            return 0
        marks = ", ".join("?" * len(listing_ids))
        cursor = await db.execute(
            "UPDATE reports SET status = ?, resolved_at = ?, resolved_by = ? "
            f"WHERE listing_id IN ({marks}) AND status = 'open'",
            (status, now, admin, *listing_ids),
        )
        return cursor.rowcount

    # --- acting on a person ----------------------------------------------------------------

    async def warn_owner(
        self,
        listing_id: int,
        admin: int,
        now: int,
        *,
        reason: str | None = None,
        notice: Notice | None = None,
    ) -> Outcome:
        """Warn a listing's owner about it, once: DONE, ALREADY (warned about it before), or
        GONE (the listing was erased with its author)."""
        async with self.transaction() as db:
            row = await read_one(db, "SELECT owner_id FROM listings WHERE id = ?", (listing_id,))
            if row is None:
                return Outcome.GONE
            if not await changed_one(
                db,
                "INSERT INTO warnings (user_id, listing_id, by_admin, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (row[0], listing_id, admin, now),
            ):
                return Outcome.ALREADY
            await tell(db, notice, [row[0]], now=now)
            await log_action(db, admin, "warn", now, user=row[0], listing=listing_id, reason=reason)
        return Outcome.DONE

    async def ban(
        self,
        user_id: int,
        admin: int,
        now: int,
        listing_id: int | None = None,
        *,
        reason: str | None = None,
        administrators: frozenset[int] = frozenset(),
        notice: Notice | None = None,
    ) -> Outcome:
        """Ban a member: their open listings are hidden, reports against them settled, their
        pending contact requests withdrawn. ALREADY if banned before; GONE if they erased
        their data (nobody to ban: a ban outlives an erasure, but is not made after one);
        ADMIN if they are one of ``administrators`` (ADMIN_IDS) or a member made admin: a
        ban would lock an administrator out of /unban and /unadmin, so one admin could shut
        the others out. A made admin is unmade first (by an admin of ADMIN_IDS)."""
        async with self.transaction() as db:
            if await read_one(db, "SELECT 1 FROM bans WHERE user_id = ?", (user_id,)):
                return Outcome.ALREADY
            member = await read_one(db, "SELECT is_admin FROM users WHERE id = ?", (user_id,))
            if member is None:
                return Outcome.GONE
            if member[0] or user_id in administrators:
                return Outcome.ADMIN
            await db.execute(
                "INSERT INTO bans (user_id, banned_at, banned_by) VALUES (?, ?, ?)",
                (user_id, now, admin),
            )
            await _hide_all(db, user_id, now, admin, "ban")
            await db.execute(
                "UPDATE reports SET status = 'resolved', resolved_at = ?, resolved_by = ? "
                "WHERE reported_user = ? AND status = 'open'",
                (now, admin, user_id),
            )
            await db.execute(
                "UPDATE contacts SET status = 'withdrawn', decided_at = ? "
                "WHERE asker_id = ? AND status = 'pending'",
                (now, user_id),
            )
            await end_relays_with(db, user_id, now)
            await end_verifications_of_banned(db, user_id, admin, now)
            await tell(db, notice, [user_id], now=now)
            await log_action(db, admin, "ban", now, user=user_id, listing=listing_id, reason=reason)
        return Outcome.DONE

    async def unban(
        self, user_id: int, admin: int, now: int, *, notice: Notice | None = None
    ) -> bool:
        """Lift a ban (hidden listings stay hidden until restored one by one), and queue
        ``notice`` for the person."""
        async with self.transaction() as db:
            if not await changed_one(db, "DELETE FROM bans WHERE user_id = ?", (user_id,)):
                return False
            await tell(db, notice, [user_id], now=now)
            await log_action(db, admin, "unban", now, user=user_id)
        return True

    # --- the log and a listing's history -----------------------------------------------------

    async def admin_log(
        self, *, user: int | None = None, listing: int | None = None, limit: int = 20
    ) -> list[AdminAction]:
        """The latest admin actions, optionally about one person or listing, newest first."""
        return await self._records(
            _admin_action,
            _ADMIN_LOG_SELECT
            + """WHERE (:user IS NULL OR x.target_user = :user)
                   AND (:listing IS NULL OR x.target_listing = :listing)
                 ORDER BY x.id DESC LIMIT :limit""",
            {"user": user, "listing": listing, "limit": limit},
        )

    async def last_action(
        self,
        actions: tuple[str, ...],
        *,
        user: int | None = None,
        listing: int | None = None,
        request: int | None = None,
    ) -> AdminAction | None:
        """The latest of ``actions`` on these targets: who did what another admin just tried."""
        marks = ", ".join("?" * len(actions))
        return await self._record(
            _admin_action,
            _ADMIN_LOG_SELECT
            + f"""WHERE x.action IN ({marks})
                    AND (? IS NULL OR x.target_user = ?) AND (? IS NULL OR x.target_listing = ?)
                    AND (? IS NULL OR x.target_request = ?)
                  ORDER BY x.id DESC LIMIT 1""",
            (*actions, user, user, listing, listing, request, request),
        )

    async def listing_reports(self, listing_id: int) -> list[tuple[str, str, int]]:
        """Every report of a listing: reason, status, when."""
        rows = await self._fetchall(
            "SELECT reason, status, created_at FROM reports WHERE listing_id = ? ORDER BY id",
            (listing_id,),
        )
        return [tuple(row) for row in rows]


async def end_relays_with(db: aiosqlite.Connection, user_id: int, now: int) -> None:
    """End the relays of the accepted contacts ``user_id`` is one of the two people of (they
    are banned, or erase their data), inside the caller's transaction: what waits in the
    outbox for or from them is not sent. The other person is told where the relay was used
    (a contact that went on elsewhere needs no word about it)."""
    rows = await db.execute_fetchall(
        """SELECT c.id, c.asker_id, c.decided_by,
                  EXISTS (SELECT 1 FROM contact_messages m WHERE m.contact_id = c.id
                          AND m.telegram_message_id IS NOT NULL)
           FROM contacts c
           WHERE c.status = 'accepted' AND c.relay_ended_at IS NULL
             AND (c.asker_id = :user OR c.decided_by = :user)""",
        {"user": user_id},
    )
    for contact_id, asker, decider, used in rows:
        await db.execute("UPDATE contacts SET relay_ended_at = ? WHERE id = ?", (now, contact_id))
        other = decider if asker == user_id else asker
        if used and other is not None:
            await queue_each(
                db,
                [other],
                RELAY_PARTY_GONE,
                f"ct:pg:{contact_id}",
                {"contact": contact_id},
                now=now,
            )
