"""What the bot shows: listing cards, contact cards, texts and keyboards, charts, and the
rules of Telegram's HTML. Pure rendering for one reader: no I/O, user text escaped."""
