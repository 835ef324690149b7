"""Delivery: the HTTP client the bot talks to the Bot API with, the outbox (durable, paced,
never twice), its pacing, what notifications say, broadcasts, and when a person wants to be
told."""
