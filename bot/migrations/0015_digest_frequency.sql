-- Daily and weekly digests are separate messages (issue 17): each waiting item knows which one
-- it waits for (a person's matches come at their own frequency, an alert's hits at the
-- alert's). Items a digest took stay, with its digest_id, so that a listing shown in one
-- digest is never shown again in the other.
ALTER TABLE digest_items ADD COLUMN frequency TEXT NOT NULL DEFAULT 'daily'
    CHECK (frequency IN ('daily', 'weekly'));
CREATE INDEX digest_items_shown ON digest_items (user_id) WHERE digest_id IS NOT NULL;
