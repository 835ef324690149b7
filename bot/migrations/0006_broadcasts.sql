-- Broadcasts (issue 6): an admin's announcement to the whole community or a segment of it.
--
-- A broadcast is composed as a 'draft', then confirmed to 'sending' (now) or 'scheduled'
-- (send_at, chosen in the admin's timezone). While it is 'sending', a job puts one outbox row
-- per recipient (batch 'bc:<id>', dedup key 'broadcast:<id>:<user>') in chunks, each chunk in
-- one transaction together with enqueued_to, so a restart goes on from the next user id and
-- nobody is queued twice. The outbox delivers the rows; their states are the broadcast's
-- progress. 'paused' moves the batch's pending rows far into the future (reversibly),
-- 'cancelled' cancels them; 'done' once nothing is left.
--
-- texts is JSON {language: HTML}; readers of a language without a text get fallback's text.
-- segment is JSON {"roles": [...], "countries": [...], "languages": [...]}: an empty list
-- means anyone; several dimensions combine (a French-speaking volunteer in Belgium).

CREATE TABLE broadcasts (
    id               INTEGER PRIMARY KEY,
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
CREATE INDEX broadcasts_active ON broadcasts (state, send_at)
    WHERE state IN ('scheduled', 'sending', 'paused');
