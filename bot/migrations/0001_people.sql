-- People and the bodies they speak for.
-- A municipality can have several officials (users.municipality_id); an organisation likewise.
-- name_key is the name folded for comparison (lower case, accents removed) so that
-- "Sveti Vlas" and "sveti  vlas" find the same municipality.

CREATE TABLE municipalities (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL,
    country     TEXT    NOT NULL,            -- ISO 3166-1 alpha-2
    region      TEXT    NOT NULL DEFAULT '',
    population  INTEGER CHECK (population IS NULL OR population >= 0),
    latitude    REAL,
    longitude   REAL,
    verified_at TEXT,
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX municipalities_identity ON municipalities (country, name_key, region);

CREATE TABLE organisations (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    country    TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX organisations_identity ON organisations (country, name_key);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,    -- the Telegram user id
    first_name      TEXT    NOT NULL DEFAULT '',
    last_name       TEXT,
    username        TEXT,
    language        TEXT    NOT NULL,        -- chosen catalog, e.g. 'fr'
    language_chosen INTEGER NOT NULL DEFAULT 0 CHECK (language_chosen IN (0, 1)),
    role            TEXT    CHECK (role IN ('municipality', 'organisation', 'volunteer')),
    municipality_id INTEGER REFERENCES municipalities (id) ON DELETE SET NULL,
    organisation_id INTEGER REFERENCES organisations (id) ON DELETE SET NULL,
    country         TEXT,
    region          TEXT,
    place           TEXT,
    latitude        REAL,
    longitude       REAL,
    blocked_at      TEXT,                    -- the user blocked the bot (403): skip them
    onboarded_at    TEXT,
    created_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX users_municipality ON users (municipality_id) WHERE municipality_id IS NOT NULL;
CREATE INDEX users_organisation ON users (organisation_id) WHERE organisation_id IS NOT NULL;

-- python-telegram-bot persistence: conversation states and per-user/chat/bot data as JSON.
CREATE TABLE ptb_conversations (
    name  TEXT NOT NULL,
    key   TEXT NOT NULL,                     -- JSON array, e.g. [chat_id, user_id]
    state TEXT NOT NULL,                     -- JSON
    PRIMARY KEY (name, key)
) WITHOUT ROWID;

CREATE TABLE ptb_user_data (
    user_id INTEGER PRIMARY KEY,
    data    TEXT NOT NULL
);

CREATE TABLE ptb_chat_data (
    chat_id INTEGER PRIMARY KEY,
    data    TEXT NOT NULL
);

CREATE TABLE ptb_bot_data (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    data TEXT NOT NULL
);
