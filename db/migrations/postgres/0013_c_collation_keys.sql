-- Identifiers compare as bytes. Every B-tree insert of a sync compares its
-- key with about twenty others, and a text key under the database's
-- collation (en_US.UTF-8, or even C.UTF-8, which PostgreSQL does not treat
-- as C) goes through strcoll: on the 100,000-user engine benchmark the
-- memberships alone made about fifteen million such comparisons. Ids,
-- account ids and objectGUIDs are ASCII tokens compared for equality and
-- ordered only to page through them, so COLLATE "C" (memcmp) changes no
-- result, only its cost, and orders them as SQLite does. Names, DNs and
-- display names keep the database's collation.
ALTER TABLE accounts ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE directory_settings ALTER COLUMN account_id TYPE TEXT COLLATE "C";
ALTER TABLE users
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN external_id TYPE TEXT COLLATE "C";
ALTER TABLE groups
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN external_id TYPE TEXT COLLATE "C",
    ALTER COLUMN parent_id TYPE TEXT COLLATE "C";
ALTER TABLE group_members
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN group_id TYPE TEXT COLLATE "C",
    ALTER COLUMN member_id TYPE TEXT COLLATE "C",
    ALTER COLUMN member_type TYPE TEXT COLLATE "C";
ALTER TABLE runs
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C";
ALTER TABLE run_events
    ALTER COLUMN run_id TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C";
ALTER TABLE protections ALTER COLUMN account_id TYPE TEXT COLLATE "C";
ALTER TABLE api_tokens ALTER COLUMN account_id TYPE TEXT COLLATE "C";
ALTER TABLE sync_locks ALTER COLUMN account_id TYPE TEXT COLLATE "C";
ALTER TABLE scim_counts ALTER COLUMN account_id TYPE TEXT COLLATE "C";
ALTER TABLE scim_changes ALTER COLUMN account_id TYPE TEXT COLLATE "C";
