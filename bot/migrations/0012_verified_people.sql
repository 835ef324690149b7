-- The verified badge belongs to a person, for a municipality (issue 16, rule 2), and every
-- admin action is logged with its reason (rule 3).
--
-- Until now a municipality carried the badge (municipalities.verified_at) once anyone was
-- approved for it, so a newcomer claiming the same place showed "Kotel ✅" at once. Now:
-- a person is verified while their approved request for the municipality they belong to
-- stands (not revoked, not left); a listing keeps the badge its author had for the
-- municipality it was posted for, recorded when it was published.

-- --- the badge a listing was published with ----------------------------------------------------
-- Listings published before this migration: the badge their author has now, if the author
-- was approved for that municipality before publishing (a listing of someone who has left
-- since, or of a colleague who was never verified, shows none).
ALTER TABLE listings ADD COLUMN author_verified INTEGER NOT NULL DEFAULT 0
    CHECK (author_verified IN (0, 1));
UPDATE listings SET author_verified = 1
WHERE municipality_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM verification_requests v JOIN users u ON u.id = v.user_id
              WHERE v.user_id = listings.owner_id AND v.municipality_id = listings.municipality_id
                AND u.municipality_id = v.municipality_id AND v.status = 'approved'
                AND v.decided_at <= listings.published_at);

-- --- verification requests: 'revoked' by an admin, with the reason the person was told ----------
-- Rebuilt to widen the status CHECK (SQLite's procedure for schema changes: new table, copy,
-- drop, rename, indexes). Ids are never handed out twice: the sequence keeps the largest id
-- ever given (the old table's sequence when it had one, and any id the admin log names).
CREATE TABLE new_verification_requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id) ON DELETE CASCADE,
    email           TEXT,
    note            TEXT,
    status          TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn',
                                              'left', 'revoked')),
    created_at      INTEGER NOT NULL,
    decided_at      INTEGER,
    decided_by      INTEGER,
    revoked_at      INTEGER,
    revoked_by      INTEGER
);
INSERT INTO new_verification_requests (id, user_id, municipality_id, email, note, status,
    created_at, decided_at, decided_by)
SELECT id, user_id, municipality_id, email, note, status, created_at, decided_at, decided_by
FROM verification_requests;
INSERT INTO sqlite_sequence (name, seq)
SELECT 'new_verification_requests', 0
WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'new_verification_requests');
UPDATE sqlite_sequence
SET seq = max(seq,
              COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'verification_requests'), 0),
              COALESCE((SELECT max(target_request) FROM admin_actions), 0))
WHERE name = 'new_verification_requests';
DROP TABLE verification_requests;
ALTER TABLE new_verification_requests RENAME TO verification_requests;
CREATE UNIQUE INDEX verification_one_pending ON verification_requests (user_id)
    WHERE status = 'pending';
CREATE INDEX verification_queue ON verification_requests (created_at) WHERE status = 'pending';
CREATE INDEX verification_approved ON verification_requests (municipality_id, user_id)
    WHERE status = 'approved';

-- --- the admin log: why, and about which municipality or broadcast -----------------------------
-- reason: the admin's own words, as the person concerned was told them. The log names people,
-- listings and municipalities by joining their rows when it is read (an erased one is shown
-- as erased), so nothing here copies a name.
ALTER TABLE admin_actions ADD COLUMN reason TEXT;
ALTER TABLE admin_actions ADD COLUMN target_municipality INTEGER;
ALTER TABLE admin_actions ADD COLUMN target_broadcast INTEGER;
UPDATE admin_actions SET target_municipality =
    (SELECT municipality_id FROM verification_requests v WHERE v.id = admin_actions.target_request)
WHERE target_request IS NOT NULL;
