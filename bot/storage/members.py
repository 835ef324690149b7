"""Members (people who talk to the bot) and the municipalities and organisations they
speak for."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, fields

import aiosqlite

from bot.storage.base import Database, Plain, fold, now_seconds, read_one, row_mapper
from bot.storage.verification import end_verifications

ROLES = ("municipality", "organisation", "volunteer")
SET_LANGUAGE = """UPDATE users SET language = ?, language_chosen = MAX(language_chosen, ?),
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = ?"""


@dataclass(frozen=True)
class Member:
    """A person who talks to the bot, with the municipality or organisation they speak for."""

    id: int
    first_name: str
    username: str | None
    language: str
    language_chosen: bool
    role: str | None
    country: str | None
    region: str | None
    place: str | None
    latitude: float | None
    longitude: float | None
    municipality_id: int | None
    municipality_name: str | None
    municipality_population: int | None
    municipality_verified: bool
    organisation_id: int | None
    organisation_name: str | None
    onboarded: bool
    blocked: bool
    # Trust (migration 0005): made admin in the bot, banned, verified official.
    is_admin: bool = False
    banned: bool = False
    verified: bool = False
    # The place's key in bot/places (named in each reader's language); None: typed.
    place_key: str | None = None

    @property
    def home_areas(self) -> list[str]:
        """The areas around this person's home that browsing and alerts offer: their region
        and their country, each only when the profile knows it."""
        return [
            *(["region"] if self.country and self.region else []),
            *(["country"] if self.country else []),
        ]


@dataclass(frozen=True)
class Profile:
    """What onboarding collects; saved in one transaction by :meth:`Storage.save_profile`."""

    role: str
    country: str
    place: str
    region: str = ""
    population: int | None = None
    organisation_name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    place_key: str | None = None


_MEMBER_COLUMNS = """
       u.id, u.first_name, u.username, u.language, u.language_chosen, u.role, u.country,
       u.region, u.place, u.latitude, u.longitude,
       u.municipality_id, m.name, m.population, m.verified_at IS NOT NULL,
       u.organisation_id, o.name, u.onboarded_at IS NOT NULL, u.blocked_at IS NOT NULL,
       u.is_admin, EXISTS (SELECT 1 FROM bans b WHERE b.user_id = u.id),
       EXISTS (SELECT 1 FROM verification_requests v WHERE v.user_id = u.id
               AND v.municipality_id = u.municipality_id AND v.status = 'approved'),
       u.place_key"""
_MEMBER_JOINS = """
LEFT JOIN municipalities m ON m.id = u.municipality_id
LEFT JOIN organisations o ON o.id = u.organisation_id
"""
MEMBER_FIELDS = len(fields(Member))  # the columns above, one a field, in the same order
MEMBER_BY_ID = f"SELECT {_MEMBER_COLUMNS} FROM users u {_MEMBER_JOINS} WHERE u.id = ?"
# What every update starts with (handlers.members.identify), in one read: the member, if any,
# and the last update that moved one of their dialogs (see bot.storage.ptb.handled_already).
MEMBER_FOR_UPDATE = f"""
SELECT {_MEMBER_COLUMNS}, h.update_id, h.at
FROM (SELECT ? AS id) asked
LEFT JOIN users u ON u.id = asked.id {_MEMBER_JOINS}
LEFT JOIN handled_updates h ON h.user_id = asked.id"""


_member = row_mapper(Member)


class MemberQueries(Database):
    async def get_member(self, user_id: int) -> Member | None:
        return await self._record(_member, MEMBER_BY_ID, (user_id,))

    async def member_for_update(self, user_id: int) -> tuple[Member | None, tuple[int, int] | None]:
        """The member (None before their first contact) and the last update that moved one of
        their dialogs, as (update id, when) or None: one read for both."""
        row = await self._fetchone(MEMBER_FOR_UPDATE, (user_id,))
        assert row is not None  # one row, whatever is stored
        member = _member(row[:MEMBER_FIELDS]) if row[0] is not None else None
        update_id, at = row[MEMBER_FIELDS:]
        handled = (update_id, at) if update_id is not None else None
        return member, handled

    async def register_member(
        self,
        user_id: int,
        first_name: str,
        language: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> Member:
        """Create the member on first contact, or refresh their Telegram names; returns them."""
        async with self.transaction() as db:
            await db.execute(
                """INSERT INTO users (id, first_name, last_name, username, language)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET
                       first_name = excluded.first_name, last_name = excluded.last_name,
                       username = excluded.username, blocked_at = NULL""",
                (user_id, first_name, last_name, username, language),
            )
        member = await self.get_member(user_id)
        assert member is not None
        return member

    async def set_language(self, user_id: int, language: str, *, chosen: bool = True) -> None:
        """Record the member's language. Once they chose it themselves (``chosen``), it wins
        over Telegram's from then on."""
        async with self.transaction() as db:
            await db.execute(SET_LANGUAGE, (language, int(chosen), user_id))

    def choosing_language(self, user_id: int, language: str) -> AbstractAsyncContextManager[None]:
        """The language the member chose, written with the block's next write (the dialog
        step that follows the choice: one transaction), or at its end if none came."""
        return self.riding(Plain((SET_LANGUAGE, (language, 1, user_id))), or_alone=True)

    async def mark_blocked(self, user_id: int) -> None:
        """The member blocked the bot (Telegram answered 403): stop writing to them."""
        async with self.transaction() as db:
            await db.execute(
                """UPDATE users SET blocked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                   WHERE id = ? AND blocked_at IS NULL""",
                (user_id,),
            )

    async def save_profile(
        self, user_id: int, profile: Profile, *, now: int | None = None
    ) -> Member:
        """Store a finished onboarding in one transaction: nothing is saved half-way.

        A municipality is found by country, folded name and region, so a second official of
        the same municipality joins it instead of creating a duplicate - unverified: the
        badge is the person's, earned for a municipality. Moving to another municipality (or
        to another role) ends the verification for the one left.
        """
        if profile.role not in ROLES:
            raise ValueError(f"unknown role {profile.role!r}")
        moment = now if now is not None else now_seconds()
        async with self.transaction() as db:
            before = await read_one(
                db, "SELECT municipality_id FROM users WHERE id = ?", (user_id,)
            )
            municipality_id = organisation_id = None
            if profile.role == "municipality":
                municipality_id = await self._upsert_municipality(db, profile)
            elif profile.role == "organisation":
                assert profile.organisation_name
                organisation_id = await self._upsert_organisation(
                    db, profile.organisation_name, profile.country
                )
            await db.execute(
                """UPDATE users SET role = ?, country = ?, region = ?, place = ?, place_key = ?,
                       latitude = ?, longitude = ?, municipality_id = ?, organisation_id = ?,
                       onboarded_at = COALESCE(onboarded_at,
                                               strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
                       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                   WHERE id = ?""",
                (
                    profile.role,
                    profile.country,
                    profile.region,
                    profile.place,
                    profile.place_key,
                    profile.latitude,
                    profile.longitude,
                    municipality_id,
                    organisation_id,
                    user_id,
                ),
            )
            await end_verifications(
                db, user_id, keep=municipality_id, now=moment, left=before[0] if before else None
            )
        member = await self.get_member(user_id)
        assert member is not None
        return member

    @staticmethod
    async def _upsert_municipality(db: aiosqlite.Connection, profile: Profile) -> int:
        async with db.execute(
            """INSERT INTO municipalities
                   (name, name_key, country, region, population, latitude, longitude, place_key)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (country, name_key, region) DO UPDATE SET
                   population = COALESCE(excluded.population, municipalities.population),
                   place_key = COALESCE(municipalities.place_key, excluded.place_key),
                   latitude = COALESCE(municipalities.latitude, excluded.latitude),
                   longitude = COALESCE(municipalities.longitude, excluded.longitude)
               RETURNING id""",
            (
                profile.place,
                fold(profile.place),
                profile.country,
                profile.region,
                profile.population,
                profile.latitude,
                profile.longitude,
                profile.place_key,
            ),
        ) as cursor:
            (municipality_id,) = await cursor.fetchone()  # type: ignore[misc]
        return int(municipality_id)

    @staticmethod
    async def _upsert_organisation(db: aiosqlite.Connection, name: str, country: str) -> int:
        async with db.execute(
            """INSERT INTO organisations (name, name_key, country) VALUES (?, ?, ?)
               ON CONFLICT (country, name_key) DO UPDATE SET name = organisations.name
               RETURNING id""",
            (name, fold(name), country),
        ) as cursor:
            (organisation_id,) = await cursor.fetchone()  # type: ignore[misc]
        return int(organisation_id)

    async def municipality_members(self, municipality_id: int) -> list[int]:
        return await self._first_column(
            "SELECT id FROM users WHERE municipality_id = ? ORDER BY id", (municipality_id,)
        )
