"""The sandbox's demo world: a few people who set themselves up by talking to the real bot.

Nothing here writes the bot's database. Each demo person is a sandbox user who sends ``/start``
and answers the onboarding questions through the user side, exactly as someone in the web chat
would; the bot cannot tell them from anyone else. Their names start with ``Demo ·`` so that
demo data is recognisable wherever it shows up (cards, contact requests, the admin's lists).

:class:`DemoWorld` is what the web chat sees (``GET /sandbox/api/demo``): whether seeding is
under way, which people it made, and a ``generation`` counter that grows with every reset.
``python -m bot`` (sandbox mode) seeds it after the bot is running and rebuilds it when the
page asks for a reset (``POST /sandbox/api/demo/reset``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.dialogs.posting import KIND_CHOICES
from bot.i18n import autonym, translator
from bot.places.countries import flag
from bot.taxonomy import TAG_NAMES
from bot.views.cards import DURATION_LABELS, REACH_LABELS, category_label
from bot.views.texts import ROLE_LABELS

from .chatview import ChatMessage
from .errors import SandboxUserError

if TYPE_CHECKING:
    from .server import BotApiServer
    from .users import SandboxUser

log = logging.getLogger(__name__)

# The demo admin has a fixed id so that sandbox start-up can add it to ADMIN_IDS.
DEMO_ADMIN_ID = 999_000_001
STEP_TIMEOUT = 15.0  # seconds for the bot to answer one step (start-up can be slow)


@dataclass(frozen=True)
class DemoListing:
    """An offer or a request a demo person posts, and the answers they give in /post.

    ``category`` and ``tags`` are keys of :mod:`bot.taxonomy`; ``reach`` of
    :data:`bot.cards.REACH_LABELS`; ``duration`` of the dialog's duration buttons. Titles
    start with "[Demo]" so that demo listings are recognisable in any list.
    """

    kind: str  # "offer" | "request"
    category: str
    title: str
    description: str
    tags: tuple[str, ...] = ()
    reach: str = "europe"
    duration: str = "3m"


@dataclass(frozen=True)
class DemoPerson:
    """Someone of the demo world and the answers they give during onboarding.

    With ``location`` they share a point and take the nearest place offered; otherwise they
    choose ``country`` from the buttons and type ``place``, ``region`` and ``population``.
    ``language`` is the Telegram language of the account; ``bot_language`` the one they
    choose in the bot (the same when the bot speaks it).
    """

    first_name: str
    language: str
    role: str  # "municipality" | "organisation" | "volunteer"
    country: str = ""
    place: str = ""
    region: str | None = None  # None: tap Skip
    population: int | None = None
    organisation: str | None = None
    location: tuple[float, float] | None = None
    bot_language: str | None = None
    user_id: int | None = None
    admin: bool = False
    listings: tuple[DemoListing, ...] = ()

    @property
    def chosen_language(self) -> str:
        """The language this person picks in the bot's language question."""
        return self.bot_language or self.language


DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        "Demo · Mayor of Saint-Dié", "fr", "municipality", "FR", "Saint-Dié-des-Vosges",
        "Vosges", 19_500,
        listings=(
            DemoListing(
                "request", "volunteers", "[Demo] Bénévoles pour le Festival de géographie",
                "Chaque automne, Saint-Dié accueille le Festival international de géographie. "
                "Nous cherchons des bénévoles pour l'accueil et la traduction (anglais, "
                "allemand), trois jours début octobre.",
                tags=("events",), duration="3m",
            ),
        ),
    ),
    DemoPerson(
        "Demo · Mayor of Sveti Vlas", "bg", "municipality", "BG", "Свети Влас", "Бургас",
        3_500,
        listings=(
            DemoListing(
                "offer", "equipment", "[Demo] Пожарна кола за съседно село",
                "Пожарна кола от 1998 г. в работно състояние, с поддръжка до миналата година. "
                "Можем да я докараме през май.",
                tags=("vehicles", "fire_rescue"), reach="country", duration="1m",
            ),
            DemoListing(
                "request", "health", "[Demo] Търсим общопрактикуващ лекар",
                "Селото няма лекар от две години. Предлагаме жилище и обзаведен кабинет.",
                tags=("doctor",), duration="6m",
            ),
        ),
    ),
    DemoPerson(
        "Demo · Mayor of Hallstatt", "de", "municipality", "AT", "Hallstatt",
        "Oberösterreich", 750,
        listings=(
            DemoListing(
                "request", "expertise", "[Demo] Erfahrungen mit Besucherlenkung gesucht",
                "Hallstatt hat 750 Einwohner und an manchen Tagen 10 000 Tagesgäste. Wer hat "
                "gute Erfahrungen mit Buszeitfenstern, Besucherlenkung oder Eintrittssystemen?",
                tags=("tourism",),
            ),
        ),
    ),
    DemoPerson(
        "Demo · Ana, volunteer in Ljubljana", "sl", "volunteer",
        location=(46.0569, 14.5058), bot_language="en",
        listings=(
            DemoListing(
                "offer", "services", "[Demo] Weekend help with translations (sl, en, de)",
                "I translate municipal documents and web pages between Slovenian, English and "
                "German, a few hours every weekend, free of charge.",
                tags=("translation",),
            ),
        ),
    ),
    DemoPerson(
        "Demo · Eesti Küla association", "et", "organisation", "EE", "Tartu", None,
        organisation="Demo · Eesti Küla", bot_language="en",
        listings=(
            DemoListing(
                "offer", "expertise", "[Demo] Online services for small municipalities",
                "We help small municipalities put their services online with open-source tools "
                "used across Estonia. Workshops online or on site.",
                tags=("digital",),
            ),
        ),
    ),
    DemoPerson(
        "Demo · Admin", "en", "organisation", "BE", "Brussels", None,
        organisation="Demo · Community Sharing team", user_id=DEMO_ADMIN_ID, admin=True,
    ),
)  # fmt: skip


@dataclass
class DemoWorld:
    """The demo world's state, shown to the web chat, and the reset request it can make."""

    people: tuple[DemoPerson, ...] = DEMO_PEOPLE
    bot_languages: tuple[str, ...] = ()
    status: str = "starting"  # starting | seeding | ready | partial | resetting
    generation: int = 0
    seeded: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    reset_requested: asyncio.Event = field(default_factory=asyncio.Event)

    def request_reset(self) -> None:
        """Ask the sandbox launcher to rebuild the world (it owns the bot and the database)."""
        self.status = "resetting"
        self.reset_requested.set()

    def to_json(self) -> dict[str, Any]:
        """What ``GET /sandbox/api/demo`` answers."""
        return {
            "status": self.status,
            "generation": self.generation,
            "people": list(self.seeded),
            "problems": list(self.problems),
            "bot_languages": list(self.bot_languages),
        }

    async def seed(self, server: BotApiServer) -> None:
        """Create every demo person; all at once, each onboards, then posts their listings."""
        self.status, self.seeded, self.problems = "seeding", [], []
        users = [
            server.create_user(p.first_name, p.language, user_id=p.user_id) for p in self.people
        ]
        self.seeded = [
            {
                "id": u.id,
                "first_name": p.first_name,
                "role": p.role,
                "admin": p.admin,
                "ready": False,
            }
            for p, u in zip(self.people, users, strict=True)
        ]
        results = await asyncio.gather(
            *(settle_in(u, p) for u, p in zip(users, self.people, strict=True)),
            return_exceptions=True,
        )
        for entry, person, result in zip(self.seeded, self.people, results, strict=True):
            if isinstance(result, BaseException):
                self.problems.append(f"{person.first_name}: {result}")
                log.warning("demo: %s could not settle in: %s", person.first_name, result)
            else:
                entry["ready"] = True
        self.status = "partial" if self.problems else "ready"
        log.info("demo world %s: %d people", self.status, len(users))


# --- the scripts: onboarding, then /post ---------------------------------------------------


async def settle_in(user: SandboxUser, person: DemoPerson) -> None:
    """Onboard, then post each of the person's listings."""
    await onboard(user, person)
    for listing in person.listings:
        await post(user, person, listing)


async def onboard(user: SandboxUser, person: DemoPerson) -> ChatMessage:
    """Walk the onboarding dialog as ``person`` would, answering with what they see."""
    _ = translator(person.chosen_language).gettext
    t = translator(person.chosen_language)
    await _step(user, user.send_text("/start"))
    await _press(user, autonym(person.chosen_language))
    await _press(user, _(ROLE_LABELS[person.role]))
    if person.role == "organisation":
        await _step(user, user.send_text(person.organisation or person.first_name))
    if person.location is not None:
        await _step(
            user, user.tap_reply_button(_("📍 Share my location"), location=person.location)
        )
        await _press(user, "📍 ", prefix=True)  # the nearest place offered
    else:
        await _step(user, user.tap_reply_button(_("🌍 Choose the country")))
        await _press(user, f"{flag(person.country)} {t.country(person.country)}")
        await _step(user, user.send_text(person.place))
        if person.region is None:
            await _press(user, _("Skip"))
        else:
            await _step(user, user.send_text(person.region))
    if person.role == "municipality":
        await _step(user, user.send_text(str(person.population or 1_000)))
    return await _press(user, _("✅ Save"), ask=True)  # the main menu, after the thanks


async def post(user: SandboxUser, person: DemoPerson, listing: DemoListing) -> ChatMessage:
    """Post ``listing`` through /post, at the person's profile place; returns the card."""
    t = translator(person.chosen_language)
    _ = t.gettext
    await _ask(user, user.send_text("/post"))
    await _press(user, _(KIND_CHOICES[listing.kind]), ask=True)
    await _press(user, category_label(t, listing.category), ask=True)
    for tag in listing.tags:  # each tap ticks the tag in place and answers the press
        query_id = await user.press(_(TAG_NAMES[tag]))
        await user.wait_for_callback_answer(query_id, timeout=STEP_TIMEOUT)
    await _press(user, _("✅ Done"), ask=True)
    await _ask(user, user.send_text(listing.title))
    await _ask(user, user.send_text(listing.description))
    profile_place = _("📍 Use my profile's place: {place}").split("{place}")[0]
    await _press(user, profile_place, ask=True, prefix=True)
    await _press(user, _(REACH_LABELS[listing.reach]), ask=True)
    await _press(user, _("Skip"), ask=True)
    await _press(user, _(DURATION_LABELS[listing.duration]), ask=True)
    await _press(user, _("✅ Publish"))  # the thanks, then the published card
    return await user.wait_for_bot_message(timeout=STEP_TIMEOUT)


async def _ask(user: SandboxUser, action: Any) -> ChatMessage:
    """Do ``action``, then return the bot's next question (every /post step ends with
    buttons; some send a note before them)."""
    await action
    return await user.wait_for_bot_message(
        lambda message: bool(message.inline_keyboard), timeout=STEP_TIMEOUT
    )


async def _step(user: SandboxUser, action: Any) -> ChatMessage:
    """Do ``action`` (an awaitable user action), then return the bot's next message."""
    await action
    return await user.wait_for_bot_message(timeout=STEP_TIMEOUT)


async def _after_press(user: SandboxUser, pressed: ChatMessage, *, ask: bool) -> ChatMessage:
    """The bot's answer to a press: a new message, or the pressed one edited into another
    text (a dialog's next question takes the place of the one answered); ``ask``: one with
    buttons."""
    before = pressed.text or pressed.caption or ""

    def answer(message: ChatMessage) -> bool:
        changed = message.id != pressed.id or (message.text or message.caption or "") != before
        return changed and (not ask or bool(message.inline_keyboard))

    return await user.wait_for_bot_message(answer, timeout=STEP_TIMEOUT, include_edits=True)


async def _press(
    user: SandboxUser, label: str, *, ask: bool = False, prefix: bool = False
) -> ChatMessage:
    """Press the newest inline button showing ``label`` (a leading "✓ " mark is ignored;
    with ``prefix``, a label starting so); return the next message (``ask``: question)."""
    for message in reversed(user.messages):
        for row in message.inline_keyboard if message.from_bot else ():
            for button in row:
                text = button["text"].removeprefix("✓ ")
                matches = text.startswith(label) if prefix else text == label
                if matches and "callback_data" in button:
                    await user.press_data(message.id, button["callback_data"])
                    return await _after_press(user, message, ask=ask)
    raise SandboxUserError(f"no button {label!r}; the chat shows:\n{user.describe_chat()}")
