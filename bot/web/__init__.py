"""The bot's own HTTP listener: Telegram's webhook posts (:mod:`bot.web.webhook`) and the
health probe hosts ask (:mod:`bot.web.health`), on one port."""
