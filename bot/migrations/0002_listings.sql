-- Offers and requests, their tags, drafts, views and status history.
-- Times are Unix seconds (INTEGER): compared on every search, so they must be cheap.
-- "expired" is not a stored status: an open listing whose expires_at has passed is expired,
-- so expired listings leave search by the query itself, whether or not any job ran.

CREATE TABLE listings (
    id                INTEGER PRIMARY KEY,
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
    contacts          INTEGER NOT NULL DEFAULT 0
);
-- Browsing by kind and category, by country, and "my listings"; only open ones are searched.
CREATE INDEX listings_open_by_category ON listings (category, kind, expires_at) WHERE status = 'open';
CREATE INDEX listings_open_by_country ON listings (country, region, expires_at) WHERE status = 'open';
CREATE INDEX listings_open_by_latitude ON listings (latitude) WHERE status = 'open' AND latitude IS NOT NULL;
CREATE INDEX listings_open_by_expiry ON listings (expires_at) WHERE status = 'open';
CREATE INDEX listings_by_owner ON listings (owner_id, published_at);
CREATE INDEX listings_by_municipality ON listings (municipality_id) WHERE municipality_id IS NOT NULL;

CREATE TABLE listing_tags (
    listing_id INTEGER NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    tag        TEXT    NOT NULL,
    PRIMARY KEY (listing_id, tag)
) WITHOUT ROWID;
CREATE INDEX listing_tags_by_tag ON listing_tags (tag, listing_id);

-- Text search over folded text (lower case, accents removed in every script, see
-- storage.fold), kept in step with listings by storage in the same transactions.
CREATE VIRTUAL TABLE listings_text USING fts5 (title, description, tokenize = 'unicode61');

-- One person counts once as a viewer of a listing.
CREATE TABLE listing_views (
    listing_id INTEGER NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    viewer_id  INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL,
    PRIMARY KEY (listing_id, viewer_id)
) WITHOUT ROWID;

CREATE TABLE listing_history (
    id         INTEGER PRIMARY KEY,
    listing_id INTEGER NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    status     TEXT    NOT NULL,         -- open, renewed, edited, fulfilled, closed, hidden
    at         INTEGER NOT NULL,
    by_user    INTEGER,
    detail     TEXT
);
CREATE INDEX listing_history_by_listing ON listing_history (listing_id, at);

-- The posting dialog's answers, written as each step is answered (one draft per person).
CREATE TABLE drafts (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    data       TEXT    NOT NULL,         -- JSON
    updated_at INTEGER NOT NULL
);
