"""The entities Telegram adds to a text by itself: links, e-mail addresses, /commands,
@mentions, #hashtags, $CASHTAGS and, in what people write, phone numbers.

Telegram's servers find them "in an unspecified way" (tdlib's maintainer, tdlib/td issue 3348);
tdlib's finder (``find_entities`` in td/telegram/MessageEntity.cpp), which the Bot API server
runs on what a bot sends, shows the rules. This module marks only what Telegram surely marks and
leaves the doubtful cases as plain text, so that no bot tested here comes to rely on an entity
that Telegram might not send:

* links with an ``http``, ``https`` or ``ftp`` scheme, or without one when the host ends in a
  well-known top-level domain (``example.org``, ``www.mairie-village.fr``; not ``notes.txt``);
  a host needs a dot (``http://localhost`` stays text, as in Telegram), a port and a path may
  follow, and trailing punctuation or an unbalanced closing bracket is not part of the link;
  a top-level domain written like a sentence start (``end.It``) is not one either;
* ``tg://`` links;
* e-mail addresses (``a@b.eu``; in ``mailto:a@b.eu`` the address);
* phone numbers, only in messages from people and only in the documented international form
  (``+1-212-555-0123``, ``+33612345678``): Telegram documents no other form, so
  ``+33 6 12 34 56 78`` stays text here.

Where two findings overlap, the one that starts first (then the longer one) wins, like
tdlib's ``remove_intersecting_entities``; what overlaps the sender's own code, pre, link or
mention entities is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .entities import Entity, sort_entities, utf16_offsets

# Top-level domains a link without a scheme may end in: the generic ones everybody knows and the
# country codes of Europe and of the largest countries elsewhere. All are in Telegram's list.
_GENERIC_TLDS = "com org net info biz edu gov int mil name pro mobi museum coop aero jobs travel"
_EUROPE_TLDS = (
    "eu ad al am at az ba be bg by ch cy cz de dk ee es fi fo fr ge gg gi gl gr hr hu ie im is it "
    "je li lt lu lv mc md me mk mt nl no pl pt ro rs ru se si sk sm tr ua uk va"
)
_OTHER_TLDS = "ae ar au br ca cl cn co in io jp kr kz mx nz sg tw us za app dev"
_KNOWN_TLDS = frozenset(f"{_GENERIC_TLDS} {_EUROPE_TLDS} {_OTHER_TLDS}".split())
# What Telegram cuts from the end of a link: "see example.org/a." links "example.org/a".
_LINK_TAIL = ".:;,('?!`"
_CLOSERS = {")": "(", "]": "[", "}": "{"}

_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_IPV4 = r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_LINK = re.compile(
    r"(?<![\w@#/.~-])"
    r"(?P<scheme>(?:https?|ftp)://)?"
    rf"(?P<host>{_IPV4}(?![\w.])|(?:{_LABEL}\.)+(?P<tld>[^\W\d_]{{2,63}}|xn--[a-z\d]{{2,59}}))"
    r"(?P<port>:\d{1,5}(?!\d))?"
    r"(?P<path>[/?#][^\s<>\"«»]*)?",
    re.IGNORECASE,
)
_TG_LINK = re.compile(r"(?<![\w@#/.-])tg://[\w-]{1,253}(?:[/?#][^\s<>\"«»]*)?", re.IGNORECASE)
_EMAIL = re.compile(
    r"(?<![\w.+@/-])"
    r"[A-Za-z\d_-]{1,26}(?:[.+][A-Za-z\d_-]{1,26}){0,10}"
    r"@(?:[A-Za-z\d](?:[A-Za-z\d_-]{0,28}[A-Za-z\d])?\.){1,6}[A-Za-z]{2,8}"
    r"(?![\w@-]|\.[^\W_])"
)
_PHONE = re.compile(r"(?<![\w+])\+\d(?:-?\d){7,14}(?![\w-])")
_COMMAND = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{2,32}(?![\w@])")
_HASHTAG = re.compile(r"(?<![\w#])#(?=\w*[^\W\d_])\w{1,256}(?![\w#])")
_CASHTAG = re.compile(r"(?<![\w$])\$[A-Z]{1,8}(?![\w$])")

# Entities that found ones may not overlap (they are the sender's, or found already).
_OPAQUE = frozenset(
    {
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "url",
        "email",
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "phone_number",
    }
)


def _is_known_tld(tld: str) -> bool:
    if tld.lower().startswith("xn--"):
        return True
    if tld[0].isupper() and tld[1:].islower():  # "end.It": a sentence, not a domain
        return False
    return tld.lower() in _KNOWN_TLDS


def _trim_link_tail(link: str, path_start: int) -> str:
    """Cut an unbalanced closing bracket and trailing punctuation off a link's path."""
    depth = {"(": 0, "[": 0, "{": 0}
    for index in range(path_start, len(link)):
        char = link[index]
        if char in depth:
            depth[char] += 1
        elif char in _CLOSERS:
            depth[_CLOSERS[char]] -= 1
            if depth[_CLOSERS[char]] < 0:
                link = link[:index]
                break
    while len(link) > path_start and link[-1] in _LINK_TAIL:
        link = link[:-1]
    return link


def _links(text: str) -> Iterator[tuple[str, int, int]]:
    for match in _LINK.finditer(text):
        tld = match.group("tld")
        if tld is not None and match.group("scheme") is None and not _is_known_tld(tld):
            continue
        port = match.group("port")
        if port is not None and int(port[1:]) > 65535:
            yield "url", match.start(), match.end("host")
            continue
        path_start = (match.start("path") if match.group("path") else match.end()) - match.start()
        link = _trim_link_tail(match.group(), path_start)
        yield "url", match.start(), match.start() + len(link)
    for match in _TG_LINK.finditer(text):
        link = _trim_link_tail(match.group(), len("tg://"))
        yield "url", match.start(), match.start() + len(link)


def _simple(text: str, phones: bool) -> Iterator[tuple[str, int, int]]:
    found = [
        ("bot_command", _COMMAND),
        ("mention", _MENTION),
        ("hashtag", _HASHTAG),
        ("cashtag", _CASHTAG),
        ("email", _EMAIL),
    ]
    if phones:
        found.append(("phone_number", _PHONE))
    for kind, pattern in found:
        for match in pattern.finditer(text):
            yield kind, match.start(), match.end()


def detect_entities(
    text: str, existing: list[Entity] | None = None, *, phones: bool = False
) -> list[Entity]:
    """The entities Telegram would add to ``text`` (UTF-16 offsets, Telegram's order).

    ``existing`` are the sender's entities: nothing found may overlap their code, pre, links
    or mentions. ``phones`` marks phone numbers, which Telegram does in what people send.
    """
    offsets = utf16_offsets(text)
    taken = [
        (e["offset"], e["offset"] + e["length"]) for e in existing or () if e["type"] in _OPAQUE
    ]
    candidates = sorted(
        ((start, -end, kind) for kind, start, end in (*_links(text), *_simple(text, phones))),
    )
    found: list[Entity] = []
    for start, negative_end, kind in candidates:
        lo, hi = offsets[start], offsets[-negative_end]
        if hi <= lo or any(lo < t_hi and t_lo < hi for t_lo, t_hi in taken):
            continue
        taken.append((lo, hi))
        found.append({"type": kind, "offset": lo, "length": hi - lo})
    return sort_entities(found)


def with_detected(text: str, entities: list[Entity], *, phones: bool = False) -> list[Entity]:
    """``entities`` plus the ones Telegram adds, in Telegram's order."""
    return sort_entities(entities + detect_entities(text, entities, phones=phones))
