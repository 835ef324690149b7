"""Delivery: the outbox (durable, paced, never twice), its pacing, what notifications say,
broadcasts, and when a person wants to be told."""
