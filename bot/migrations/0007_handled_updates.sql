-- The last update a dialog step was answered from, per person, written in the same transaction
-- as the step's checkpoint. After a crash Telegram hands out again any update whose receipt
-- the bot had not yet confirmed; one that already moved a dialog on must not be applied a
-- second time (a place name taken again as the region). See handlers/common.identify.
CREATE TABLE handled_updates (
    user_id   INTEGER PRIMARY KEY,
    update_id INTEGER NOT NULL,
    at        INTEGER NOT NULL
) WITHOUT ROWID;
