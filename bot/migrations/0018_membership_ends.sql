-- When a person's membership of a municipality last ended (leaving it, moving to another, or
-- changing role), so that leaving counts like a revocation since a listing was published.
--
-- A municipality's listing stays with the municipality once its author no longer represents
-- it (bot/storage/verification.py, owner_answers). Until now only a revocation left a time;
-- leaving left none, so an author who left X and claimed X again, unverified, was the owner
-- "who still represents it" once more. One time per person is enough: an author belonged to
-- the listing's municipality when it was published, so any membership that ended since was
-- that one.
--
-- Before this migration nothing was recorded. A person who belongs again to a municipality
-- they were verified for and left ('left' request) is taken to have left it now: their older
-- listings for it stay the municipality's until they are verified again. Someone who left
-- unverified and came back left no trace, and keeps their listings.

ALTER TABLE users ADD COLUMN municipality_left_at INTEGER;
UPDATE users SET municipality_left_at = CAST(strftime('%s', 'now') AS INTEGER)
WHERE municipality_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM verification_requests v
              WHERE v.user_id = users.id AND v.municipality_id = users.municipality_id
                AND v.status = 'left');
