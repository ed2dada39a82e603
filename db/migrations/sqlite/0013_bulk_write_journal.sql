-- Memberships are written by a full sync as one INSERT ... SELECT per
-- group, hundreds of thousands of rows. Two changes make that cheaper:
--
-- * WITHOUT ROWID, keyed by (group_id, member_id): one B-tree where there
--   were two (the rowid table and the key's index).
-- * No statement journal. SQLite copies every page such a statement
--   changes to a temporary file first, so that the statement alone can be
--   undone, whenever it may abort halfway; an immediate foreign key makes
--   it so. The key to groups is now DEFERRABLE INITIALLY DEFERRED: checked
--   at commit, as strictly, and the store never keeps a transaction whose
--   statement failed. (The inserts say OR FAIL for the same reason: see
--   db/apply_members_insert.go.) The journal was a fifth of the time spent
--   writing memberships.
--
-- The key to accounts goes, as on PostgreSQL in 0012: the key to groups
-- (id, account_id) names the account already, and deleting an account
-- cascades through its groups.
CREATE TABLE group_members_new (
    account_id  TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    member_id   TEXT NOT NULL,                 -- a user or a group: no single FK target
    member_type TEXT NOT NULL CHECK (member_type IN ('User', 'Group')),
    PRIMARY KEY (group_id, member_id),
    -- The pair, not group_id alone: a membership can never point at
    -- another account's group.
    FOREIGN KEY (group_id, account_id) REFERENCES groups (id, account_id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
) WITHOUT ROWID;
INSERT INTO group_members_new (account_id, group_id, member_id, member_type)
SELECT account_id, group_id, member_id, member_type FROM group_members;
DROP TABLE group_members;
ALTER TABLE group_members_new RENAME TO group_members;
CREATE INDEX group_members_scim_order_idx ON group_members (group_id, member_type DESC, member_id);
CREATE INDEX group_members_scim_member_idx ON group_members (member_id, account_id, group_id);
