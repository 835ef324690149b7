-- The outbox: every notification the bot sends on its own initiative (matches, alert hits,
-- reminders, follow-ups, contact relays, broadcasts) is a row here before it is sent.
--
-- dedup_key is unique: enqueueing the same notification twice (a rerun, a restart, two jobs)
-- inserts it once, so nobody is told the same thing twice.
-- The payload names what to show (ids, not text): it is rendered at send time in the
-- recipient's current language, and dropped if it no longer makes sense (a closed listing).
--
-- state: pending → sending → sent | blocked | failed | cancelled. A row found in 'sending'
-- after a crash was in flight when the process died: it may or may not have reached
-- Telegram, which offers no way to ask. It becomes 'unknown' and is not sent again.

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    dedup_key   TEXT    NOT NULL UNIQUE,
    payload     TEXT    NOT NULL DEFAULT '{}',
    priority    INTEGER NOT NULL DEFAULT 1,        -- lower first: 0 personal, 1 digests, 2 broadcasts
    not_before  INTEGER NOT NULL,                  -- earliest send time (digest hour, quiet hours, retry)
    created_at  INTEGER NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'sending', 'sent', 'blocked', 'failed',
                                         'cancelled', 'unknown')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    sent_at     INTEGER,
    message_id  INTEGER,
    error       TEXT,
    batch       TEXT                               -- groups rows, e.g. one broadcast
);
CREATE INDEX outbox_due ON outbox (priority, not_before, id) WHERE state = 'pending';
CREATE INDEX outbox_by_user ON outbox (user_id, state);
CREATE INDEX outbox_by_batch ON outbox (batch, state) WHERE batch IS NOT NULL;
