-- Matching, saved searches (alerts), digests and notification settings (issue 4).
--
-- The matching pass (bot/matcher.py) takes the listings whose matched_at is NULL, and stores
-- their matches, queues their notifications and sets their matched_at in one transaction (a
-- few listings at a time). A crash mid-pass leaves them NULL and the next pass does them
-- again; the outbox's unique keys make the rerun tell nobody twice.

ALTER TABLE listings ADD COLUMN matched_at INTEGER;
CREATE INDEX listings_unmatched ON listings (id) WHERE matched_at IS NULL;

-- An edit that changes what a listing is or where it is (its text, its tags) makes it new to
-- matching again: new pairs are found, pairs already told are not told again (outbox keys).
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

-- Candidate pools. Matching a new listing reads a few bounded slices of open listings of the
-- opposite kind and the same category, newest first, never a scan of the table:
--   same country and region; same country; reaching all of Europe; anywhere (for a listing
--   that itself reaches all of Europe).
-- The trailing columns make the slices index-only until the LIMIT is reached (expiry and
-- reach are tested in the index, not by a lookup into the table).
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

-- How many listings contain each word (read-only view of the full-text index): matching
-- weighs shared words by how rare they are, as bm25 does.
CREATE VIRTUAL TABLE listings_vocab USING fts5vocab (listings_text, row);

-- A pair of listings that match, stored once whichever of the two came first
-- (listing_a < listing_b). reasons: the scored features, e.g. 'category tags:2 region km:12'
-- (translated when shown, see bot/matching.py).
CREATE TABLE matches (
    id         INTEGER PRIMARY KEY,
    listing_a  INTEGER NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    listing_b  INTEGER NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    score      REAL    NOT NULL,
    reasons    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK (listing_a < listing_b),
    UNIQUE (listing_a, listing_b)
);
CREATE INDEX matches_by_b ON matches (listing_b);

-- "Not relevant": this person is never shown this pair again.
CREATE TABLE match_feedback (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    match_id INTEGER NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    verdict  TEXT    NOT NULL DEFAULT 'not_relevant',
    at       INTEGER NOT NULL,
    PRIMARY KEY (user_id, match_id)
) WITHOUT ROWID;

-- When and how a person wants to be told. No row = the defaults (instant, the timezone of
-- their country, quiet from 22:00 to 08:00).
CREATE TABLE notification_settings (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    frequency   TEXT    NOT NULL DEFAULT 'instant'
                        CHECK (frequency IN ('instant', 'daily', 'weekly')),
    timezone    TEXT,                              -- IANA name; NULL = from the country
    quiet_start INTEGER CHECK (quiet_start BETWEEN 0 AND 23),  -- local hours; NULL = no quiet
    quiet_end   INTEGER CHECK (quiet_end BETWEEN 0 AND 23),
    updated_at  INTEGER NOT NULL
);

-- Saved searches. Empty categories/tags/keywords mean "any"; area is where the listing is:
-- the member's region or country (copied when saved), Europe, or a radius around a point.
CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
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
CREATE INDEX alerts_by_user ON alerts (user_id);
CREATE INDEX alerts_active_by_country ON alerts (country, area) WHERE paused = 0;
CREATE INDEX alerts_active_by_area ON alerts (area) WHERE paused = 0;

-- Matches and alert hits of people who want a digest wait here until it is sent. due_at is
-- the digest time (about 09:00 local) they were meant for; digest_id is the outbox row that
-- took them (set when it is rendered, so a retried digest shows the same items again).
CREATE TABLE digest_items (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dedup_key  TEXT    NOT NULL UNIQUE,           -- the key an instant notification would have
    kind       TEXT    NOT NULL,                  -- 'match' or 'alert'
    payload    TEXT    NOT NULL,
    due_at     INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    digest_id  INTEGER
);
CREATE INDEX digest_items_waiting ON digest_items (user_id, due_at) WHERE digest_id IS NULL;
CREATE INDEX digest_items_by_digest ON digest_items (digest_id) WHERE digest_id IS NOT NULL;
