"""The data layer: one SQLite database through aiosqlite, and every SQL statement of the bot.

Handlers and dialogs never build SQL; they call :class:`Storage`, whose methods take and return
plain values and dataclasses (nothing here imports ``telegram``). The queries are grouped by
what they are about, one module each; :class:`Storage` is all of them on one connection.
"""

from __future__ import annotations

from bot.storage.alerts import Alert, AlertDraft, AlertQueries
from bot.storage.base import Database, fold, now_seconds
from bot.storage.broadcasts import Broadcast, BroadcastQueries, Segment
from bot.storage.contacts import Contact, ContactMessage, ContactQueries, ContactRefused
from bot.storage.figures import (
    Exchanges,
    ExchangeSeries,
    FigureQueries,
    Figures,
    Interactions,
    Series,
)
from bot.storage.hybrid import Candidate, HybridSearchQueries
from bot.storage.listings import (
    Listing,
    ListingQueries,
    ListingRefused,
    NewListing,
    PostingLimit,
    SearchQuery,
)
from bot.storage.live import HitAtSending, LiveQueries, MatchAtSending
from bot.storage.matching import MatchingQueries
from bot.storage.members import ROLES, Member, MemberQueries, Profile
from bot.storage.menus import MenuQueries
from bot.storage.moderation import ModerationQueries, ReportedListing, ReportRefused
from bot.storage.outbox import Enqueued, Notification, OutboxQueries
from bot.storage.outcomes import Counterpart, FollowupAnswer, OutcomeQueries
from bot.storage.privacy import PrivacyQueries
from bot.storage.ptb import PersistenceQueries
from bot.storage.relay import RelayQueries
from bot.storage.vectors import StoredVector, VectorQueries
from bot.storage.verification import VerificationQueries, VerificationRefused, VerificationRequest

__all__ = [
    "ROLES",
    "Alert",
    "AlertDraft",
    "Broadcast",
    "Candidate",
    "Contact",
    "ContactMessage",
    "ContactRefused",
    "Counterpart",
    "Database",
    "Enqueued",
    "ExchangeSeries",
    "Exchanges",
    "Figures",
    "FollowupAnswer",
    "HitAtSending",
    "Interactions",
    "Listing",
    "ListingRefused",
    "MatchAtSending",
    "Member",
    "NewListing",
    "Notification",
    "PostingLimit",
    "Profile",
    "ReportRefused",
    "ReportedListing",
    "SearchQuery",
    "Segment",
    "Series",
    "Storage",
    "StoredVector",
    "VerificationRefused",
    "VerificationRequest",
    "fold",
    "now_seconds",
]


class Storage(
    OutcomeQueries,  # before ListingQueries and ContactQueries, whose queries it builds on
    RelayQueries,  # before ContactQueries, likewise
    MemberQueries,
    ListingQueries,
    OutboxQueries,
    PersistenceQueries,
    BroadcastQueries,
    FigureQueries,
    MatchingQueries,
    LiveQueries,
    AlertQueries,
    ContactQueries,
    ModerationQueries,
    VerificationQueries,
    PrivacyQueries,
    MenuQueries,
    VectorQueries,
    HybridSearchQueries,
):
    """The bot's database: open with ``await Storage.open(path)``, close with ``close()``."""
