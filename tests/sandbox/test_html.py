"""Telegram HTML / MarkdownV2 parsing and HTML rendering, without a server."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.autodetect import detect_entities
from bot.sandbox.entities import render_html, utf16_len, utf16_slice
from bot.sandbox.html import EntityParseError, parse_html
from bot.sandbox.markdown import parse_markdown, parse_markdown_v2


def spans(entities: list[dict]) -> list[tuple]:
    return [(e["type"], e["offset"], e["length"]) for e in entities]


def test_nested_tags_and_entities() -> None:
    text, entities = parse_html("<b>bold <i>both</i></b> &lt;tag&gt; &amp; &quot;q&quot;")
    assert text == 'bold both <tag> & "q"'
    assert sorted(spans(entities)) == [("bold", 0, 9), ("italic", 5, 4)]


def test_numeric_entities() -> None:
    assert parse_html("&#65;&#x42;&#128512;")[0] == "AB😀"


def test_synonyms_and_special_tags() -> None:
    html = (
        "<strong>a</strong><em>b</em><ins>c</ins><del>d</del><strike>e</strike>"
        '<span class="tg-spoiler">f</span><tg-spoiler>g</tg-spoiler>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    text, entities = parse_html(html)
    assert text == "abcdefg👍"
    assert spans(entities) == [
        ("bold", 0, 1),
        ("italic", 1, 1),
        ("underline", 2, 1),
        ("strikethrough", 3, 1),
        ("strikethrough", 4, 1),
        ("spoiler", 5, 1),
        ("spoiler", 6, 1),
        ("custom_emoji", 7, 2),
    ]
    assert entities[-1]["custom_emoji_id"] == "5368324170671202286"


def test_links_pre_code_blockquote() -> None:
    text, entities = parse_html(
        '<a href="https://example.org/?a=1&amp;b=2">site</a> <code>x</code> '
        '<pre><code class="language-python">print()</code></pre>'
        "<blockquote>q</blockquote><blockquote expandable>long</blockquote>"
    )
    assert text == "site x print()qlong"
    assert entities[0] == {
        "type": "text_link",
        "offset": 0,
        "length": 4,
        "url": "https://example.org/?a=1&b=2",
    }
    assert entities[1] == {"type": "code", "offset": 5, "length": 1}
    assert entities[2] == {"type": "pre", "offset": 7, "length": 7, "language": "python"}
    assert spans(entities[3:]) == [("blockquote", 14, 1), ("expandable_blockquote", 15, 4)]


def test_offsets_are_utf16_and_errors_use_utf8_bytes() -> None:
    _, entities = parse_html("😀 <b>é</b>")
    assert spans(entities) == [("bold", 3, 1)]  # the emoji is 2 UTF-16 units + a space
    with pytest.raises(EntityParseError, match='Unsupported start tag "x" at byte offset 8'):
        parse_html("😀 é <x>")  # 4 + 1 + 2 + 1 bytes before the "<"


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("Hello<img>", 'Unsupported start tag "img" at byte offset 5'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</i>", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("a <b", "Unclosed start tag at byte offset 2"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<tg-emoji emoji-id="x">a</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)
def test_parse_errors(markup: str, message: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(markup)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        # What is no entity Telegram knows stays text, "&" included (tdlib's parse_html).
        ("Tom & Jerry", "Tom & Jerry"),
        ("AT&T", "AT&T"),
        ("&nbsp;", "&nbsp;"),
        ("&#;", "&#;"),
        ("&#X41;", "&#X41;"),  # only a lower-case x starts a hexadecimal entity
        ("&#12345678;", "&#12345678;"),  # at most 7 digits
        # Known entities, the ";" optional.
        ("&lt;b&gt; &amp; &quot;", '<b> & "'),
        ("&lt5 &amp &ampx", "<5 & &ampx"),
        ("&#65;&#x42;&#67", "ABC"),
    ],
)
def test_ampersands_like_telegram(markup: str, text: str) -> None:
    assert parse_html(markup) == (text, [])


@pytest.mark.parametrize(("markup", "offset"), [("a & b", 2), ("&nbsp;", 0), ("é&", 2)])
def test_strict_ampersand_lint(markup: str, offset: int) -> None:
    message = f'Character "&" at byte offset {offset} is not a valid HTML entity'
    with pytest.raises(EntityParseError, match=message):
        parse_html(markup, strict_ampersand=True)


def test_markdown_v2() -> None:
    text, entities = parse_markdown_v2(
        r"*b* _i_ __u__ ~s~ ||sp|| `c` [l](https://x.org) \. ```py" "\ncode```"
    )
    assert text == "b i u s sp c l . code"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
        "pre",
    ]
    assert entities[-1]["language"] == "py"
    with pytest.raises(EntityParseError, match="Character '!' is reserved"):
        parse_markdown_v2("Hi!")
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity at byte offset 0"):
        parse_markdown_v2("*open")


def test_legacy_markdown() -> None:
    assert spans(parse_markdown("*b* _i_")[1]) == [("bold", 0, 1), ("italic", 2, 1)]
    with pytest.raises(EntityParseError, match="Can't find end of the entity"):
        parse_markdown("*open")


def test_detected_entities() -> None:
    text = "/start l42 @someone #tag https://example.org/x, /help@my_bot"
    found = {
        (e["type"], utf16_slice(text, e["offset"], e["length"])) for e in detect_entities(text)
    }
    assert found == {
        ("bot_command", "/start"),
        ("mention", "@someone"),
        ("hashtag", "#tag"),
        ("url", "https://example.org/x"),
        ("bot_command", "/help@my_bot"),
    }
    assert detect_entities("a/b and 1/2") == []


def test_render_html_escapes_and_nests() -> None:
    text, entities = parse_html('<b>1 &lt; 2 <i>&amp;</i></b> 😀 <a href="https://x.org">l</a>')
    assert (
        render_html(text, entities)
        == '<b>1 &lt; 2 <i>&amp;</i></b> 😀 <a href="https://x.org">l</a>'
    )
    # Overlapping (not nested) entities are closed and reopened.
    crossing = [
        {"type": "bold", "offset": 0, "length": 3},
        {"type": "italic", "offset": 2, "length": 3},
    ]
    assert render_html("abcde", crossing) == "<b>ab<i>c</i></b><i>de</i>"


_TAGS = st.sampled_from(["b", "i", "u", "s", "code", "tg-spoiler"])
_TEXT = st.text(alphabet=st.sampled_from(list('ab <>&"é😀\n')), min_size=1, max_size=8)


@st.composite
def markup(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if depth < 2 and draw(st.booleans()):
            tag = draw(_TAGS)
            parts.append(f"<{tag}>{draw(markup(depth + 1))}</{tag}>")
        else:
            raw = draw(_TEXT)
            parts.append(raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return "".join(parts)


@given(markup())
def test_render_then_parse_round_trip(html: str) -> None:
    text, entities = parse_html(html)
    assert all(e["offset"] >= 0 and e["offset"] + e["length"] <= utf16_len(text) for e in entities)
    again_text, again_entities = parse_html(render_html(text, entities))
    assert again_text == text
    key = lambda e: (e["offset"], e["length"], e["type"])  # noqa: E731
    assert sorted(again_entities, key=key) == sorted(entities, key=key)
