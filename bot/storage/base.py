"""The database connection: opening, migrations, and serialised write transactions.

Durability: the database runs in WAL mode with ``synchronous=NORMAL``, so a committed
transaction survives the process being killed. All writes go through
:meth:`Database.transaction`, which serialises them on one connection: aiosqlite runs
statements on a single thread in order, but two coroutines interleaving their statements would
otherwise share one transaction.

Schema changes are numbered SQL files in ``bot/migrations`` applied in order at start-up; the
database's ``PRAGMA user_version`` records the last one applied.
"""

from __future__ import annotations

import asyncio
import time
import unicodedata
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Self

import aiosqlite


def fold(text: str) -> str:
    """Fold text for comparison and search: case-insensitive, accent-insensitive in every
    script (Greek tonos too, which SQLite's tokenizer keeps), single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split())


Params = Sequence[Any] | Mapping[str, Any]


def now_seconds() -> int:
    return int(time.time())


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


class Database:
    """The connection and what every group of queries needs. Open with :meth:`open`."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> Self:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; transaction() issues BEGIN itself.
        db = await aiosqlite.connect(path, isolation_level=None)
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA busy_timeout = 5000")
        database = cls(db)
        await database._migrate()
        return database

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

    async def ping(self) -> None:
        """Raise unless the database answers a trivial query (the health check)."""
        await self._fetchone("SELECT 1")

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

    async def _fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        async with self._db.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def _fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        async with self._db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())
