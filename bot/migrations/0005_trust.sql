-- Trust: contacts between members, verification of municipality officials, reports and
-- moderation, anti-abuse, and what a person's data erasure must find.
-- Times are Unix seconds (INTEGER), as for listings.
--
-- Erasure (/deleteme) deletes the users row: foreign keys below say what goes with it
-- (CASCADE: the person's own records) and what stays for others, anonymised (SET NULL:
-- contacts the other side still needs, reports others made, the admin log).

-- Admins made in the bot (besides ADMIN_IDS), and members hidden pending review because
-- several others reported them. A verified official is one with an approved verification
-- request for the municipality they belong to now (see verification_requests).
ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1));
ALTER TABLE users ADD COLUMN review_at INTEGER;

-- A person asking a listing's author to get in touch. The owner side is the listing's owner
-- and the officials of its municipality (any of them may answer). listing_title is copied
-- so that the other side still knows what it was about once the listing is erased.
CREATE TABLE contacts (
    id              INTEGER PRIMARY KEY,
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
CREATE INDEX contacts_by_asker ON contacts (asker_id, created_at);
CREATE INDEX contacts_by_owner ON contacts (owner_id);
CREATE INDEX contacts_by_municipality ON contacts (municipality_id) WHERE municipality_id IS NOT NULL;
CREATE INDEX contacts_by_listing ON contacts (listing_id, created_at);
CREATE INDEX contacts_following_up ON contacts (decided_at)
    WHERE status = 'accepted' AND followup_stage < 90;

-- The first message and the follow-ups, relayed through the bot before an Accept.
-- text_key is the folded text, to refuse the same message sent again and again.
CREATE TABLE contact_messages (
    id         INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    sender_id  INTEGER REFERENCES users (id) ON DELETE CASCADE,
    from_asker INTEGER NOT NULL CHECK (from_asker IN (0, 1)),
    text       TEXT    NOT NULL,
    text_key   TEXT    NOT NULL,
    sent_at    INTEGER NOT NULL
);
CREATE INDEX contact_messages_by_contact ON contact_messages (contact_id, id);
CREATE INDEX contact_messages_by_sender ON contact_messages (sender_id, text_key, sent_at);

-- Answers to "did it lead somewhere?", 30 and 90 days after an Accept.
CREATE TABLE contact_followups (
    contact_id  INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    due         INTEGER NOT NULL CHECK (due IN (30, 90)),
    answer      TEXT    NOT NULL CHECK (answer IN ('yes', 'progress', 'no')),
    answered_at INTEGER NOT NULL,
    PRIMARY KEY (contact_id, user_id, due)
) WITHOUT ROWID;

-- An official asking to be verified as speaking for their municipality. 'left': approved,
-- then the official left the municipality.
CREATE TABLE verification_requests (
    id              INTEGER PRIMARY KEY,
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
CREATE UNIQUE INDEX verification_one_pending ON verification_requests (user_id)
    WHERE status = 'pending';
CREATE INDEX verification_queue ON verification_requests (created_at) WHERE status = 'pending';
CREATE INDEX verification_approved ON verification_requests (municipality_id, user_id)
    WHERE status = 'approved';

-- A member reporting a listing. One open report per person and listing.
CREATE TABLE reports (
    id            INTEGER PRIMARY KEY,
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
CREATE UNIQUE INDEX reports_one_per_person ON reports (listing_id, reporter_id)
    WHERE status = 'open';
CREATE INDEX reports_open ON reports (listing_id) WHERE status = 'open';
CREATE INDEX reports_against ON reports (reported_user, status);

-- Warnings a moderator gave, at most one per person and listing (a replayed button
-- warns nobody twice).
CREATE TABLE warnings (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    listing_id INTEGER REFERENCES listings (id) ON DELETE SET NULL,
    by_admin   INTEGER,
    at         INTEGER NOT NULL
);
CREATE UNIQUE INDEX warnings_once ON warnings (user_id, listing_id);

-- Active bans. No foreign key on purpose: a banned person may erase their data, and the ban
-- (their Telegram id alone, kept on legitimate-interest grounds) must outlive the users row
-- so that coming back does not lift it.
CREATE TABLE bans (
    user_id   INTEGER PRIMARY KEY,
    banned_at INTEGER NOT NULL,
    banned_by INTEGER
);

-- Every admin action, with who and when. No foreign keys: an admin from ADMIN_IDS or a
-- person unbanned by id may have no users row. Erasure sets the person's ids here to NULL
-- (storage/privacy.py); a banned person's id stays in bans.
CREATE TABLE admin_actions (
    id             INTEGER PRIMARY KEY,
    admin_id       INTEGER,
    action         TEXT    NOT NULL,
    target_user    INTEGER,
    target_listing INTEGER,
    target_request INTEGER,
    detail         TEXT,
    at             INTEGER NOT NULL
);
CREATE INDEX admin_actions_by_time ON admin_actions (at);
CREATE INDEX admin_actions_by_user ON admin_actions (target_user) WHERE target_user IS NOT NULL;
CREATE INDEX admin_actions_by_listing ON admin_actions (target_listing)
    WHERE target_listing IS NOT NULL;
