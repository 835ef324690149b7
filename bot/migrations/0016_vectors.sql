-- Multilingual embeddings of listings (issue 20, bot/semantic): what a listing says, as a
-- vector, so that a search or a listing in one language finds listings in every other.
--
-- One row per listing, written in the same transaction as the listing's text (publish, edit),
-- so a listing never has a vector of an older text, nor a vector without its listing.
--   code:   the sign of each component (48 bytes for 384 dimensions): the in-memory index
--           of a search's first pass is a copy of these (bot/semantic/index.py);
--   vector: the components as int8, times scale: read for the candidates only, to rescore.
--   seq:    larger than every seq before it, so that the in-memory index catches up with
--           what changed since it last looked (WHERE seq > its last).
-- A listing whose text could not be embedded (model missing or failing, EMBEDDING_MODEL=none)
-- is published all the same, searchable by its words, and waits in vector_queue for the
-- background job, which also embeds every listing that was there before this migration.

CREATE TABLE listing_vectors (
    listing_id INTEGER PRIMARY KEY REFERENCES listings (id) ON DELETE CASCADE,
    model      TEXT    NOT NULL,
    code       BLOB    NOT NULL,
    vector     BLOB    NOT NULL,
    scale      REAL    NOT NULL,
    seq        INTEGER NOT NULL
);
-- By seq: the next seq (max + 1). By model and seq: the index's catching up
-- (model = ? AND seq > ? ORDER BY seq), and the vectors of another model to embed again.
CREATE INDEX listing_vectors_by_seq ON listing_vectors (seq);
CREATE INDEX listing_vectors_by_model ON listing_vectors (model, seq);

CREATE TABLE vector_queue (
    listing_id INTEGER PRIMARY KEY REFERENCES listings (id) ON DELETE CASCADE
);
-- Closed and fulfilled listings are never searched or matched again: not worth embedding.
INSERT INTO vector_queue (listing_id)
SELECT id FROM listings WHERE status IN ('open', 'hidden');
