"""A python-telegram-bot persistence that keeps everything in the bot's SQLite database.

No published package offers one, so this is ours: conversation states, ``user_data``,
``chat_data`` and ``bot_data`` live in the ``ptb_*`` tables of :mod:`bot.storage`, as JSON.
PTB flushes changes every ``update_interval`` seconds and at shutdown; the update processor
also flushes after every update (:mod:`bot.updates`), and a dialog writes its next step ahead,
before showing it (:meth:`SQLitePersistence.save_step`, used by :mod:`bot.dialogs.dialog`), so
a crash loses no answered step.

PTB hands over every user's and chat's data it touched, changed or not, and the state a
step has just written ahead: a write identical to the last one for the same key is skipped
(the interactive benchmark measured 22 statements an update before, 10 after).

*Never older than a step.* Updates of different people run side by side, and the flush after
one person's update hands over everyone's touched data, copied when the flush began. Such a
copy can reach SQLite after another person's step was written ahead (the fault suite caught
it: a mayor's place lost, the region asked, after a kill). So a person's data is written only
if it is still what they have in memory (:meth:`SQLitePersistence.watch`): else a step wrote
the newer one, or their update is under way and the flush at its end writes it. A dialog's
state written ahead stands until PTB hands over that same state: anything else it hands over
meanwhile was copied before the step.

*One write transaction per update* (issue 19). A dialog step writes its answers ahead, then,
once Telegram answered, records its question as confirmed sent (issue 16, rule 10). That
record needs no transaction of its own: :meth:`SQLitePersistence.confirm` keeps it until the
next write of any update carries it in the same transaction (under load, another person's
step, a few milliseconds later), the person's own next step makes it obsolete (that step
records its own question), or :data:`CARRY_WITHIN` seconds have passed and it is written
alone. A kill meanwhile asks the question again after the restart, so it is on screen twice:
as before when a kill came between Telegram's answer and the record's own commit, in a window
now up to :data:`CARRY_WITHIN` longer. No question is ever lost, no answered step either (the
step's own write still comes before its question). A record still waiting when the person
erases their data is never written (only a member's data is carried). Data that never had a
row and is empty is not written (the first update of every chat wrote ``{}``), and what was
loaded at start counts as written.

What waits rides with *any* write, the features' own too (a member's language, a listing,
an outbox row: ``Database.carry_with``), and is taken only when that write's transaction
runs, in the write lock: a record taken is written before any later write, so it can never
land after a newer step of the same person. And a dialog's last step, whose feature writes
(the profile saved, the listing published) before the dialog ends, ends it in that same
transaction (:meth:`SQLitePersistence.step_ride`, ``Database.riding``): a kill leaves both
or neither, and the update costs one commit; the dialog's own write of the same is skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from telegram.ext import BasePersistence, PersistenceInput

from bot.storage import Storage
from bot.storage.base import Ride, Statement
from bot.storage.ptb import DialogStep

log = logging.getLogger(__name__)
JSONDict = dict[str, Any]
ConversationKey = tuple[int | str, ...]
# How long a question's confirmation (see SQLitePersistence.confirm) may wait for another
# write to carry it: about the time a busy bot takes to write several other steps.
CARRY_WITHIN = 0.05
# Data waiting to be written with the next write, by user id, as JSON.
Carried = dict[int, str]
# Dates and dataclasses passed through (to the json module, which refuses them, as the
# storage's own encoding does): what one write path stores, the other never refuses.
_SORTED = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def sorted_json(value: object) -> str:
    """``value`` as JSON with its keys sorted: what tells two versions of a person's data
    apart. A step encodes the same data four or five times (its write, the comparisons, its
    question's record): orjson, not the json module, which took 2.4 % of the event loop at
    saturation (py-spy). What orjson refuses (an integer beyond 64 bits), the json module."""
    try:
        return orjson.dumps(value, option=_SORTED).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, sort_keys=True)


# What a key without a row stands for: PTB's data starts as an empty dict.
EMPTY = sorted_json({})


class SQLitePersistence(BasePersistence[JSONDict, JSONDict, JSONDict]):
    """Stores PTB's data in :class:`~bot.storage.Storage`. Callback data is not stored."""

    def __init__(self, storage: Storage, update_interval: float = 60) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=True, chat_data=True, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.storage = storage
        # A hash of what each key holds in the database (last written, or loaded at start),
        # as JSON: an identical write is skipped. Hashes, not the JSON: one entry per person.
        self._written: dict[tuple[str, object], int] = {}
        # The kinds of data loaded at start: a key of theirs without a row holds nothing.
        self._loaded: set[str] = set()
        # Dialog states written ahead, as JSON, until PTB hands over the same.
        self._ahead: dict[tuple[str, object], str] = {}
        self._live_user_data: Mapping[int, JSONDict] | None = None
        # People's data to write with the next write (confirmed questions); the timer that
        # has it written on its own if no write comes (see confirm), and that write.
        self._waiting: Carried = {}
        self._timer: asyncio.TimerHandle | None = None
        self._alone: set[asyncio.Task[None]] = set()
        self.carry_within = CARRY_WITHIN
        # Dialog steps written by a ride (see step_ride), by conversation: the update, state
        # and data (hashed) it wrote, so that the dialog's own write of the same is skipped.
        self._ridden: dict[tuple[str, ConversationKey], tuple[int | None, str, int]] = {}
        storage.carry_with(self._carry)

    def watch(self, live_user_data: Mapping[int, JSONDict]) -> None:
        """The application's ``user_data``: a copy PTB hands over that differs from it is
        older than what a step wrote or what the end of an update will flush."""
        self._live_user_data = live_user_data

    def _holds(self, key: tuple[str, object]) -> int | None:
        """The hash of what ``key`` holds in the database, if known."""
        held = self._written.get(key)
        if held is None and key[0] in self._loaded:
            return hash(EMPTY)  # no row was loaded, and every write since is recorded
        return held

    def _unchanged(self, key: tuple[str, object], value: object) -> bool:
        """True if ``key`` holds ``value`` already; else ``value`` counts as written from now
        (the caller writes it)."""
        return self._same(key, sorted_json(value))

    def _same(self, key: tuple[str, object], encoded: str) -> bool:
        """:meth:`_unchanged`, for a value encoded as JSON (keys sorted)."""
        if self._holds(key) == hash(encoded):
            return True
        self._written[key] = hash(encoded)
        return False

    def _forget(self, key: tuple[str, object]) -> None:
        """What ``key`` holds is no longer known (a write failed): its next write goes."""
        self._written[key] = 0  # the hash of no JSON text

    def _loading(self, of: str, data: Mapping[int, JSONDict] | Mapping[None, JSONDict]) -> None:
        self._loaded.add(of)
        for key, value in data.items():
            self._written[(of, key)] = hash(sorted_json(value))

    async def get_user_data(self) -> dict[int, JSONDict]:
        data = await self.storage.load_data("user")
        self._loading("user", data)
        return data

    async def get_chat_data(self) -> dict[int, JSONDict]:
        data = await self.storage.load_data("chat")
        self._loading("chat", data)
        return data

    async def get_bot_data(self) -> JSONDict:
        data = await self.storage.load_bot_data()
        self._loading("bot", {None: data})
        return data

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> dict[ConversationKey, object]:
        return await self.storage.load_conversations(name)

    async def _write_if_changed(
        self,
        key: tuple[str, object],
        value: object,
        write: Callable[[], Awaitable[None]],
    ) -> None:
        """``write`` (carrying what waits: see :meth:`confirm`) unless it would store what
        ``key`` holds already."""
        if self._unchanged(key, value):
            return
        if key[0] == "user" and isinstance(key[1], int):
            self._obsolete(key[1])
        try:
            await write()
        except BaseException:
            self._forget(key)
            raise

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        written_ahead = self._ahead.get(("conversation", (name, key)))
        if written_ahead is not None:
            if written_ahead == json.dumps(new_state):
                del self._ahead[("conversation", (name, key))]  # PTB caught up with the step
            return  # the step's own state, already written, or a copy older than it
        await self._write_if_changed(
            ("conversation", (name, key)),
            new_state,
            lambda: self.storage.save_conversation(name, key, new_state),
        )

    async def update_user_data(self, user_id: int, data: JSONDict) -> None:
        live = self._live_user_data.get(user_id) if self._live_user_data is not None else None
        if live is not None and live != data:
            return  # a copy older than the person's data: see the module's docstring
        await self._write_if_changed(
            ("user", user_id),
            data,
            lambda: self.storage.save_data("user", user_id, data),
        )

    async def update_chat_data(self, chat_id: int, data: JSONDict) -> None:
        await self._write_if_changed(
            ("chat", chat_id),
            data,
            lambda: self.storage.save_data("chat", chat_id, data),
        )

    async def update_bot_data(self, data: JSONDict) -> None:
        await self._write_if_changed(
            ("bot", None),
            data,
            lambda: self.storage.save_bot_data(data),
        )

    async def update_callback_data(self, data: Any) -> None:
        """Callback data is not stored: our buttons carry short, self-describing strings."""

    async def drop_chat_data(self, chat_id: int) -> None:
        self._forget(("chat", chat_id))
        await self.storage.drop_data("chat", chat_id)
        self._written[("chat", chat_id)] = hash(EMPTY)

    async def drop_user_data(self, user_id: int) -> None:
        self._waiting.pop(user_id, None)  # never written after the erasure
        self._forget(("user", user_id))
        await self.storage.drop_data("user", user_id)
        self._written[("user", user_id)] = hash(EMPTY)

    async def refresh_user_data(self, user_id: int, user_data: JSONDict) -> None:
        """The database is only written by this process, so memory is always current."""

    async def refresh_chat_data(self, chat_id: int, chat_data: JSONDict) -> None:
        """See :meth:`refresh_user_data`."""

    async def refresh_bot_data(self, bot_data: JSONDict) -> None:
        """See :meth:`refresh_user_data`."""

    async def flush(self) -> None:
        """Write the data waiting to be carried (every update_* call has committed)."""
        await asyncio.gather(*self._alone)
        await self._write_waiting()

    async def save_step(
        self,
        name: str,
        key: ConversationKey,
        state: object | None,
        user_id: int,
        data: JSONDict,
        *,
        update_id: int | None = None,
        now: int = 0,
        draft: JSONDict | None = None,
    ) -> None:
        """Write ahead a dialog's next state (the one its callback is about to return to
        ConversationHandler), the user's answers, the update that led there and, if given,
        the person's listing draft, in one transaction, with the data waiting to be carried
        (see :meth:`confirm`; the person's own is obsolete). PTB's own flush later hands over
        the same state and data: skipped as unchanged; so is this write when a ride of the
        same update wrote the same already (see :meth:`step_ride`)."""
        step = DialogStep(name, key, state, user_id, data, update_id, now, draft)
        ridden = self._ridden.pop((name, key), None) if draft is None else None
        if ridden is not None and ridden == self._ride_of(step):
            return
        self._forget(("user", user_id))
        self._forget(("conversation", (name, key)))
        self._ahead[("conversation", (name, key))] = json.dumps(state)
        self._obsolete(user_id)
        await self.storage.save_dialog_step(step)
        # PTB's flush after this update would write the same again: let it skip.
        self._unchanged(("user", user_id), data)
        self._unchanged(("conversation", (name, key)), state)

    def step_ride(self, step: DialogStep, made: Callable[[], None]) -> Ride:
        """A dialog's step (as :meth:`save_step` writes it) to ride in the transaction of the
        step's own write (``Database.riding``: the profile saved, the listing published), and
        ``made`` once it committed (the step made in memory, before any other task runs). The
        dialog's own :meth:`save_step` of the same, later in the update, is then skipped."""
        return _StepRide(self, step, made)

    @staticmethod
    def _ride_of(step: DialogStep) -> tuple[int | None, str, int]:
        """What tells a step written by a ride: its update, state and data (hashed)."""
        data = sorted_json(step.user_data)
        return step.update_id, json.dumps(step.state), hash(data)

    def _rode(self, step: DialogStep) -> None:
        """A ride wrote this step: what the keys hold now (PTB's older copies skipped)."""
        conversation = ("conversation", (step.name, step.key))
        self._forget(("user", step.user_id))
        self._forget(conversation)
        self._unchanged(("user", step.user_id), step.user_data)
        self._unchanged(conversation, step.state)
        self._ahead[conversation] = json.dumps(step.state)
        self._ridden[(step.name, step.key)] = self._ride_of(step)

    def _carry(self) -> Ride | None:
        """What waits (confirmed questions), to ride with whatever write comes next."""
        return _Carrying(self) if self._waiting else None

    # --- a confirmed question, carried by the next write (see the module's docstring) -------

    def confirm(self, user_id: int, data: JSONDict) -> None:
        """Have ``data`` (a person's data whose question is now confirmed sent) written in
        the same transaction as the next write of any update, or within
        :attr:`carry_within` seconds if none comes. Encoded now: later steps change it."""
        encoded = sorted_json(data)
        if self._same(("user", user_id), encoded):
            return
        self._waiting[user_id] = encoded
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.carry_within, self._write_alone)

    def _write_alone(self) -> None:
        """No write came to carry what waits: write it in a transaction of its own."""
        self._timer = None
        task = asyncio.get_running_loop().create_task(self._writing_alone())
        self._alone.add(task)
        task.add_done_callback(self._alone.discard)

    async def _writing_alone(self) -> None:
        try:
            await self._write_waiting()
        except Exception:  # the database failing: every update says so too
            log.exception("could not record questions confirmed sent")

    def _take_waiting(self) -> Carried:
        """The data waiting to be carried, taken by the write transaction that runs now (in
        the write lock, so that what is taken is written before any later write)."""
        taken, self._waiting = self._waiting, {}
        self._nothing_waits()
        return taken

    def _obsolete(self, user_id: int) -> None:
        """A write of the person's newer data is under way: what of theirs waits goes."""
        self._waiting.pop(user_id, None)
        if not self._waiting:
            self._nothing_waits()

    def _nothing_waits(self) -> None:
        if self._timer is not None:  # the next to wait starts anew
            self._timer.cancel()
            self._timer = None

    def _lost(self, carried: Carried) -> None:
        """A write that carried ``carried`` failed: their next write goes, whatever it holds."""
        for user_id in carried:
            self._forget(("user", user_id))

    async def _write_waiting(self) -> None:
        await self.storage.write_carried()


class _StepRide:
    """A dialog's step riding in another write's transaction (see SQLitePersistence.step_ride)."""

    def __init__(
        self, persistence: SQLitePersistence, step: DialogStep, made: Callable[[], None]
    ) -> None:
        self.persistence, self.step, self.made = persistence, step, made

    def statements(self) -> list[Statement]:
        # The person's own confirmation waiting is obsolete: this step writes their data.
        self.persistence._obsolete(self.step.user_id)
        return self.persistence.storage.dialog_step(self.step)

    def settled(self, committed: bool) -> None:
        if not committed:  # nor the confirmation it made obsolete: their next write goes
            self.persistence._forget(("user", self.step.user_id))
            return
        self.persistence._rode(self.step)
        self.made()


class _Carrying:
    """The confirmations waiting, carried by another write (see SQLitePersistence.confirm)."""

    def __init__(self, persistence: SQLitePersistence) -> None:
        self.persistence = persistence
        self.carried: Carried = {}

    def statements(self) -> list[Statement]:
        self.carried = self.persistence._take_waiting()
        return self.persistence.storage.carried(self.carried)

    def settled(self, committed: bool) -> None:
        if not committed:
            self.persistence._lost(self.carried)
