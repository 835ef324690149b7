-- A revocation sets users.municipality_left_at like leaving and moving do (0018, and its
-- backfill took every revoked_at), so owner_answers no longer asks verification_requests
-- whether a verification was revoked since a listing was published: the time it reads
-- already says so. The index that served that question serves nothing now.
DROP INDEX verification_revoked;
