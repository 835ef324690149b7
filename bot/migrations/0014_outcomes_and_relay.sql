-- Declines that can be undone, exchanges recorded with whom, and messages relayed through the
-- bot once a contact is accepted (issue 16 rule 9, issue 17 items 5 and 7).

-- Declining waits a few minutes before the asker is told (the notice is an outbox row due at
-- the end of the window, cancelled by an Undo). ``declines`` counts the declines of a contact,
-- so that declining again after an Undo queues a notice of its own (outbox keys are unique).
ALTER TABLE contacts ADD COLUMN declines INTEGER NOT NULL DEFAULT 0;

-- The relay: once accepted, messages written to the bot about the contact go to the other
-- side. Either side may end it for good; so does a side who was banned, erased or blocked the
-- bot (relay_ended_by NULL).
ALTER TABLE contacts ADD COLUMN relay_ended_at INTEGER;
ALTER TABLE contacts ADD COLUMN relay_ended_by INTEGER REFERENCES users (id) ON DELETE SET NULL;

-- The person's own Telegram message a relayed text came from: an update handed out again after
-- a crash finds its message stored, and nothing is relayed twice.
ALTER TABLE contact_messages ADD COLUMN telegram_message_id INTEGER;
CREATE UNIQUE INDEX contact_messages_once ON contact_messages (sender_id, telegram_message_id)
    WHERE telegram_message_id IS NOT NULL;
-- The relay's rate limit counts a sender's messages of the last hour.
CREATE INDEX contact_messages_by_time ON contact_messages (sender_id, sent_at);

-- A follow-up answered "yes": with whom (a contact of the listing; NULL: someone else) and
-- what came of it ('full' or 'partial').
ALTER TABLE contact_followups ADD COLUMN with_contact INTEGER
    REFERENCES contacts (id) ON DELETE SET NULL;
ALTER TABLE contact_followups ADD COLUMN result TEXT CHECK (result IN ('full', 'partial'));

-- An exchange: a listing fulfilled, with one of its contacts or with someone else (contact_id
-- NULL). Who gave and who received (an offer's author gives, a request's author receives) is
-- kept as the places and countries they had when it was recorded: figures by country and
-- between places do not move when people move or erase their data, and name nobody.
-- owner_said / asker_said: which side said it happened (closing the listing, a follow-up).
CREATE TABLE exchanges (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    listing_id       INTEGER REFERENCES listings (id) ON DELETE SET NULL,
    contact_id       INTEGER REFERENCES contacts (id) ON DELETE SET NULL,
    kind             TEXT    NOT NULL CHECK (kind IN ('offer', 'request')),
    category         TEXT    NOT NULL,
    giver_country    TEXT,
    giver_place      TEXT,
    receiver_country TEXT,
    receiver_place   TEXT,
    result           TEXT    CHECK (result IN ('full', 'partial')),
    owner_said       INTEGER NOT NULL DEFAULT 0 CHECK (owner_said IN (0, 1)),
    asker_said       INTEGER NOT NULL DEFAULT 0 CHECK (asker_said IN (0, 1)),
    recorded_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX exchanges_one_per_contact ON exchanges (contact_id)
    WHERE contact_id IS NOT NULL;
CREATE INDEX exchanges_by_time ON exchanges (recorded_at);
CREATE INDEX exchanges_by_listing ON exchanges (listing_id);
