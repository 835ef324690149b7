"""Putting members and listings straight into storage, for tests that are about reading them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.delivery.timing import Preferences
from bot.storage import Listing, NewListing, Profile, Storage


async def member(
    storage: Storage,
    user_id: int,
    *,
    language: str = "en",
    country: str = "FR",
    place: str = "Saint-Dié",
    role: str = "municipality",
    quiet_hours: tuple[int, int] | None = None,
) -> None:
    """A member with a profile. Without quiet hours unless given (e.g. (22, 8), everyone's
    default): whatever the hour the suite runs at, what the bot pushes to them goes at once
    (tests of quiet hours give them)."""
    await storage.register_member(user_id, f"Member {user_id}", language)
    await storage.save_profile(
        user_id,
        Profile(
            role=role,
            country=country,
            place=place,
            organisation_name="Atelier" if role == "organisation" else None,
        ),
    )
    await set_quiet_hours(storage, user_id, quiet_hours)


async def set_quiet_hours(
    storage: Storage, user_id: int, quiet_hours: tuple[int, int] | None = None
) -> None:
    """Give a member these quiet hours, or none, so that what the bot pushes to them goes at
    once whatever the hour the suite runs at; people who joined over HTTP (onboarding, /start)
    have everyone's default, 22:00-08:00 in their time zone."""
    prefs = await storage.preferences(user_id)
    start, end = quiet_hours or (None, None)
    await storage.save_preferences(
        user_id, Preferences(prefs.frequency, prefs.timezone, start, end), 0
    )


async def listing(storage: Storage, owner: int, now: int, **fields: object) -> Listing:
    values: dict[str, object] = dict(
        kind="offer",
        category="equipment",
        tags=("fire_rescue",),
        title="Used fire pump",
        description="A portable fire pump in good order.",
        language="en",
        country="FR",
        region="Vosges",
        place="Saint-Dié",
        reach="country",
        duration_days=30,
    )
    values.update(fields)
    await storage.save_draft(owner, {"seeded": True}, now)
    published = await storage.publish(owner, NewListing(**values), now=now, daily_limit=10_000)
    assert published is not None
    return published


# A Bulgarian village's request and a French offer that meet across languages (a fire pump,
# in the same category, reaching all of Europe): the pair the matching tests start from.
BULGARIAN_REQUEST: dict[str, object] = dict(
    kind="request",
    language="bg",
    title="Нужна ни е пожарна помпа",
    description="Търсим преносима пожарна помпа за доброволците в селото.",
    country="BG",
    region="Burgas",
    place="Sveti Vlas",
    reach="europe",
)
FRENCH_OFFER: dict[str, object] = dict(
    kind="offer",
    language="fr",
    title="Motopompe incendie à donner",
    description="Une motopompe portable en bon état, avec ses tuyaux.",
    tags=("fire_rescue", "vehicles"),
    reach="europe",
)


async def verified(storage: Storage, user_id: int, now: int = 0) -> None:
    """Make the member a verified official of their municipality (an admin approved them)."""
    request = await storage.request_verification(user_id, email=None, note=None, now=now)
    await storage.decide_verification(request.id, 0, approve=True, now=now)


REFUSED = "outbox refused"


@asynccontextmanager
async def refused_notices(storage: Storage, like: str = "%") -> AsyncIterator[None]:
    """Inside, writing a notification whose dedup key is ``like`` fails with :data:`REFUSED`:
    a change queued with its notices must then not be written either."""
    async with storage.transaction() as db:  # not inside a transaction of the bot's
        await db.execute(
            "CREATE TEMP TRIGGER refused_notices BEFORE INSERT ON outbox "
            f"WHEN NEW.dedup_key LIKE '{like}' BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
        )
    try:
        yield
    finally:
        async with storage.transaction() as db:
            await db.execute("DROP TRIGGER temp.refused_notices")


@asynccontextmanager
async def untold(storage: Storage) -> AsyncIterator[None]:
    """What is seeded inside queues no contact notice: a contact request, a message or an
    Accept written through storage queues its notices in its own transaction, as the dialogs
    do; a test about what comes later (follow-ups, outcomes) starts as if they went out long
    ago. Only those: the running bot's own (a pass, a job) are queued as ever meanwhile."""
    async with storage.transaction() as db:
        await db.execute(
            "CREATE TEMP TRIGGER seeded_untold BEFORE INSERT ON outbox "
            "WHEN NEW.kind LIKE 'contact!_%' ESCAPE '!' BEGIN SELECT RAISE(IGNORE); END"
        )
    try:
        yield
    finally:
        async with storage.transaction() as db:
            await db.execute("DROP TRIGGER temp.seeded_untold")
