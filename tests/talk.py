"""Helpers for tests that talk to the bot through the sandbox's user side."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import autonym, translator
from bot.places.countries import flag
from bot.sandbox.server import BotApiServer
from bot.sandbox.users import ChatMessage, SandboxUser
from bot.storage import Storage
from tests import seed


def plain(markup: str) -> str:
    """What a translated HTML string looks like on screen: tags gone, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


async def says(user: SandboxUser, text: str, **wait: object) -> ChatMessage:
    """Send ``text`` and return the bot's next message."""
    await user.send_text(text)
    return await user.wait_for_bot_message(**wait)  # type: ignore[arg-type]


async def started(server: BotApiServer, *people: tuple[str, str, int]) -> list[SandboxUser]:
    """People who opened the chat with /start, each given as (first name, Telegram language,
    user id); in the order given."""
    users = [server.create_user(name, language, user_id=id_) for name, language, id_ in people]
    for user in users:
        await says(user, "/start")
    return users


@dataclass(frozen=True)
class Person:
    """Someone in a test's world, for :func:`joined`: made by :func:`seeded` (a profile seeded
    in their language) or :func:`newcomer` (nothing seeded: the admin, say)."""

    name: str
    language: str
    user_id: int
    profile: dict[str, Any] | None = field(default_factory=dict)
    verified_at: int | None = None


def seeded(
    name: str, language: str, user_id: int, *, verified_at: int | None = None, **profile: Any
) -> Person:
    """A member whose profile is :func:`seed.member`'s with ``profile`` (country, place, role,
    quiet hours), in ``language``; a verified official of their municipality since
    ``verified_at`` if given."""
    return Person(name, language, user_id, profile, verified_at)


def newcomer(name: str, language: str, user_id: int) -> Person:
    """Someone with nothing seeded: they only open the chat."""
    return Person(name, language, user_id, None)


async def joined(server: BotApiServer, storage: Storage, *people: Person) -> list[SandboxUser]:
    """The people seeded (profiles, then verification), then each opening the chat with /start,
    in the order given."""
    for someone in people:
        if someone.profile is not None:
            await seed.member(
                storage, someone.user_id, language=someone.language, **someone.profile
            )
        if someone.verified_at is not None:
            await seed.verified(storage, someone.user_id, someone.verified_at)
    return await started(server, *((p.name, p.language, p.user_id) for p in people))


def data_of(message: ChatMessage, label: str) -> str:
    """The callback data of the button labelled ``label`` (to forge a press or read its id)."""
    return next(
        b["callback_data"] for row in message.inline_keyboard for b in row if b["text"] == label
    )


def shown(message: ChatMessage) -> str:
    return message.text or message.caption or ""


def showing_button(user: SandboxUser, label: str) -> ChatMessage | None:
    """The message whose button ``label`` a press would press (the newest showing it)."""
    for message in reversed(user.messages):
        if message.from_bot and any(b["text"] == label for r in message.inline_keyboard for b in r):
            return message
    return None


async def taps(user: SandboxUser, label: str, predicate=None, **wait: object) -> ChatMessage:
    """Press an inline button and return what the bot shows next: a new message, or the
    pressed message edited into something else (a dialog's next question takes the place of
    the one answered). An edit that only takes the buttons away is not an answer."""
    pressed = showing_button(user, label)
    await user.press(label)
    wait.pop("include_edits", None)
    return await user.wait_for_bot_message(
        lambda m: (
            (pressed is None or m.id != pressed.id or shown(m) != shown(pressed))
            and (predicate is None or predicate(m))
        ),
        include_edits=True,
        **wait,  # type: ignore[arg-type]
    )


def containing(fragment: str):
    """A predicate for wait_for_bot_message: the message's visible text contains ``fragment``."""
    return lambda message: fragment in (message.text or message.caption or "")


async def onboard(
    user: SandboxUser,
    language: str,
    *,
    role: str = "municipality",
    country: str = "BG",
    place: str = "Sveti Vlas",
    region: str | None = "Burgas",
    population: str = "3 500",
    organisation: str = "Atelier Vert",
    save: bool = True,
) -> ChatMessage:
    """Walk onboarding by pressing the labels a person reading ``language`` sees.

    Returns the bot's last message (the main menu; without ``save``, the summary, unsaved).
    """
    t = translator(language)
    _ = t.gettext
    await says(user, "/start")
    await taps(user, "✓ " + autonym(language))
    labels = {
        "municipality": _("🏛 Municipality"),
        "organisation": _("💼 Project holder or organisation"),
        "volunteer": _("🤝 Volunteer"),
    }
    await taps(user, labels[role])
    if role == "organisation":
        await says(user, organisation)
    await user.tap_reply_button(_("🌍 Choose the country"))
    await user.wait_for_bot_message()
    await taps(user, f"{flag(country)} {t.country(country)}")
    await says(user, place)
    if region is None:
        await taps(user, _("Skip"))
    else:
        await says(user, region)
    if role == "municipality":
        await says(user, population)
    if not save:
        return user.messages[-1]
    await taps(user, _("✅ Save"))
    return await user.wait_for_bot_message(containing(plain(_("What would you like to do?"))))
