"""Inline buttons' callback data: one typed codec for every feature.

A button's data is ``<prefix>:<action>[:<field>]...``. Each feature declares its prefix once
(:class:`Prefix`, which refuses a prefix declared twice) and each kind of button once
(:attr:`Prefix.button`), with the type of every field. The same declaration builds the data,
checking Telegram's 64-byte limit there and then, and routes it back
(:meth:`Button.handler`): the callback receives the fields decoded and checked.

Callback data comes from the client and can be anything: forged, cut, a number too big for
SQLite, a tag of another category. Whatever does not decode - or what the callback itself
refuses by raising :class:`InvalidButton` - is answered here, in one place, and changes
nothing. So is a button declared valid only on its own message (``own_message=True``: its
data names no message, an Undo) pressed from another one, and so are the two other ways a
press can be out of date: a button of an earlier step of a dialog, and a button on a message
whose buttons a handler has already taken away (:class:`ClosedMessages`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

from telegram import Bot, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, NetworkError
from telegram.ext import CallbackQueryHandler

from bot.delivery.bundles import pressed_item, without_item
from bot.i18n import LANGUAGES
from bot.storage.broadcasts import ANNOUNCEMENT_KINDS

if TYPE_CHECKING:
    from bot.context import BotContext

log = logging.getLogger(__name__)
MAX_BYTES = 64  # Telegram's limit for callback data
SQLITE_INTEGER_MAX = 2**63 - 1  # ids are SQLite INTEGERs

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")
R = TypeVar("R")


class InvalidButton(Exception):
    """Callback data that does not decode, or that a callback finds makes no sense now (a tag
    of another category, a page past the end): answered with :func:`refuse_invalid`. Raise it
    before answering the press."""


# --- fields ------------------------------------------------------------------------------


class Field(Generic[T]):
    """One typed part of callback data."""

    def encode(self, value: T) -> str:
        raise NotImplementedError

    def decode(self, text: str) -> T:
        raise NotImplementedError

    def longest(self) -> T:
        """The value with the longest encoding (to check the 64-byte limit in tests)."""
        raise NotImplementedError


class Number(Field[int]):
    """A whole number from ``low`` to ``high``, written in ASCII digits without sign or
    leading zeros (``²``, ``-1``, ``007`` and ``9`` * 30 are refused)."""

    _DIGITS = re.compile(r"0|[1-9][0-9]{0,18}")

    def __init__(self, low: int = 1, high: int = SQLITE_INTEGER_MAX) -> None:
        self.low, self.high = low, high

    def encode(self, value: int) -> str:
        if not self.low <= value <= self.high:
            raise ValueError(f"{value} is out of {self.low}..{self.high}")
        return str(value)

    def decode(self, text: str) -> int:
        if not self._DIGITS.fullmatch(text):
            raise InvalidButton(text)
        value = int(text)
        if not self.low <= value <= self.high:
            raise InvalidButton(text)
        return value

    def longest(self) -> int:
        return self.high


class OneOf(Field[str]):
    """One of a fixed set of keys (kinds, categories, languages, countries...)."""

    def __init__(self, values: Iterable[str]) -> None:
        self.values = frozenset(values)
        if any(":" in value for value in self.values):
            raise ValueError("a key of callback data cannot contain ':'")

    def encode(self, value: str) -> str:
        if value not in self.values:
            raise ValueError(f"{value!r} is not one of the declared keys")
        return value

    def decode(self, text: str) -> str:
        if text not in self.values:
            raise InvalidButton(text)
        return text

    def longest(self) -> str:
        return max(self.values, key=lambda value: len(value.encode()))


class Token(Field[str]):
    """A short lowercase hex token (a search's id)."""

    def __init__(self, length: int) -> None:
        self.length = length
        self._shape = re.compile(f"[0-9a-f]{{{length}}}")

    def encode(self, value: str) -> str:
        if not self._shape.fullmatch(value):
            raise ValueError(f"{value!r} is not a token of {self.length} hex digits")
        return value

    def decode(self, text: str) -> str:
        if not self._shape.fullmatch(text):
            raise InvalidButton(text)
        return text

    def longest(self) -> str:
        return "f" * self.length


ID = Number()  # a row's id


def parse(text: str, field: Field[T]) -> T | None:
    """``text`` read as ``field`` (a deep link's id, a page number read by hand), or None."""
    try:
        return field.decode(text)
    except InvalidButton:
        return None


# --- buttons -------------------------------------------------------------------------------


Callback = Callable[["Update", "BotContext", T], Awaitable[R]]


class Button(Generic[T]):
    """One kind of button of one feature: ``<prefix>[:<scope>][:<action>][:<field>]...``.

    :meth:`data` builds its callback data, :meth:`handler` routes it to a callback that gets
    the decoded value: ``None`` without fields, the field's value with one, a tuple with more
    (a scoped prefix's scope comes first).
    """

    def __init__(
        self, prefix: Prefix, layout: list[str | Field[Any]], *, own_message: bool = False
    ) -> None:
        self.prefix = prefix
        # Data that names no message (a confirmation's Yes, an Undo) acts only where it was
        # sent: copied onto another message, it would act unasked and rewrite that one.
        self.own_message = own_message
        # An action may have several parts ("leave:yes"): one literal each.
        self.layout = [
            piece
            for part in layout
            for piece in (part.split(":") if isinstance(part, str) else [part])
        ]
        self.fields = [part for part in layout if isinstance(part, Field)]
        # Any data of this shape reaches the handler, malformed fields too: they are refused
        # there, with a clear answer, instead of falling through to another feature.
        shape = "".join(
            ":" + (re.escape(part) if isinstance(part, str) else "[^:]*") for part in layout
        )
        self.pattern = re.compile(f"^{re.escape(prefix.name)}{shape}$")
        prefix.buttons.append(self)

    def _values(self, value: Any) -> tuple[Any, ...]:
        if not self.fields:
            return ()
        return (value,) if len(self.fields) == 1 else tuple(value)

    def data(self, value: T) -> str:
        """The callback data of a button for ``value``; ValueError beyond 64 bytes."""
        values = iter(self._values(value))
        parts = [
            part if isinstance(part, str) else part.encode(next(values)) for part in self.layout
        ]
        data = ":".join([self.prefix.name, *parts])
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    def decode(self, data: str) -> T:
        """The value of a button's data; :class:`InvalidButton` if it does not decode."""
        if not self.pattern.match(data):
            raise InvalidButton(data)
        parts = data.split(":")[1:]
        values = [
            part.decode(text)
            for part, text in zip(self.layout, parts, strict=True)
            if isinstance(part, Field)
        ]
        if not values:
            return None  # type: ignore[return-value]  # a Button[None]
        return values[0] if len(values) == 1 else tuple(values)  # type: ignore[return-value]

    def longest(self) -> str:
        """The data of this button with every field at its longest (tests check the limit)."""
        values = [field.longest() for field in self.fields]
        return self.data(values[0] if len(values) == 1 else tuple(values))  # type: ignore[arg-type]

    def matches(self, data: str | None) -> bool:
        return data is not None and bool(self.pattern.match(data))

    def handler(
        self,
        callback: Callback[T, R],
        refused: Callable[[Update, BotContext], Awaitable[None]] | None = None,
    ) -> CallbackQueryHandler[Any, R | None]:
        """A handler for this button's presses: ``callback(update, context, value)``; data
        that does not decode, or that the callback refuses with :class:`InvalidButton`, is
        answered by :func:`refuse_invalid` - or ``refused``, for a feature with words of its
        own (an alert that no longer exists) - and the handler returns None: a dialog stays on
        its step. So is an ``own_message`` button pressed from another message, before the
        callback runs: a forged press learns nothing (not even that the choice is already
        made) and changes nothing."""

        async def pressed(update: Update, context: BotContext) -> R | None:
            assert update.callback_query is not None
            try:
                value = self.decode(update.callback_query.data or "")
                if self.own_message and not on_pressed_message(update):
                    raise InvalidButton(update.callback_query.data)
                return await callback(update, context, value)
            except InvalidButton:
                await (refused or refuse_invalid)(update, context)
                return None

        pressed.__name__ = getattr(callback, "__name__", "pressed")
        return CallbackQueryHandler(pressed, pattern=self.pattern)


PREFIXES: dict[str, Prefix] = {}  # every prefix of the bot, by name


class DeclareButton(Protocol):
    """How a kind of button is declared (:attr:`Prefix.button`, and a dialog's own): its
    ``action`` and its fields, in order; the value its callback gets is typed after them."""

    @overload
    def __call__(self, action: str, *, own_message: bool = ...) -> Button[None]: ...
    @overload
    def __call__(self, action: str, a: Field[A], /, *, own_message: bool = ...) -> Button[A]: ...
    @overload
    def __call__(
        self, action: str, a: Field[A], b: Field[B], /, *, own_message: bool = ...
    ) -> Button[tuple[A, B]]: ...
    @overload
    def __call__(
        self, action: str, a: Field[A], b: Field[B], c: Field[C], /, *, own_message: bool = ...
    ) -> Button[tuple[A, B, C]]: ...
    @overload
    def __call__(
        self,
        action: str,
        a: Field[A],
        b: Field[B],
        c: Field[C],
        d: Field[D],
        /,
        *,
        own_message: bool = ...,
    ) -> Button[tuple[A, B, C, D]]: ...


class Prefix:
    """The first part of a feature's callback data, declared once for the whole bot."""

    def __init__(self, name: str, feature: str, *, scope: Field[Any] | None = None) -> None:
        if name in PREFIXES:
            raise ValueError(f"callback prefix {name!r} is declared twice")
        if not re.fullmatch(r"[a-z]{2,5}", name):
            raise ValueError(f"callback prefix {name!r} must be 2 to 5 lowercase letters")
        self.name, self.feature, self.scope = name, feature, scope
        self.buttons: list[Button[Any]] = []
        PREFIXES[name] = self
        self.button: DeclareButton = self._declare

    def _declare(self, action: str, *fields: Field[Any], own_message: bool = False) -> Button[Any]:
        """Declare a kind of button: ``action`` ('' for none) and its fields, in order;
        ``own_message`` if it is valid only on the message it was sent with."""
        return Button(self, [*([action] if action else []), *fields], own_message=own_message)

    @overload
    def scoped(self, action: str) -> Button[Any]: ...
    @overload
    def scoped(self, action: str, a: Field[A], /) -> Button[tuple[Any, A]]: ...

    def scoped(self, action: str, *fields: Field[Any]) -> Button[Any]:
        """A button whose data carries this prefix's scope first (``br:<search>:<action>``):
        the callback gets the scope alone, or a tuple of the scope and the fields."""
        assert self.scope is not None
        return Button(self, [self.scope, action, *fields])

    def any(self) -> re.Pattern[str]:
        """A pattern for every data of this prefix (for a feature's last word on its own
        buttons: stale or forged)."""
        return re.compile(f"^{re.escape(self.name)}(:|$)")


# --- answering what is out of date ----------------------------------------------------------


async def refuse_invalid(update: Update, context: BotContext) -> None:
    """Forged or malformed data, or data that makes no sense now: change nothing."""
    assert update.callback_query is not None
    await update.callback_query.answer(
        context.i18n.gettext("This button is no longer valid."), show_alert=True
    )


async def refuse_stale(update: Update, context: BotContext) -> None:
    """A button from an old message, of a finished dialog, or of no feature: change nothing."""
    assert update.callback_query is not None
    await update.callback_query.answer(
        context.i18n.gettext("This button is no longer active. Send /start to see the menu."),
        show_alert=True,
    )


async def refuse_earlier_step(update: Update, context: BotContext) -> None:
    """A dialog's button that is not (or no longer) one of the current step's."""
    assert update.callback_query is not None
    await update.callback_query.answer(
        context.i18n.gettext("This button belongs to an earlier step. Please use the latest one."),
        show_alert=True,
    )


@dataclass
class ClosedMessages:
    """Messages whose buttons a handler took away. A second tap that was already in flight
    (or a forged one) must not act again, nor edit to the same text (a 400)."""

    closed: dict[tuple[int, int], float]

    def __init__(self) -> None:
        self.closed = {}

    def close(self, chat_id: int, message_id: int) -> None:
        now = time.monotonic()
        if len(self.closed) > 10_000:  # a press comes within seconds of the first: keep it short
            self.closed = {key: at for key, at in self.closed.items() if now - at <= 600}
        self.closed[(chat_id, message_id)] = now

    def __contains__(self, key: object) -> bool:
        return key in self.closed


def in_bundle(update: Update) -> int | None:
    """The number of the item whose button was pressed, when the pressed message is a bundle
    of notifications that waited (:mod:`bot.delivery.bundles`): the other items are not the
    press's to close, edit or take the buttons of. None for any other message."""
    query = update.callback_query
    message = query.message if query is not None else None
    if query is None or not isinstance(message, Message):
        return None
    return pressed_item(message.reply_markup, query.data)


def on_pressed_message(update: Update) -> bool:
    """Whether the pressed data is that of a button on the message it came with. Telegram
    sends that message as it is now, keyboard included, and the presser cannot change it: for
    a button whose data does not name its message (an Undo), data copied onto another message
    of the chat is not there. :meth:`Button.handler` refuses what is not, for a button
    declared with ``own_message``."""
    query = update.callback_query
    message = query.message if query is not None else None
    if query is None or not isinstance(message, Message) or message.reply_markup is None:
        return False
    keyboard = message.reply_markup.inline_keyboard
    return any(button.callback_data == query.data for row in keyboard for button in row)


def close_message(update: Update, context: BotContext) -> None:
    """Mark the message of the pressed button as done with: a second tap already in flight
    is then answered as stale (see :func:`bot.handlers.members.identify`). Not a bundle:
    its other items' buttons still work (and each press is checked where it acts)."""
    query = update.callback_query
    if query is not None and query.message is not None and in_bundle(update) is None:
        context.community.closed.close(query.message.chat.id, query.message.message_id)


async def take_buttons(
    bot: Bot, chat_id: int, message_id: int, keep: InlineKeyboardMarkup | None = None
) -> None:
    """Remove the keyboard of a message the bot sent (but for the buttons to ``keep``).

    How the chat looks, not what a step does: when Telegram refuses the edit (gone, too old,
    "message is not modified": none left) or still fails past the replies' retries, the
    buttons stay and the step goes on; close the message first (ClosedMessages) so that a
    late press of them is answered as stale."""
    try:
        await bot.edit_message_reply_markup(chat_id, message_id, reply_markup=keep)
    except BadRequest:
        pass
    except NetworkError as trouble:
        log.info("buttons of message %s left in place: %s", message_id, trouble)


async def drop_buttons(update: Update) -> None:
    """Remove the keyboard of the message pressed (gone or forged messages have none); in a
    bundle, the pressed item's buttons only."""
    query = update.callback_query
    assert query is not None
    message = query.message
    if not isinstance(message, Message):
        return
    item = in_bundle(update)
    keep = None
    if item is not None and message.reply_markup is not None:
        keep = without_item(message.reply_markup, item)
    await take_buttons(query.get_bot(), message.chat.id, message.message_id, keep)


async def answer_in_place(
    update: Update, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """What a press leads to, in the pressed message; when that message is a bundle, in a
    message of its own (editing the bundle would wipe its other items), the pressed item's
    buttons going."""
    query = update.callback_query
    assert query is not None
    if in_bundle(update) is None:
        await query.edit_message_text(text, reply_markup=reply_markup)
        return
    await drop_buttons(update)
    assert query.message is not None
    await query.message.chat.send_message(text, reply_markup=reply_markup)


async def close_buttons(update: Update, context: BotContext) -> None:
    """Acknowledge a pressed button and take away the keyboard it was on, so that it cannot
    be pressed twice."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    close_message(update, context)
    await drop_buttons(update)


# --- every feature's prefix, and the buttons more than one module builds or reads -----------
# In the order of bot/app.py. A feature's other buttons are declared in its own module
# (a dialog's in its dialog), under the prefix declared here.

MENU_BUTTONS = Prefix("menu", "menu: the main menu's profile, language and help")
MENU = MENU_BUTTONS.button("", OneOf(("profile", "language", "help")))
LANGUAGE = Prefix("lang", "menu: choosing the language").button("", OneOf(LANGUAGES))

LISTING = Prefix("lo", "listings: opening a listing")
OPEN_LISTING = LISTING.button("", ID)

CONTACTS = Prefix("ct", "contacts: writing to someone, accepting, declining, the relay")
WRITE_TO_AUTHOR = CONTACTS.button("ask", ID)
WRITE_AGAIN = CONTACTS.button("msg", ID)
ACCEPT_CONTACT = CONTACTS.button("ok", ID)
DECLINE_CONTACT = CONTACTS.button("no", ID)
CONTACT_LIST = CONTACTS.button("list")
RELAY = CONTACTS.button("rl", ID)  # write to the other side of an accepted contact
END_RELAY = CONTACTS.button("end", ID)

FOLLOWUPS = Prefix("fu", "followups: did an accepted contact lead somewhere?")

ONBOARDING = Prefix("ob", "onboarding")
PROFILE_EDIT = Prefix("prof", "onboarding: editing the profile").button("edit")

POSTING = Prefix("po", "posting")
NEW_POST = Prefix("post", "posting: from the menu").button("new")

LISTINGS = Prefix("ls", "my listings: the owner's buttons on a card")
EDIT_LISTING = LISTINGS.button("edit", ID)
ASK_FULFILLED = LISTINGS.button("done", ID)
ASK_CLOSE = LISTINGS.button("close", ID)
ASK_RENEWAL = LISTINGS.button("renew", ID)
MY_LISTINGS = Prefix("my", "my listings: the list")
MY_LIST = MY_LISTINGS.button("list")
EDITING = Prefix("ed", "my listings: editing a listing")

VERIFICATION = Prefix("vf", "verification")
LEAVE_MUNICIPALITY = VERIFICATION.button("leave")
APPROVE_REQUEST = VERIFICATION.button("ok", ID)  # by an admin, or a verified official

ALERTS = Prefix("al", "alerts: the list")
ALERT_LIST = ALERTS.button("list")
PAUSE_ALERT_FROM_NOTIFICATION = ALERTS.button("pn", ID)
ALERT_DIALOG = Prefix("an", "alerts: making or editing one")

SETTINGS = Prefix("set", "settings")
SHOW_SETTINGS = SETTINGS.button("show")

BROADCASTS = Prefix("bc", "broadcasts: the composer and the progress message")
PAUSE_BROADCAST = BROADCASTS.button("pause", ID)
RESUME_BROADCAST = BROADCASTS.button("resume", ID)
CANCEL_BROADCAST = BROADCASTS.button("cx", ID)
# Under an announcement (built at delivery, read by the announcements feature): its kind and
# its broadcast, so that the press is checked against the message it came in.
ANNOUNCEMENTS = Prefix("ann", "announcements: a recipient turning a kind of them off or on")
STOP_ANNOUNCEMENTS = ANNOUNCEMENTS.button("off", OneOf(ANNOUNCEMENT_KINDS), ID)

STATS = Prefix("st", "figures")

MATCHES = Prefix("mt", "matches: a match card's own buttons")
NOT_RELEVANT = MATCHES.button("nr", ID)

ADMIN = Prefix("ad", "admin: the queues")
VERIFICATION_QUEUE = ADMIN.button("vq")
REPORT_QUEUE = ADMIN.button("rq")
ADMIN_LOG = ADMIN.button("log")
VERIFIED_MUNICIPALITIES = ADMIN.button("vm")  # their first page

REPORTS = Prefix("rp", "reports: reporting a listing")
REPORT_LISTING = REPORTS.button("", ID)
MODERATION = Prefix("mod", "moderation: an admin acting on a reported listing")

PRIVACY = Prefix("me", "privacy: erasing one's data")

BROWSE = Prefix("br", "browse: the filters and pages of one search", scope=Token(6))
NEW_SEARCH = BROWSE.button("new")
