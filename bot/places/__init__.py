"""Places: the countries served, offline geocoding, time zones. Pure: no Telegram, no I/O."""
