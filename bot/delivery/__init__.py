"""Getting messages to Telegram: the HTTP client the bot talks to the Bot API with."""
