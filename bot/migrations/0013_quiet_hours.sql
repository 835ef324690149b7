-- Quiet hours for every push (issue 16, rule 7) and bundling (issue 17, item 3).
--
-- The outbox decides at send time: a due row whose recipient is in their quiet hours is not
-- sent but held: not_before moves to the end of the quiet hours and held is set. Held rows go
-- out together, as one bundled message, when they are due again (rows that waited for the
-- per-chat rate limit are held the same way). Changing /settings makes the held rows due at
-- once, and the outbox decides again with the new settings (sent now, or held to the new end).
-- urgent rows (an urgent broadcast) are never held by quiet hours.

ALTER TABLE outbox ADD COLUMN held INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1));
ALTER TABLE outbox ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1));
CREATE INDEX outbox_held ON outbox (user_id) WHERE state = 'pending' AND held = 1;

ALTER TABLE broadcasts ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1));
