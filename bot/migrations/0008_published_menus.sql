-- What the bot last published to Telegram as its command menu and descriptions (in every
-- language), as a digest, per bot: a start-up publishes again only when it changed.
CREATE TABLE published_menus (
    bot_id       INTEGER PRIMARY KEY,
    digest       TEXT NOT NULL,
    published_at INTEGER NOT NULL
) WITHOUT ROWID;
