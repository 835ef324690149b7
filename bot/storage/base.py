"""The database connection: opening, migrations, and serialised write transactions.

Durability: the database runs in WAL mode with ``synchronous=NORMAL``, so a committed
transaction survives the process being killed. All writes go through
:meth:`Database.transaction`, which serialises them on one connection: aiosqlite runs
statements on a single thread in order, but two coroutines interleaving their statements would
otherwise share one transaction.

*Rides* (issue 19: one write transaction per update). Statements that need no transaction of
their own ride in the next one: a task's ride, with the next write the task makes within a
block (a dialog's step with the step's own write: the profile, the listing; the language
chosen with the next step, or alone at the block's end if none came: :meth:`Database.riding`),
and what the persistence keeps waiting for any write (:meth:`Database.carry_with`). Both or
neither are committed.

Schema changes are numbered SQL files in ``bot/migrations`` applied in order at start-up; the
database's ``PRAGMA user_version`` records the last one applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sqlite3
import time
import unicodedata
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar, get_type_hints

import aiosqlite

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def fold(text: str) -> str:
    """Fold text for comparison and search: case-insensitive, accent-insensitive in every
    script (Greek tonos too, which SQLite's tokenizer keeps), single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split())


Params = Sequence[Any] | Mapping[str, Any]
T = TypeVar("T")
D = TypeVar("D", bound="DataclassInstance")


Statement = tuple[str, Params]


class Ride(Protocol):
    """Statements written in another write's transaction (see :meth:`Database.riding`)."""

    def statements(self) -> list[Statement]:
        """The statements, asked for once the transaction's own have run, before its COMMIT."""
        ...

    def settled(self, committed: bool) -> None:
        """Called once the transaction committed, or failed (nothing of the ride written)."""
        ...


class Plain:
    """Plain statements as a ride, with nothing to do once settled (the language chosen)."""

    def __init__(self, *statements: Statement) -> None:
        self._statements = list(statements)

    def statements(self) -> list[Statement]:
        return self._statements

    def settled(self, committed: bool) -> None:
        pass


@dataclass
class _Riding:
    """A ride waiting for the next write transaction of ``task``, as that transaction takes
    it (once): the ride itself, told too whether it committed."""

    ride: Ride
    task: asyncio.Task[Any] | None
    taken: bool = False
    committed: bool = False

    def statements(self) -> list[Statement]:
        return self.ride.statements()

    def settled(self, committed: bool) -> None:
        self.committed = committed
        self.ride.settled(committed)


# A context variable, so that only the task that set a ride (the update's handler) writes
# it: another update's write, or a task the handler starts, never takes it.
_RIDING: contextvars.ContextVar[_Riding | None] = contextvars.ContextVar("riding", default=None)


def _settle(rides: list[tuple[Ride, list[Statement]]], committed: bool) -> None:
    for ride, _statements in rides:
        ride.settled(committed)


def row_mapper(cls: type[D], **stored_as: Callable[[Any], Any]) -> Callable[[Sequence[Any]], D]:
    """What makes the dataclass ``cls`` from a row that selects its fields in their order
    (columns after them are the caller's): SQLite's 0 and 1 become False and True where a
    field is a ``bool``, and a field named in ``stored_as`` is made from its column by that
    function (JSON or space-separated text, say)."""
    hints = get_type_hints(cls)
    names = [field.name for field in fields(cls)]
    if unknown := set(stored_as) - set(names):
        raise TypeError(f"{cls.__name__} has no fields {sorted(unknown)}")
    makers = [stored_as.get(name, bool if hints[name] is bool else None) for name in names]

    def mapped(row: Sequence[Any]) -> D:
        columns = zip(makers, row, strict=False)  # the columns after the fields are the caller's
        return cls(*(value if make is None else make(value) for make, value in columns))

    return mapped


def space_separated(text: str) -> tuple[str, ...]:
    """The words of a space-separated column (tags, categories, reasons)."""
    return tuple(text.split())


class Refused(Exception):
    """Why storage refused an action: ``reason`` (each kind of refusal lists its own) and, for a
    listing that ended (closed or fulfilled), ``at``: since when."""

    def __init__(self, reason: str, at: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.at = at


def now_seconds() -> int:
    return int(time.time())


async def read_one(db: aiosqlite.Connection, sql: str, params: Params = ()) -> Any:
    """The first row of a query run inside the caller's transaction (None if there is none);
    ``Any``, so that callers unpack the columns they selected."""
    async with db.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def first_column(db: aiosqlite.Connection, sql: str, params: Params = ()) -> list[Any]:
    """The first column of every row of a query run inside the caller's transaction (the ids
    it selects, most often)."""
    return [row[0] for row in await db.execute_fetchall(sql, params)]


async def changed_one(db: aiosqlite.Connection, sql: str, params: Params = ()) -> bool:
    """Run a statement inside the caller's transaction; True if it changed exactly one row:
    the guarded update, insert or delete found the row in the state it expected."""
    cursor = await db.execute(sql, params)
    return cursor.rowcount == 1


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


class WriteLock:
    """One write transaction at a time, and how many writers wait for it, so that a long
    writer (the matching pass) can commit early and let them in."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.waiting = 0

    def locked(self) -> bool:
        return self._lock.locked()

    async def acquire(self) -> None:
        self.waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self.waiting -= 1

    def release(self) -> None:
        self._lock.release()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *_exc: object) -> None:
        self.release()


Step = Callable[[aiosqlite.Connection], Awaitable[None]]

# The WAL file is cut back to this size when it starts over after a checkpoint: a long
# writer that deferred its checkpoints (Database.checkpoints_aside) leaves no file of its
# size behind.
WAL_KEPT_BYTES = 32 * 2**20


class Checkpoints:
    """PASSIVE checkpoints of the WAL of the database file at ``path`` (none for a database in
    memory), one at a time, on a connection of their own in a worker thread: no reader or
    writer waits for them. See :meth:`Database.checkpoints_aside`."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._running: asyncio.Future[None] | None = None

    def start(self) -> None:
        """Start a checkpoint, unless one is still running (what it copies is copied the
        next time)."""
        if self._running is not None:
            if not self._running.done():
                return
            self._running.result()  # a failed checkpoint fails its writer
        if self._path:
            self._running = asyncio.ensure_future(asyncio.to_thread(self._checkpoint))

    async def finish(self) -> None:
        """Wait for the running checkpoint, then checkpoint what was written since."""
        try:
            if self._running is not None:
                await asyncio.shield(self._running)
            if self._path:
                await asyncio.to_thread(self._checkpoint)
        finally:
            if self._connection is not None:
                self._connection.close()

    def _checkpoint(self) -> None:
        if self._connection is None:
            self._connection = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False
            )
        self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


class Database:
    """The connection and what every group of queries needs. Open with :meth:`open`."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._write_lock = WriteLock()
        self._carrier: Callable[[], Ride | None] | None = None

    @classmethod
    async def open(cls, path: Path | str) -> Self:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; transaction() issues BEGIN itself.
        # More distinct statements than sqlite3's default cache of 128 (every feature's, and the
        # search's variants): an evicted one is parsed and planned again on its next use.
        db = await aiosqlite.connect(path, isolation_level=None, cached_statements=512)
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA busy_timeout = 5000")
        await db.execute(f"PRAGMA journal_size_limit = {WAL_KEPT_BYTES}")
        database = cls(db)
        await database._migrate()
        return database

    async def close(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        """Apply the migrations not applied yet, each in one transaction.

        Foreign keys are off meanwhile, as SQLite's procedure for rebuilding a table asks (a
        table dropped to be replaced by its copy must not take the rows that refer to it
        along, nor fail their checks), and ``PRAGMA foreign_key_check`` must find nothing
        before each migration commits. A failing migration leaves the previous version.
        """
        async with self._db.execute("PRAGMA user_version") as cursor:
            (current,) = await cursor.fetchone()  # type: ignore[misc]
        pending = [(number, script) for number, script in _migrations() if number > current]
        if not pending:
            return
        # Outside any transaction: SQLite ignores this pragma inside one.
        await self._db.execute("PRAGMA foreign_keys = OFF")
        try:
            for number, script in pending:
                await self._apply(number, script)
        finally:
            await self._db.execute("PRAGMA foreign_keys = ON")

    async def _apply(self, number: int, script: str) -> None:
        try:
            # executescript runs the statements in order and leaves the transaction open.
            await self._db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};"
            )
            async with self._db.execute("PRAGMA foreign_key_check") as cursor:
                broken = await cursor.fetchall()
            if broken:
                raise RuntimeError(
                    f"migration {number} breaks foreign keys: {[tuple(row) for row in broken]}"
                )
        except BaseException:
            if self._db.in_transaction:
                await self._db.execute("ROLLBACK")
            raise
        await self._db.execute("COMMIT")

    async def ping(self) -> None:
        """Raise unless the database answers a trivial query (the health check)."""
        await self._fetchone("SELECT 1")

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            (version,) = await cursor.fetchone()  # type: ignore[misc]
        return int(version)

    @asynccontextmanager
    async def riding(self, ride: Ride, *, or_alone: bool = False) -> AsyncIterator[None]:
        """Write ``ride``'s statements in the same transaction as the next write this task
        makes within the block, after that write's own statements: a dialog's step with the
        step's own write, so that a kill leaves both or neither. If no write commits within
        the block, nothing of the ride is written (its ``settled`` is told if one failed) -
        or, ``or_alone``, it is written on its own at the block's end (the language chosen,
        when the step after it could not be asked). A block that raises writes nothing more:
        the write it failed in took the ride along, or none came."""
        riding = _Riding(ride, asyncio.current_task())
        token = _RIDING.set(riding)
        try:
            yield
            if or_alone and not riding.committed:
                riding.taken = False  # a write whose commit failed gave it back
                await self._write()  # nothing of its own: the ride, and what is carried
        finally:
            _RIDING.reset(token)

    def carry_with(self, carrier: Callable[[], Ride | None]) -> None:
        """Have every write transaction carry what ``carrier`` gives when asked (the
        persistence's data waiting for a write: see bot.persistence), after the task's ride."""
        self._carrier = carrier

    def _rides(self) -> list[tuple[Ride, list[Statement]]]:
        """The rides of the write transaction about to commit, with their statements: the
        task's own first, then the carrier's (asked after: the task's may take from it)."""
        taken: list[tuple[Ride, list[Statement]]] = []
        riding = _RIDING.get()
        if riding is not None and not riding.taken and riding.task is asyncio.current_task():
            riding.taken = True  # one transaction takes it
            taken.append((riding, riding.statements()))
        carried = self._carrier() if self._carrier is not None else None
        if carried is not None:
            taken.append((carried, carried.statements()))
        return taken

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block's statements as one transaction, committed at the end or rolled back
        (with the rides it carries: see :meth:`riding`)."""
        async with self._write_lock:
            rides: list[tuple[Ride, list[Statement]]] = []
            try:
                await self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                rides = self._rides()
                await self._in_thread(lambda db: _commit(db, rides))
            except BaseException:
                await self._rollback()
                _settle(rides, committed=False)
                raise
            _settle(rides, committed=True)

    @asynccontextmanager
    async def page_cache(self, kib: int) -> AsyncIterator[None]:
        """SQLite's page cache at ``kib`` KiB for the block, then back to what it was (the
        default 2 MB): the pages beyond are freed. For a long job that reads and writes
        all over the file (the matching pass), so that the interactive bot's memory stays as
        it is the rest of the time."""
        row = await self._fetchone("PRAGMA cache_size")
        await self._db.execute(f"PRAGMA cache_size = {-int(kib)}")
        try:
            yield
        finally:
            await self._db.execute(f"PRAGMA cache_size = {int(row[0]) if row else -2000}")

    @asynccontextmanager
    async def checkpoints_aside(self) -> AsyncIterator[Checkpoints]:
        """No automatic checkpoint of the WAL on this connection for the block: the block
        starts them itself (:meth:`Checkpoints.start`), and one more runs at its end. For a
        long writer that changes the same index pages in transaction after transaction (the
        matching pass): each page is copied into the database once every few transactions
        instead of after every commit, and the copying runs on a connection and a thread of
        its own, beside the writer and everyone else's reads and writes (an automatic
        checkpoint runs inside a COMMIT, on this connection's only thread, under the write
        lock)."""
        row = await self._fetchone("PRAGMA wal_autocheckpoint")
        listed = await self._fetchone("PRAGMA database_list")
        await self._db.execute("PRAGMA wal_autocheckpoint = 0")
        checkpoints = Checkpoints(str(listed[2]) if listed else "")
        try:
            yield checkpoints
        finally:
            await self._db.execute(f"PRAGMA wal_autocheckpoint = {int(row[0]) if row else 1000}")
            await checkpoints.finish()

    async def _write_steps(self, steps: Iterable[Step]) -> None:
        """Run ``steps`` (each a few statements on the open transaction) in one transaction
        while no other writer waits; when one does, what the steps before did is committed
        and that writer goes first, then the next steps go on in a new transaction. So each
        step commits whole, and nobody waits behind a long writer for more than one step:
        the matching pass writes a few hundred listings a transaction (fewer commits, and
        fewer times the same index pages go to the WAL) without making a person's write
        wait for all of them."""
        lock = self._write_lock
        await lock.acquire()
        held = True
        try:
            await self._db.execute("BEGIN IMMEDIATE")
            for index, step in enumerate(steps):
                if index and lock.waiting:
                    await self._db.execute("COMMIT")
                    lock.release()
                    held = False
                    await lock.acquire()
                    held = True
                    await self._db.execute("BEGIN IMMEDIATE")
                await step(self._db)
            await self._db.execute("COMMIT")
        except BaseException:
            if held:
                await self._rollback()
            raise
        finally:
            if held:
                lock.release()

    async def _rollback(self) -> None:
        """Undo the open transaction, even when the wait for its BEGIN was cancelled (a job
        stopped at shutdown): aiosqlite's thread runs a statement it was handed whether or not
        its waiter is still there, and in order, so this comes after that BEGIN; without it
        the transaction stayed open and every later write failed ("cannot start a transaction
        within a transaction")."""
        with contextlib.suppress(sqlite3.OperationalError):  # the BEGIN itself had failed
            await self._db.execute("ROLLBACK")

    # Each await on aiosqlite is a trip to its database thread and back, which costs more CPU
    # (two thread switches, the event loop woken) than a small indexed statement: a read is one
    # trip, not three (execute, fetch, close), and :meth:`_write` commits in one trip.

    async def _fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        return await self._in_thread(lambda db: db.execute(sql, params).fetchone())

    async def _fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        return list(await self._db.execute_fetchall(sql, params))

    async def _first_column(self, sql: str, params: Params = ()) -> list[Any]:
        """:func:`first_column`, outside a transaction."""
        return await first_column(self._db, sql, params)

    async def _record(
        self, make: Callable[[aiosqlite.Row], T], sql: str, params: Params = ()
    ) -> T | None:
        """The query's first row as ``make`` makes it into a record; None if there is none."""
        row = await self._fetchone(sql, params)
        return None if row is None else make(row)

    async def _records(
        self, make: Callable[[aiosqlite.Row], T], sql: str, params: Params = ()
    ) -> list[T]:
        """Every row of the query as ``make`` makes it into a record."""
        return [make(row) for row in await self._fetchall(sql, params)]

    async def _write(self, *statements: Statement) -> int:
        """Run ``statements`` as one transaction (with the rides it carries: see
        :meth:`riding`), in one trip to the database thread; returns how many rows they
        changed (the rides' not counted)."""

        def run(db: sqlite3.Connection) -> int:
            changed = 0
            db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    changed += max(0, db.execute(sql, params).rowcount)
                _commit(db, rides)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return changed

        async with self._write_lock:
            rides = self._rides()
            if not statements and not rides:
                return 0
            try:
                changed = await self._in_thread(run)
            except BaseException:
                _settle(rides, committed=False)
                raise
            _settle(rides, committed=True)
            return changed

    async def _in_thread(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` on aiosqlite's database thread, as its own methods run.

        aiosqlite has no public way to run several statements in one trip; this uses its
        queue (``_execute``) and connection (``_conn``), which every aiosqlite method goes
        through (pinned below 0.23 in pyproject.toml; tests/test_storage.py covers it).
        """
        db = self._db
        return await db._execute(lambda: work(db._conn))  # type: ignore[no-untyped-call,no-any-return]


def _commit(db: sqlite3.Connection, rides: list[tuple[Ride, list[Statement]]]) -> None:
    """The rides' statements, then COMMIT (on the database thread, in the open transaction)."""
    for _ride, statements in rides:
        for sql, params in statements:
            db.execute(sql, params)
    db.execute("COMMIT")
