-- Ids are never handed out twice (issue 16, rule 1).
--
-- A plain INTEGER PRIMARY KEY gives a new row the largest id in the table plus one: once the
-- newest listing is erased (/deleteme), the next one gets its number, and a report card, an
-- admin's button, a shared ?start=l<id> link or a line of the admin log about the erased one
-- then acts on the new one. AUTOINCREMENT keeps the largest id ever used in sqlite_sequence
-- (written in the same transaction as the row, so across restarts and crashes too), and never
-- gives it again.
--
-- The tables whose ids a button, a link, a report, an outbox key or the log refers to are
-- rebuilt with AUTOINCREMENT, their rows, ids and foreign keys kept, following SQLite's
-- "making other kinds of table schema changes" procedure: the migration runs with foreign
-- keys off (bot/storage/base.py) and PRAGMA foreign_key_check must find nothing before the
-- transaction commits. Each table: create new_x, copy, drop x, rename new_x to x, recreate
-- its indexes and triggers. Other tables' REFERENCES name the table, not the copy, so they
-- point at the rebuilt one.

-- This trigger, on listing_tags, names listings: it must not exist while listings does not.
DROP TRIGGER listings_rematch_on_tags;

-- --- listings -------------------------------------------------------------------------------

CREATE TABLE new_listings (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    municipality_id   INTEGER REFERENCES municipalities (id) ON DELETE SET NULL,
    organisation_id   INTEGER REFERENCES organisations (id) ON DELETE SET NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('offer', 'request')),
    category          TEXT    NOT NULL,
    title             TEXT    NOT NULL,
    description       TEXT    NOT NULL,
    language          TEXT    NOT NULL,           -- the language it was written in
    country           TEXT    NOT NULL,
    region            TEXT    NOT NULL DEFAULT '',
    place             TEXT    NOT NULL DEFAULT '',
    latitude          REAL,
    longitude         REAL,
    reach             TEXT    NOT NULL CHECK (reach IN ('municipality', 'region', 'country', 'europe')),
    photo_file_id     TEXT,
    status            TEXT    NOT NULL DEFAULT 'open'
                              CHECK (status IN ('open', 'fulfilled', 'closed', 'hidden')),
    outcome           TEXT,
    published_at      INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    status_changed_at INTEGER NOT NULL,
    views             INTEGER NOT NULL DEFAULT 0,
    contacts          INTEGER NOT NULL DEFAULT 0,
    matched_at        INTEGER
);
INSERT INTO new_listings (id, owner_id, municipality_id, organisation_id, kind, category, title,
    description, language, country, region, place, latitude, longitude, reach, photo_file_id,
    status, outcome, published_at, expires_at, status_changed_at, views, contacts, matched_at)
SELECT id, owner_id, municipality_id, organisation_id, kind, category, title,
    description, language, country, region, place, latitude, longitude, reach, photo_file_id,
    status, outcome, published_at, expires_at, status_changed_at, views, contacts, matched_at
FROM listings;
DROP TABLE listings;
ALTER TABLE new_listings RENAME TO listings;

-- The listings' indexes as migrations 0002, 0004 and 0009 left them (tests/test_ids.py checks
-- that the rebuilt tables have every index and trigger they had before).
CREATE INDEX listings_open_by_expiry ON listings (expires_at) WHERE status = 'open';
CREATE INDEX listings_by_owner ON listings (owner_id, published_at);
CREATE INDEX listings_by_municipality ON listings (municipality_id) WHERE municipality_id IS NOT NULL;
CREATE INDEX listings_unmatched ON listings (id) WHERE matched_at IS NULL;
CREATE INDEX listings_match_region
    ON listings (kind, category, country, region, published_at, expires_at, reach)
    WHERE status = 'open';
CREATE INDEX listings_match_country
    ON listings (kind, category, country, published_at, expires_at, reach)
    WHERE status = 'open';
CREATE INDEX listings_match_reach
    ON listings (kind, category, reach, published_at, expires_at)
    WHERE status = 'open';
CREATE INDEX listings_match_anywhere
    ON listings (kind, category, published_at, expires_at)
    WHERE status = 'open';
CREATE INDEX listings_open_newest
    ON listings (published_at, id, expires_at, kind) WHERE status = 'open';
CREATE INDEX listings_open_newest_in_country
    ON listings (country, published_at, id, expires_at, kind) WHERE status = 'open';
CREATE INDEX listings_open_newest_in_region
    ON listings (country, region, published_at, id, expires_at, kind) WHERE status = 'open';
CREATE INDEX listings_open_by_band
    ON listings (CAST(latitude AS INTEGER), longitude, latitude, expires_at)
    WHERE status = 'open' AND latitude IS NOT NULL;

CREATE TRIGGER listings_rematch_on_edit
AFTER UPDATE OF kind, category, title, description, country, region, place, latitude,
                longitude, reach ON listings
WHEN old.matched_at IS NOT NULL
BEGIN
    UPDATE listings SET matched_at = NULL WHERE id = new.id;
END;
CREATE TRIGGER listings_rematch_on_tags
AFTER INSERT ON listing_tags
BEGIN
    UPDATE listings SET matched_at = NULL WHERE id = new.listing_id AND matched_at IS NOT NULL;
END;

-- --- contacts and their messages ------------------------------------------------------------

CREATE TABLE new_contacts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    listing_id      INTEGER REFERENCES listings (id) ON DELETE SET NULL,
    listing_title   TEXT    NOT NULL,
    listing_kind    TEXT    NOT NULL CHECK (listing_kind IN ('offer', 'request')),
    asker_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    owner_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    municipality_id INTEGER REFERENCES municipalities (id) ON DELETE SET NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'accepted', 'declined', 'withdrawn')),
    created_at      INTEGER NOT NULL,
    decided_at      INTEGER,
    decided_by      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    followup_stage  INTEGER NOT NULL DEFAULT 0      -- 0, 30 or 90: the last follow-up queued
);
INSERT INTO new_contacts (id, listing_id, listing_title, listing_kind, asker_id, owner_id,
    municipality_id, status, created_at, decided_at, decided_by, followup_stage)
SELECT id, listing_id, listing_title, listing_kind, asker_id, owner_id,
    municipality_id, status, created_at, decided_at, decided_by, followup_stage
FROM contacts;
DROP TABLE contacts;
ALTER TABLE new_contacts RENAME TO contacts;
CREATE INDEX contacts_by_asker ON contacts (asker_id, created_at);
CREATE INDEX contacts_by_owner ON contacts (owner_id);
CREATE INDEX contacts_by_municipality ON contacts (municipality_id) WHERE municipality_id IS NOT NULL;
CREATE INDEX contacts_by_listing ON contacts (listing_id, created_at);
CREATE INDEX contacts_following_up ON contacts (decided_at)
    WHERE status = 'accepted' AND followup_stage < 90;

CREATE TABLE new_contact_messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    sender_id  INTEGER REFERENCES users (id) ON DELETE CASCADE,
    from_asker INTEGER NOT NULL CHECK (from_asker IN (0, 1)),
    text       TEXT    NOT NULL,
    text_key   TEXT    NOT NULL,
    sent_at    INTEGER NOT NULL
);
INSERT INTO new_contact_messages (id, contact_id, sender_id, from_asker, text, text_key, sent_at)
SELECT id, contact_id, sender_id, from_asker, text, text_key, sent_at FROM contact_messages;
DROP TABLE contact_messages;
ALTER TABLE new_contact_messages RENAME TO contact_messages;
CREATE INDEX contact_messages_by_contact ON contact_messages (contact_id, id);
CREATE INDEX contact_messages_by_sender ON contact_messages (sender_id, text_key, sent_at);

-- --- reports and verification requests --------------------------------------------------------

CREATE TABLE new_reports (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    listing_id    INTEGER NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    reported_user INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reporter_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    reason        TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'open'
                          CHECK (status IN ('open', 'resolved', 'dismissed')),
    created_at    INTEGER NOT NULL,
    resolved_at   INTEGER,
    resolved_by   INTEGER
);
INSERT INTO new_reports (id, listing_id, reported_user, reporter_id, reason, status, created_at,
    resolved_at, resolved_by)
SELECT id, listing_id, reported_user, reporter_id, reason, status, created_at,
    resolved_at, resolved_by
FROM reports;
DROP TABLE reports;
ALTER TABLE new_reports RENAME TO reports;
CREATE UNIQUE INDEX reports_one_per_person ON reports (listing_id, reporter_id)
    WHERE status = 'open';
CREATE INDEX reports_open ON reports (listing_id) WHERE status = 'open';
CREATE INDEX reports_against ON reports (reported_user, status);

CREATE TABLE new_verification_requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id) ON DELETE CASCADE,
    email           TEXT,
    note            TEXT,
    status          TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn', 'left')),
    created_at      INTEGER NOT NULL,
    decided_at      INTEGER,
    decided_by      INTEGER
);
INSERT INTO new_verification_requests (id, user_id, municipality_id, email, note, status,
    created_at, decided_at, decided_by)
SELECT id, user_id, municipality_id, email, note, status, created_at, decided_at, decided_by
FROM verification_requests;
DROP TABLE verification_requests;
ALTER TABLE new_verification_requests RENAME TO verification_requests;
CREATE UNIQUE INDEX verification_one_pending ON verification_requests (user_id)
    WHERE status = 'pending';
CREATE INDEX verification_queue ON verification_requests (created_at) WHERE status = 'pending';
CREATE INDEX verification_approved ON verification_requests (municipality_id, user_id)
    WHERE status = 'approved';

-- --- broadcasts, matches, alerts, the outbox ------------------------------------------------

CREATE TABLE new_broadcasts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    admin_id         INTEGER NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'draft'
                             CHECK (state IN ('draft', 'scheduled', 'sending', 'paused',
                                              'cancelled', 'done')),
    texts            TEXT    NOT NULL DEFAULT '{}',
    fallback         TEXT,
    photo_file_id    TEXT,
    segment          TEXT    NOT NULL DEFAULT '{}',
    timezone         TEXT    NOT NULL DEFAULT 'UTC',
    send_at          INTEGER,                 -- Unix seconds; NULL = as soon as confirmed
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    enqueued_to      INTEGER NOT NULL DEFAULT 0,   -- users up to this id are in the outbox
    enqueued_all     INTEGER NOT NULL DEFAULT 0 CHECK (enqueued_all IN (0, 1)),
    recipients       INTEGER NOT NULL DEFAULT 0,   -- outbox rows put in so far
    progress_chat    INTEGER,                 -- the admin's live progress message
    progress_message INTEGER,
    progress_text    TEXT                     -- as last shown (Telegram refuses identical edits)
);
INSERT INTO new_broadcasts (id, admin_id, state, texts, fallback, photo_file_id, segment,
    timezone, send_at, created_at, started_at, finished_at, enqueued_to, enqueued_all,
    recipients, progress_chat, progress_message, progress_text)
SELECT id, admin_id, state, texts, fallback, photo_file_id, segment,
    timezone, send_at, created_at, started_at, finished_at, enqueued_to, enqueued_all,
    recipients, progress_chat, progress_message, progress_text
FROM broadcasts;
DROP TABLE broadcasts;
ALTER TABLE new_broadcasts RENAME TO broadcasts;
CREATE INDEX broadcasts_active ON broadcasts (state, send_at)
    WHERE state IN ('scheduled', 'sending', 'paused');

CREATE TABLE new_matches (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    listing_a  INTEGER NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    listing_b  INTEGER NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    score      REAL    NOT NULL,
    reasons    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK (listing_a < listing_b),
    UNIQUE (listing_a, listing_b)
);
INSERT INTO new_matches (id, listing_a, listing_b, score, reasons, created_at)
SELECT id, listing_a, listing_b, score, reasons, created_at FROM matches;
DROP TABLE matches;
ALTER TABLE new_matches RENAME TO matches;
CREATE INDEX matches_by_b ON matches (listing_b);

CREATE TABLE new_alerts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    CHECK (kind IN ('offer', 'request')),           -- NULL = both
    categories TEXT    NOT NULL DEFAULT '',                            -- keys, space-separated
    tags       TEXT    NOT NULL DEFAULT '',
    area       TEXT    NOT NULL CHECK (area IN ('region', 'country', 'europe', 'radius')),
    country    TEXT,
    region     TEXT,
    latitude   REAL,
    longitude  REAL,
    radius_km  REAL,
    keywords   TEXT    NOT NULL DEFAULT '',                            -- as typed
    frequency  TEXT    NOT NULL DEFAULT 'instant'
                       CHECK (frequency IN ('instant', 'daily', 'weekly')),
    paused     INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO new_alerts (id, user_id, kind, categories, tags, area, country, region, latitude,
    longitude, radius_km, keywords, frequency, paused, created_at, updated_at)
SELECT id, user_id, kind, categories, tags, area, country, region, latitude,
    longitude, radius_km, keywords, frequency, paused, created_at, updated_at
FROM alerts;
DROP TABLE alerts;
ALTER TABLE new_alerts RENAME TO alerts;
CREATE INDEX alerts_by_user ON alerts (user_id);
CREATE INDEX alerts_active_by_country ON alerts (country, area) WHERE paused = 0;
CREATE INDEX alerts_active_by_area ON alerts (area) WHERE paused = 0;

-- A digest item names its digest's outbox row (digest_items.digest_id).
CREATE TABLE new_outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_outbox (id, user_id, kind, dedup_key, payload, priority, not_before, created_at,
    state, attempts, sent_at, message_id, error, batch)
SELECT id, user_id, kind, dedup_key, payload, priority, not_before, created_at,
    state, attempts, sent_at, message_id, error, batch
FROM outbox;
DROP TABLE outbox;
ALTER TABLE new_outbox RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (priority, not_before, id) WHERE state = 'pending';
CREATE INDEX outbox_by_user ON outbox (user_id, state);
CREATE INDEX outbox_by_batch ON outbox (batch, state) WHERE batch IS NOT NULL;

-- --- numbers already handed out before this migration -----------------------------------------
-- The copies start each sequence at the largest id left in the table. An id above it was
-- given to a row erased since; the admin log may still name it: never give it again.

INSERT INTO sqlite_sequence (name, seq)
SELECT name, 0 FROM (SELECT 'listings' AS name UNION ALL SELECT 'verification_requests')
WHERE name NOT IN (SELECT name FROM sqlite_sequence);
UPDATE sqlite_sequence
SET seq = max(seq, COALESCE((SELECT max(target_listing) FROM admin_actions), 0),
                   COALESCE((SELECT max(listing_id) FROM warnings), 0))
WHERE name = 'listings';
UPDATE sqlite_sequence
SET seq = max(seq, COALESCE((SELECT max(target_request) FROM admin_actions), 0))
WHERE name = 'verification_requests';
