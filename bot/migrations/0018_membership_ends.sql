-- When a person last stopped representing a municipality: leaving it, moving to another,
-- changing role, or having their verification revoked. Leaving now counts like a revocation
-- since a listing was published.
--
-- A municipality's listing stays with the municipality once its author no longer represents
-- it (bot/storage/verification.py, owner_answers). Until now only a revocation left a time;
-- leaving left none, so an author who left X and claimed X again, unverified, was the owner
-- "who still represents it" once more. One time per person is enough: an author belonged to
-- the listing's municipality when it was published, so whatever ended since was that.
-- Only people with such a time own listings that are no longer theirs: the partial index
-- finds those listings without reading any other (RELEASED_LISTINGS).
--
-- Before this migration nothing was recorded for leaving. A person is taken to have stopped
-- when they last could have, as far as the rows tell: after their last listing for a
-- municipality they no longer belong to, at their last revocation, and now if they belong
-- again to a municipality they were verified for and left ('left' request): their older
-- listings for it stay the municipality's until they are verified again. Someone who left
-- unverified and came back, posting nothing meanwhile, left no trace, and keeps their
-- listings.

ALTER TABLE users ADD COLUMN municipality_left_at INTEGER;
UPDATE users SET municipality_left_at = NULLIF(max(
    COALESCE((SELECT max(l.published_at) FROM listings l
              WHERE l.owner_id = users.id AND l.municipality_id IS NOT NULL
                AND l.municipality_id IS NOT users.municipality_id), 0),
    COALESCE((SELECT max(v.revoked_at) FROM verification_requests v
              WHERE v.user_id = users.id AND v.status = 'revoked'), 0),
    CASE WHEN EXISTS (SELECT 1 FROM verification_requests v
                      WHERE v.user_id = users.id AND v.municipality_id = users.municipality_id
                        AND v.status = 'left')
         THEN CAST(strftime('%s', 'now') AS INTEGER) ELSE 0 END), 0);
CREATE INDEX users_who_left ON users (id) WHERE municipality_left_at IS NOT NULL;
-- Whether an owner's verification for a municipality was revoked since a listing was
-- published is asked for every listing owner_answers tests: an index, not a scan.
CREATE INDEX verification_revoked ON verification_requests (user_id, municipality_id)
    WHERE status = 'revoked';

-- The open listings nobody answers for (their author no longer represents their municipality,
-- and it has no verified official): kept out of browsing, search and matching. Read as a
-- short id list by every browse and search statement, so kept here rather than worked out
-- each time (that read every listing of everyone who ever left: milliseconds per page). It
-- changes only when a municipality loses or gains its last verified official or a member
-- leaves it (bot/storage/verification.py, unverify_if_unattended and _decide), which refresh
-- that municipality's rows; a row of a listing closed since is harmless (the statements read
-- open listings) and goes at the next refresh or with the listing.
CREATE TABLE unattended_listings (
    listing_id      INTEGER PRIMARY KEY REFERENCES listings (id) ON DELETE CASCADE,
    municipality_id INTEGER NOT NULL
);
CREATE INDEX unattended_by_municipality ON unattended_listings (municipality_id);
INSERT INTO unattended_listings (listing_id, municipality_id)
SELECT l.id, l.municipality_id FROM listings l
WHERE l.municipality_id IS NOT NULL AND l.status IN ('open', 'hidden')
  AND NOT EXISTS (SELECT 1 FROM users o
                  WHERE o.municipality_id = l.municipality_id
                    AND EXISTS (SELECT 1 FROM verification_requests a
                                WHERE a.user_id = o.id AND a.municipality_id = o.municipality_id
                                  AND a.status = 'approved'))
  AND NOT EXISTS (
      SELECT 1 FROM users ow WHERE ow.id = l.owner_id AND ow.municipality_id = l.municipality_id
      AND (ow.municipality_left_at IS NULL OR ow.municipality_left_at < l.published_at)
      AND NOT EXISTS (SELECT 1 FROM verification_requests rv
                      WHERE rv.user_id = ow.id AND rv.municipality_id = ow.municipality_id
                        AND rv.status = 'revoked' AND rv.revoked_at >= l.published_at));
