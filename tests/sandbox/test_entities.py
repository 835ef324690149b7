"""Entities Telegram adds by itself, in its order, on what people and bots send; link previews."""

from __future__ import annotations

import pytest
from telegram import LinkPreviewOptions, MessageEntity
from telegram.ext import Application

from bot.sandbox import BotApiServer
from bot.sandbox.autodetect import detect_entities
from bot.sandbox.entities import utf16_slice


def found(text: str, *, phones: bool = True) -> list[tuple[str, str]]:
    return [
        (e["type"], utf16_slice(text, e["offset"], e["length"]))
        for e in detect_entities(text, phones=phones)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "/search https://example.org",
            [("bot_command", "/search"), ("url", "https://example.org")],
        ),
        ("see example.org.", [("url", "example.org")]),
        ("www.mairie-village.fr/agenda?x=1, then", [("url", "www.mairie-village.fr/agenda?x=1")]),
        ("(example.org/a_(b)).", [("url", "example.org/a_(b)")]),
        ("EXAMPLE.ORG", [("url", "EXAMPLE.ORG")]),
        ("example.org:8080/x", [("url", "example.org:8080/x")]),
        ("example.org:99999/x", [("url", "example.org")]),
        ("http://127.0.0.1:8081/chat", [("url", "http://127.0.0.1:8081/chat")]),
        ("https://intranet.corp/x", [("url", "https://intranet.corp/x")]),  # scheme: any domain
        ("https://example.org/#top", [("url", "https://example.org/#top")]),  # not a hashtag
        ("tg://resolve?domain=x.", [("url", "tg://resolve?domain=x")]),
        ("mail a@b.eu now", [("email", "a@b.eu")]),
        (
            "mailto:first.last+tag@mairie.example.fr",
            [("email", "first.last+tag@mairie.example.fr")],
        ),
        ("user@example.org", [("email", "user@example.org")]),
        (
            "+1-212-555-0123 and +33612345678",
            [
                ("phone_number", "+1-212-555-0123"),
                ("phone_number", "+33612345678"),
            ],
        ),
        # Left as text: no known top-level domain, no dot, a sentence, a file name, a version...
        ("notes.txt v1.2.3 e.g. this", []),
        ("the end.It was", []),
        ("http://localhost:8080/x", []),
        ("Example.Org", []),
        ("a/b and 1/2", []),
        # ...and phone numbers Telegram does not document: spaces, too short.
        ("+33 6 12 34 56 78", []),
        ("+1234", []),
    ],
)
def test_what_telegram_surely_finds(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


def test_findings_come_in_telegrams_order_and_do_not_overlap() -> None:
    text = "#tag a@b.eu /start@my_bot https://x.org/#frag $USD @someone"
    entities = detect_entities(text)
    assert [e["offset"] for e in entities] == sorted(e["offset"] for e in entities)
    assert found(text) == [
        ("hashtag", "#tag"),
        ("email", "a@b.eu"),
        ("bot_command", "/start@my_bot"),
        ("url", "https://x.org/#frag"),
        ("cashtag", "$USD"),
        ("mention", "@someone"),
    ]
    # Phone numbers only where asked (what people send).
    assert found("call +33612345678", phones=False) == []


async def test_a_persons_command_with_a_link_reaches_bots_command_first(
    ptb: Application, server: BotApiServer
) -> None:
    marie = server.create_user("Marie")
    await marie.send_text("/search https://example.org")
    [update] = await ptb.bot.get_updates()
    entities = [(e.type, e.offset, e.length) for e in update.message.entities]
    assert entities == [("bot_command", 0, 7), ("url", 8, 19)]
    assert update.message.parse_entities() == {
        update.message.entities[0]: "/search",
        update.message.entities[1]: "https://example.org",
    }


async def test_what_bots_send_gets_links_and_addresses_not_phones(
    ptb: Application, server: BotApiServer, api
) -> None:
    marie = server.create_user("Marie")
    await marie.send_text("hi")
    text = "Mairie: mairie.example.fr, a@b.eu, +33612345678"
    sent = await ptb.bot.send_message(marie.id, text)
    assert [(e.type, sent.parse_entity(e)) for e in sent.entities] == [
        ("url", "mairie.example.fr"),
        ("email", "a@b.eu"),
    ]
    # Given url/mention entities are dropped: Telegram finds those itself.
    given = await ptb.bot.send_message(
        marie.id, "plain words", entities=[MessageEntity("url", 0, 5), MessageEntity("bold", 6, 5)]
    )
    assert [(e.type, e.offset) for e in given.entities] == [("bold", 6)]
    # parse_mode wins over entities.
    _, body = await api(
        "sendMessage",
        chat_id=marie.id,
        text="<i>x</i> y",
        parse_mode="HTML",
        entities=[{"type": "bold", "offset": 0, "length": 1}],
    )
    both = body["result"]
    assert both["text"] == "x y" and both["entities"] == [
        {"type": "italic", "offset": 0, "length": 1}
    ]


async def test_link_preview_options_are_shown_as_telegram_shows_them(
    ptb: Application, server: BotApiServer, api
) -> None:
    marie = server.create_user("Marie")
    await marie.send_text("hi")
    send = ptb.bot.send_message
    off = LinkPreviewOptions(is_disabled=True)
    sent = await send(marie.id, "See https://example.org/agenda", link_preview_options=off)
    assert sent.link_preview_options == off
    # Nothing to preview (no link, or a bare domain): "is_disabled" is not shown.
    assert (await send(marie.id, "No link", link_preview_options=off)).link_preview_options is None
    bare = await send(marie.id, "See example.org", link_preview_options=off)
    assert bare.link_preview_options is None
    chosen = LinkPreviewOptions(url="https://example.org/", prefer_small_media=True)
    sent = await send(marie.id, "About us", link_preview_options=chosen)
    assert sent.link_preview_options == chosen
    # Without options nothing is shown (Telegram would have made a preview).
    assert (await send(marie.id, "https://example.org/x")).link_preview_options is None
    edited = await ptb.bot.edit_message_text(
        "Now https://example.org/new", marie.id, sent.message_id, link_preview_options=off
    )
    assert edited.link_preview_options == off
    status, body = await api(
        "sendMessage", chat_id=marie.id, text="x", link_preview_options={"is_disabled": "yes"}
    )
    assert (status, body["description"]) == (
        400,
        'Bad Request: field "is_disabled" must be of type Boolean',
    )
