"""The data layer: one SQLite database through aiosqlite, and every SQL statement of the bot.

Handlers and dialogs never build SQL; they call the methods here, which take and return plain
Python values and dataclasses (this module never imports ``telegram``).

Durability: the database runs in WAL mode with ``synchronous=NORMAL``, so a committed
transaction survives the process being killed. All writes go through :meth:`Storage.transaction`,
which serialises them on one connection: aiosqlite runs statements on a single thread in order,
but two coroutines interleaving their statements would otherwise share one transaction.

Schema changes are numbered SQL files in ``bot/migrations`` applied in order at start-up; the
database's ``PRAGMA user_version`` records the last one applied.
"""

from __future__ import annotations

import asyncio
import json
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

ROLES = ("municipality", "organisation", "volunteer")


def fold(text: str) -> str:
    """Fold a name for comparison: case-insensitive, accent-insensitive, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split())


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


_MEMBER_SELECT = """
SELECT u.id, u.first_name, u.username, u.language, u.language_chosen, u.role, u.country,
       u.region, u.place, u.latitude, u.longitude,
       u.municipality_id, m.name, m.population, m.verified_at IS NOT NULL,
       u.organisation_id, o.name, u.onboarded_at IS NOT NULL, u.blocked_at IS NOT NULL
FROM users u
LEFT JOIN municipalities m ON m.id = u.municipality_id
LEFT JOIN organisations o ON o.id = u.organisation_id
"""


def _member(row: aiosqlite.Row | tuple[Any, ...]) -> Member:
    return Member(
        id=row[0],
        first_name=row[1],
        username=row[2],
        language=row[3],
        language_chosen=bool(row[4]),
        role=row[5],
        country=row[6],
        region=row[7],
        place=row[8],
        latitude=row[9],
        longitude=row[10],
        municipality_id=row[11],
        municipality_name=row[12],
        municipality_population=row[13],
        municipality_verified=bool(row[14]),
        organisation_id=row[15],
        organisation_name=row[16],
        onboarded=bool(row[17]),
        blocked=bool(row[18]),
    )


def _migrations() -> list[tuple[int, str]]:
    """The numbered migration scripts shipped in ``bot/migrations``, in order."""
    found = []
    for entry in resources.files("bot.migrations").iterdir():
        if entry.name.endswith(".sql"):
            number = int(entry.name.split("_", 1)[0])
            found.append((number, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [number for number, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {numbers}")
    return found


class Storage:
    """The bot's database. Open with :meth:`open`, close with :meth:`close`."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> Storage:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; transaction() issues BEGIN itself.
        db = await aiosqlite.connect(path, isolation_level=None)
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA busy_timeout = 5000")
        storage = cls(db)
        await storage._migrate()
        return storage

    async def close(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cursor:
            (current,) = await cursor.fetchone()  # type: ignore[misc]
        for number, script in _migrations():
            if number <= current:
                continue
            # executescript runs the BEGIN ... COMMIT as one unit: a failing migration leaves
            # the database at the previous version.
            await self._db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            (version,) = await cursor.fetchone()  # type: ignore[misc]
        return int(version)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block's statements as one transaction, committed at the end or rolled back."""
        async with self._write_lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def _fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> aiosqlite.Row | None:
        async with self._db.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def _fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[aiosqlite.Row]:
        async with self._db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    # --- members -------------------------------------------------------------------------

    async def get_member(self, user_id: int) -> Member | None:
        row = await self._fetchone(_MEMBER_SELECT + "WHERE u.id = ?", (user_id,))
        return _member(row) if row else None

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
            await db.execute(
                """UPDATE users SET language = ?, language_chosen = MAX(language_chosen, ?),
                       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                   WHERE id = ?""",
                (language, int(chosen), user_id),
            )

    async def mark_blocked(self, user_id: int) -> None:
        """The member blocked the bot (Telegram answered 403): stop writing to them."""
        async with self.transaction() as db:
            await db.execute(
                """UPDATE users SET blocked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                   WHERE id = ? AND blocked_at IS NULL""",
                (user_id,),
            )

    async def save_profile(self, user_id: int, profile: Profile) -> Member:
        """Store a finished onboarding in one transaction: nothing is saved half-way.

        A municipality is found by country, folded name and region, so a second official of
        the same municipality joins it instead of creating a duplicate.
        """
        if profile.role not in ROLES:
            raise ValueError(f"unknown role {profile.role!r}")
        async with self.transaction() as db:
            municipality_id = organisation_id = None
            if profile.role == "municipality":
                municipality_id = await self._upsert_municipality(db, profile)
            elif profile.role == "organisation":
                assert profile.organisation_name
                organisation_id = await self._upsert_organisation(
                    db, profile.organisation_name, profile.country
                )
            await db.execute(
                """UPDATE users SET role = ?, country = ?, region = ?, place = ?,
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
                    profile.latitude,
                    profile.longitude,
                    municipality_id,
                    organisation_id,
                    user_id,
                ),
            )
        member = await self.get_member(user_id)
        assert member is not None
        return member

    @staticmethod
    async def _upsert_municipality(db: aiosqlite.Connection, profile: Profile) -> int:
        async with db.execute(
            """INSERT INTO municipalities
                   (name, name_key, country, region, population, latitude, longitude)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (country, name_key, region) DO UPDATE SET
                   population = COALESCE(excluded.population, municipalities.population),
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
        rows = await self._fetchall(
            "SELECT id FROM users WHERE municipality_id = ? ORDER BY id", (municipality_id,)
        )
        return [row[0] for row in rows]

    # --- python-telegram-bot persistence ---------------------------------------------------
    # Values are JSON; conversation keys are tuples stored as JSON arrays.

    async def load_conversations(self, name: str) -> dict[tuple[int | str, ...], object]:
        rows = await self._fetchall(
            "SELECT key, state FROM ptb_conversations WHERE name = ?", (name,)
        )
        return {tuple(json.loads(key)): json.loads(state) for key, state in rows}

    async def save_conversation(
        self, name: str, key: tuple[int | str, ...], state: object | None
    ) -> None:
        """Record a conversation's state; ``None`` means the conversation ended."""
        async with self.transaction() as db:
            await self._write_conversation(db, name, key, state)

    @staticmethod
    async def _write_conversation(
        db: aiosqlite.Connection, name: str, key: tuple[int | str, ...], state: object | None
    ) -> None:
        if state is None:
            await db.execute(
                "DELETE FROM ptb_conversations WHERE name = ? AND key = ?",
                (name, json.dumps(list(key))),
            )
        else:
            await db.execute(
                """INSERT INTO ptb_conversations (name, key, state) VALUES (?, ?, ?)
                   ON CONFLICT (name, key) DO UPDATE SET state = excluded.state""",
                (name, json.dumps(list(key)), json.dumps(state)),
            )

    async def load_user_data(self) -> dict[int, dict[str, Any]]:
        rows = await self._fetchall("SELECT user_id, data FROM ptb_user_data")
        return {user_id: json.loads(data) for user_id, data in rows}

    async def save_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        async with self.transaction() as db:
            await self._write_user_data(db, user_id, data)

    @staticmethod
    async def _write_user_data(
        db: aiosqlite.Connection, user_id: int, data: dict[str, Any]
    ) -> None:
        await db.execute(
            """INSERT INTO ptb_user_data (user_id, data) VALUES (?, ?)
               ON CONFLICT (user_id) DO UPDATE SET data = excluded.data""",
            (user_id, json.dumps(data)),
        )

    async def drop_user_data(self, user_id: int) -> None:
        async with self.transaction() as db:
            await db.execute("DELETE FROM ptb_user_data WHERE user_id = ?", (user_id,))

    async def load_chat_data(self) -> dict[int, dict[str, Any]]:
        rows = await self._fetchall("SELECT chat_id, data FROM ptb_chat_data")
        return {chat_id: json.loads(data) for chat_id, data in rows}

    async def save_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        async with self.transaction() as db:
            await db.execute(
                """INSERT INTO ptb_chat_data (chat_id, data) VALUES (?, ?)
                   ON CONFLICT (chat_id) DO UPDATE SET data = excluded.data""",
                (chat_id, json.dumps(data)),
            )

    async def drop_chat_data(self, chat_id: int) -> None:
        async with self.transaction() as db:
            await db.execute("DELETE FROM ptb_chat_data WHERE chat_id = ?", (chat_id,))

    async def load_bot_data(self) -> dict[str, Any]:
        row = await self._fetchone("SELECT data FROM ptb_bot_data WHERE id = 1")
        return json.loads(row[0]) if row else {}

    async def save_bot_data(self, data: dict[str, Any]) -> None:
        async with self.transaction() as db:
            await db.execute(
                """INSERT INTO ptb_bot_data (id, data) VALUES (1, ?)
                   ON CONFLICT (id) DO UPDATE SET data = excluded.data""",
                (json.dumps(data),),
            )

    async def checkpoint_dialog(
        self,
        name: str,
        key: tuple[int | str, ...],
        state: object | None,
        user_id: int,
        user_data: dict[str, Any],
    ) -> None:
        """Store a dialog's next state together with the user's answers, atomically.

        Dialogs call this *before* replying, so a step the user has seen answered is never
        lost to a crash between the reply and the periodic persistence flush.
        """
        async with self.transaction() as db:
            await self._write_user_data(db, user_id, user_data)
            await self._write_conversation(db, name, key, state)
