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

from bot.i18n import autonym, translator
from bot.views import ROLE_LABELS, flag

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
class DemoPerson:
    """Someone of the demo world and the answers they give during onboarding.

    With ``location`` they share a point (the bot resolves the place offline); otherwise they
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

    @property
    def chosen_language(self) -> str:
        """The language this person picks in the bot's language question."""
        return self.bot_language or self.language


DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        "Demo · Mayor of Saint-Dié",
        "fr",
        "municipality",
        "FR",
        "Saint-Dié-des-Vosges",
        "Vosges",
        19_500,
    ),
    DemoPerson(
        "Demo · Mayor of Sveti Vlas", "bg", "municipality", "BG", "Свети Влас", "Бургас", 3_500
    ),
    DemoPerson(
        "Demo · Mayor of Hallstatt", "de", "municipality", "AT", "Hallstatt", "Oberösterreich", 750
    ),
    DemoPerson(
        "Demo · Ana, volunteer in Ljubljana",
        "sl",
        "volunteer",
        location=(46.0569, 14.5058),
        bot_language="en",
    ),
    DemoPerson(
        "Demo · Eesti Küla association",
        "et",
        "organisation",
        "EE",
        "Tartu",
        None,
        organisation="Demo · Eesti Küla",
        bot_language="en",
    ),
    DemoPerson(
        "Demo · Admin",
        "en",
        "organisation",
        "BE",
        "Brussels",
        None,
        organisation="Demo · Community Sharing team",
        user_id=DEMO_ADMIN_ID,
        admin=True,
    ),
)


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
        """Create every demo person and let them onboard, all at once; then their listings."""
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
            *(onboard(u, p) for u, p in zip(users, self.people, strict=True)),
            return_exceptions=True,
        )
        for entry, person, result in zip(self.seeded, self.people, results, strict=True):
            if isinstance(result, BaseException):
                self.problems.append(f"{person.first_name}: {result}")
                log.warning("demo: %s could not onboard: %s", person.first_name, result)
            else:
                entry["ready"] = True
        await post_demo_listings(server, users)
        self.status = "partial" if self.problems else "ready"
        log.info("demo world %s: %d people", self.status, len(users))


async def post_demo_listings(server: BotApiServer, users: list[SandboxUser]) -> None:
    """Hook: the demo people's open offers and requests, posted through the bot's /post dialog.

    TODO(posting): once the posting dialog exists, script it here like :func:`onboard`
    (e.g. the Saint-Dié mayor requests "[Demo] Volunteers for the library move", the
    Ljubljana volunteer offers "[Demo] Weekend help with translations"), so the demo has open
    listings to browse and match. Until then the demo world is people only.
    """
    return None


# --- the scripted onboarding --------------------------------------------------------------


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
        await _press(user, _("✅ Yes"))
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
    return await _press(user, _("✅ Save"))


async def _step(user: SandboxUser, action: Any) -> ChatMessage:
    """Do ``action`` (an awaitable user action), then return the bot's next message."""
    await action
    return await user.wait_for_bot_message(timeout=STEP_TIMEOUT)


async def _press(user: SandboxUser, label: str) -> ChatMessage:
    """Press the newest inline button showing ``label`` (a leading "✓ " mark is ignored)."""
    for message in reversed(user.messages):
        for row in message.inline_keyboard if message.from_bot else ():
            for button in row:
                if button["text"].removeprefix("✓ ") == label and "callback_data" in button:
                    return await _step(user, user.press_data(message.id, button["callback_data"]))
    raise SandboxUserError(f"no button {label!r}; the chat shows:\n{user.describe_chat()}")
