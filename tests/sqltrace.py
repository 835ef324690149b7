"""The statements SQLite runs on the storage's connection, through its own trace: for tests
that count reads or write transactions."""

from __future__ import annotations

from bot.storage import Storage


class Traced:
    """Every statement run but transactions' BEGIN and COMMIT (``run``), and the write
    transactions, each as the list of its statements (``all``)."""

    def __init__(self) -> None:
        self.run: list[str] = []
        self.all: list[list[str]] = []

    def trace(self, sql: str) -> None:
        if sql.startswith("BEGIN"):
            self.all.append([])
        elif not sql.startswith(("COMMIT", "--")):
            statement = " ".join(sql.split())
            self.run.append(statement)
            if self.all:
                self.all[-1].append(statement)


async def traced(storage: Storage) -> Traced:
    """Start tracing the storage's connection."""
    found = Traced()
    await storage._db.set_trace_callback(found.trace)
    return found
