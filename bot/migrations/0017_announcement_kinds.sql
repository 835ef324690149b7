-- Announcements of a kind, and opting out of a kind (issue 17, item 6).
--
-- Every broadcast has a kind the admin chooses in the composer: 'news' (service news: what
-- changed in the bot or the community), 'help' (calls for help: someone needs hands or
-- equipment now) or 'events' (meetings, trainings, visits). A person may turn off any of
-- them, from the button under an announcement or in /settings: one row per kind turned off.
-- Those rows are read when recipients are put in the outbox (bot/storage/broadcasts.py) and
-- again when a row is sent; turning a kind off also cancels, in the same transaction, what of
-- that kind still waits for the person. Urgent broadcasts ignore them: they reach everyone
-- who has not blocked the bot.
-- Broadcasts written before this migration were all service news.

ALTER TABLE broadcasts ADD COLUMN kind TEXT NOT NULL DEFAULT 'news'
    CHECK (kind IN ('news', 'help', 'events'));

CREATE TABLE announcement_opt_outs (
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL CHECK (kind IN ('news', 'help', 'events')),
    opted_out_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
) WITHOUT ROWID;
