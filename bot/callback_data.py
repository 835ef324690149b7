"""Reading the numbers in a button's callback data, in one place.

Callback data comes back from Telegram as the person's client sends it, which may be forged:
``ls:edit:²`` (a digit to :meth:`str.isdigit`, not to :func:`int`), ``ls:edit:١٢`` (digits
:func:`int` reads but no button of ours carries), a number too large for SQLite's INTEGER,
negative, empty or garbage. The bot only ever writes ASCII digits without a sign or leading
zero, so anything else is not one of its buttons: these functions return None for it, and the
handler answers "This button is no longer valid." before storage sees it.
"""

from __future__ import annotations

import re

#: The largest id SQLite's INTEGER holds (and AUTOINCREMENT hands out).
MAX_ID = 2**63 - 1
_NUMBER = re.compile(r"0|[1-9][0-9]{0,18}")


def parse_number(text: str, *, at_least: int = 1, at_most: int = MAX_ID) -> int | None:
    """``text`` as the bot writes a number (ASCII digits, no sign, no leading zero), within
    ``at_least`` .. ``at_most``; else None."""
    if _NUMBER.fullmatch(text) is None:
        return None
    value = int(text)
    return value if at_least <= value <= at_most else None


def id_of(data: str | None, prefix: str) -> int | None:
    """The id of ``<prefix><id>`` callback data (a positive 63-bit integer), or None."""
    if data is None or not data.startswith(prefix):
        return None
    return parse_number(data[len(prefix) :])


def id_and_choice(data: str | None, prefix: str) -> tuple[int, str] | None:
    """The id and the rest of ``<prefix><id>:<choice>`` callback data, or None."""
    if data is None or not data.startswith(prefix):
        return None
    head, colon, choice = data[len(prefix) :].partition(":")
    found = parse_number(head)
    return (found, choice) if found is not None and colon else None
